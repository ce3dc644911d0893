"""The picture queue in the window (pytest-qt, offscreen, tiny model): several files or a folder dropped fill it,
it cleans them one after another, a bad file fails alone, entries show with the whole single-picture workflow,
Save All asks once about files already there, unsaved edits are asked about, Cancel and Retry Failed."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from memeclean_gui.jobs import clean as clean_jobs
from memeclean_gui.model.queue_state import Status, load_spilled
from memeclean_gui.views.queue_dock import SaveAllDialog

from ..conftest import make_meme
from .conftest import read_rgb, wait_job
from .test_window import drag_stroke, drop

Button = QMessageBox.StandardButton


@pytest.fixture
def answer(monkeypatch):
    """answer(button) makes every question return `button`; returns the list of questions asked."""
    asked: list[str] = []

    def set_answer(button):
        monkeypatch.setattr(
            QMessageBox,
            "question",
            staticmethod(lambda parent, title, text, *args, **kwargs: asked.append(text) or button),
        )
        return asked

    return set_answer


def make_memes(folder, names, size=(120, 90)):
    paths = []
    for number, name in enumerate(names):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(make_meme(*size, seed=number)[0]).save(path)
        paths.append(path)
    return paths


def drop_paths(window, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    drop(window, mime)


def run_queue(qtbot, window, start=None, timeout=60_000) -> None:
    """Start the queue (Clean All, or `start()`) and wait until it has nothing left to do."""
    with qtbot.waitSignal(window.queue.run_finished, timeout=timeout):
        (start or window.queue.actions["clean_all"].trigger)()


def statuses(window) -> list[Status]:
    return [entry.status for entry in window.queue.state.entries]


def click_entry(qtbot, window, index: int) -> None:
    view = window.queue.dock.list
    item = view.item(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualItemRect(item).center())


def queued_window(qtbot, make_window, tmp_path, names=("a.png", "b.png", "c.png")):
    """A window whose queue holds `names` (all cleaned) with the first one shown."""
    window = make_window()
    paths = make_memes(tmp_path / "in", names)
    assert wait_job(qtbot, window.controller, "load", lambda: drop_paths(window, paths)) == "ok"
    run_queue(qtbot, window)
    assert statuses(window) == [Status.DONE] * len(names)
    return window, paths


def test_a_folder_and_files_dropped_fill_the_queue_and_it_cleans_them_one_after_another(
    qtbot, make_window, tmp_path, settings
):
    settings.update(auto_clean=True)
    window = make_window()
    queue = window.queue
    folder_files = make_memes(tmp_path / "chat", ["one.png", "deeper/two.jpg"])
    (tmp_path / "chat" / "notes.txt").write_text("not a picture")
    (loose,) = make_memes(tmp_path, ["loose.png"])
    assert not queue.dock.isVisible()

    with qtbot.waitSignal(queue.run_finished, timeout=60_000):
        drop_paths(window, [tmp_path / "chat", loose])
    assert queue.dock.isVisible() and queue.dock.list.count() == 3
    assert [entry.path for entry in queue.state.entries] == [*folder_files, loose]
    assert statuses(window) == [Status.DONE] * 3
    # The first picture is shown, with its result, as if it had been opened and cleaned alone.
    qtbot.waitUntil(lambda: window.document.source == folder_files[0] and window.document.result is not None)
    assert queue.dock.current_key() == queue.state.entries[0].key and "one.png" in window.windowTitle()
    for entry in queue.state.entries:
        result = load_spilled(entry.spilled)
        assert result.image.rgb.shape == read_rgb(entry.path).shape
        assert "Done" in queue.dock.item_for(entry.key).text()
    qtbot.waitUntil(lambda: not queue.thumbnails_pending)
    assert all(entry.thumbnail is not None and max(entry.thumbnail.shape[:2]) == 64 for entry in queue.state.entries)
    assert not queue.dock.item_for(queue.state.entries[2].key).icon().isNull()
    assert "3 pictures" in queue.dock.summary.text() and "3 done" in queue.dock.summary.text()
    assert not queue.dock.progress_bar.isVisible()


def test_one_file_dropped_alone_opens_as_before_without_a_queue(qtbot, make_window, meme_path):
    window = make_window()
    assert wait_job(qtbot, window.controller, "load", lambda: drop_paths(window, [meme_path])) == "ok"
    assert window.document.source == meme_path and not window.queue.state.entries
    assert not window.queue.dock.isVisible()


def test_a_bad_file_fails_alone_with_its_reason_and_retry_failed_tries_it_again(
    qtbot, make_window, tmp_path, message_boxes
):
    window = make_window()
    good_first, good_last = make_memes(tmp_path, ["first.png", "last.png"])
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is no picture")
    assert wait_job(qtbot, window.controller, "load", lambda: drop_paths(window, [good_first, bad, good_last])) == "ok"
    run_queue(qtbot, window)
    assert statuses(window) == [Status.DONE, Status.FAILED, Status.DONE]
    failed = window.queue.state.entries[1]
    assert "broken.png" in failed.error and "\n" not in failed.error
    assert f"Failed: {failed.error}" in window.queue.dock.item_for(failed.key).text()
    assert message_boxes == []  # one bad picture does not stop the queue with a message box
    assert window.queue.actions["retry"].isEnabled()
    assert wait_job(qtbot, window.controller, "load", lambda: click_entry(qtbot, window, 1)) == "error"
    assert message_boxes == [] and "broken.png" in window.statusBar().currentMessage()
    assert window.document.source == good_first and failed.status is Status.FAILED

    Image.fromarray(make_meme(100, 80, seed=7)[0]).save(bad, format="PNG")  # fixed meanwhile
    run_queue(qtbot, window, window.queue.actions["retry"].trigger)
    assert statuses(window) == [Status.DONE] * 3 and failed.error == ""
    assert not window.queue.actions["retry"].isEnabled()


def test_clicking_an_entry_shows_it_with_the_whole_single_picture_workflow(qtbot, make_window, tmp_path):
    window, paths = queued_window(qtbot, make_window, tmp_path)
    queue = window.queue
    second = queue.state.entries[1]
    assert wait_job(qtbot, window.controller, "load", lambda: click_entry(qtbot, window, 1)) == "ok"
    document = window.document
    assert document.source == paths[1] and window.canvas.has_image and queue.shown is second
    np.testing.assert_array_equal(document.result.image.rgb, load_spilled(second.spilled).image.rgb)

    window.named_actions["brush"].trigger()  # the mask, the brush and re-fill work on it as on any picture
    drag_stroke(qtbot, window, [(20, 60), (90, 70)])
    assert document.has_unsaved_edits and second.status is Status.EDITED
    assert "Edited" in queue.dock.item_for(second.key).text()
    assert wait_job(qtbot, window.controller, "refill", window.named_actions["refill"].trigger) == "ok"
    assert document.history.undo_label == "Re-fill"

    assert wait_job(qtbot, window.controller, "load", queue.actions["next"].trigger) == "ok"
    assert document.source == paths[2] and document.result is not None and not document.has_unsaved_edits
    queue.actions["previous"].trigger()  # kept whole: back at once, with its own history
    assert document.source == paths[1] and document.history.undo_label == "Re-fill"
    assert document.undo() and document.history.undo_label == "Brush Stroke"
    assert queue.dock.current_key() == second.key


def test_the_shortcuts_list_names_next_and_previous_picture_and_no_two_actions_share_keys(make_window, message_boxes):
    window = make_window()
    window.show_shortcuts()
    table = message_boxes[-1][1]
    assert "Next Picture" in table and "Ctrl+PgDown" in table
    assert "Previous Picture" in table and "Ctrl+PgUp" in table
    owners: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for keys in action.shortcuts():
            text = keys.toString()
            assert text not in owners, f"{text}: {owners.get(text)} and {action.text()}"
            owners[text] = action.text()


def test_pictures_put_away_come_back_from_disk_and_edited_ones_stay_whole(qtbot, make_window, tmp_path):
    window, paths = queued_window(qtbot, make_window, tmp_path, names=("a.png", "b.png", "c.png", "d.png"))
    queue = window.queue
    queue.state.keep_documents = 1
    first, second, third, fourth = queue.state.entries
    window.named_actions["brush"].trigger()
    drag_stroke(qtbot, window, [(20, 60), (90, 70)])  # the first picture gets an edit
    for _index in (1, 2, 3):
        assert wait_job(qtbot, window.controller, "load", queue.actions["next"].trigger) == "ok"
    assert queue.state.kept_entries() == [first, third]  # the edited one and the most recent one
    assert wait_job(qtbot, window.controller, "load", lambda: click_entry(qtbot, window, 1)) == "ok"
    assert window.document.source == paths[1]
    np.testing.assert_array_equal(window.document.result.image.rgb, load_spilled(second.spilled).image.rgb)
    click_entry(qtbot, window, 0)  # still in memory: shown at once, its stroke in its history
    assert window.document.source == paths[0] and window.document.history.undo_label == "Brush Stroke"


def test_save_all_asks_once_about_existing_files_and_writes_over_none_of_them(
    qtbot, make_window, tmp_path, monkeypatch, message_boxes
):
    window, paths = queued_window(qtbot, make_window, tmp_path, names=("x/cat.png", "y/cat.png", "dog.png"))
    queue = window.queue
    out = tmp_path / "out"
    out.mkdir()
    Image.new("RGB", (5, 5), (1, 2, 3)).save(out / "dog.png")
    existing = (out / "dog.png").read_bytes()
    inputs = [path.read_bytes() for path in paths]
    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return Button.NoToAll

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(SaveAllDialog, "ask", classmethod(lambda cls, parent, folder, count: (out, None)))
    with qtbot.waitSignal(queue.saved_all, timeout=30_000) as blocker:
        queue.actions["save_all"].trigger()
    assert blocker.args[0] == {"saved": 2, "skipped": 1, "failed": 0}
    assert len(asked) == 1 and "dog.png" in asked[0] and "1 of the 3" in asked[0]
    assert (out / "dog.png").read_bytes() == existing
    assert [path.read_bytes() for path in paths] == inputs
    cat, cat2, dog = queue.state.entries
    np.testing.assert_array_equal(read_rgb(out / "cat.png"), load_spilled(cat.spilled).image.rgb)
    np.testing.assert_array_equal(read_rgb(out / "cat-2.png"), load_spilled(cat2.spilled).image.rgb)
    assert statuses(window) == [Status.SAVED, Status.SAVED, Status.DONE]
    summary = message_boxes[-1]
    assert summary[0] == "information" and "Saved 2" in summary[1] and "Skipped 1" in summary[1]
    assert "dog.png (a file of that name is there)" in summary[1]
    assert not window.document.has_unsaved_edits and window.document.is_kept

    # Yes to All replaces the file that was there (never an input).
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: Button.YesToAll))
    with qtbot.waitSignal(queue.saved_all, timeout=30_000) as blocker:
        queue.actions["save_all"].trigger()
    assert blocker.args[0] == {"saved": 3, "skipped": 0, "failed": 0}
    np.testing.assert_array_equal(read_rgb(out / "dog.png"), load_spilled(dog.spilled).image.rgb)

    # One format chosen for the whole batch.
    jpegs = tmp_path / "jpegs"
    jpegs.mkdir()
    monkeypatch.setattr(SaveAllDialog, "ask", classmethod(lambda cls, parent, folder, count: (jpegs, ".jpg")))
    with qtbot.waitSignal(queue.saved_all, timeout=30_000):
        queue.actions["save_all"].trigger()
    assert sorted(path.name for path in jpegs.iterdir()) == ["cat-2.jpg", "cat.jpg", "dog.jpg"]
    with Image.open(jpegs / "dog.jpg") as written:
        assert written.format == "JPEG"


def test_quitting_or_clearing_with_edits_in_a_queued_picture_asks_once(qtbot, make_window, tmp_path, answer):
    window, paths = queued_window(qtbot, make_window, tmp_path)
    queue = window.queue
    window.named_actions["brush"].trigger()
    drag_stroke(qtbot, window, [(20, 60), (90, 70)])
    asked = answer(Button.Cancel)
    assert wait_job(qtbot, window.controller, "load", queue.actions["next"].trigger) == "ok"
    assert asked == []  # moving on keeps the edits in the queue: nothing to ask
    assert queue.edited_entries() == [queue.state.entries[0]]

    queue.actions["clear"].trigger()
    assert len(asked) == 1 and "a.png" in asked[0] and "Clear the queue" in asked[0]
    assert len(queue.state.entries) == 3
    assert not window.close()
    assert len(asked) == 2 and "a.png" in asked[1] and "Quit" in asked[1] and window.isVisible()

    answer(Button.Discard)
    assert window.close()


def test_cancel_stops_the_picture_being_cleaned_and_the_rest_stay_waiting(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    paths = make_memes(tmp_path, ["a.png", "b.png", "c.png"])
    assert wait_job(qtbot, window.controller, "load", lambda: drop_paths(window, paths)) == "ok"
    inside, release = threading.Event(), threading.Event()
    real_clean = clean_jobs.clean_image

    def clean_that_waits(image, resolution, models, progress, cancel):
        def hooked(fraction, text):  # in the worker: hold on at the first progress report
            progress(fraction, text)
            if not inside.is_set():
                inside.set()
                release.wait(30)

        return real_clean(image, resolution, models, hooked, cancel)

    monkeypatch.setattr(clean_jobs, "clean_image", clean_that_waits)
    queue = window.queue
    queue.actions["clean_all"].trigger()
    qtbot.waitUntil(inside.is_set)
    assert statuses(window) == [Status.CLEANING, Status.WAITING, Status.WAITING]
    assert queue.dock.progress_bar.isVisible() and "1 of 3" in queue.dock.progress_bar.format()
    assert window.named_actions["clean"].isEnabled()  # the window stays usable while the queue runs
    with qtbot.waitSignal(queue.run_finished, timeout=30_000):
        queue.actions["cancel"].trigger()
        release.set()
    assert statuses(window) == [Status.WAITING] * 3
    assert all(entry.spilled is None for entry in queue.state.entries)
    assert not queue.dock.progress_bar.isVisible() and queue.actions["clean_all"].isEnabled()
    assert window.document.result is None


def test_remove_and_clear(qtbot, make_window, tmp_path):
    window, paths = queued_window(qtbot, make_window, tmp_path)
    queue = window.queue
    folder = queue.state.folder
    assert wait_job(qtbot, window.controller, "load", queue.actions["remove"].trigger) == "ok"  # the shown one goes
    assert [entry.path for entry in queue.state.entries] == paths[1:]
    assert window.document.source == paths[1] and queue.dock.list.count() == 2
    queue.actions["clear"].trigger()
    assert not queue.state.entries and not queue.dock.isVisible() and not folder.exists()
    assert window.document.source == paths[1]  # the picture stays on the canvas, outside any queue
