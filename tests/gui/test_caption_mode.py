"""Caption mode in the main window (pytest-qt, offscreen): the quick fields, dragging and resizing boxes on the
canvas, the inline editor, the style panel, export equals preview, caption projects, proposals from a clean."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QColorDialog, QFileDialog

from memeclean_core.captions import caption_mask, classic, load_project, render_captions
from memeclean_core.files.imageio import LoadedImage
from memeclean_gui.model.caption_editor import BoxFrame
from memeclean_gui.model.document import Result
from memeclean_gui.modes import caption as caption_mode
from memeclean_gui.views.qimage import from_qimage

from .conftest import read_rgb, wait_job

WIDTH, HEIGHT = 240, 180


def template_pixels() -> np.ndarray:
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.stack([xx * 255 // WIDTH, yy * 255 // HEIGHT, np.full_like(xx, 90)], -1).astype(np.uint8)


def open_template(window) -> np.ndarray:
    pixels = template_pixels()
    window.controller.open_image(LoadedImage.from_array(pixels), "Template")
    return pixels


def open_template_file(qtbot, window, path):
    """Write the template to `path`, open that file and turn caption mode on; returns the caption mode."""
    Image.fromarray(template_pixels()).save(path)
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(path)) == "ok"
    window.captions.actions["caption"].trigger()
    return window.captions


def wait_preview(qtbot, mode) -> np.ndarray:
    """Wait until the canvas shows the current boxes; returns the preview's pixels."""
    if not mode.preview_current:
        with qtbot.waitSignal(mode.preview_ready, timeout=20_000):
            pass
    assert mode.preview_current
    return mode.preview[0]


def wait_caption_job(qtbot, mode, kind: str, action) -> str:
    """Run `action()` and wait until a caption job of `kind` has finished; returns its outcome."""
    with qtbot.waitSignal(
        mode.job_finished, timeout=20_000, check_params_cb=lambda finished_kind, outcome: finished_kind == kind
    ) as blocker:
        action()
    return blocker.args[1]


def widget_point(window, x: float, y: float):
    return window.canvas.image_to_widget(QPointF(x, y)).toPoint()


def center_of(window, index: int) -> tuple[float, float]:
    frame = BoxFrame.of(window.captions.editor.boxes[index], (WIDTH, HEIGHT))
    return frame.cx, frame.cy


def mouse_drag(qtbot, window, start: tuple[float, float], end: tuple[float, float], steps: int = 4) -> None:
    canvas = window.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget_point(window, *start))
    for step in range(1, steps + 1):
        t = step / steps
        qtbot.mouseMove(
            canvas, widget_point(window, start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
        )
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget_point(window, *end))


@pytest.fixture
def captioning(qtbot, make_window):
    """A window on a generated template, in caption mode, its first (empty) preview shown."""
    window = make_window()
    open_template(window)
    mode = window.captions
    window.captions.actions["caption"].trigger()
    assert mode.active and mode.dock.isVisible()
    wait_preview(qtbot, mode)
    return window, mode


def test_the_mode_is_in_the_menus_with_its_shortcuts(make_window):
    window = make_window()
    mode = window.captions
    assert not mode.actions["caption"].isEnabled(), "nothing to caption without an image"
    menus = {action.text().replace("&", ""): action.menu() for action in window.menuBar().actions() if action.menu()}
    assert mode.actions["export"] in menus["File"].actions() and mode.actions["save_project"] in menus["File"].actions()
    assert (
        mode.actions["caption"] in menus["Caption"].actions() and mode.actions["replace"] in menus["Caption"].actions()
    )
    assert mode.actions["export"].shortcut() == QKeySequence("Ctrl+E")
    assert mode.actions["caption"].shortcut() == QKeySequence("T")
    shortcuts = [
        sequence.toString()
        for action in window.findChildren(type(mode.actions["caption"]))
        for sequence in action.shortcuts()
        if not sequence.isEmpty()
    ]
    assert len(shortcuts) == len(set(shortcuts)), f"a shortcut is taken twice: {sorted(shortcuts)}"


def test_top_and_bottom_fields_make_boxes_and_the_preview_shows_them(qtbot, captioning):
    window, mode = captioning
    template = template_pixels()
    assert [box.valign for box in mode.editor.boxes] == ["top", "bottom"], "both places to type are ready"
    assert np.array_equal(wait_preview(qtbot, mode), template), "empty boxes draw nothing"
    assert not window.canvas.show_mask

    qtbot.keyClicks(mode.panel.top_edit, "one does not")
    top = wait_preview(qtbot, mode)
    changed = np.any(top != template, axis=2)
    assert changed[: HEIGHT // 3].sum() > 200 and not changed[HEIGHT // 2 :].any()
    mode.panel.top_edit.editingFinished.emit()  # focus leaves the field: the typing is one undo step
    assert [box.text for box in window.document.captions] == ["one does not", ""]
    assert window.named_actions["undo"].text() == "&Undo Edit Top Text"

    mode.panel.bottom_edit.setText("simply caption")
    mode.panel.bottom_edit.editingFinished.emit()
    both = wait_preview(qtbot, mode)
    assert np.any(both != template, axis=2)[HEIGHT // 2 :].sum() > 200
    assert np.array_equal(both, render_captions(template, window.document.captions)), "the core renderer's pixels"

    mode.panel.bottom_edit.setFocus()
    qtbot.keyClick(mode.panel.bottom_edit, Qt.Key.Key_Home)
    qtbot.keyClick(mode.panel.bottom_edit, Qt.Key.Key_Delete)  # the field's Delete, not Delete Text Box
    mode.panel.bottom_edit.editingFinished.emit()
    assert [box.text for box in window.document.captions] == ["one does not", "imply caption"]
    window.named_actions["undo"].trigger()
    window.named_actions["undo"].trigger()
    assert [box.text for box in window.document.captions] == ["one does not", ""]
    assert mode.panel.bottom_edit.text() == ""
    assert np.array_equal(wait_preview(qtbot, mode), top)

    mode.actions["caption"].trigger()  # leaving caption mode shows the template again
    assert not mode.active and not mode.dock.isVisible()


def test_dragging_a_box_moves_it_and_undo_puts_it_back(qtbot, captioning):
    window, mode = captioning
    mode.panel.top_edit.setText("drag me")
    mode.panel.top_edit.editingFinished.emit()
    before = window.document.captions
    steps = len(before)
    start = center_of(window, 0)
    mouse_drag(qtbot, window, start, (start[0] + 10, start[1] + 60))
    after = window.document.captions[0]
    assert mode.editor.selected == 0
    assert after.x == pytest.approx(before[0].x + 10 / WIDTH, abs=3 / WIDTH)
    assert after.y == pytest.approx(before[0].y + 60 / HEIGHT, abs=3 / HEIGHT)
    assert (after.w, after.h, after.text) == (before[0].w, before[0].h, "drag me")
    assert window.named_actions["undo"].text() == "&Undo Move Text Box" and len(window.document.captions) == steps
    moved_preview = wait_preview(qtbot, mode)
    changed = np.any(moved_preview != template_pixels(), axis=2)
    assert changed[60:100].sum() > 100 and not changed[:50].any(), "the text went down with its box"

    window.named_actions["undo"].trigger()  # the whole drag is one step
    assert window.document.captions == before
    window.named_actions["redo"].trigger()
    assert window.document.captions[0] == after


def test_a_handle_resizes_the_selected_box(qtbot, captioning):
    window, mode = captioning
    mode.editor.add_box()
    box = mode.editor.boxes[2]
    frame = BoxFrame.of(box, (WIDTH, HEIGHT))
    corner = frame.handle_points()["se"]
    mouse_drag(qtbot, window, corner, (corner[0] + 20, corner[1] + 10))
    resized = window.document.captions[2]
    assert resized.x == pytest.approx(box.x, abs=1e-6) and resized.y == pytest.approx(box.y, abs=1e-6)
    assert resized.w * WIDTH == pytest.approx(box.w * WIDTH + 20, abs=3)
    assert resized.h * HEIGHT == pytest.approx(box.h * HEIGHT + 10, abs=3)
    assert window.named_actions["undo"].text() == "&Undo Resize Text Box"
    window.named_actions["undo"].trigger()
    assert window.document.captions[2] == box
    assert mode.editor.selected == 2 and mode.actions["delete"].isEnabled()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Delete)  # Delete Text Box
    assert len(window.document.captions) == 2 and window.named_actions["undo"].text() == "&Undo Delete Text Box"


def test_double_click_edits_the_text_in_place(qtbot, captioning):
    window, mode = captioning
    qtbot.mouseDClick(window.canvas, Qt.MouseButton.LeftButton, pos=widget_point(window, *center_of(window, 1)))
    field = mode.overlay.text_editor
    assert field is not None and field.isVisible() and mode.editor.selected == 1
    qtbot.keyClicks(field, "in place")
    assert mode.editor.boxes[1].text == "in place" and window.document.captions[1].text == "", "live until Enter"
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert mode.overlay.text_editor is None
    assert window.document.captions[1].text == "in place" and window.named_actions["undo"].text() == "&Undo Edit Text"
    assert mode.panel.bottom_edit.text() == "in place"
    # Esc drops what was typed
    field = mode.overlay.open_text_editor(1)
    qtbot.keyClicks(field, " and more")
    qtbot.keyClick(field, Qt.Key.Key_Escape)
    assert window.document.captions[1].text == "in place" and mode.editor.boxes[1].text == "in place"


def test_arrow_keys_nudge_the_selected_box_and_a_held_key_is_one_undo_step(qtbot, captioning):
    window, mode = captioning
    canvas = window.canvas
    before = window.document.captions
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=widget_point(window, *center_of(window, 1)))
    assert mode.editor.selected == 1
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    qtbot.keyClick(canvas, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    moved = window.document.captions[1]
    assert moved.x * WIDTH == pytest.approx(before[1].x * WIDTH + 1, abs=1e-6)
    assert moved.y * HEIGHT == pytest.approx(before[1].y * HEIGHT - 10, abs=1e-6)
    assert window.named_actions["undo"].text() == "&Undo Move Text Box" and window.document.captions[0] == before[0]

    # a held key: a press, its repeats, one release at the end -> one undo step
    for repeat in range(5):
        QApplication.sendEvent(
            canvas, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Down, Qt.KeyboardModifier.NoModifier, "", repeat > 0)
        )
    assert mode.editor.boxes[1].y * HEIGHT == pytest.approx(moved.y * HEIGHT + 5, abs=1e-6)
    assert window.document.captions[1] == moved, "live until the key is let go"
    qtbot.keyRelease(canvas, Qt.Key.Key_Down)
    assert window.document.captions[1].y * HEIGHT == pytest.approx(moved.y * HEIGHT + 5, abs=1e-6)
    window.named_actions["undo"].trigger()
    assert window.document.captions[1] == moved
    window.named_actions["undo"].trigger()
    window.named_actions["undo"].trigger()
    assert window.document.captions == before

    # with nothing selected the arrows move nothing
    mode.editor.select(None)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert window.document.captions == before


def test_the_inline_editor_stays_over_its_box_when_zooming(qtbot, captioning):
    window, mode = captioning
    field = mode.overlay.open_text_editor(0)
    qtbot.keyClicks(field, "zoom")
    top_left = BoxFrame.of(mode.editor.boxes[0], (WIDTH, HEIGHT)).corners()[0]
    window.canvas.zoom_by(1.5)
    assert mode.overlay.text_editor is field and field.isVisible()
    corner = window.canvas.image_to_widget(QPointF(*top_left))
    assert abs(field.x() - max(0.0, corner.x())) <= 1 and abs(field.y() - max(0.0, corner.y())) <= 1
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.document.captions[0].text == "zoom"


def test_the_panel_changes_the_selected_box_one_step_each(qtbot, captioning, monkeypatch):
    window, mode = captioning
    mode.panel.top_edit.setText("style")
    mode.panel.top_edit.editingFinished.emit()
    mode.editor.select(0)
    assert mode.panel.style_group.isEnabled()
    plain = wait_preview(qtbot, mode)
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *args: QColor("#ff0000")))
    mode.panel.fill_button.click()
    assert window.document.captions[0].fill == "#FF0000"
    red = wait_preview(qtbot, mode)
    assert (np.all(red == (255, 0, 0), axis=2)).sum() > 50
    mode.panel.size_spin.setValue(0.0)  # "Auto fit"
    mode.panel.rotation_spin.setValue(10.0)
    mode.panel.uppercase_check.setChecked(False)
    mode.panel.align_combo.setCurrentIndex(mode.panel.align_combo.findData("left"))
    box = window.document.captions[0]
    assert (box.size, box.rotation, box.uppercase, box.align) == (None, 10.0, False, "left")
    for _ in range(5):
        window.named_actions["undo"].trigger()
    assert window.document.captions[0].fill == "#FFFFFF" and window.document.captions[0].rotation == 0
    assert mode.panel.rotation_spin.value() == 0 and mode.panel.uppercase_check.isChecked()
    assert np.array_equal(wait_preview(qtbot, mode), plain)


def test_vertical_text_is_one_checkbox_and_one_undo_step(qtbot, captioning):
    window, mode = captioning
    mode.panel.top_edit.setText("縦書き")
    mode.panel.top_edit.editingFinished.emit()
    mode.editor.select(0)
    across = wait_preview(qtbot, mode)
    mode.panel.vertical_check.setChecked(True)
    assert window.document.captions[0].vertical
    down = wait_preview(qtbot, mode)
    assert not np.array_equal(down, across)
    window.named_actions["undo"].trigger()
    assert not window.document.captions[0].vertical and not mode.panel.vertical_check.isChecked()
    assert np.array_equal(wait_preview(qtbot, mode), across)


def test_export_equals_preview_and_never_overwrites_the_original(
    qtbot, make_window, tmp_path, monkeypatch, message_boxes
):
    window = make_window()
    source = tmp_path / "template.png"
    mode = open_template_file(qtbot, window, source)
    mode.panel.top_edit.setText("export")
    mode.panel.bottom_edit.setText("equals preview")
    mode.panel.bottom_edit.editingFinished.emit()
    mode.editor.add_box()
    mode.editor.update_selected("Rotate", text="tilted", rotation=-15, fill="#00FFAA")
    preview = wait_preview(qtbot, mode)
    shown, _alpha = from_qimage(mode.preview_image)
    assert np.array_equal(shown, preview), "the canvas shows the preview's pixels"

    target = tmp_path / "out" / "meme"
    target.parent.mkdir()
    asked = []

    def dialog(parent, caption, suggested, filters, selected):
        asked.append(suggested)
        return str(target), "PNG image (*.png)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    before = source.read_bytes()
    exported = []
    mode.exported.connect(exported.append)
    assert wait_caption_job(qtbot, mode, "caption-export", mode.actions["export"].trigger) == "ok"
    assert asked == [str(tmp_path / "template.meme.png")]
    assert exported == [target.with_suffix(".png")]
    assert np.array_equal(read_rgb(target.with_suffix(".png")), preview), "export equals preview"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(source), "")))
    assert wait_caption_job(qtbot, mode, "caption-export", mode.actions["export"].trigger) == "error"
    assert source.read_bytes() == before and len(exported) == 1
    assert "never overwrites" in message_boxes[-1][1] and "\n" not in message_boxes[-1][1]


def test_nothing_to_export_is_a_status_message(qtbot, captioning, monkeypatch):
    window, mode = captioning
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: pytest.fail("asked")))
    mode.actions["export"].trigger()
    assert "write some text" in window.statusBar().currentMessage()


def test_project_round_trip_through_the_gui(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    source = tmp_path / "photo.png"
    mode = open_template_file(qtbot, window, source)
    mode.panel.top_edit.setText("saved top")
    mode.panel.top_edit.editingFinished.emit()
    mode.editor.add_box()
    mode.editor.update_selected("Style", text="middle\nline", fill="#123456", outline_width=0.0, rotation=5)
    boxes = window.document.captions
    preview = wait_preview(qtbot, mode)

    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda parent, caption, suggested, filters: (suggested, filters))
    )
    with qtbot.waitSignal(mode.project_saved, timeout=20_000) as blocker:
        mode.actions["save_project"].trigger()
    project = blocker.args[0]
    assert project == tmp_path / "photo.memeclean.json"
    assert json.loads(project.read_text(encoding="utf-8"))["template"] == "photo.png"  # the opened file itself
    assert sorted(path.name for path in tmp_path.glob("photo*")) == ["photo.memeclean.json", "photo.png"]

    other = make_window()
    other.settings.update(auto_clean=True)  # a project's template is clean already: not cleaned again
    assert wait_job(qtbot, other.controller, "load", lambda: other.open_path(source)) == "ok"
    assert "has a caption project" in other.statusBar().currentMessage()
    assert wait_job(qtbot, other.controller, "clean", lambda: None) == "ok"  # a plain picture is cleaned
    other.document.undo()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: (str(project), "")))
    assert wait_job(qtbot, other.controller, "load", other.captions.actions["open_project"].trigger) == "ok"
    assert other.document.captions == boxes and other.captions.active
    assert np.array_equal(wait_preview(qtbot, other.captions), preview)
    assert other.named_actions["undo"].text() == "&Undo Open Caption Project"
    assert not other.controller.busy and other.document.result is None, "the project's template was not re-cleaned"


def test_opening_a_broken_project_is_one_line(make_window, tmp_path, message_boxes):
    window = make_window()
    broken = tmp_path / "x.memeclean.json"
    broken.write_text("{nope", encoding="utf-8")
    window.captions.open_project(broken)
    assert message_boxes and "not valid JSON" in message_boxes[-1][1] and "\n" not in message_boxes[-1][1]


def test_replace_old_text_proposes_boxes_with_the_old_words(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    template = template_pixels()
    old = classic("old top", "old bottom")
    meme = render_captions(template, old)
    window.controller.open_image(LoadedImage.from_array(meme), "Meme")
    mask = caption_mask(old, (WIDTH, HEIGHT))
    mask.flags.writeable = False
    # a clean that found exactly the old captions (the tiny test model is untrained)
    cleaned = LoadedImage.from_array(template)
    window.document.set_result(Result(cleaned, mask, mask, 256, (256, 192), "CPU", 0.1), "Clean")
    mode = window.captions
    assert mode.actions["replace"].isEnabled()

    def fake_reader():
        return lambda rgb: [("OLD TOP", (60, 5, 180, 40)), ("OLD BOTTOM", (40, 140, 200, 175))]

    monkeypatch.setattr(caption_mode, "make_text_reader", fake_reader)
    assert wait_caption_job(qtbot, mode, "caption-propose", mode.actions["replace"].trigger) == "ok"
    assert mode.active
    boxes = window.document.captions
    assert [box.text for box in boxes] == ["OLD TOP", "OLD BOTTOM"], "the empty classic boxes gave way"
    assert boxes[0].y < 0.1 and boxes[1].y > 0.6
    assert (mode.panel.top_edit.text(), mode.panel.bottom_edit.text()) == ("OLD TOP", "OLD BOTTOM")
    assert window.named_actions["undo"].text() == "&Undo Replace Old Text"

    # new words over the clean template; the project keeps the clean template as a PNG beside it
    mode.panel.top_edit.setText("new top")
    mode.panel.top_edit.editingFinished.emit()
    preview = wait_preview(qtbot, mode)
    assert not np.array_equal(preview, meme)
    project = tmp_path / "again.memeclean.json"
    with qtbot.waitSignal(mode.project_saved, timeout=20_000):
        mode.save_project_to(project)
    doc = load_project(project)
    assert doc.template == tmp_path / "again.png" and np.array_equal(read_rgb(doc.template), template)
    assert [box.text for box in doc.boxes] == ["new top", "OLD BOTTOM"]


def test_captions_stay_through_a_clean_and_go_on_the_cleaned_picture(qtbot, make_window, meme_path):
    window = make_window()
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path)) == "ok"
    mode = window.captions
    mode.actions["caption"].trigger()
    mode.panel.bottom_edit.setText("after the clean")
    mode.panel.bottom_edit.editingFinished.emit()
    assert wait_job(qtbot, window.controller, "clean", window.named_actions["clean"].trigger) == "ok"
    result = window.document.result
    assert [box.text for box in window.document.captions] == ["", "after the clean"]
    assert mode.template() is result.image
    assert np.array_equal(wait_preview(qtbot, mode), render_captions(result.image.rgb, window.document.captions))
    window.named_actions["undo"].trigger()  # the clean is undone, the caption stays on the original
    assert window.document.result is None and window.document.captions[1].text == "after the clean"
    assert np.array_equal(
        wait_preview(qtbot, mode), render_captions(window.document.image.rgb, window.document.captions)
    )


def test_an_animation_is_exported_frame_by_frame(qtbot, make_window, tmp_path):
    from memeclean_core.files.imageio import Frame, load_image

    window = make_window()
    first, second = template_pixels(), 255 - template_pixels()
    animation = LoadedImage([Frame(first, None, 100), Frame(second, None, 150)], loop=0)
    window.controller.open_image(animation, "Animation")
    mode = window.captions
    mode.actions["caption"].trigger()
    mode.panel.top_edit.setText("every frame")
    mode.panel.top_edit.editingFinished.emit()
    preview = wait_preview(qtbot, mode)
    target = tmp_path / "animated.png"
    assert wait_caption_job(qtbot, mode, "caption-export", lambda: mode.export_to(target)) == "ok"
    written = load_image(target)
    assert [frame.duration_ms for frame in written.frames] == [100, 150]
    assert np.array_equal(written.frames[0].pixels, preview)
    assert np.array_equal(written.frames[1].pixels, render_captions(second, window.document.captions))
