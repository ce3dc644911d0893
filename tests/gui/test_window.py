"""The main window end to end on the tiny model (pytest-qt, offscreen): open, drop, paste, clean, cancel, edit the
mask, re-fill, undo, save."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QGuiApplication, QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from memeclean_core.files.imageio import load_image
from memeclean_gui.jobs import clean as clean_jobs
from memeclean_gui.views.qimage import from_qimage, to_qimage

from ..conftest import make_meme
from .conftest import read_rgb, wait_job


def drop(window, mime: QMimeData) -> None:
    event = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dropEvent(event)


def open_and_wait(qtbot, window, path) -> None:
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(path)) == "ok"


def clean_and_wait(qtbot, window) -> None:
    assert wait_job(qtbot, window.controller, "clean", window.named_actions["clean"].trigger) == "ok"


def to_widget(window, x: float, y: float) -> QPoint:
    return window.canvas.image_to_widget(QPointF(x, y)).toPoint()


def drag_stroke(qtbot, window, points) -> None:
    """A mouse gesture over the canvas through image coordinates (the canvas maps zoom and pan)."""
    canvas = window.canvas
    first, *rest = [to_widget(window, x, y) for x, y in points]
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=first)
    for point in rest:
        qtbot.mouseMove(canvas, point)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=rest[-1] if rest else first)


def test_empty_window_shows_the_hint_and_only_what_makes_sense(make_window):
    window = make_window()
    assert not window.canvas.has_image
    for action in (
        window.named_actions["clean"],
        window.named_actions["refill"],
        window.named_actions["save"],
        window.named_actions["save_as"],
        window.named_actions["copy"],
        window.named_actions["undo"],
    ):
        assert not action.isEnabled(), action.text()
    assert window.named_actions["open"].isEnabled() and window.named_actions["paste"].isEnabled()
    assert window.canvas.grab().size().width() > 0  # paints the hint without an image
    assert "Ctrl+Shift+S" in window.named_actions["save_as"].shortcut().toString()


def test_dropping_file_urls_loads_the_image(qtbot, make_window, meme_path, tmp_path):
    window = make_window()
    other = tmp_path / "other.png"
    Image.new("RGB", (10, 10)).save(other)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(meme_path)), QUrl.fromLocalFile(str(other))])
    assert wait_job(qtbot, window.controller, "load", lambda: drop(window, mime)) == "ok"
    assert window.document.size == (240, 180) and window.document.source == meme_path
    np.testing.assert_array_equal(window.document.image.rgb, read_rgb(meme_path))
    assert window.canvas.has_image and "meme.png" in window.windowTitle()
    assert window.settings.recent_files[0] == str(meme_path)
    assert [action.text() for action in window.recent_menu.actions()][0].endswith("meme.png")


def test_dropping_image_data_from_a_browser_loads_it(qtbot, make_window, meme_path):
    window = make_window()
    mime = QMimeData()
    mime.setData("image/png", meme_path.read_bytes())
    mime.setUrls([QUrl("https://example.com/meme.png")])
    assert wait_job(qtbot, window.controller, "load", lambda: drop(window, mime)) == "ok"
    assert window.document.size == (240, 180) and window.document.source is None


def test_a_web_address_alone_gives_a_message(make_window, message_boxes):
    window = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/meme.png")])
    drop(window, mime)
    assert message_boxes and "web address" in message_boxes[-1][1]
    assert not window.document.has_image


def test_open_clean_save_round_trip(qtbot, make_window, meme_path, tmp_path, monkeypatch):
    window = make_window()
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(meme_path)], "")))
    assert wait_job(qtbot, window.controller, "load", window.named_actions["open"].trigger) == "ok"
    clean_and_wait(qtbot, window)
    result = window.document.result
    assert result is not None and result.image.rgb.shape == (180, 240, 3)
    assert window.working_label.text() == "Working 240×180"
    assert window.device_label.text() == f"Device: {result.device}" and result.device.startswith("CPU")
    assert window.time_label.text().startswith("Took ") and window.time_label.text().endswith(" s")

    target = tmp_path / "out" / "template"
    target.parent.mkdir()
    asked = []

    def save_dialog(parent, caption, suggested, filters, selected):
        asked.append((suggested, selected))
        return str(target), "PNG image (*.png)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    before = meme_path.read_bytes()
    assert wait_job(qtbot, window.controller, "save", window.named_actions["save"].trigger) == "ok"  # Ctrl+S asks first
    assert asked == [(str(meme_path.with_name("meme.clean.png")), "PNG image (*.png)")]
    written = target.with_suffix(".png")
    np.testing.assert_array_equal(read_rgb(written), result.image.rgb)
    assert meme_path.read_bytes() == before, "the original is untouched"
    assert window.document.saved_path == written and window.settings.last_folder == str(written.parent)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: pytest.fail("asked again")))
    assert (
        wait_job(qtbot, window.controller, "save", window.named_actions["save"].trigger) == "ok"
    )  # then Ctrl+S saves there


def test_saving_over_the_original_is_refused(qtbot, make_window, meme_path, monkeypatch, message_boxes):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    before = meme_path.read_bytes()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(meme_path), "")))
    assert wait_job(qtbot, window.controller, "save", window.named_actions["save_as"].trigger) == "error"
    assert meme_path.read_bytes() == before
    assert "never overwrites" in message_boxes[-1][1] and window.document.saved_path is None


def test_paste_and_copy_through_the_clipboard(qtbot, make_window):
    window = make_window()
    meme, _, _ = make_meme(120, 90, seed=3)
    clipboard = QGuiApplication.clipboard()
    clipboard.setImage(to_qimage(meme))
    window.named_actions["paste"].trigger()  # a decoded QImage is opened at once
    assert window.document.size == (120, 90) and window.document.name == "Pasted image"
    np.testing.assert_array_equal(window.document.image.rgb, meme)
    clean_and_wait(qtbot, window)
    clipboard.clear()
    window.named_actions["copy"].trigger()
    rgb, alpha = from_qimage(clipboard.image())
    np.testing.assert_array_equal(rgb, window.document.result.image.rgb)
    assert alpha is None


def test_paste_of_encoded_data_and_of_nothing(qtbot, make_window, meme_path):
    window = make_window()
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    window.named_actions["paste"].trigger()
    assert "no image" in window.statusBar().currentMessage() and not window.document.has_image
    mime = QMimeData()
    mime.setData("image/png", meme_path.read_bytes())
    clipboard.setMimeData(mime)
    assert wait_job(qtbot, window.controller, "load", window.named_actions["paste"].trigger) == "ok"
    assert window.document.size == (240, 180)


def test_cancel_stops_a_run(qtbot, make_window, meme_path, monkeypatch):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
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
    window.named_actions["clean"].trigger()
    qtbot.waitUntil(inside.is_set)
    assert window.controller.busy and window.cancel_button.isVisible() and window.cancel_button.isEnabled()
    assert not window.named_actions["clean"].isEnabled()
    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as blocker:
        qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
        release.set()
    assert blocker.args == ["clean", "cancelled"]
    assert window.document.result is None and not window.controller.busy
    assert not window.progress_bar.isVisible() and window.named_actions["clean"].isEnabled()
    assert window.statusBar().currentMessage() == "Cleaning cancelled"


def test_a_new_image_during_a_run_cancels_it_and_its_result_is_dropped(
    qtbot, make_window, meme_path, tmp_path, monkeypatch
):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    inside, release = threading.Event(), threading.Event()
    real_clean = clean_jobs.clean_image

    def clean_that_waits(image, resolution, models, progress, cancel):
        inside.set()
        release.wait(30)
        return real_clean(image, resolution, models, progress, cancel)

    monkeypatch.setattr(clean_jobs, "clean_image", clean_that_waits)
    window.named_actions["clean"].trigger()
    qtbot.waitUntil(inside.is_set)
    other = tmp_path / "other.png"
    Image.fromarray(make_meme(100, 80, seed=5)[0]).save(other)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    assert wait_job(qtbot, window.controller, "load", lambda: drop(window, mime)) == "ok"
    with qtbot.waitSignal(window.controller.finished, timeout=30_000) as blocker:
        release.set()
    assert blocker.args[0] == "clean" and blocker.args[1] in ("cancelled", "dropped")
    assert window.document.size == (100, 80) and window.document.result is None
    assert not window.controller.busy and window.named_actions["clean"].isEnabled()


def test_a_corrupt_file_shows_an_error_and_the_app_keeps_working(
    qtbot, make_window, meme_path, tmp_path, message_boxes
):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    broken = tmp_path / "broken.png"
    broken.write_bytes(meme_path.read_bytes()[:300])
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(broken)) == "error"
    assert message_boxes == [("warning", f"Cannot read '{broken}': the file is truncated or corrupt.")]
    assert window.document.source == meme_path, "the image shown stays"
    clean_and_wait(qtbot, window)
    assert window.document.result is not None


def test_a_missing_model_is_a_message_not_a_crash(qtbot, make_window, meme_path, tmp_path, message_boxes):
    window = make_window(model_path=tmp_path / "nope.pt")
    open_and_wait(qtbot, window, meme_path)
    assert wait_job(qtbot, window.controller, "clean", window.named_actions["clean"].trigger) == "error"
    assert "Model file not found" in message_boxes[-1][1]
    assert window.named_actions["clean"].isEnabled() and not window.progress_bar.isVisible()


def test_images_arriving_are_cleaned_by_themselves(qtbot, make_window, meme_path, settings):
    settings.update(auto_clean=True)
    window = make_window()
    assert window.named_actions["auto_clean"].isChecked()
    with qtbot.waitSignal(
        window.controller.finished, timeout=30_000, check_params_cb=lambda kind, outcome: kind == "clean"
    ) as blocker:
        window.open_path(meme_path)
    assert blocker.args[1] == "ok" and window.document.result is not None
    window.named_actions["auto_clean"].setChecked(False)
    assert settings.auto_clean is False


def test_mask_edit_and_refill_change_only_the_edited_area(qtbot, make_window, meme_path):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    before = window.document.result
    assert not window.named_actions["refill"].isEnabled(), "nothing edited yet"
    area = np.zeros((180, 240), bool)
    area[120:170, 150:230] = True
    assert not before.mask[area].any(), "the stroke goes where the clean found no text"

    window.named_actions["brush"].trigger()
    window.brush_control.set_size(8)
    window._set_brush_size(8)
    drag_stroke(qtbot, window, [(160, 140), (190, 145), (220, 150)])
    mask = window.document.mask
    added = mask & ~before.mask
    assert added.any() and area[added].all()
    assert window.document.history.undo_label == "Brush Stroke" and window.named_actions["refill"].isEnabled()

    assert wait_job(qtbot, window.controller, "refill", window.named_actions["refill"].trigger) == "ok"
    after = window.document.result
    changed = np.any(after.image.rgb != before.image.rgb, axis=2)
    assert changed.any() and area[changed].all(), "pixels changed only around the stroke"
    np.testing.assert_array_equal(after.mask, mask)
    assert window.document.history.undo_label == "Re-fill" and not window.named_actions["refill"].isEnabled()


def test_eraser_and_undo_restore_the_previous_states(qtbot, make_window, meme_path):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    clean_and_wait(qtbot, window)
    cleaned = window.document.result
    rows, cols = np.nonzero(cleaned.mask)
    window.named_actions["eraser"].trigger()
    window._set_brush_size(60)
    drag_stroke(qtbot, window, [(cols.mean(), rows.mean())])
    assert window.document.mask.sum() < cleaned.mask.sum()
    assert window.named_actions["undo"].text() == "&Undo Eraser Stroke"

    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z
    np.testing.assert_array_equal(window.document.mask, cleaned.mask)
    assert window.document.result is cleaned and window.named_actions["undo"].text() == "&Undo Clean"
    window.named_actions["undo"].trigger()
    assert window.document.result is None and not window.document.mask.any()
    assert window.canvas.showing_original and not window.named_actions["save"].isEnabled()
    qtbot.keyClick(
        window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )  # Ctrl+Shift+Z
    assert window.document.result is cleaned and window.named_actions["save"].isEnabled()


def test_an_animation_is_cleaned_whole_and_saved_animated(qtbot, make_window, tmp_path, monkeypatch):
    frames = [Image.fromarray(make_meme(96, 72, seed=seed)[0]) for seed in range(3)]
    source = tmp_path / "anim.gif"
    frames[0].save(source, save_all=True, append_images=frames[1:], duration=[80, 90, 100], loop=0)
    window = make_window()
    open_and_wait(qtbot, window, source)
    assert "3 frames" in window.size_label.text()
    assert "first frame" in window.statusBar().currentMessage(), "the window says what mask edits apply to"
    clean_and_wait(qtbot, window)
    assert len(window.document.result.image.frames) == 3
    target = tmp_path / "anim-template.gif"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(target), "")))
    assert wait_job(qtbot, window.controller, "save", window.named_actions["save_as"].trigger) == "ok"
    written = load_image(target)
    assert len(written.frames) == 3 and [f.duration_ms for f in written.frames] == [80, 90, 100]


def test_before_after_by_holding_a_key_and_by_the_split_line(qtbot, make_window, meme_path):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    canvas = window.canvas
    assert canvas.showing_original, "no result yet"
    clean_and_wait(qtbot, window)
    assert not canvas.showing_original
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Backslash):
        qtbot.keyPress(canvas, key)
        assert canvas.showing_original
        qtbot.keyRelease(canvas, key)
        assert not canvas.showing_original

    window.named_actions["split"].trigger()
    assert canvas.split and canvas.split_fraction == 0.5
    start = to_widget(window, 120, 90)
    end = to_widget(window, 60, 90)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    assert canvas.split_fraction == pytest.approx(0.25, abs=0.02)
    assert window.document.history.undo_label != "Brush Stroke"
    canvas.grab()  # paints the split view


def test_zoom_fit_and_actual_size(qtbot, make_window, meme_path):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    canvas = window.canvas
    fitted = canvas.zoom
    assert fitted > 1, "a small meme is enlarged to fit"
    window.named_actions["actual"].trigger()
    assert canvas.zoom == pytest.approx(1.0) and window.zoom_label.text() == "100 %"
    window.named_actions["zoom_in"].trigger()
    assert canvas.zoom == pytest.approx(1.25)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom == pytest.approx(1.0)
    anchor = QPointF(100, 100)
    fixed = canvas.widget_to_image(anchor)
    canvas.zoom_by(2.0, anchor)
    assert canvas.widget_to_image(anchor).x() == pytest.approx(fixed.x())
    window.named_actions["fit"].trigger()
    assert canvas.zoom == pytest.approx(fitted)

    before = canvas.image_to_widget(QPointF(0, 0))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, 300))  # the Hand tool drags the picture
    qtbot.mouseMove(canvas, QPoint(340, 280))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(340, 280))
    assert canvas.image_to_widget(QPointF(0, 0)) - before == QPointF(40, -20)
    wheel_anchor = canvas.widget_to_image(QPointF(300, 300))
    notch = QWheelEvent(
        QPointF(300, 300),
        canvas.mapToGlobal(QPointF(300, 300)),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, notch)  # one wheel notch zooms in around the pointer
    assert canvas.zoom == pytest.approx(fitted * 2**0.25)
    assert canvas.widget_to_image(QPointF(300, 300)).y() == pytest.approx(wheel_anchor.y())


def test_settings_are_remembered(qtbot, make_window, settings, meme_path):
    window = make_window()
    window.resolution_control.slider.setValue(1024 // 32)
    assert settings.resolution == 1024 and window.resolution == 1024
    window.named_actions["larger"].trigger()
    assert settings.brush_size == 30
    window.named_actions["show_mask"].trigger()
    assert settings.show_mask is False
    window.close()
    assert settings.window_geometry
    again = make_window()
    assert again.resolution == 1024 and not again.named_actions["show_mask"].isChecked()
    assert "px" in again.resolution_control.label.text()


def test_the_resolution_label_shows_working_size_and_memory(qtbot, make_window, meme_path):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    window.resolution_control.slider.setValue(512 // 32)
    assert window.resolution_control.label.text().startswith("512 px → 240×180 (its own size), ≈ ")


def test_high_dpi_100_percent_is_one_image_pixel_per_device_pixel(qtbot, make_window, meme_path, monkeypatch):
    window = make_window()
    open_and_wait(qtbot, window, meme_path)
    canvas = window.canvas
    monkeypatch.setattr(canvas, "devicePixelRatioF", lambda: 2.0)
    window.named_actions["actual"].trigger()
    assert canvas.zoom == pytest.approx(1.0)
    assert canvas.image_rect_to_widget(QRectF(0, 0, 240, 180)).width() == pytest.approx(120), "logical pixels"
    window.named_actions["brush"].trigger()
    window._set_brush_size(1)
    drag_stroke(qtbot, window, [(100.5, 50.5)])
    assert window.document.mask[50, 100], "the click lands on the image pixel under the pointer"
    canvas.grab()


def test_help_lists_the_shortcuts(make_window, message_boxes):
    window = make_window()
    window.named_actions["shortcuts"].trigger()
    kind, text = message_boxes[-1]
    for expected in (
        "Open",
        "Ctrl+O",
        "Save Template As",
        "Ctrl+Shift+S",
        "Undo",
        "Ctrl+Z",
        "Ctrl+Shift+Z",
        "Brush",
        "Space or \\",
        "mouse wheel",
        "Move the selected text box",
        "arrow keys",
    ):
        assert expected in text, expected
    window.named_actions["about"].trigger()
    assert "MemeClean" in message_boxes[-1][1]
