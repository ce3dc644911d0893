"""The picture queue's Qt-free state: which files a folder gives, order and statuses, the documents kept whole (and
those put away, with their results spilled to disk), and where Save All writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.files.imageio import Frame, LoadedImage
from memeclean_gui.model.document import Result, Snapshot, State
from memeclean_gui.model.queue_state import (
    PictureQueue,
    QueueEntry,
    Status,
    image_files,
    load_spilled,
    output_suffix,
    plan_save_all,
    spill_result,
)


@pytest.fixture
def make_queue():
    """make_queue(**options) -> a PictureQueue whose temporary folder is removed at teardown."""
    queues = []

    def make(**options):
        queues.append(PictureQueue(**options))
        return queues[-1]

    yield make
    for queue in queues:
        queue.clear()


def write(path, size=(8, 6), colour=(10, 20, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def make_result(width=8, height=6, seed=0, frames=1, alpha=False) -> Result:
    rng = np.random.default_rng(seed)
    frame_list = []
    for number in range(frames):
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        frame_alpha = rng.integers(0, 256, (height, width), dtype=np.uint8) if alpha else None
        frame_list.append(Frame(pixels, frame_alpha, 40 + number if frames > 1 else None))
    image = LoadedImage(frame_list, None, "GIF" if frames > 1 else "PNG", 0 if frames > 1 else None, None)
    mask = rng.random((height, width)) > 0.7
    region = mask | (rng.random((height, width)) > 0.8)
    return Result(image, mask, region, 256, (width, height), "CPU", 0.25)


def snapshot_of(result: Result | None, width=8, height=6) -> Snapshot:
    original = LoadedImage([Frame(np.zeros((height, width, 3), np.uint8))])
    return Snapshot.opened(original, "x.png", None, result)


def test_a_folder_gives_its_image_files_recursively_and_leaves_out_the_rest(tmp_path):
    top = write(tmp_path / "memes" / "b.png")
    nested = write(tmp_path / "memes" / "deeper" / "a.JPG")
    (tmp_path / "memes" / "notes.txt").write_text("not a picture")
    write(tmp_path / "memes" / ".hidden.png")
    write(tmp_path / "memes" / ".cache" / "c.png")
    loose = tmp_path / "loose.dat"  # named explicitly: queued as given (its clean says what is wrong)
    loose.write_bytes(b"x")
    files, left_out = image_files([tmp_path / "memes", loose])
    assert files == [top, nested, loose]
    assert left_out == 1


def test_entries_keep_their_order_are_not_added_twice_and_step_both_ways(tmp_path, make_queue):
    queue = make_queue()
    a, b, c = (write(tmp_path / f"{name}.png") for name in "abc")
    added = queue.add([a, b, a])
    assert [entry.path for entry in added] == [a, b]
    assert queue.add([tmp_path / "." / "b.png", c])[0].path == c
    first, second, third = queue.entries
    assert queue.neighbour(first, 1) is second and queue.neighbour(third, 1) is None
    assert queue.neighbour(None, -1) is third and queue.neighbour(second, -1) is first
    assert queue.find(tmp_path / "c.png") is third and queue.by_key(second.key) is second


def test_the_next_to_clean_is_the_one_shown_when_it_waits_and_failed_ones_can_be_retried(tmp_path, make_queue):
    queue = make_queue()
    first, second, third = queue.add([write(tmp_path / f"{n}.png") for n in "abc"])
    assert queue.next_waiting() is first
    assert queue.next_waiting(prefer=third) is third
    first.status, second.status, second.error = Status.DONE, Status.FAILED, "cannot read 'b.png'"
    assert queue.next_waiting(prefer=first) is third
    assert queue.retry_failed() == [second]
    assert second.status is Status.WAITING and second.error == ""
    assert queue.counts()[Status.WAITING] == 2


@pytest.mark.parametrize("frames, alpha", [(1, False), (1, True), (3, False)])
def test_a_spilled_result_reads_back_exactly(tmp_path, frames, alpha):
    result = make_result(frames=frames, alpha=alpha, seed=frames)
    spilled = spill_result(tmp_path, "00001-1", result)
    back = load_spilled(spilled)
    assert len(back.image.frames) == frames
    for mine, theirs in zip(back.image.frames, result.image.frames):
        np.testing.assert_array_equal(mine.pixels, theirs.pixels)
        if alpha:
            np.testing.assert_array_equal(mine.alpha, theirs.alpha)
        else:
            assert mine.alpha is None
        assert mine.duration_ms == theirs.duration_ms
    np.testing.assert_array_equal(back.mask, result.mask)
    np.testing.assert_array_equal(back.region, result.region)
    assert (back.resolution, back.working_size, back.device, back.image.loop) == (256, (8, 6), "CPU", result.image.loop)
    spilled.delete()
    assert not any(tmp_path.iterdir())


def test_only_the_most_recent_documents_stay_whole_and_those_put_away_are_spilled(tmp_path, make_queue):
    queue = make_queue(keep_documents=2)
    entries = queue.add([write(tmp_path / f"{n}.png") for n in "abcd"])
    results = [make_result(seed=number) for number in range(4)]
    for entry, result in zip(entries[:2], results):
        assert queue.keep(entry, snapshot_of(result)) == []
    assert queue.keep(entries[2], snapshot_of(results[2])) == [entries[0]]
    assert queue.kept_entries() == entries[1:3] and queue.documents_kept == 2
    assert entries[0].spilled is not None  # its latest result is on disk
    np.testing.assert_array_equal(load_spilled(entries[0].spilled).image.rgb, results[0].image.rgb)
    queue.document(entries[1])  # shown again: the most recent now
    assert queue.keep(entries[3], snapshot_of(None)) == [entries[2]]
    assert queue.take(entries[1]) is not None and queue.take(entries[1]) is None
    folder = queue.spill_folder
    assert folder is not None and any(folder.iterdir())
    queue.clear()
    assert not queue.entries and not folder.exists()


def test_a_document_with_edits_is_never_put_away(tmp_path, make_queue):
    queue = make_queue(keep_documents=1)
    edited_entry, other, third = queue.add([write(tmp_path / f"{n}.png") for n in "abc"])
    edited = snapshot_of(make_result())
    edited.history.push(State(edited.result, np.ones((6, 8), bool), "Brush Stroke", mask_edited=True))
    assert edited.has_unsaved_edits
    queue.keep(edited_entry, edited)
    assert queue.keep(other, snapshot_of(make_result(seed=1))) == []  # the edited one is skipped, nothing older
    assert queue.keep(third, snapshot_of(None)) == [other]
    assert queue.document(edited_entry) is edited and queue.edited() == [edited_entry]
    edited.mark_kept()  # saved: now it may go
    assert queue.keep(other, snapshot_of(None)) == [third, edited_entry]  # least recently shown first


def test_a_result_already_on_disk_is_not_written_again(tmp_path, make_queue):
    queue = make_queue()
    (entry,) = queue.add([write(tmp_path / "a.png")])
    result = make_result()
    queue.spill_now(entry, result)
    first = entry.spilled
    queue.spill_now(entry, result)
    assert entry.spilled is first
    back = load_spilled(first)
    queue.loaded_from_disk(entry, back)  # shown again from disk, then put away: nothing to write
    queue.spill_now(entry, back)
    assert entry.spilled is first
    queue.spill_now(entry, make_result(seed=3))  # a re-fill: the newer result replaces the older files
    assert entry.spilled is not first and not first.mask_file.exists()
    queue.remove(entry)
    assert not entry.spilled.mask_file.exists()


def test_save_all_names_keep_the_pictures_own_names_and_never_an_input(tmp_path, make_queue):
    out = tmp_path / "out"
    out.mkdir()
    queue = make_queue()
    inputs = [
        write(tmp_path / "a" / "cat.png"),
        write(tmp_path / "b" / "cat.png"),
        write(tmp_path / "dog.jpg"),
        write(tmp_path / "old.bmp"),
        write(tmp_path / "raw.png"),
        write(tmp_path / "fresh.png"),
    ]
    cat1, cat2, dog, old, raw, fresh = queue.add(inputs)
    for entry in (cat1, cat2, dog, old, fresh):
        entry.status = Status.DONE
    write(out / "dog.jpg")  # a file already there
    plan = plan_save_all(queue.entries, out, None, inputs, cleaned=lambda entry: entry.status is Status.DONE)
    targets = {item.entry.name if item.entry is not cat2 else "cat2": item for item in plan}
    assert targets["cat.png"].target == out / "cat.png" and targets["cat2"].target == out / "cat-2.png"
    assert targets["dog.jpg"].target == out / "dog.jpg" and targets["dog.jpg"].exists
    assert targets["old.bmp"].target == out / "old.png"  # a format MemeClean does not write: PNG
    assert targets["raw.png"].target is None and targets["raw.png"].reason == "not cleaned"
    # Saving into the inputs' own folder: the picture itself is never a target.
    plan = plan_save_all([fresh], tmp_path, None, inputs, cleaned=lambda entry: True)
    assert plan[0].target is None and "input" in plan[0].reason
    assert output_suffix(dog, ".webp") == ".webp" and output_suffix(QueueEntry(tmp_path / "x.jfif", 9), None) == ".jpg"


def test_the_queue_state_and_its_jobs_import_no_qt():
    import ast

    import memeclean_gui

    folder = Path(memeclean_gui.__file__).parent
    for name in ("model/queue_state.py", "jobs/queue.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not {module for module in imported if module.startswith(("PySide6", "shiboken6"))}, name


def test_a_document_put_away_comes_back_with_its_history_and_says_before_it_changes():
    from memeclean_gui.model.document import Document

    document = Document()
    seen = []
    document.image_leaving.connect(lambda: seen.append(("leaving", document.name)))
    document.image_changed.connect(lambda: seen.append(("changed", document.name)))
    first = LoadedImage([Frame(np.zeros((6, 8, 3), np.uint8))])
    document.set_image(first, "first.png")
    document.set_result(make_result(), "Clean")
    document.begin_stroke()[0, 0] = True
    document.end_stroke("Brush Stroke")
    assert document.has_unsaved_edits
    put_away = document.snapshot()
    generation = document.generation

    document.set_image(LoadedImage([Frame(np.ones((4, 4, 3), np.uint8))]), "second.png")
    assert seen[-2:] == [("leaving", "first.png"), ("changed", "second.png")]
    document.restore(put_away)
    assert seen[-2:] == [("leaving", "second.png"), ("changed", "first.png")]
    assert document.generation == generation + 2 and document.has_unsaved_edits
    assert document.history.undo_label == "Brush Stroke" and document.undo() and document.history.undo_label == "Clean"

    reopened = Snapshot.opened(first, "first.png", None, make_result(), saved_path=None)
    assert reopened.result is not None and reopened.state.label == "Clean" and not reopened.has_unsaved_edits
    assert not reopened.is_kept and Snapshot.opened(first, "f", None, make_result(), saved_path=Path("t.png")).is_kept
