"""Hand edits that are in no file are not lost without asking: opening another image or quitting asks first;
a plain automatic clean, or work already saved, does not."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from .conftest import wait_job
from .test_window import clean_and_wait, drag_stroke, open_and_wait

Button = QMessageBox.StandardButton


@pytest.fixture
def answer(monkeypatch):
    """answer(button) makes every question return `button`; returns the list of questions asked."""
    asked: list[str] = []

    def set_answer(button):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return button

        monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
        return asked

    return set_answer


def stroke(qtbot, window) -> None:
    window.named_actions["brush"].trigger()
    drag_stroke(qtbot, window, [(160, 140), (220, 150)])
    assert window.document.has_unsaved_edits


def test_a_plain_clean_opens_the_next_image_without_asking(qtbot, make_window, meme_path, answer):
    asked = answer(Button.Cancel)
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    open_and_wait(qtbot, window, meme_path)
    assert asked == [] and window.document.result is None


def test_cancel_keeps_the_edited_image_and_discard_opens_the_new_one(qtbot, make_window, meme_path, answer):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    stroke(qtbot, window)
    generation = window.document.generation

    asked = answer(Button.Cancel)
    window.open_path(meme_path)
    assert len(asked) == 1 and "meme.png" in asked[0] and "not saved" in asked[0]
    assert not window.controller.loading, "Cancel opens nothing"
    assert window.document.generation == generation and window.document.history.undo_label == "Brush Stroke"

    answer(Button.Discard)
    open_and_wait(qtbot, window, meme_path)
    assert window.document.generation == generation + 1 and not window.document.has_unsaved_edits


def test_quitting_with_edits_asks_and_cancel_keeps_the_window(qtbot, make_window, meme_path, answer):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    stroke(qtbot, window)
    asked = answer(Button.Cancel)
    assert not window.close()
    assert window.isVisible() and len(asked) == 1 and "Quit" in asked[0]
    answer(Button.Discard)
    assert window.close()


def test_saved_work_is_not_asked_about(qtbot, make_window, meme_path, answer, tmp_path, monkeypatch):
    asked = answer(Button.Cancel)
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    stroke(qtbot, window)
    assert wait_job(qtbot, window.controller, "refill", window.named_actions["refill"].trigger) == "ok"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(tmp_path / "t.png"), "")))
    assert wait_job(qtbot, window.controller, "save", window.named_actions["save_as"].trigger) == "ok"
    assert not window.document.has_unsaved_edits
    window.document.undo()  # back to before the re-fill: that state is in no file
    assert window.document.has_unsaved_edits
    window.document.redo()
    assert window.close() and asked == []
