"""Scoring shared by the post-processing benchmarks: clean validation cases with a `PostprocessConfig` and score
the result the way `memeclean eval` does (PSNR all / text, SSIM, mask IoU), plus what PSNR alone hides:

- collateral: the share of replaced pixels lying more than `COLLATERAL_DISTANCE` px from any true caption pixel
  (what was changed that was not caption), pooled over the images (replaced pixels far from text / all replaced);
- missed: the share of true caption pixels that were not replaced (a ghost left behind), pooled likewise.

Not a benchmark itself; `bench/sweep_postprocess.py`, `bench/bench_refine.py` and `bench/bench_structure_fill.py`
import it.
"""

from __future__ import annotations

import time
from typing import Any

import _common  # noqa: F401 - puts the repository root on sys.path
import cv2
import numpy as np

COLLATERAL_DISTANCE = 4  # px


def far_from_caption(true_mask: np.ndarray, distance: int = COLLATERAL_DISTANCE) -> np.ndarray:
    """Pixels more than `distance` px (Euclidean) from every true caption pixel."""
    if not true_mask.any():
        return np.ones(true_mask.shape, bool)
    return cv2.distanceTransform((~true_mask).astype(np.uint8), cv2.DIST_L2, 5) > distance


def load_cases(data: str, count: int, seed: int, long_sides: list[int]) -> list[Any]:
    """`count` cases spread over `long_sides` (case i at long_sides[i % len]), from a saved set or a data folder."""
    from memeclean_core.training.evaluate import (
        is_saved_set,
        load_validation_set,
        make_validation_set,
    )

    if is_saved_set(data):
        return load_validation_set(data)[:count]
    cases = []
    for k, long_side in enumerate(long_sides):
        share = len(range(k, count, len(long_sides)))
        for case in make_validation_set(data, share, seed=seed * 100 + k, long_side=long_side):
            case.name = f"{long_side}-{case.name}"
            cases.append(case)
    return cases


class _CachedMaskNet:
    """The model's networks with the mask network's output remembered per input: comparing post-processing
    configs on the same cases then runs the mask network once per case (the fill network still runs each time,
    its hole depends on the config)."""

    def __init__(self, net: Any):
        self.net, self.config, self._cache = net, net.config, {}

    def predict_mask(self, image: Any) -> Any:
        import hashlib

        key = hashlib.sha1(image.detach().cpu().numpy().tobytes()).hexdigest()
        if key not in self._cache:
            self._cache[key] = self.net.predict_mask(image)
        return self._cache[key]

    def fill(self, prefill: Any, mask: Any) -> Any:
        return self.net.fill(prefill, mask)


def cached(model: Any) -> Any:
    """`model` (a LoadedModel) whose mask network's outputs are remembered; reuse it across configs."""
    from memeclean_core.network.checkpoint import LoadedModel

    return LoadedModel.of_net(_CachedMaskNet(model.net), model.device, model.path, model.half)


def score(model: Any, cases: list[Any], resolution: int, config: Any) -> dict[str, float]:
    """Clean every case with `config` and return the aggregate scores (see the module docstring)."""
    from memeclean_core.cleaning.inference import clean
    from memeclean_core.training.evaluate import mask_iou, mean_psnr, mse, ssim, text_region

    mse_all, mse_text, ious, ssims, seconds = [], [], [], [], []
    replaced = far = caption = missed = 0
    for case in cases:
        started = time.perf_counter()
        result = clean(case.meme, resolution=resolution, model=model, postprocess=config)
        seconds.append(time.perf_counter() - started)
        mse_all.append(mse(result.image, case.template))
        mse_text.append(mse(result.image, case.template, text_region(case.mask)))
        ious.append(mask_iou(result.mask, case.mask))
        ssims.append(ssim(result.image, case.template))
        region = result.region
        replaced += int(region.sum())
        far += int((region & far_from_caption(case.mask)).sum())
        caption += int(case.mask.sum())
        missed += int((case.mask & ~region).sum())
    return {
        "psnr_all": mean_psnr(mse_all),
        "psnr_text": mean_psnr(mse_text),
        "ssim": float(np.mean(ssims)),
        "mask_iou": float(np.mean(ious)),
        "collateral": far / max(1, replaced),
        "missed": missed / max(1, caption),
        "ms": 1000.0 * float(np.median(seconds)),
    }


# No time column: with the mask network cached (`cached`) the time is not a clean's; bench/bench_speed.py times.
HEADER = f"{'PSNR all':>9} {'PSNR text':>9} {'SSIM':>7} {'mask IoU':>8} {'collat.':>8} {'missed':>7}"


def format_row(row: dict[str, float]) -> str:
    return (
        f"{row['psnr_all']:>9.2f} {row['psnr_text']:>9.2f} {row['ssim']:>7.4f} {row['mask_iou']:>8.3f} "
        f"{100 * row['collateral']:>7.1f}% {100 * row['missed']:>6.2f}%"
    )
