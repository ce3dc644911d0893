"""The caption editor without Qt: box geometry, gestures on neutral pointer events, one gesture = one undo step."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from memeclean_core.captions import TextBox, classic
from memeclean_core.files.imageio import LoadedImage
from memeclean_gui.model.brush import PointerEvent
from memeclean_gui.model.caption_editor import BoxFrame, CaptionEditor, hit_test, moved, resized, role_index
from memeclean_gui.model.document import Document

SIZE = (200, 100)  # (width, height)


def make_editor() -> tuple[Document, CaptionEditor]:
    document = Document()
    document.set_image(LoadedImage.from_array(np.zeros((SIZE[1], SIZE[0], 3), np.uint8)), "test")
    return document, CaptionEditor(document)


def drag(editor: CaptionEditor, points: list[tuple[float, float]]) -> None:
    first, *rest = points
    editor.handle(PointerEvent("press", *first))
    for point in rest[:-1]:
        editor.handle(PointerEvent("move", *point))
    editor.handle(PointerEvent("release", *rest[-1]))


def pixels(box: TextBox) -> tuple[float, float, float, float]:
    return box.x * SIZE[0], box.y * SIZE[1], box.w * SIZE[0], box.h * SIZE[1]


def test_frame_round_trips_and_rotation_turns_left_on_screen() -> None:
    box = TextBox(x=0.25, y=0.2, w=0.5, h=0.4, rotation=90)
    frame = BoxFrame.of(box, SIZE)
    assert (frame.cx, frame.cy, frame.width, frame.height) == (100, 40, 100, 40)
    x, y = frame.to_image(10, 0)  # right of the centre in the box's frame: above it on screen after 90°
    assert (x, y) == pytest.approx((100, 30))
    assert frame.to_local(x, y) == pytest.approx((10, 0))
    assert pixels(frame.to_box(box, SIZE)) == pytest.approx(pixels(box))


def test_hit_test_prefers_handles_of_the_selected_box_then_the_front_box() -> None:
    back = TextBox(x=0.1, y=0.1, w=0.5, h=0.5)
    front = TextBox(x=0.3, y=0.3, w=0.5, h=0.5)
    boxes = [back, front]
    assert hit_test(boxes, SIZE, 50, 40, 2).index == 0  # only the back box is there
    assert hit_test(boxes, SIZE, 100, 45, 2).index == 1  # both: the front one
    assert hit_test(boxes, SIZE, 20, 10, 2, selected=0).handle == "nw"
    assert hit_test(boxes, SIZE, 70, 35, 2, selected=0).handle is None
    assert hit_test(boxes, SIZE, 199, 99, 2) is None


def test_move_and_resize_keep_the_opposite_side() -> None:
    box = TextBox(x=0.1, y=0.2, w=0.5, h=0.4)
    assert pixels(moved(box, SIZE, 10, -5)) == pytest.approx((30, 15, 100, 40))
    assert pixels(resized(box, SIZE, "se", 20, 10)) == pytest.approx((20, 20, 120, 50))
    assert pixels(resized(box, SIZE, "w", 30, 99)) == pytest.approx((50, 20, 70, 40))  # only the width changes
    tiny = resized(box, SIZE, "e", -500, 0)
    assert tiny.w * SIZE[0] == pytest.approx(6) and tiny.x == pytest.approx(box.x)  # never below the minimum
    # a box turned 90° grows along its own width, which is vertical on screen
    turned = TextBox(x=0.25, y=0.2, w=0.5, h=0.4, rotation=90)
    grown = BoxFrame.of(resized(turned, SIZE, "e", 0, -20), SIZE)
    assert grown.width == pytest.approx(120) and grown.height == pytest.approx(40)
    assert (grown.cx, grown.cy) == pytest.approx((100, 30))


def test_a_drag_is_one_undo_step() -> None:
    document, editor = make_editor()
    editor.apply([TextBox(x=0.1, y=0.1, w=0.3, h=0.3, text="hi")], "Add Text Box")
    steps = []
    document.state_changed.connect(lambda: steps.append(document.history.undo_label))
    drag(editor, [(30, 20), (40, 25), (50, 30), (60, 35)])
    assert editor.selected == 0
    assert pixels(document.captions[0]) == pytest.approx((50, 25, 60, 30))
    assert steps == ["Move Text Box"]
    assert document.undo() and pixels(document.captions[0]) == pytest.approx((20, 10, 60, 30))
    assert document.redo() and pixels(document.captions[0]) == pytest.approx((50, 25, 60, 30))


def test_a_press_on_a_handle_resizes_and_a_press_outside_selects_nothing() -> None:
    document, editor = make_editor()
    editor.apply([TextBox(x=0.1, y=0.1, w=0.3, h=0.3)], "Add Text Box")
    editor.select(0)
    drag(editor, [(80, 40), (100, 50)])  # the south-east corner
    assert pixels(document.captions[0]) == pytest.approx((20, 10, 80, 40))
    assert document.history.undo_label == "Resize Text Box"
    assert not editor.handle(PointerEvent("press", 190, 90)) and editor.selected is None
    assert not editor.handle(PointerEvent("release", 190, 90))


def test_a_click_without_moving_makes_no_step() -> None:
    document, editor = make_editor()
    editor.apply(classic("a", "b"), "Add")
    before = document.history.undo_label
    drag(editor, [(100, 10), (100, 10)])
    assert document.history.undo_label == before and editor.selected == 0


def test_undo_during_a_live_edit_drops_it() -> None:
    document, editor = make_editor()
    editor.apply(classic("", ""), "Add Top and Bottom Text")
    editor.type_role_text("top", "typed")
    assert editor.boxes[0].text == "typed" and document.captions[0].text == ""
    document.undo()
    assert editor.boxes == () and not editor.editing
    assert not editor.commit()


def test_role_fields_find_create_and_commit_once() -> None:
    document, editor = make_editor()
    editor.type_role_text("bottom", "b")
    editor.type_role_text("bottom", "bo")
    editor.type_role_text("bottom", "bottom")
    assert editor.commit()
    assert [box.text for box in document.captions] == ["bottom"] and document.captions[0].valign == "bottom"
    assert document.history.undo_label == "Edit Bottom Text"
    editor.type_role_text("top", "top")
    editor.commit()
    assert [box.text for box in document.captions] == ["top", "bottom"]
    assert (editor.role_text("top"), editor.role_text("bottom")) == ("top", "bottom")
    assert role_index(document.captions, "top") == 0 and role_index(document.captions, "bottom") == 1


def test_add_delete_update_and_replace_old_text() -> None:
    document, editor = make_editor()
    assert editor.ensure_classic() and not editor.ensure_classic()
    index = editor.add_box()
    assert index == 2 and editor.selected == 2
    assert editor.update_selected("Change Font", font="DejaVu Sans", fill="#FF0000")
    assert document.captions[2].fill == "#FF0000" and document.history.undo_label == "Change Font"
    assert editor.delete_selected() and len(document.captions) == 2 and editor.selected == 1
    editor.type_text(0, "kept")
    proposals = [replace(TextBox(), text="OLD", valign="top"), TextBox(valign="bottom")]
    assert editor.replace_old_text(proposals) == 2
    assert [box.text for box in document.captions] == ["kept", "OLD", ""]  # the empty bottom box gave way
    assert document.history.undo_label == "Replace Old Text"
    document.undo()
    assert [box.text for box in document.captions] == ["kept", ""]


def test_captions_survive_a_clean_and_a_brush_stroke() -> None:
    document, editor = make_editor()
    editor.apply(classic("x", "y"), "Add")
    document.begin_stroke()[0:5, 0:5] = True
    document.end_stroke("Brush Stroke")
    assert [box.text for box in document.captions] == ["x", "y"]
    document.undo()
    assert [box.text for box in document.captions] == ["x", "y"]
    document.undo()
    assert document.captions == ()
