"""`clean()`: find the caption in a full-size image and fill what was behind it.

The network runs at a working size (longest side = `resolution`, or the picture's own when smaller); the result is
composited back at the input's full size, replacing only the pixels inside the slightly dilated text mask.
Everything outside that region is the input, bit for bit. Large images stay within bounded memory: full-resolution
work is done one horizontal band of caption at a time.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..callbacks import CancelFn, ProgressFn
from ..errors import Cancelled, MemeCleanError
from ..geometry import DEFAULT_RESOLUTION, MAX_RESOLUTION, MIN_RESOLUTION, padded_size, working_size
from ..network.checkpoint import LoadedModel, load_model
from .pipeline import (
    DEFAULT_POSTPROCESS,
    STRUCTURE_CONTEXT,
    PostprocessConfig,
    bounding_window,
    caption_bands,
    classical_fill,
    classical_fill_scaled,
    dilate,
    in_parallel,
    pad_reflect,
    resize,
    split_alpha,
)


@dataclass
class CleanResult:
    image: np.ndarray  # H×W×3 uint8, the cleaned picture at the input's size
    mask: np.ndarray  # H×W bool, the caption text (what the user sees and edits)
    region: np.ndarray  # H×W bool, the pixels that were replaced (the likely text, dilated; contains `mask`)
    alpha: np.ndarray | None = None  # the input's alpha, unchanged
    working_size: tuple[int, int] = (0, 0)  # (width, height) the network ran at
    device: str = "CPU"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, and "total"
    # Full-size pixels `region` reaches beyond the pixels the fill was asked for (the dilation that catches faint
    # outlines and JPEG halos): a change of the mask changes the result this far around it (`whole_image.refill`).
    grown: int = 0


def clean(
    image: np.ndarray,
    resolution: int = DEFAULT_RESOLUTION,
    mask: np.ndarray | None = None,
    model: LoadedModel | None = None,
    *,
    alpha: np.ndarray | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    postprocess: PostprocessConfig = DEFAULT_POSTPROCESS,
) -> CleanResult:
    """Remove the caption from `image` (H×W×3 uint8 RGB, or H×W×4 with alpha).

    `resolution` is the working size of the network's longest side (the GUI's slider); a smaller picture is worked
    on at its own size (`geometry.working_size`). `mask` (H×W, nonzero =
    text) skips the mask network and fills exactly that text, e.g. a mask corrected by hand. `model` defaults to the
    bundled weights. `progress(fraction, stage)` is called between stages and `cancel()` checked there; a
    cancelled run raises `Cancelled`. `postprocess` sets the thresholds, dilation and fill options.
    """
    config = postprocess
    started = time.perf_counter()
    timings: dict[str, float] = {}
    report = progress or (lambda fraction, stage: None)

    def checkpoint(stage: str, fraction: float) -> None:
        timings[stage] = time.perf_counter() - started - sum(timings.values())
        if cancel is not None and cancel():
            raise Cancelled("cleaning cancelled")
        report(fraction, stage)

    image, alpha = split_alpha(image, alpha)
    height, width = image.shape[:2]
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise MemeCleanError(f"resolution must be between {MIN_RESOLUTION} and {MAX_RESOLUTION}, got {resolution}")
    if mask is not None and mask.shape[:2] != (height, width):
        raise MemeCleanError(f"the mask is {mask.shape[1]}×{mask.shape[0]} but the image is {width}×{height}")
    if model is None:
        model = load_model()
    work_w, work_h = working_size(width, height, resolution)
    pad_w, pad_h = padded_size(work_w, work_h, model.config.multiple)
    small = resize(image, work_w, work_h)
    checkpoint("prepare", 0.1)

    runner = model.runner  # torch or OpenVINO (`runtime`): the same arrays in, the same arrays out
    if mask is None:
        probability = runner.mask_probability(pad_reflect(small, pad_h, pad_w))[:work_h, :work_w]
        fill_small = probability > config.fill_threshold
    else:
        probability = None
        fill_small = resize(mask.astype(np.float32), work_w, work_h) > 0.25
    checkpoint("mask", 0.5)

    # The full-size half (the edge refinement, the replaced region and its classical fill) needs only the mask:
    # it runs on a second thread while this one fills the working-size hole and runs the fill network. Both halves
    # are mostly single-threaded OpenCV and numpy, which release the GIL (about 15 % of a clean at 512).
    scale = work_w / width
    with ThreadPoolExecutor(1, thread_name_prefix="memeclean-full-size") as helper:
        full_size = helper.submit(full_size_fill, image, probability, mask, scale, config)
        hole_small = dilate(fill_small, config.working_dilation)
        prefill = classical_fill(small, hole_small, config)  # the whole picture: the structure fill's lines reach far
        padded_hole = pad_reflect(hole_small.astype(np.float32), pad_h, pad_w)
        correction = runner.fill_correction(pad_reflect(prefill, pad_h, pad_w), padded_hole)[:work_h, :work_w]
        checkpoint("fill", 0.8)
        filled = full_size.result()
    output = add_correction(image, filled, correction, scale)
    checkpoint("composite", 1.0)
    timings["total"] = time.perf_counter() - started
    return CleanResult(
        image=output,
        mask=filled.text_mask,
        region=filled.region,
        alpha=alpha,
        working_size=(work_w, work_h),
        device=model.device_name,
        timings=timings,
        grown=filled.grown,
    )


@dataclass
class FullSizeFill:
    """The full-size half of a clean, before the network's correction is added."""

    text_mask: np.ndarray  # H×W bool, the caption text
    region: np.ndarray  # H×W bool, the pixels to replace
    grown: int  # how far `region` reaches beyond the pixels the fill was asked for (`CleanResult.grown`)
    bands: list[tuple[slice, slice]]  # the caption bands (`caption_bands`) ...
    fills: list[np.ndarray]  # ... and each one's classical fill


def full_size_fill(
    image: np.ndarray, probability: np.ndarray | None, mask: np.ndarray | None, scale: float, config: PostprocessConfig
) -> FullSizeFill:
    """The text mask and the replaced region at full size, from the working-size caption `probability` (or the
    given `mask`, filled as it is), and the classical fill of each caption band of the region."""
    height, width = image.shape[:2]
    refined = None
    if probability is None:
        text_mask = fill_mask = mask.astype(bool)
    else:
        # Upsample the probability, not the binary mask, so edges stay smooth at full size.
        probability_full = resize(np.round(probability * 255).astype(np.uint8), width, height)
        refined = refine_edges(image, probability_full, scale, config)
        if refined is None:
            text_mask = probability_full > round(config.mask_threshold * 255)
            fill_mask = probability_full > round(config.fill_threshold * 255)
        else:  # the refined probability covers `box`; outside it every pixel is below every threshold
            values, box = refined
            text_mask, fill_mask = np.zeros((height, width), bool), np.zeros((height, width), bool)
            text_mask[box] = values > config.mask_threshold
            fill_mask[box] = values > refined_fill_threshold(config)
    if refined is None:
        grown = max(1, math.ceil(config.working_dilation / scale))
        region = dilate(fill_mask, grown)
    else:
        grown = config.refined_dilation
        region = text_mask.copy()
        region[box] |= dilate(fill_mask[box], grown)
    margin = max(8, math.ceil(4 / scale))
    if config.structure_fill:
        margin = max(margin, STRUCTURE_CONTEXT)  # room to see an edge run up to the hole
    bands = list(caption_bands(region, margin))
    return FullSizeFill(text_mask, region, grown, bands, classical_band_fills(image, region, bands, scale, config))


def refined_fill_threshold(config: PostprocessConfig) -> float:
    return config.fill_threshold if config.refined_fill_threshold is None else config.refined_fill_threshold


def refine_edges(
    image: np.ndarray, probability_full: np.ndarray, scale: float, config: PostprocessConfig
) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """The upsampled probability (uint8) sharpened against the full-size picture: (float32 values in [0, 1], the
    window `(rows, cols)` of the picture they cover), or None where the config asks for none or the picture is not
    larger than the working size. Outside the window every pixel's probability is below every threshold."""
    if config.edge_refine == "none" or scale >= 1.0:
        return None
    from . import refine

    if config.edge_refine == "colour":
        # The colour model changes pixels only near a candidate (probability above the fill threshold), looking
        # `colour_margin` pixels around it: the window around every pixel that any threshold could keep, with that
        # margin and the region's dilation, gives the same values as the whole picture (a phone photo: 12 MP of
        # float arrays not made).
        lowest = min(config.mask_threshold, config.fill_threshold, refined_fill_threshold(config))
        margin = refine.colour_margin(scale) + config.refined_dilation + 1
        box = bounding_window(probability_full >= math.floor(lowest * 255) - 1, margin)
        probability = probability_full[box].astype(np.float32) / 255.0
        return refine.colour_probability(image[box], probability, scale, fill_threshold=config.fill_threshold), box
    probability = probability_full.astype(np.float32) / 255.0
    refined = refine.guided_probability(image, probability, scale, colour=config.edge_refine == "guided-colour")
    return refined, (slice(None), slice(None))


def classical_band_fills(
    image: np.ndarray, region: np.ndarray, bands: list[tuple[slice, slice]], scale: float, config: PostprocessConfig
) -> list[np.ndarray]:
    """The classical fill (Telea, or the structure fill) of `region` in each band, at full size or, beyond
    `classical_fill_limit` times the working size, at that size and upsampled (pipeline.py). A picture exactly
    `limit` times the working size is filled at full size: its scale is rounded (a 689 px side works at 344 px,
    0.4993), so 1 % of slack keeps it out of the resampled path."""
    limit = config.classical_fill_limit
    factor = None if limit is None or scale * limit >= 0.99 else scale * limit

    def fill(band: tuple[slice, slice]) -> np.ndarray:
        if factor is None:
            return classical_fill(image[band], region[band], config)
        return classical_fill_scaled(image[band], region[band], config, factor)

    return in_parallel(fill, bands)  # bands at once


def add_correction(image: np.ndarray, filled: FullSizeFill, correction: np.ndarray, scale: float) -> np.ndarray:
    """`image` with `filled.region` replaced: each band's classical fill plus the network's upsampled correction."""
    output = image.copy()
    work_h, work_w = correction.shape[:2]
    for (rows, cols), band_fill in zip(filled.bands, filled.fills):
        band_region = filled.region[rows, cols]
        band = band_fill.astype(np.float32)
        # The matching window of the working-size correction, resized to the band.
        top, bottom = int(rows.start * scale), min(work_h, math.ceil(rows.stop * scale))
        left, right = int(cols.start * scale), min(work_w, math.ceil(cols.stop * scale))
        window = correction[top : max(bottom, top + 1), left : max(right, left + 1)]
        band += cv2.resize(window, (band.shape[1], band.shape[0]), interpolation=cv2.INTER_LINEAR)
        patch = output[rows, cols]
        patch[band_region] = np.clip(np.rint(band[band_region]), 0, 255).astype(np.uint8)
    return output
