"""An error nobody caught: a dialog with one line and the log file's path, the app goes on; the log rotates."""

from __future__ import annotations

import logging
import logging.handlers
import sys

import pytest
from PySide6.QtCore import QObject, QTimer, Signal

from memeclean_gui import crash


@pytest.fixture
def root_logger():
    """The root logger's handlers as they were: setup_logging adds some."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


class Emitter(QObject):
    fire = Signal()


@pytest.mark.qt_no_exception_capture  # the app's own hook is what is tested, not pytest-qt's
def test_an_exception_in_a_slot_shows_a_dialog_with_the_log_path_and_the_app_goes_on(
    qtbot, make_window, message_boxes, root_logger, tmp_path, monkeypatch
):
    window = make_window()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    log_path = crash.setup_logging(tmp_path / "log", stderr=False)
    crash.install_excepthook(window, log_path)
    emitter = Emitter()

    def broken_slot() -> None:
        raise ValueError("the widget had a bad day\nsecond line of detail")

    emitter.fire.connect(broken_slot)
    emitter.fire.emit()  # Qt calls the slot; its exception reaches sys.excepthook
    qtbot.waitUntil(lambda: len(message_boxes) == 1, timeout=5000)
    ((kind, text),) = message_boxes
    assert kind == "critical"
    assert "Unexpected error (ValueError: the widget had a bad day)." in text
    assert "second line" not in text
    assert str(log_path) in text
    for handler in root_logger.handlers:
        handler.flush()
    logged = log_path.read_text(encoding="utf-8")
    assert "Traceback" in logged and "broken_slot" in logged and "second line of detail" in logged
    # Still running: the window answers and another error shows another dialog.
    assert window.isVisible()
    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: len(message_boxes) == 2, timeout=5000)


def test_a_second_error_while_the_dialog_is_open_is_only_logged(qapp, root_logger, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    log_path = crash.setup_logging(tmp_path, stderr=False)
    shown = []

    def critical(parent, title, text, *args):
        shown.append(text)
        if len(shown) == 1:  # an error raised while this dialog is up (e.g. by a repaint behind it)
            try:
                raise RuntimeError("while the dialog is open")
            except RuntimeError:
                sys.excepthook(*sys.exc_info())

    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    crash.install_excepthook(None, log_path)
    try:
        raise KeyError("first")
    except KeyError:
        sys.excepthook(*sys.exc_info())
    assert len(shown) == 1
    for handler in root_logger.handlers:
        handler.flush()
    assert "while the dialog is open" in log_path.read_text(encoding="utf-8")


def test_the_log_rotates_and_stays_bounded(root_logger, tmp_path, monkeypatch):
    monkeypatch.setattr(crash, "LOG_BYTES", 2000)
    path = crash.setup_logging(tmp_path, stderr=False)
    assert path == tmp_path / crash.LOG_NAME
    assert crash.setup_logging(tmp_path, stderr=False) == path  # twice: still one file handler
    assert sum(isinstance(h, logging.handlers.RotatingFileHandler) for h in root_logger.handlers) == 1
    logger = logging.getLogger("memeclean_gui.test")
    for number in range(500):
        logger.warning("message %d %s", number, "x" * 40)
    files = sorted(tmp_path.glob(crash.LOG_NAME + "*"))
    assert [file.name for file in files] == [crash.LOG_NAME, crash.LOG_NAME + ".1", crash.LOG_NAME + ".2"]
    assert all(file.stat().st_size <= 2000 for file in files)
    assert "message 499" in path.read_text(encoding="utf-8")


def test_an_unwritable_log_folder_means_stderr_only(root_logger, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert crash.setup_logging(blocker / "log", stderr=False) is None


def test_the_default_log_folder_is_the_platforms(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    if sys.platform.startswith("linux"):
        assert crash.log_dir() == tmp_path / "state" / "MemeClean" / "log"
