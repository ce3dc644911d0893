"""The template library and learning from fixes in the app: the match offer on open, templates added on save,
hand fixes kept, the Library window."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QInputDialog, QMessageBox

from memeclean_core.library import TemplateLibrary
from memeclean_core.library.synthetic import meme_from, textured_picture
from memeclean_core.training.fixes import fixes_dir, list_fixes
from memeclean_gui.model.brush import PointerEvent
from memeclean_gui.modes.library import USE_LABEL

from .conftest import wait_job


@pytest.fixture
def library() -> TemplateLibrary:
    """The user's library (in the temporary home) with three templates."""
    value = TemplateLibrary()
    for seed in range(3):
        value.add(textured_picture(seed, 360, 270), f"template {seed}", tags=["test"])
    return value


@pytest.fixture
def matching_meme(tmp_path) -> Path:
    meme, _ = meme_from(textured_picture(1, 360, 270), 4, 1.3, (0.02, 0.0, 0.03, 0.02))
    path = tmp_path / "captioned.jpg"
    Image.fromarray(meme).save(path, quality=90)
    return path


def open_and_wait_lookup(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(
        window.library.offer_changed, timeout=30_000, check_params_cb=lambda: window.library.offer is not None
    ):
        window.open_path(path)


def test_an_opened_meme_of_a_library_template_is_offered_and_used_in_one_step(
    qtbot, make_window, library, matching_meme
):
    window = make_window()
    open_and_wait_lookup(qtbot, window, matching_meme)
    mode = window.library
    assert mode.bar.isVisible() and "template 1" in mode.bar_label.text()
    assert mode.actions["use"].isEnabled()
    document = window.document
    assert mode.use_offer()
    assert document.state.label == USE_LABEL and not mode.bar.isVisible()
    found = library.match(document.image.rgb)
    assert np.array_equal(document.result.image.frames[0].pixels, found.clean)
    assert np.array_equal(document.mask, found.mask) and document.mask.any()
    assert window.named_actions["undo"].isEnabled()
    document.undo()
    assert document.result is None and document.state.label == "Open"


def test_an_unrelated_meme_gets_no_offer(qtbot, make_window, library, meme_path):
    window = make_window()
    with qtbot.waitSignal(window.controller.finished, timeout=30_000):
        window.open_path(meme_path)
    qtbot.waitUntil(lambda: window.library.running == 0, timeout=30_000)
    assert window.library.offer is None and not window.library.bar.isVisible()


def test_saving_a_template_adds_it_to_the_library_once(qtbot, make_window, meme_path, tmp_path):
    window = make_window()
    wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path))
    wait_job(qtbot, window.controller, "clean", window.clean)
    with qtbot.waitSignal(window.library.added, timeout=30_000) as added:
        window._save_to(tmp_path / "my template.png")
    assert added.args[0].name == "my template"
    assert [entry.name for entry in TemplateLibrary().entries()] == ["my template"]
    wait_job(qtbot, window.controller, "save", lambda: window._save_to(tmp_path / "again.png"))
    qtbot.waitUntil(lambda: window.library.running == 0, timeout=30_000)
    assert len(TemplateLibrary()) == 1


def test_a_hand_fix_is_kept_as_a_training_pair_on_save(qtbot, make_window, meme_path, tmp_path):
    window = make_window()
    wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path))
    wait_job(qtbot, window.controller, "clean", window.clean)
    window.settings.update(library_add_saved=False)
    brush = window.brush
    brush.erase = False
    brush.size = 20
    for kind, x in (("press", 30), ("move", 60), ("move", 90), ("release", 90)):
        brush.handle(PointerEvent(kind, x, 120.0))
    mask = window.document.mask.copy()
    wait_job(qtbot, window.controller, "refill", window.refill)
    with qtbot.waitSignal(window.library.fix_kept, timeout=30_000) as kept:
        window._save_to(tmp_path / "fixed.png")
    fix = kept.args[0]
    assert list_fixes() == [fix] and fix.folder.parent == fixes_dir()
    meme, template, kept_mask = fix.load()
    assert np.array_equal(kept_mask, mask) and template is not None  # re-filled with that mask: the template too
    assert np.array_equal(meme, window.document.image.rgb)
    assert not window.library.keep_fix()  # the same mask is kept once


def test_no_fix_without_a_hand_edit_or_when_turned_off(qtbot, make_window, meme_path, tmp_path):
    window = make_window()
    wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path))
    wait_job(qtbot, window.controller, "clean", window.clean)
    assert not window.library.keep_fix()
    window.library.actions["keep_fixes"].setChecked(False)
    assert window.settings.keep_fixes is False
    for kind, x in (("press", 30), ("move", 90), ("release", 90)):
        window.brush.handle(PointerEvent(kind, x, 100.0))
    wait_job(qtbot, window.controller, "save", lambda: window._save_to(tmp_path / "t.png"))
    qtbot.waitUntil(lambda: window.library.running == 0, timeout=30_000)
    assert list_fixes() == []


def test_the_library_window_searches_renames_tags_deletes_and_opens(qtbot, make_window, library, monkeypatch, tmp_path):
    window = make_window()
    browser = window.library.show_library()
    assert [entry.name for entry in browser.entries_shown()] == ["template 2", "template 1", "template 0"]
    browser.search_edit.setText("template 1")
    assert [entry.name for entry in browser.entries_shown()] == ["template 1"]
    browser.search_edit.setText("")
    first = library.entries(search="template 0")[0]
    browser.select(first.id)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *args, **kwargs: ("Doge", True)))
    writers = []
    rename = TemplateLibrary.rename

    def watched_rename(self, *args, **kwargs):
        writers.append(threading.current_thread() is threading.main_thread())
        return rename(self, *args, **kwargs)

    monkeypatch.setattr(TemplateLibrary, "rename", watched_rename)
    with qtbot.waitSignal(browser.changed, timeout=30_000):  # written in a worker, then shown again
        browser.rename_selected()
    assert library.get(first.id).name == "Doge" and writers == [False], "SQLite is written off the UI thread"
    browser.select(first.id)
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *args, **kwargs: ("dog, shiba", True)))
    with qtbot.waitSignal(browser.changed, timeout=30_000):
        browser.tag_selected()
    assert library.get(first.id).tags == ("dog", "shiba")
    browser.tag_combo.setCurrentText("shiba")
    assert [entry.name for entry in browser.entries_shown()] == ["Doge"]
    browser.tag_combo.setCurrentIndex(0)

    with qtbot.waitSignal(browser.exported, timeout=30_000) as exported:
        browser.export_to(library.entries(), tmp_path)
    assert sorted(path.name for path in exported.args[0]) == ["Doge.png", "template_1.png", "template_2.png"]

    browser.select(first.id)
    with qtbot.waitSignal(window.document.image_changed, timeout=30_000):
        browser.open_selected()
    assert window.document.name == "Doge" and window.captions.active
    assert window.controller.running == 0 and window.document.result is None  # not cleaned again

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *args, **kwargs: QMessageBox.StandardButton.Yes))
    browser.select(first.id)
    with qtbot.waitSignal(browser.changed, timeout=30_000):
        browser.delete_selected()
    assert len(library) == 2 and "Doge" not in [entry.name for entry in browser.entries_shown()]


def test_the_library_window_imports_a_folder(qtbot, make_window, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    for seed in range(2):
        Image.fromarray(textured_picture(seed + 10, 200, 150)).save(folder / f"pic{seed}.png")
    (folder / "notes.txt").write_text("not a picture")
    (folder / "broken.png").write_bytes(b"not a png")
    window = make_window()
    browser = window.library.show_library()
    with qtbot.waitSignal(browser.changed, timeout=60_000):
        assert browser.import_folder(folder)
    assert sorted(entry.name for entry in browser.entries_shown()) == ["pic0", "pic1"]
    assert "skipped 1" in browser.status_label.text()


def test_every_cleaned_template_is_added_when_opted_in(qtbot, make_window, meme_path):
    window = make_window()
    window.library.actions["add_cleaned"].setChecked(True)
    assert window.settings.library_add_cleaned
    wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path))
    with qtbot.waitSignal(window.library.added, timeout=30_000) as added:
        window.clean()
    assert added.args[0].name == "meme" and len(TemplateLibrary()) == 1


def test_a_template_already_in_the_library_is_not_added_twice(library):
    from memeclean_gui.jobs.library import add_template

    picture = textured_picture(2, 360, 270)
    entry, was_added = add_template(library, picture, "again")
    assert not was_added and entry.name == "template 2" and len(library) == 3
    entry, was_added = add_template(library, textured_picture(50, 360, 270), "new")
    assert was_added and len(library) == 4


def test_the_library_window_says_that_a_damaged_database_was_rebuilt(qtbot, make_window, library):
    database = library.database.read_bytes()
    library.database.write_bytes(b"\xff" * 100 + database[100:])  # the header destroyed
    window = make_window()
    browser = window.library.show_library()
    assert sorted(entry.name for entry in browser.entries_shown()) == ["template 0", "template 1", "template 2"]
    status = browser.status_label.text()
    assert "3 of 3 template(s)" in status and "rebuilt from its pictures folder" in status
    assert "library-unreadable-" in status
