"""The app's settings file, hand-edited or damaged: every bad field falls back to its default on its own, a file
that is not JSON (or not a file) gives the defaults, and a save that cannot be written never stops the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from memeclean_gui.model.settings import FIELDS, Settings

from .conftest import ROOT, no_temporaries, snapshot


def load(tmp_path, text: str) -> Settings:
    path = tmp_path / "settings.json"
    path.write_text(text)
    return Settings.load(path)


BAD_VALUES = [
    ("resolution", "9" * 5000),
    ("resolution", "9" * 100),
    ("resolution", "1e999"),
    ("resolution", "-1e999"),
    ("resolution", "NaN"),
    ("resolution", '"512"'),
    ("resolution", "[512]"),
    ("resolution", "true"),
    ("brush_size", "9" * 400),
    ("brush_size", "2.5"),
    ("save_quality", "1e308"),
    ("save_quality", "null"),
    ("auto_clean", "1"),
    ("recent_files", "[1, 2]"),
    ("recent_files", '"a"'),
    ("last_folder", "42"),
    ("window_geometry", "{}"),
    ("model_path", "[" * 50 + "]" * 50),
]


@pytest.mark.parametrize("name, literal", BAD_VALUES, ids=[f"{n}={v[:12]}" for n, v in BAD_VALUES])
def test_a_bad_field_falls_back_to_its_default_alone(tmp_path, name, literal):
    other = "brush_size" if name != "brush_size" else "save_quality"
    text = f'{{"schema_version": 1, "values": {{"{name}": {literal}, "{other}": 7}}}}'
    settings = load(tmp_path, text)
    assert getattr(settings, name) == FIELDS[name].default
    assert getattr(settings, other) == 7  # the good field next to it is kept


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2, 3]",
        '{"values": 5}',
        "[" * 100000,
        "\x00\xff" * 10,
        '{"values": {"resolution": ' + "9" * 5000 + "}",
    ],
)
def test_a_broken_file_gives_the_defaults(tmp_path, text):
    settings = load(tmp_path, text)
    assert settings.as_dict() == Settings().as_dict()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_settings_file_that_is_a_pipe_does_not_hang_the_start(tmp_path):
    os.mkfifo(tmp_path / "settings.json")
    result = []
    reader = threading.Thread(target=lambda: result.append(Settings.load(tmp_path / "settings.json")), daemon=True)
    reader.start()
    reader.join(timeout=30)
    assert result and result[0].as_dict() == Settings().as_dict()


def test_a_save_that_cannot_be_written_is_logged_not_raised(tmp_path, caplog):
    (tmp_path / "afile").write_bytes(b"x")
    settings = Settings(tmp_path / "afile" / "settings.json")
    before = snapshot(tmp_path)
    settings.update(brush_size=30)  # must not raise
    assert settings.brush_size == 30
    assert snapshot(tmp_path) == before
    assert "cannot write" in caplog.text


def test_saves_are_whole_files_and_leave_no_temporaries(tmp_path):
    path = tmp_path / "config" / "settings.json"
    settings = Settings(path)
    for size in range(1, 30):
        settings.update(brush_size=size)
    assert json.loads(path.read_text())["values"]["brush_size"] == 29
    assert no_temporaries(tmp_path)


def test_the_app_starts_with_a_huge_integer_in_its_settings(tmp_path):
    """What stopped the app at start: the window is built from the damaged file, with the defaults."""
    config = tmp_path / "config"
    (config / "MemeClean").mkdir(parents=True)
    (config / "MemeClean" / "settings.json").write_text(
        '{"schema_version": 1, "values": {"resolution": ' + "9" * 30 + ', "brush_size": ' + "9" * 5000 + "}}"
    )
    script = (
        "from memeclean_gui.app import create_application\n"
        "from memeclean_gui.main_window import MainWindow\n"
        "from memeclean_gui.model.settings import Settings\n"
        "app = create_application()\n"
        "settings = Settings.load()\n"
        "window = MainWindow(settings=settings)\n"
        "window.show(); app.processEvents()\n"
        "print('RESOLUTION', settings.resolution)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(config))
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "RESOLUTION 2048" in done.stdout
