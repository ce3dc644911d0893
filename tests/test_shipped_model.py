"""The weights that ship in resources/models/: they load safely, clean a meme they never saw, and `memeclean eval`
on the fixed validation set reproduces the numbers the model card (docs/MODEL.md) states for it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from memeclean_core import clean, load_model
from memeclean_core.resources import bundled_model_path
from memeclean_core.training.evaluate import evaluate_model, load_validation_set, mask_iou

from .conftest import make_meme

ROOT = Path(__file__).resolve().parent.parent
MODEL_CARD = ROOT / "docs" / "MODEL.md"
VALSET = ROOT / "tests" / "data" / "valset"
# The card's machine-readable line for the fixed set, e.g.
#   <!-- fixed-valset resolution=512 psnr_all=31.20 psnr_text=22.10 ssim=0.950 mask_iou=0.870 -->
CARD_LINE = re.compile(r"<!-- fixed-valset resolution=(\d+) ((?:\w+=[\d.]+ ?)+)-->")
# Float results differ slightly between CPUs and thread counts; a real change of the model moves them far more.
TOLERANCE = {"psnr_all": 0.3, "psnr_text": 0.3, "ssim": 0.01, "mask_iou": 0.02}


@pytest.fixture(scope="module")
def shipped():
    return load_model(bundled_model_path(), device="cpu")


def test_the_shipped_file_is_a_small_fp16_state_dict_that_loads_with_weights_only():
    path = bundled_model_path()
    assert path.stat().st_size <= 40 * 2**20
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    tensors = [value for value in checkpoint["model"].values() if value.is_floating_point()]
    assert tensors and all(value.dtype == torch.float16 for value in tensors)
    assert isinstance(checkpoint["config"], dict)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_shipped_model_cleans_a_generated_meme(shipped, seed):
    meme, template, truth = make_meme(480, 360, seed=seed)
    result = clean(meme, resolution=512, model=shipped)
    iou = mask_iou(result.mask, truth)
    print(f"seed {seed}: mask IoU {iou:.3f}")
    assert iou > 0.5
    assert np.array_equal(result.image[~result.region], meme[~result.region])
    error_before = np.abs(meme[truth].astype(int) - template[truth]).mean()
    error_after = np.abs(result.image[truth].astype(int) - template[truth]).mean()
    assert error_after < 0.5 * error_before


def card_numbers() -> dict[int, dict[str, float]]:
    numbers = {}
    for resolution, fields in CARD_LINE.findall(MODEL_CARD.read_text(encoding="utf-8")):
        numbers[int(resolution)] = {key: float(value) for key, value in (item.split("=") for item in fields.split())}
    return numbers


def test_eval_on_the_fixed_set_reproduces_the_model_card(shipped):
    stated = card_numbers()
    assert 512 in stated, f"{MODEL_CARD} states no fixed-valset numbers at 512"
    result = evaluate_model(shipped, load_validation_set(VALSET), [512], baselines=False)
    measured = result["rows"][0]
    for key, tolerance in TOLERANCE.items():
        print(f"{key}: measured {measured[key]:.3f}, model card {stated[512][key]:.3f}")
        assert measured[key] == pytest.approx(stated[512][key], abs=tolerance), key
