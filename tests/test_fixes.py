"""Your fixes: corrected masks kept as training pairs, and a short fine-tune on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from memeclean_core.errors import MemeCleanError
from memeclean_core.training.fixes import (
    MARKER,
    FixSource,
    fixes_dir,
    is_fixes_folder,
    list_fixes,
    save_fix,
    score_fixes,
    split_fixes,
)

from .conftest import FAST_TRAIN_ARGS, make_meme


def make_fixes(folder: Path, count: int = 6) -> list:
    fixes = []
    for seed in range(count):
        meme, template, mask = make_meme(160, 120, seed=seed)
        fixes.append(save_fix(meme, mask, template if seed % 2 == 0 else None, name=f"meme{seed}", folder=folder))
    return fixes


def test_a_fix_is_kept_in_the_user_data_folder_complete(tmp_path):
    from memeclean_core.resources import user_data_dir

    meme, template, mask = make_meme(120, 90)
    fix = save_fix(meme, mask, template, name="meme.png")
    assert fixes_dir() == user_data_dir() / "fixes" and fix.folder.parent == fixes_dir()
    assert is_fixes_folder(fixes_dir())
    assert sorted(p.name for p in fix.folder.iterdir()) == ["info.json", "mask.png", "meme.png", "template.png"]
    loaded_meme, loaded_template, loaded_mask = fix.load()
    assert np.array_equal(loaded_meme, meme) and np.array_equal(loaded_template, template)
    assert np.array_equal(loaded_mask, mask)
    without = save_fix(meme, mask)
    assert not without.has_template and without.load()[1] is None
    assert list_fixes() == [fix, without] or list_fixes() == [without, fix]


def test_half_written_fixes_are_not_listed(tmp_path):
    make_fixes(tmp_path, 2)
    (tmp_path / ".20250101-000000-dead.tmp").mkdir()  # a kill while writing
    (tmp_path / "20250101-000000-beef").mkdir()  # no meme.png / mask.png
    assert len(list_fixes(tmp_path)) == 2


def test_bad_fixes_are_refused(tmp_path):
    meme, template, mask = make_meme(120, 90)
    with pytest.raises(MemeCleanError):
        save_fix(meme, mask[:10], folder=tmp_path)
    with pytest.raises(MemeCleanError):
        save_fix(meme, mask, template[:10], folder=tmp_path)
    assert list_fixes(tmp_path) == []


def test_split_holds_some_out_always_the_same(tmp_path):
    fixes = make_fixes(tmp_path, 6)
    train, held = split_fixes(fixes)
    assert train and held and sorted(train + held, key=lambda f: f.name) == sorted(fixes, key=lambda f: f.name)
    assert split_fixes(list(reversed(fixes))) == (train, held)
    source = FixSource(tmp_path)
    assert set(source.fixes) == set(train) and set(source.held_out) == set(held)


def first_batch(sources: list, count: int = 8, seed: int = 123):
    """A batch of training crops from `sources`, through the training data pipeline (`TrainingSamples` here;
    `TrainingBatches` on branches where the pipeline builds whole batches)."""
    import torch

    from memeclean_core.data import dataset

    if hasattr(dataset, "TrainingBatches"):
        return next(iter(dataset.TrainingBatches(sources, batch=count, crop=64, long_side=(96, 160), seed=seed)))
    samples = iter(dataset.TrainingSamples(sources, crop=64, long_side=(96, 160), seed=seed))
    return torch.utils.data.default_collate([next(samples) for _ in range(count)])


def test_a_fix_without_template_trains_the_mask_only(tmp_path):
    for seed in range(3):
        meme, _, mask = make_meme(160, 120, seed=seed)
        save_fix(meme, mask, None, folder=tmp_path / "masks only")
        meme, template, mask = make_meme(160, 120, seed=seed)
        save_fix(meme, mask, template, folder=tmp_path / "with templates")
    masks_only = first_batch([FixSource(tmp_path / "masks only")])
    assert masks_only["mask"].sum() > 0  # a mask target ...
    assert masks_only["hole"].sum() == 0  # ... and nothing for the fill loss to weigh
    assert first_batch([FixSource(tmp_path / "with templates")])["hole"].sum() > 0


def test_a_short_fine_tune_lowers_the_loss_on_the_fixes(tmp_path, tiny_model_path):
    import torch

    from memeclean_core.network.weights import build_net, read_checkpoint
    from memeclean_core.training.train import TrainConfig, build_sources, compute_losses, training_run

    torch.set_num_threads(1)
    folder = tmp_path / "fixes"
    make_fixes(folder, 6)
    assert (folder / MARKER).is_file()
    sources = build_sources([str(folder)])
    assert isinstance(sources[0], FixSource) and len(sources) == 2  # the fixes, mixed with synthetic memes
    batch = {
        key: value.float() / 255.0 if value.dtype == torch.uint8 else value.float()
        for key, value in first_batch([sources[0]]).items()
    }

    def loss_of(path: Path) -> float:
        net = build_net(read_checkpoint(path), path).eval()
        with torch.no_grad():
            return float(compute_losses(net, batch, True, 1.0)[1])  # the mask loss: what a fix corrects

    out = tmp_path / "tuned.pt"
    config = TrainConfig(
        data=[str(folder)],
        out=str(out),
        steps=40,
        batch=4,
        crop=64,
        min_side=96,
        max_side=160,
        workers=0,
        lr=5e-3,
        warmup_steps=0,
        device="cpu",
        progress_every=10,
        preview_every=0,
        init=str(tiny_model_path),
        model={"base": 999},
    )  # model= is ignored: init sets the network
    list(training_run(config))
    assert read_checkpoint(out)["config"] == read_checkpoint(tiny_model_path)["config"]
    before, after = loss_of(tiny_model_path), loss_of(out)
    assert after < 0.8 * before, (before, after)


def test_score_fixes_measures_mask_iou(tmp_path, tiny_model):
    fixes = make_fixes(tmp_path, 2)
    score = score_fixes(tiny_model, fixes, resolution=128)
    assert 0.0 <= score <= 1.0
    assert score_fixes(tiny_model, []) is None


def test_the_train_command_fine_tunes_on_a_fixes_folder(tmp_path, tiny_model_path, capsys):
    from memeclean_core.cli import main
    from memeclean_core.network.weights import read_checkpoint

    folder = tmp_path / "fixes"
    make_fixes(folder, 3)
    out = tmp_path / "tuned.pt"
    assert (
        main(
            [
                "train",
                "--data",
                str(folder),
                "--init",
                str(tiny_model_path),
                "--steps",
                "2",
                *FAST_TRAIN_ARGS,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert read_checkpoint(out)["config"] == read_checkpoint(tiny_model_path)["config"]
    assert read_checkpoint(out)["train"]["step"] == 2
