"""Image ▸ Crop Caption Bars: the bar is cut off the picture and its result, one undo step brings it back."""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..test_bars import bar_meme, picture
from .conftest import wait_job


def open_clean_and_mark(qtbot, window, path, text_mask):
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(path)) == "ok"
    assert wait_job(qtbot, window.controller, "clean", window.named_actions["clean"].trigger) == "ok"
    # The tiny random model's mask says nothing; mark the caption by hand as a user would with the brush.
    stroke = window.document.begin_stroke()
    stroke[:] = text_mask
    assert window.document.end_stroke("Brush Stroke")


def test_crop_caption_bars_and_undo(qtbot, make_window, tmp_path, settings):
    settings.update(auto_clean=True)  # a crop is not a new image: it must not start a clean
    meme, text_mask = bar_meme("bottom", (0, 0, 0))
    path = tmp_path / "bar.png"
    Image.fromarray(meme).save(path)
    window = make_window(settings=settings)
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(path)) == "ok"
    document = window.document
    qtbot.waitUntil(lambda: document.result is not None and not window.controller.busy, timeout=30_000)
    stroke = document.begin_stroke()
    stroke[:] = text_mask
    assert document.end_stroke("Brush Stroke")
    filled = document.result.image.frames[0].pixels
    assert window.named_actions["crop_bars"].isEnabled()

    window.named_actions["crop_bars"].trigger()
    assert document.size == (320, 240) and not window.controller.busy
    np.testing.assert_array_equal(document.image.frames[0].pixels, meme[:240])
    np.testing.assert_array_equal(document.result.image.frames[0].pixels, filled[:240])
    assert document.mask.shape == document.result.region.shape == (240, 320)
    assert window.statusBar().currentMessage().endswith("0 rows at the top, 40 at the bottom")
    assert window.named_actions["undo"].isEnabled() and window.named_actions["undo"].text() == "&Undo Crop Caption Bars"
    assert document.has_unsaved_edits

    window.named_actions["undo"].trigger()
    assert document.size == (320, 280) and document.result.image.frames[0].pixels is filled
    np.testing.assert_array_equal(document.mask, text_mask)
    assert window.named_actions["undo"].text() == "&Undo Brush Stroke"
    assert window.named_actions["redo"].text() == "&Redo Crop Caption Bars"
    window.named_actions["redo"].trigger()
    assert document.size == (320, 240) and not window.named_actions["redo"].isEnabled()
    window.named_actions["undo"].trigger()
    window.named_actions["undo"].trigger()  # the brush stroke, then the clean: the history before the crop is intact
    assert document.size == (320, 280) and document.state.label == "Clean"


def test_no_bar_changes_nothing(qtbot, make_window, tmp_path):
    image = picture()
    path = tmp_path / "plain.png"
    Image.fromarray(image).save(path)
    window = make_window()
    mask = np.zeros(image.shape[:2], bool)
    mask[10:30, 20:200] = True
    open_clean_and_mark(qtbot, window, path, mask)
    state = window.document.state
    window.named_actions["crop_bars"].trigger()
    assert window.document.state is state and window.document.size == (320, 240)
    assert window.statusBar().currentMessage().startswith("No caption bar found")
