"""GUI test fixtures: settings in a temporary file, message boxes recorded instead of shown, windows on the tiny
model whose workers are all finished at teardown."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from memeclean_gui.model.settings import Settings

from ..conftest import make_meme
from ..gui_model.conftest import settings_file  # noqa: F401 - the same autouse fixture: the user's file is never used


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch):
    """Message boxes are recorded as (kind, text) instead of shown: a modal box would stall an offscreen test."""
    shown: list[tuple[str, str]] = []

    def recorder(kind):
        def record(parent, title, text, *args, **kwargs):
            shown.append((kind, text))
            return QMessageBox.StandardButton.Ok

        return staticmethod(record)

    for kind in ("warning", "critical", "information", "question", "about"):
        monkeypatch.setattr(QMessageBox, kind, recorder(kind))
    return shown


@pytest.fixture(autouse=True)
def empty_clipboard_afterwards(qapp):
    """The clipboard is emptied after each test. Mime data a test hands to it belongs to Qt from then on; left there,
    Qt deletes its Python wrapper in an exit handler after the interpreter is gone, and the test run ends with a
    segmentation fault although every test passed."""
    yield
    QGuiApplication.clipboard().clear()


@pytest.fixture
def settings():
    value = Settings.load()  # from the redirected file: `settings_file` is autouse
    value.update(auto_clean=False, resolution=256)
    return value


@pytest.fixture
def make_window(qtbot, tiny_model_path, settings):
    """make_window(**options) -> a shown MainWindow on the tiny model; teardown waits for its workers."""
    from memeclean_gui.main_window import MainWindow

    windows = []

    def make(**options):
        options.setdefault("settings", settings)
        options.setdefault("model_path", tiny_model_path)
        options.setdefault("device", "cpu")
        window = MainWindow(**options)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        assert window.workers.shutdown(60_000), "a worker was still running after 60 s"
        assert window.workers.pool.activeThreadCount() == 0


@pytest.fixture
def meme_path(tmp_path):
    meme, _, _ = make_meme(240, 180)
    path = tmp_path / "meme.png"
    Image.fromarray(meme).save(path)
    return path


def wait_job(qtbot, controller, kind, action, timeout=30_000):
    """Run `action()` and wait until a job of `kind` has finished; returns its outcome."""
    with qtbot.waitSignal(
        controller.finished, timeout=timeout, check_params_cb=lambda finished_kind, outcome: finished_kind == kind
    ) as blocker:
        action()
    return blocker.args[1]


def read_rgb(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
