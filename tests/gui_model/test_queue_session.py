"""The picture queue beside the window's document, without Qt: a run's counters, the statuses a document gives its
entry, where a queued clean's result goes, an open that crosses a clean, Save All's split and summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memeclean_core.files.imageio import Frame, LoadedImage
from memeclean_gui.model.document import Document
from memeclean_gui.model.queue_session import QueueRun, QueueSession, document_status, queue_summary
from memeclean_gui.model.queue_state import SaveOutcome, Status, plan_save_all, spill_result

from .test_queue_state import make_result


@pytest.fixture
def session(tmp_path):
    """A session over a fresh document with three queued files (not read: the tests show them by hand)."""
    value = QueueSession(Document())
    value.state.add([tmp_path / name for name in ("a.png", "b.png", "c.png")])
    yield value
    value.state.clear()


def picture(width=8, height=6) -> LoadedImage:
    return LoadedImage([Frame(np.zeros((height, width, 3), np.uint8))])


def show(session: QueueSession, index: int, result=None):
    """Show entry `index` in the document, as the queue mode does once it is read."""
    entry = session.state.entries[index]
    session.document.image_leaving.connect(session.put_away)
    session.document.image_changed.connect(session.image_changed)
    session.restore(entry, session.opened(entry, picture(), result, entry.spilled))
    return entry


def paint(document: Document) -> None:
    document.begin_stroke()[0, 0] = True
    document.end_stroke("Brush Stroke")


def test_a_run_counts_what_it_cleaned_and_failed_and_says_so_at_the_end():
    run = QueueRun()
    run.begin(4)
    assert run.active and run.progress(0.5) == (0.125, 1, 4)
    run.finished("ok")
    run.finished("error")
    run.finished("cancelled")  # back in line: not counted
    run.grow(2)  # added while it runs
    run.shrink()  # one waiting taken out
    assert (run.done, run.failed, run.total) == (2, 1, 5) and run.progress(0.0) == (0.4, 3, 5)
    run.begin(9)  # Clean All again while it runs: the same run goes on
    assert run.total == 5
    run.stopping = True
    assert not run.active and run.running
    assert run.summary(3) == "Queue: 1 cleaned, 1 failed (Queue ▸ Retry Failed), 3 waiting"
    assert run.end() and not run.end() and not run.running
    run.grow(5)
    assert run.total == 5, "nothing grows when no run goes on"


def test_the_document_gives_the_shown_entry_its_status(session):
    document = session.document
    entry = show(session, 0)
    assert document_status(document, Status.WAITING, False) is None  # nothing happened to it
    document.set_result(make_result(), "Clean")
    assert document_status(document, Status.WAITING, False) is Status.DONE
    paint(document)
    assert session.sync_status(entry) and entry.status is Status.EDITED
    document.saved_path = Path("saved.png")
    document.mark_kept()
    assert session.sync_status(entry) and entry.status is Status.SAVED
    entry.status = Status.CLEANING
    assert not session.sync_status(entry) and entry.status is Status.CLEANING  # its queued clean says, not the document


def test_a_queued_clean_becomes_the_result_only_where_there_is_none_and_edits_are_kept(session, tmp_path):
    first, second = session.state.entries[0], session.state.entries[1]
    shown = show(session, 0)
    assert shown is first and session.shown is first and session.keeps_document
    cleaned = make_result()
    session.cleaned(first, spill_result(tmp_path, "a", cleaned), cleaned, None)
    assert session.document.result is cleaned and first.status is Status.DONE
    assert session.document.history.undo_label == "Clean"

    paint(session.document)  # then the person edits it and looks at the next picture: it is kept whole
    show(session, 1)
    assert session.shown is second and session.state.peek(first) is not None
    again = make_result(seed=1)
    session.cleaned(first, spill_result(tmp_path, "a2", again), again, None)
    kept = session.state.peek(first)
    assert kept.result is cleaned and kept.has_unsaved_edits and first.status is Status.EDITED
    assert session.edited_entries() == [first] and session.edited_entries([second]) == []
    assert session.has_result(first) and session.result_in_memory(first) is cleaned


def test_an_open_that_crossed_its_queued_clean_shows_the_newest_result(session, tmp_path):
    entry = session.state.entries[2]
    cleaned = make_result()
    session.cleaned(entry, spill_result(tmp_path, "c", cleaned), cleaned, None)  # while it was being read
    opened = session.opened(entry, picture(), None, None)
    assert opened.result is cleaned
    session.latest_result = None  # read back from disk instead
    assert np.array_equal(
        session.opened(entry, picture(), None, None).result.image.frames[0].pixels, cleaned.image.frames[0].pixels
    )
    assert session.opened(entry, picture(4, 4), None, None).result is None  # the file changed size meanwhile


def test_a_picture_shown_needs_no_clean_from_the_window_when_the_queue_cleans_it(session):
    entry = show(session, 0)
    assert not session.cleans_document
    session.run.begin(3)
    assert session.cleans_document  # waiting, and the run will clean it
    session.run.end()
    entry.status = Status.DONE
    assert session.cleans_document


def test_save_all_skips_files_there_unless_replacing_and_sums_up(session, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"there")
    a, b, c = session.state.entries
    for entry in (a, b):
        result = make_result()
        session.cleaned(entry, spill_result(tmp_path, entry.path.stem, result), result, None)
    inputs = tuple(entry.path for entry in session.state.entries)
    plan = plan_save_all(session.state.entries, out, None, inputs, cleaned=session.has_result)
    items, skipped = session.save_items(plan, False, inputs)
    assert [item.target.name for item in items] == ["a.png"]
    assert [(entry, reason) for entry, reason in skipped] == [(c, "not cleaned"), (b, "a file of that name is there")]
    replacing, _ = session.save_items(plan, True, inputs)
    assert [(item.target.name, item.overwrite) for item in replacing] == [("a.png", False), ("b.png", True)]

    outcomes = [SaveOutcome(a.key, out / "a.png", "saved"), SaveOutcome(b.key, out / "b.png", "failed", "disk full")]
    report = session.saved_all(out, outcomes, skipped, {a.key: None})
    assert report.counts == {"saved": 1, "skipped": 2, "failed": 1}
    assert report.lines == [
        f"Saved 1 template to {out}.",
        "Skipped 2: c.png (not cleaned); b.png (a file of that name is there).",
        "Failed 1: b.png: disk full.",
    ]
    assert a.status is Status.SAVED and a.saved_path == out / "a.png" and b.status is Status.DONE
    assert queue_summary(session.state) == "3 pictures · 1 waiting · 1 done · 1 saved"
