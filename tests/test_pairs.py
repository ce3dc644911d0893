"""memeclean_core.data.pairs: caption masks from meme/template differences, and sampling prepared pairs."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from memeclean_core.data.font_pool import load_boldest_font
from memeclean_core.data.pairs import PairSource, find_pairs, mask_from_difference
from memeclean_core.errors import MemeCleanError
from memeclean_core.resources import resource_path


def textured_template(height: int = 300, width: int = 420, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    picture = np.stack([xx / width * 200 + 30, yy / height * 150 + 50, 120 + 40 * np.sin(xx / 23)], -1)
    picture = picture + rng.normal(0, 6, picture.shape)
    picture[height // 2 :, width // 8 : width // 2] = 248  # a near-white region under part of the caption
    return picture.clip(0, 255).astype(np.uint8)


def draw_caption(template: np.ndarray, jpeg: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(meme, exact text mask): white Impact-style text with a black outline at the top and bottom."""
    height, width = template.shape[:2]
    font = load_boldest_font(str(resource_path("fonts", "Anton-Regular.ttf")), height // 7)
    meme = Image.fromarray(template)
    truth = Image.new("L", meme.size, 0)
    for y, text in ((6, "ONE DOES NOT"), (height * 2 // 3, "SIMPLY CAPTION")):
        for image, fill, stroke in ((meme, (255, 255, 255), (0, 0, 0)), (truth, 255, 255)):
            ImageDraw.Draw(image).text((12, y), text, font=font, fill=fill, stroke_width=3, stroke_fill=stroke)
    if jpeg:  # real memes are re-compressed
        buffer = io.BytesIO()
        meme.save(buffer, "JPEG", quality=85)
        meme = Image.open(buffer).convert("RGB")
    return np.asarray(meme), np.asarray(truth) > 0


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


def test_mask_from_difference_covers_outlined_white_text():
    template = textured_template()
    meme, truth = draw_caption(template)
    mask = mask_from_difference(meme, template)
    assert mask.dtype == bool and mask.shape == truth.shape
    assert iou(mask, truth) > 0.8
    assert (mask & truth).sum() / truth.sum() > 0.97  # the letters over the white region are filled too


def test_mask_from_difference_ignores_jpeg_noise_and_checks_shapes():
    template = textured_template()
    buffer = io.BytesIO()
    Image.fromarray(template).save(buffer, "JPEG", quality=80)
    recompressed = np.asarray(Image.open(buffer).convert("RGB"))
    assert mask_from_difference(recompressed, template).mean() < 0.002
    with pytest.raises(ValueError):
        mask_from_difference(template, template[:-1])


def write_pairs(root: Path, misaligned: bool = False) -> Path:
    """A prepared pairs folder: one good template with two memes (and optionally a misaligned pair)."""
    (root / "pairs" / "templates").mkdir(parents=True)
    template = textured_template()
    Image.fromarray(template).save(root / "pairs" / "templates" / "harold.png")
    (root / "pairs" / "memes" / "harold").mkdir(parents=True)
    for i in range(2):
        meme, _ = draw_caption(template)
        small = Image.fromarray(meme).resize((210, 150), Image.LANCZOS)  # memes are often smaller than templates
        small.save(root / "pairs" / "memes" / "harold" / f"{i}.jpg", quality=90)
    if misaligned:
        # the "meme" is another picture entirely: colour blocks over the template's size
        blocks = np.random.default_rng(2).integers(0, 256, (6, 8, 3), dtype=np.uint8)
        other = np.asarray(Image.fromarray(blocks).resize((420, 300), Image.NEAREST))
        Image.fromarray(template).save(root / "pairs" / "templates" / "wrong.png")
        (root / "pairs" / "memes" / "wrong").mkdir()
        Image.fromarray(other).save(root / "pairs" / "memes" / "wrong" / "0.jpg")
    return root


def test_pair_layout_is_found_from_the_data_folder_or_the_pairs_folder(tmp_path):
    root = write_pairs(tmp_path / "data")
    assert len(find_pairs(root / "pairs")) == 2
    assert len(PairSource(root)) == 2 and len(PairSource(root / "pairs")) == 2
    (tmp_path / "empty" / "pairs" / "templates").mkdir(parents=True)
    (tmp_path / "empty" / "pairs" / "memes").mkdir()
    with pytest.raises(MemeCleanError):
        PairSource(tmp_path / "empty")


def test_sample_returns_meme_template_and_mask_at_the_long_side(tmp_path, rng):
    source = PairSource(write_pairs(tmp_path / "data"))
    meme, template, mask = source.sample(rng, 280)
    assert meme.shape == template.shape == (200, 280, 3)
    assert meme.dtype == template.dtype == np.uint8
    assert mask.shape == (200, 280) and mask.dtype == bool
    assert 0.05 < mask.mean() < 0.5
    # inside the mask the meme differs from the template, outside it they agree
    difference = np.abs(meme.astype(int) - template.astype(int)).max(axis=2)
    assert difference[mask].mean() > 4 * difference[~mask].mean()


def test_misaligned_pairs_are_rejected(tmp_path, rng):
    source = PairSource(write_pairs(tmp_path / "data", misaligned=True))
    for _ in range(12):
        meme, template, mask = source.sample(rng, 200)
        assert mask.mean() < 0.6
    wrong = [i for i, (meme, template) in enumerate(source.pairs) if template.stem == "wrong"]
    assert source.load_pair(wrong[0]) is None
    assert set(source.rejected) <= set(wrong)

    only_wrong = tmp_path / "wrong"
    write_pairs(only_wrong, misaligned=True)
    for path in (only_wrong / "pairs" / "memes" / "harold").iterdir():
        path.unlink()
    with pytest.raises(MemeCleanError, match="rejected"):
        PairSource(only_wrong).sample(rng, 200)
