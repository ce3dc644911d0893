"""Meme formats (memeclean_core.data.formats): shapes, exact templates outside the mask, empty masks for
distractors, caption bars that crop back to the picture, determinism per seed."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from memeclean_core.data import formats as fm
from memeclean_core.data.backgrounds import procedural
from memeclean_core.data.font_pool import FontPool
from memeclean_core.resources import resource_path
from memeclean_core.training.evaluate import dilate_mask as dilate

FONTS = FontPool([resource_path("fonts", "Anton-Regular.ttf")])


def picture(seed: int, long_side: int = 160) -> np.ndarray:
    return procedural(np.random.default_rng([99, seed]), long_side)


def clipart() -> list[np.ndarray]:
    art = np.zeros((40, 30, 4), np.uint8)
    art[5:35, 5:25] = (200, 30, 30, 255)
    return [art]


@pytest.mark.parametrize("fmt", fm.FORMATS)
def test_every_format_is_consistent_and_exact_outside_the_mask(fmt):
    for seed in range(6):
        clean = picture(seed)
        meme = fm.make_format_meme(fmt, clean, FONTS, np.random.default_rng(seed), clipart(), jpeg_probability=0.0)
        assert meme.format == fmt
        assert meme.meme.dtype == meme.template.dtype == np.uint8 and meme.mask.dtype == bool
        assert meme.meme.shape == meme.template.shape and meme.mask.shape == meme.meme.shape[:2]
        assert meme.meme.shape[1] == clean.shape[1]
        # Outside the mask only the faint rim below MASK_ALPHA (anti-aliasing, shadow haze) may differ, by less
        # than 10 % of the contrast, and nothing differs a few pixels further out.
        difference = np.abs(meme.meme.astype(int) - meme.template.astype(int)).max(axis=2)
        assert difference[~meme.mask].max(initial=0) <= fm.MASK_ALPHA
        assert difference[~dilate(meme.mask, 12)].max(initial=0) == 0
        if fmt == "distractors":
            assert not meme.mask.any()
            np.testing.assert_array_equal(meme.meme, meme.template)
        else:
            assert meme.mask.any(), (fmt, seed)
            assert (meme.meme[meme.mask] != meme.template[meme.mask]).any()
        if fmt not in ("caption_bar", "multi_panel", "distractors"):
            np.testing.assert_array_equal(meme.template, clean)
        # Unpacks like SynthSource.sample.
        meme_, template, mask = meme
        assert meme_ is meme.meme and template is meme.template and mask is meme.mask


def test_distractors_change_the_picture_and_stay_identical_under_jpeg():
    for seed in range(4):
        clean = picture(seed)
        meme = fm.make_format_meme("distractors", clean, FONTS, np.random.default_rng(seed), jpeg_probability=1.0)
        np.testing.assert_array_equal(meme.meme, meme.template)
        assert not meme.mask.any()
        detailed = fm.add_distractors(clean, FONTS, np.random.default_rng(seed), count=5)
        assert detailed.shape == clean.shape and detailed.dtype == np.uint8
        assert (detailed != clean).any(axis=2).mean() > 0.01


def test_caption_bar_is_a_uniform_band_that_crops_back_to_the_picture():
    sides = set()
    for seed in range(12):
        clean = picture(seed)
        meme = fm.make_format_meme("caption_bar", clean, FONTS, np.random.default_rng(seed), jpeg_probability=0.0)
        side, rows = meme.bar
        sides.add(side)
        assert meme.meme.shape[0] == clean.shape[0] + rows
        np.testing.assert_array_equal(meme.picture(), clean)
        band = meme.template[:rows] if side == "top" else meme.template[-rows:]
        assert (band == band[0, 0]).all() and tuple(band[0, 0]) in ((255, 255, 255), (0, 0, 0))
        in_bar = np.zeros(meme.mask.shape, bool)
        if side == "top":
            in_bar[:rows] = True
        else:
            in_bar[-rows:] = True
        assert meme.mask.any() and not (meme.mask & ~in_bar).any()  # all the text is on the bar
        ink = meme.meme[meme.mask].astype(int).mean(axis=1)
        assert (ink < 128).mean() > 0.5 if band[0, 0, 0] == 255 else (ink > 128).mean() > 0.5
    assert sides == {"top", "bottom"}


def test_watermark_is_small_faint_and_in_a_corner():
    for seed in range(6):
        clean = np.full((200, 300, 3), 128, np.uint8)
        meme = fm.make_format_meme("watermark", clean, FONTS, np.random.default_rng(seed), jpeg_probability=0.0)
        ys, xs = np.nonzero(meme.mask)
        assert ys.max() - ys.min() <= 0.06 * 200 + 2  # one line of 1.5–3 % of the height (with its descenders)
        near = lambda v, lo, hi: v.min() < lo or v.max() > hi  # noqa: E731
        assert near(ys, 20, 180) and near(xs, 30, 270)
        changed = np.abs(meme.meme.astype(int) - 128).max(axis=2)[meme.mask]
        assert changed.max() < 128 * 0.81 + 2  # never fully opaque


def test_small_captions_have_small_line_heights():
    for seed in range(6):
        clean = picture(seed, 400)
        meme = fm.make_format_meme("small", clean, FONTS, np.random.default_rng(seed), jpeg_probability=0.0)
        rows = np.nonzero(meme.mask.any(axis=1))[0]
        # Runs of caption rows: a block of at most three lines of 3–4 % of the width (with outlines).
        runs = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
        assert max(len(run) for run in runs) < 0.04 * clean.shape[1] * 4


def test_multi_panel_templates_have_straight_uniform_borders():
    for seed in range(6):
        clean = picture(seed, 240)
        rng = np.random.default_rng(seed)
        meme = fm.make_format_meme("multi_panel", clean, FONTS, rng, clipart(), jpeg_probability=0.0)
        boxes, border = fm.panel_boxes(clean.shape[1], clean.shape[0], np.random.default_rng(seed))
        inside = np.zeros(clean.shape[:2], bool)
        for left, top, right, bottom in boxes:
            inside[top:bottom, left:right] = True
        assert 2 <= len(boxes) <= 4 and 2 <= border <= 10 and (~inside).any()
        border_pixels = meme.template[~inside]
        assert (border_pixels == border_pixels[0]).all()


def test_formats_are_deterministic_per_seed_and_differ_between_seeds():
    for fmt in fm.FORMATS:
        a = fm.make_format_meme(fmt, picture(1), FONTS, np.random.default_rng(5), clipart())
        b = fm.make_format_meme(fmt, picture(1), FONTS, np.random.default_rng(5), clipart())
        c = fm.make_format_meme(fmt, picture(1), FONTS, np.random.default_rng(6), clipart())
        for field in ("meme", "template", "mask"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a.bar == b.bar
        assert not np.array_equal(a.meme, c.meme), fmt


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown meme format"):
        fm.make_format_meme("haiku", picture(0), FONTS, np.random.default_rng(0))


def test_perspective_coefficients_map_target_corners_to_source_corners():
    target = [(3.0, 1.0), (50.0, 8.0), (45.0, 30.0), (0.0, 25.0)]
    source = [(0, 0), (40, 0), (40, 20), (0, 20)]
    a, b, c, d, e, f, g, h = fm.perspective_coefficients(target, source)
    for (x, y), (u, v) in zip(target, source):
        w = g * x + h * y + 1
        assert (a * x + b * y + c) / w == pytest.approx(u) and (d * x + e * y + f) / w == pytest.approx(v)
    sign = Image.new("RGBA", (40, 20), (255, 255, 255, 255))
    warped = np.asarray(sign.transform((51, 31), Image.PERSPECTIVE, (a, b, c, d, e, f, g, h)).getchannel("A"))
    assert warped[15, 25] == 255 and warped[0, 50] == 0


def test_star_radii_are_drawn_as_rng_choice_would_draw_them():
    """The star field's cheap draw takes the same radii from the same stream as rng.choice(p=...): the validation
    set's star fields stay byte for byte what they were."""
    from memeclean_core.data.formats import STAR_RADII, STAR_RADIUS_ODDS, star_radius

    fast, reference = np.random.default_rng(5), np.random.default_rng(5)
    drawn = [star_radius(fast) for _ in range(2000)]
    expected = [reference.choice(STAR_RADII, p=STAR_RADIUS_ODDS) for _ in range(2000)]
    assert drawn == expected and set(drawn) == set(STAR_RADII)
