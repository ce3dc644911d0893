"""The frozen bundle's one executable (packaging/run_memeclean.py): the name it is started by picks the front end."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ENTRY = Path(__file__).resolve().parents[1] / "packaging" / "run_memeclean.py"


@pytest.fixture(scope="module")
def entry():
    spec = importlib.util.spec_from_file_location("run_memeclean", ENTRY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines functions only: the dispatch runs under __main__
    return module


@pytest.mark.parametrize(
    "argv, gui",
    [
        (["/opt/MemeClean/memeclean-gui"], True),
        (["memeclean-gui", "meme.jpg"], True),
        (
            ["C:\\Program Files\\MemeClean\\memeclean-gui.exe"],
            os.name == "nt",
        ),  # backslashes are folders on Windows only
        (["memeclean-gui.EXE"], True),
        (["/opt/MemeClean/memeclean", "clean", "x.jpg"], False),
        (["memeclean", "--gui", "meme.jpg"], True),
        (["memeclean", "clean", "--gui"], False),  # only as the first argument
        (["memeclean-gui-old"], False),
        ([], False),
    ],
)
def test_the_name_or_the_flag_picks_the_app(entry, argv, gui):
    assert entry.wants_gui(argv) is gui


def test_the_app_finds_the_bundled_qt_plugins(entry, monkeypatch, tmp_path):
    monkeypatch.setattr(entry.sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delenv("QT_PLUGIN_PATH", raising=False)
    entry.prepare_qt()
    expected = tmp_path / "PySide6" / ("plugins" if os.name == "nt" else "Qt/plugins")
    assert Path(os.environ["QT_PLUGIN_PATH"]) == expected
