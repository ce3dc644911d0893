"""The document, its history and the brush: plain Python, driven by neutral events (no Qt, no qtbot)."""

from __future__ import annotations

import numpy as np
import pytest

from memeclean_core.files.imageio import LoadedImage
from memeclean_gui.model.brush import BrushTool, PointerEvent, paint_segment
from memeclean_gui.model.document import Document, History, Result, State


def make_document(width=40, height=30) -> Document:
    document = Document()
    document.set_image(LoadedImage.from_array(np.zeros((height, width, 3), np.uint8)), "test.png")
    return document


def fake_result(document: Document, mask: np.ndarray) -> Result:
    image = document.image
    mask = mask.copy()
    mask.flags.writeable = False
    return Result(image=image, mask=mask, region=mask, resolution=256, working_size=(40, 30), device="CPU", seconds=0.1)


def stroke(tool: BrushTool, *points, erase=False):
    tool.erase = erase
    (x, y), *rest = points
    tool.handle(PointerEvent("press", x, y))
    for x, y in rest:
        tool.handle(PointerEvent("move", x, y))
    tool.handle(PointerEvent("release", *points[-1]))


def test_paint_segment_paints_a_capsule_and_returns_its_box():
    mask = np.zeros((20, 30), bool)
    bbox = paint_segment(mask, 5.5, 10.5, 20.5, 10.5, 2.0, True)
    assert bbox == (8, 3, 13, 23)
    rows, cols = np.nonzero(mask)
    assert (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1) == bbox
    assert mask[10, 5:21].all(), "no gaps along the path"
    assert not mask[10, 0] and not mask[0, 10]
    assert paint_segment(mask, 5.5, 10.5, 20.5, 10.5, 2.0, False) == bbox
    assert not mask.any(), "the eraser takes back exactly what the brush painted"


def test_a_click_paints_at_least_the_pixel_under_it_and_outside_is_ignored():
    mask = np.zeros((10, 10), bool)
    assert paint_segment(mask, 3.5, 4.5, 3.5, 4.5, 0.1, True) == (4, 3, 5, 4)
    assert mask.sum() == 1 and mask[4, 3]
    paint_segment(mask, 7.99, 1.01, 7.99, 1.01, 0.1, True)
    assert mask[1, 7], "even a click at a pixel's corner paints that pixel"
    assert paint_segment(mask, -50, -50, -40, -40, 3, True) is None
    assert paint_segment(mask, 9.9, 5, 30, 5, 1, True) is not None, "a stroke leaving the image is clipped"


def test_one_stroke_is_one_undo_step():
    document = make_document()
    tool = BrushTool(document, size=4)
    events = []
    document.state_changed.connect(lambda: events.append("state"))
    document.mask_painted.connect(lambda bbox: events.append(bbox))
    stroke(tool, (5, 5), (10, 5), (15, 8), (20, 12))
    assert document.mask[5, 5] and document.mask[12, 20]
    assert events[-1] == "state" and all(isinstance(e, tuple) for e in events[:-1]) and len(events) >= 4
    assert document.history.undo_label == "Brush Stroke" and document.state.mask_edited
    assert document.undo()
    assert not document.mask.any() and not document.history.can_undo
    assert document.redo() and document.mask[5, 5]


def test_a_stroke_that_changes_nothing_adds_no_step_and_states_are_read_only():
    document = make_document()
    tool = BrushTool(document, size=4)
    stroke(tool, (5, 5), (9, 5), erase=True)
    assert not document.history.can_undo
    stroke(tool, (5, 5))
    with pytest.raises(ValueError):
        document.mask[0, 0] = True  # a snapshot is never changed in place


def test_mask_edited_compares_with_the_mask_the_result_was_filled_with():
    document = make_document()
    text = np.zeros((30, 40), bool)
    text[10:14, 5:30] = True
    document.set_result(fake_result(document, text), "Clean")
    assert not document.state.mask_edited and document.history.undo_label == "Clean"
    tool = BrushTool(document, size=3)
    stroke(tool, (6, 12), (20, 12), erase=True)
    assert document.state.mask_edited
    stroke(tool, (6, 12), (20, 12))  # painted back exactly
    assert not document.state.mask_edited
    assert document.undo() and document.undo() and document.history.undo_label == "Clean"
    assert document.undo() and document.result is None


def test_undo_during_a_stroke_drops_the_stroke_and_the_tool_follows():
    document = make_document()
    tool = BrushTool(document, size=4)
    tool.handle(PointerEvent("press", 5, 5))
    assert document.stroke_active and document.mask[5, 5]
    document.undo()
    assert not document.stroke_active and not document.mask.any()
    assert tool.handle(PointerEvent("move", 10, 10)) is None
    tool.handle(PointerEvent("release", 10, 10))
    assert not document.history.can_undo


def test_a_new_image_starts_a_new_history():
    document = make_document()
    stroke(BrushTool(document, size=4), (5, 5))
    generation = document.generation
    document.set_image(LoadedImage.from_array(np.zeros((8, 9, 3), np.uint8)), "other.png")
    assert document.generation == generation + 1
    assert document.mask.shape == (8, 9) and not document.history.can_undo and document.result is None


def test_history_drops_the_redo_branch_and_keeps_a_limit():
    def state(label):
        return State(None, np.zeros((1, 1), bool), label)

    history = History(state("0"), limit=3)
    for label in "123":
        history.push(state(label))
    assert history.current.label == "3"
    assert history.undo() and history.undo() and not history.undo(), "the oldest step was dropped"
    history.push(state("x"))
    assert not history.can_redo and history.undo_label == "x"


def test_history_drops_old_steps_beyond_its_memory_budget():
    mask = np.zeros((100, 100), bool)  # 10 kB per step
    history = History(State(None, mask, "Open"), limit=50, max_bytes=35_000)
    for number in range(5):
        history.push(State(None, np.zeros((100, 100), bool), f"Stroke {number}"))
    assert history.bytes <= 35_000 and history.current.label == "Stroke 4"
    assert history.undo() and history.undo() and not history.undo(), "three steps fit"
    shared = History(State(None, mask, "Open"), max_bytes=15_000)
    for number in range(5):
        shared.push(State(None, mask, f"Same mask {number}"))  # shared arrays cost nothing more
    assert shared.bytes == 10_000
