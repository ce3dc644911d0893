"""Training batches: the meme pool, the free recolouring, fill flags in step order, and the training mix."""

from __future__ import annotations

import numpy as np
import torch

from memeclean_core.data.backgrounds import BackgroundSource
from memeclean_core.data.dataset import MemePool, TrainingBatches, recolour
from memeclean_core.data.font_pool import FontPool
from memeclean_core.data.source import SynthSource
from memeclean_core.data.synth import TRAINING_MIX


class CountingSource:
    """A flat grey picture with one white square 'caption'; counts how often a meme is rendered."""

    def __init__(self):
        self.renders = 0

    def sample(self, rng, long_side):
        self.renders += 1
        meme = np.full((long_side, long_side, 3), 90, np.uint8)
        template = meme.copy()
        mask = np.zeros((long_side, long_side), bool)
        mask[10:30, 10:50] = True
        meme[mask] = (250, 20, 20)
        return meme, template, mask


def procedural_source(mix=TRAINING_MIX) -> SynthSource:
    return SynthSource(BackgroundSource([]), FontPool.from_folder("no-such-folder"), mix)


def test_each_rendered_meme_gives_several_crops():
    source = CountingSource()
    pool = MemePool([source], np.array([1.0]), (64, 96), size=4, reuse=5.0)
    rng = np.random.default_rng(0)
    for _ in range(400):
        pool.draw(rng)
    assert 50 < source.renders < 130  # about 400 / 5, and never one render per crop


def test_recolouring_keeps_meme_and_template_equal_outside_the_caption():
    meme, template, mask = CountingSource().sample(None, 64)
    for seed in range(20):
        new_meme, new_template = recolour(meme, template, np.random.default_rng(seed))
        assert np.array_equal(new_meme[~mask], new_template[~mask])
        assert (new_meme[mask] != new_template[mask]).any(axis=-1).all()  # the caption is still drawn


def test_batches_carry_the_fill_only_on_every_nth_step_also_with_two_workers():
    dataset = TrainingBatches([CountingSource()], batch=2, crop=32, long_side=(48, 64), fill_every=3, first_step=4)
    loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2)
    flags = []
    for batch in loader:
        flags.append(bool(batch["with_fill"]))
        assert ("prefill" in batch) == flags[-1] and ("hole" in batch) == flags[-1]
        assert batch["meme"].shape == (2, 3, 32, 32) and batch["mask"].shape == (2, 1, 32, 32)
        if len(flags) == 7:
            break
    assert flags == [(step % 3 == 0) for step in range(4, 11)]


class NoiseSource:
    """Random pictures with a random block 'caption': every crop differs, so reused crops can be told apart."""

    def sample(self, rng, long_side):
        template = rng.integers(0, 256, (long_side, long_side, 3), dtype=np.uint8)
        meme, mask = template.copy(), np.zeros((long_side, long_side), bool)
        top, left = rng.integers(0, long_side - 24, 2)
        mask[top : top + 12, left : left + 20] = True
        meme[mask] = 255
        return meme, template, mask


def test_each_fill_crop_serves_twice_the_second_time_mirrored_without_a_new_telea(monkeypatch):
    from memeclean_core.data import dataset

    calls = []
    monkeypatch.setattr(dataset, "telea_fill", lambda rgb, hole: calls.append(1) or rgb.copy())
    batches = iter(TrainingBatches([NoiseSource()], batch=4, crop=32, long_side=(48, 64), fill_every=2, seed=1))
    fills = []
    for _ in range(6):
        batch = next(batches)
        if bool(batch["with_fill"]):
            fills.append((batch, len(calls)))
    (first, calls_first), (second, calls_second), (third, calls_third) = fills
    assert (calls_first, calls_second - calls_first, calls_third - calls_second) == (4, 2, 2)
    for earlier, later in ((first, second), (second, third)):
        for key in ("mask", "hole", "valid"):
            assert torch.equal(later[key][2:], earlier[key][:2].flip(-1))
        for key in ("meme", "template", "prefill"):  # the same pixels, mirrored, in a new channel order
            mirrored = earlier[key][:2].flip(-1)
            assert torch.equal(later[key][2:].sort(dim=1).values, mirrored.sort(dim=1).values)
        assert not torch.equal(later["meme"][:2], earlier["meme"][:2])  # the other half is new


def test_without_mirroring_every_fill_crop_gets_its_own_telea(monkeypatch):
    from memeclean_core.data import dataset

    calls = []
    monkeypatch.setattr(dataset, "telea_fill", lambda rgb, hole: calls.append(1) or rgb.copy())
    batches = iter(
        TrainingBatches([NoiseSource()], batch=4, crop=32, long_side=(48, 64), fill_every=1, mirror_fill=False)
    )
    for _ in range(3):
        next(batches)
    assert len(calls) == 12


def test_teleas_fill_of_a_mirrored_hole_is_its_fill_mirrored():
    """Why a mirrored fill crop may keep its prefill: Telea's weights follow the hole's geometry, not colours."""
    from memeclean_core.cleaning.pipeline import telea_fill

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:128]
    picture = np.stack([x * 2, y * 2, (x + y) % 256], axis=-1).astype(np.uint8)
    picture = np.clip(picture + rng.integers(-20, 21, picture.shape), 0, 255).astype(np.uint8)
    hole = np.zeros((96, 128), np.uint8)
    hole[30:50, 10:110] = 1
    hole[20:70, 60:66] = 1
    direct = telea_fill(picture[:, ::-1].copy(), hole[:, ::-1].copy()).astype(int)
    reused = telea_fill(picture, hole)[:, ::-1].astype(int)
    assert np.abs(direct - reused)[hole[:, ::-1] > 0].mean() < 2.0


def test_the_training_mix_draws_formats_and_memes_without_captions():
    source = procedural_source()
    empty, shapes_ok = 0, True
    for i in range(30):
        meme, template, mask = source.sample(np.random.default_rng([3, i]), 160)
        shapes_ok &= meme.shape == template.shape and mask.shape == meme.shape[:2] and meme.dtype == np.uint8
        empty += not mask.any()
    assert shapes_ok
    assert 0 < empty < 15  # distractor-only pictures are in the mix, and they are the minority


def test_without_a_mix_the_source_draws_v1_captions_as_before():
    source = procedural_source(mix=None)
    meme, template, mask = source.sample(np.random.default_rng(5), 128)
    assert mask.any() and meme.shape == template.shape


def test_training_labels_include_heavy_words_outlined_in_their_own_colour():
    from memeclean_core.data.synth import render_labels, sample_style

    style = sample_style(np.random.default_rng(0), "heavy")
    assert style.outline == style.fill and style.outline_ratio >= 0.03
    source = procedural_source(mix={"labels": 1.0})
    meme, template, mask = source.sample(np.random.default_rng(1), 160)
    assert mask.any() and (meme[mask] != template[mask]).any()
    layer = render_labels((160, 160), source.fonts, np.random.default_rng(2))
    assert np.asarray(layer.getchannel("A")).any()
