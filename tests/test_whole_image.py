"""`whole_image`: cleaning, re-filling and captioning a whole LoadedImage (every frame, alpha and durations kept)."""

from __future__ import annotations

import numpy as np
import pytest

from memeclean_core.cleaning.inference import clean
from memeclean_core.cleaning.options import CleanOptions
from memeclean_core.cleaning.pipeline import dilate
from memeclean_core.cleaning.whole_image import captioned, clean_image, refill
from memeclean_core.errors import Cancelled
from memeclean_core.files.imageio import Frame, LoadedImage

from .conftest import make_meme

AT_128 = CleanOptions(resolution=128)


def animation(alpha: bool = False) -> LoadedImage:
    """Two different 120×90 memes as an animation (GIF metadata), optionally with an alpha channel."""
    frames = []
    for seed, duration in ((0, 80), (1, 120)):
        meme, _, _ = make_meme(120, 90, seed=seed)
        shade = np.full(meme.shape[:2], 200, np.uint8) if alpha else None
        frames.append(Frame(meme, shade, duration))
    return LoadedImage(frames, format="GIF", loop=0)


def test_clean_image_cleans_every_frame_as_clean_does(tiny_model):
    image = animation(alpha=True)
    reports: list[tuple[float, str]] = []
    done = clean_image(image, AT_128, tiny_model, progress=lambda fraction, text: reports.append((fraction, text)))

    assert len(done.image.frames) == 2 and done.image.loop == 0 and done.image.format == "GIF"
    for frame, cleaned in zip(image.frames, done.image.frames):
        expected = clean(frame.pixels, 128, model=tiny_model, alpha=frame.alpha)
        np.testing.assert_array_equal(cleaned.pixels, expected.image)
        assert cleaned.alpha is frame.alpha and cleaned.duration_ms == frame.duration_ms
        assert not cleaned.pixels.flags.writeable  # results are shared between threads: read-only
    first = clean(image.frames[0].pixels, 128, model=tiny_model)
    np.testing.assert_array_equal(done.mask, first.mask)
    np.testing.assert_array_equal(done.region, first.region)
    assert done.working_size == first.working_size and done.device == tiny_model.device_name and done.seconds > 0
    assert 0.0 <= done.replaced <= 1.0

    texts = [text for _, text in reports]
    assert texts[0] == "Frame 1 of 2: Preparing" and "Frame 2 of 2: Preparing" in texts
    assert texts[-1] == "Frame 2 of 2: Done" and "Frame 1 of 2: Finding the text" in texts
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)


def test_clean_image_of_a_still_has_no_frame_prefix_and_can_keep_one_frame(tiny_model):
    reports = []
    one_frame = CleanOptions(resolution=128, first_frame_only=True)
    done = clean_image(animation(), one_frame, tiny_model, progress=lambda fraction, text: reports.append(text))
    assert len(done.image.frames) == 1
    assert reports[0] == "Preparing" and reports[-1] == "Done"


def test_clean_image_checks_cancel_before_each_frame(tiny_model):
    asked = []

    def cancel() -> bool:
        asked.append(True)
        return len(asked) > 5  # the first frame's checks pass, the second frame is refused

    with pytest.raises(Cancelled):
        clean_image(animation(), AT_128, tiny_model, cancel=cancel)
    assert len(asked) == 6


def test_refill_changes_only_the_pixels_near_the_edit(tiny_model):
    image = animation()
    first = clean_image(image, AT_128, tiny_model)
    same = refill(image, first.mask, AT_128, tiny_model, previous=first)
    np.testing.assert_array_equal(same.image.frames[0].pixels, first.image.frames[0].pixels)
    assert same.image.frames[1] is first.image.frames[1]  # other frames are the previous result's

    edited = first.mask.copy()
    edited[60:70, 20:40] = True  # text added by hand in a corner the caption does not reach
    texts = []
    done = refill(image, edited, AT_128, tiny_model, previous=first, progress=lambda fraction, text: texts.append(text))
    assert texts and all(text.startswith("Re-filling: ") for text in texts)
    np.testing.assert_array_equal(done.mask, edited)
    changed = np.any(done.image.frames[0].pixels != first.image.frames[0].pixels, axis=2)
    assert changed.any()
    # The margin is how far the clean grew the region (2 px: the picture is worked on at its own size) + 1.
    assert first.grown == done.grown == 2
    near = dilate(edited ^ first.mask, 3)
    assert not (changed & ~near).any()
    assert not (done.region ^ first.region)[~near].any()


def test_refill_without_a_previous_result_starts_from_the_original(tiny_model):
    image = animation()
    mask = np.zeros((90, 120), bool)
    mask[40:50, 50:70] = True
    done = refill(image, mask, AT_128, tiny_model)
    outside = ~dilate(mask, 3)
    np.testing.assert_array_equal(done.image.frames[0].pixels[outside], image.frames[0].pixels[outside])
    assert done.image.frames[1] is image.frames[1]


def test_captioned_draws_on_every_frame_and_keeps_text_over_transparency():
    from memeclean_core.captions import TextBox, compose_overlay

    image = animation(alpha=True)
    image.frames[1] = Frame(image.frames[1].pixels, np.zeros((90, 120), np.uint8), 120)
    boxes = [TextBox(x=0.05, y=0.05, w=0.9, h=0.4, text="HI")]
    overlay = compose_overlay(boxes, (120, 90))

    drawn = captioned(image, boxes)
    assert [frame.duration_ms for frame in drawn.frames] == [80, 120]
    for frame, original in zip(drawn.frames, image.frames):
        np.testing.assert_array_equal(frame.pixels, overlay.apply(original.pixels))
    np.testing.assert_array_equal(drawn.frames[1].alpha, overlay.coverage())  # transparent frame: the text shows
    assert len(captioned(image, boxes, first_frame_only=True).frames) == 1

    opaque = captioned(animation(), boxes)
    assert all(frame.alpha is None for frame in opaque.frames)
