"""The GPU data path: a glyph pack rendered on the CPU, batches composited on the training device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from memeclean_core.data import glyph_pack as gp
from memeclean_core.errors import MemeCleanError
from memeclean_core.training.train import training_run

from .test_train import tiny_config


@pytest.fixture(scope="module")
def pack_path(tmp_path_factory):
    """A small pack from procedural pictures and the bundled font (an empty data folder)."""
    folder = tmp_path_factory.mktemp("data")
    path = folder.parent / "pack.npz"
    info = gp.build_pack(folder, path, layers=6, backgrounds=3, long_side=(300, 420), seed=1)
    assert info["layers"] == 6 and info["backgrounds"] == 3
    return path


def test_the_pack_holds_caption_coverage_and_pictures(pack_path):
    pack = gp.GlyphPack.load(pack_path)
    assert pack.coverage.shape == (6, gp.TILE, gp.TILE) and pack.coverage.dtype == np.uint8
    assert pack.backgrounds.shape == (3, gp.TILE, gp.TILE, 3)
    assert all(layer.max() >= 64 for layer in pack.coverage)  # every layer has a caption on it


def test_a_pack_of_another_format_is_refused_in_one_line(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, format=np.array("something-else-v9"), coverage=np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(MemeCleanError, match="something-else-v9 pack"):
        gp.GlyphPack.load(path)
    (tmp_path / "junk.npz").write_bytes(b"not a pack")
    with pytest.raises(MemeCleanError, match="cannot read the glyph pack"):
        gp.GlyphPack.load(tmp_path / "junk.npz")


def test_device_batches_are_composited_captions_with_their_true_masks(pack_path):
    torch.set_num_threads(1)
    pack = gp.GlyphPack.load(pack_path)
    batch = gp.DeviceBatches(pack, "cpu", crop=64, seed=3).batch(16)
    meme, mask, valid = batch["meme"], batch["mask"], batch["valid"]
    assert meme.shape == (16, 3, 64, 64) and mask.shape == valid.shape == (16, 1, 64, 64)
    assert meme.is_contiguous(memory_format=torch.channels_last) and meme.dtype == torch.float32
    assert float(meme.min()) >= 0 and float(meme.max()) <= 1
    assert set(torch.unique(mask).tolist()) <= {0.0, 1.0} and bool(valid.all())
    again = gp.DeviceBatches(pack, "cpu", crop=64, seed=3).batch(16)
    assert torch.equal(batch["meme"], again["meme"]) and torch.equal(batch["mask"], again["mask"])


def test_outlines_grow_the_caption_and_every_caption_pixel_is_in_the_mask(pack_path):
    pack = gp.GlyphPack.load(pack_path)
    batches = gp.DeviceBatches(pack, "cpu", crop=64, seed=5)
    ink = torch.zeros(1, 1, 9, 9)
    ink[..., 4, 4] = 1
    grown = torch.nn.functional.max_pool2d(ink, 3, stride=1, padding=1)
    assert int(grown.sum()) == 9  # one pixel more each way per width
    masks = torch.cat([batches.batch(8)["mask"] for _ in range(4)])
    covered = masks.flatten(1).sum(1)
    assert (covered > 0).sum() > 0  # captions drawn
    assert (covered == 0).sum() > 0  # and hard negatives without one (EMPTY_SHARE)


def test_jpeg_like_degradation_keeps_size_and_range_and_loses_detail():
    images = torch.rand(2, 3, 16, 16)
    degraded = gp._jpeg_like(images, torch.tensor([35.0, 95.0]))
    assert degraded.shape == images.shape and float(degraded.min()) >= 0 and float(degraded.max()) <= 1
    low, high = ((degraded - images).abs().mean(dim=(1, 2, 3))).tolist()
    assert low > high > 0  # quality 35 loses more than quality 95


def test_training_with_a_glyph_pack_takes_mask_steps_from_the_device(pack_path, tmp_path):
    torch.set_num_threads(1)
    config = tiny_config(tmp_path, steps=6, gpu_pack=str(pack_path), fill_every=3, warmup_steps=0)
    reports = [r for r in training_run(config) if not r.done]
    assert len(reports) == 6
    fills = [r.fill_loss > 0 for r in reports]  # step 0, 3 train the fill (from the workers' batches)
    assert fills == [True, False, False, True, False, False]


def test_a_missing_pack_is_refused_before_any_work(tmp_path):
    config = tiny_config(tmp_path, steps=2, gpu_pack=str(tmp_path / "nowhere.npz"))
    with pytest.raises(MemeCleanError, match="--gpu-pack"):
        next(training_run(config))
