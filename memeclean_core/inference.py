"""`clean()`: find the caption in a full-size image and fill what was behind it.

The network runs at a working size (longest side = `resolution`, or the picture's own when smaller); the result is
composited back at the input's full size, replacing only the pixels inside the slightly dilated text mask.
Everything outside that region is the input, bit for bit. Large images stay within bounded memory: full-resolution
work is done one horizontal band of caption at a time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from .checkpoint import LoadedModel, load_model
from .errors import Cancelled, MemeCleanError
from .geometry import padded_size, working_size
from .threads import threads_for, torch_threads

MIN_RESOLUTION, MAX_RESOLUTION = 64, 4096
MASK_THRESHOLD = 0.5  # the text mask shown and edited: the pixels more likely caption than not
# What is replaced is wider than the text mask: pixels with a caption probability above FILL_THRESHOLD, dilated by
# WORKING_DILATION working pixels. Faint outline edges and JPEG halos that the mask leaves out would otherwise stay
# as a ghost of the caption. Chosen with the shipped model on validation memes (bench/sweep_postprocess.py, seed 1,
# 24 cases, not the model card's): at resolution 512, 0.2 and 2 px gave +0.3 dB text-region PSNR over 0.5 and 2 px;
# wider dilations cost PSNR on the whole image and gained nothing in the text.
FILL_THRESHOLD = 0.2
WORKING_DILATION = 2
TELEA_RADIUS = 3
STRUCTURE_CONTEXT = 48  # px of picture around each caption band in which the structure fill looks for edges

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


@dataclass(frozen=True)
class PostprocessConfig:
    """How the networks' outputs become the text mask, the replaced region and the fill. The defaults are the
    shipped pipeline's; `BEFORE_REFINEMENTS` is the pipeline as it was before the edge refinement and the
    structure fill. `bench/sweep_postprocess.py`, `bench/bench_refine.py` and `bench/bench_structure_fill.py`
    compare others."""

    mask_threshold: float = MASK_THRESHOLD  # the text mask: caption probability above this
    fill_threshold: float = FILL_THRESHOLD  # the replaced region: probability above this, then dilated
    working_dilation: int = WORKING_DILATION  # working pixels the replaced region is dilated by
    telea_radius: int = TELEA_RADIUS  # OpenCV Telea's neighbourhood, at working and at full size
    # Sharpen the upsampled probability against the full-size picture where the picture is larger than the working
    # size (`refine.EDGE_REFINE_METHODS`: "none", "guided", "guided-colour", "colour"); the thresholds above then
    # apply to the refined probability and the replaced region is dilated `refined_dilation` full-size pixels.
    # "colour" won on 24 validation memes of long side 1024-1600 at 512 (bench/bench_refine.py, docs/MODEL.md):
    # +0.4 dB text-region PSNR, mask IoU 0.89 -> 0.91, collateral 9.2 % -> 3.1 % of the replaced pixels.
    edge_refine: str = "colour"
    refined_dilation: int = 1
    # The replaced region on the refined probability: above this (None: `fill_threshold`). The colour model's
    # probability is the caption's coverage, and the faint rim of a glyph (10-20 % coverage) is still caption.
    refined_fill_threshold: float | None = None
    # Fill each side of a straight edge crossing the hole (a panel border, an outline) from its own side
    # (`structure_fill.structure_fill`) instead of plain Telea, at the working size and at full size. On: +1.6 dB
    # text-region and +2.3 dB border PSNR on multi-panel memes, +0.1 dB on ordinary ones (docs/MODEL.md).
    structure_fill: bool = True

    def __post_init__(self) -> None:
        from .refine import EDGE_REFINE_METHODS

        if self.edge_refine not in EDGE_REFINE_METHODS:
            raise ValueError(f"edge_refine must be one of {', '.join(EDGE_REFINE_METHODS)}, got {self.edge_refine!r}")


DEFAULT_POSTPROCESS = PostprocessConfig()
BEFORE_REFINEMENTS = PostprocessConfig(edge_refine="none", structure_fill=False)


@dataclass
class CleanResult:
    image: np.ndarray  # H×W×3 uint8, the cleaned picture at the input's size
    mask: np.ndarray  # H×W bool, the caption text (what the user sees and edits)
    region: np.ndarray  # H×W bool, the pixels that were replaced (the likely text, dilated; contains `mask`)
    alpha: np.ndarray | None = None  # the input's alpha, unchanged
    working_size: tuple[int, int] = (0, 0)  # (width, height) the network ran at
    device: str = "CPU"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, and "total"
    cropped: tuple[int, int] = (0, 0)  # rows of caption bar cut off the top and bottom instead of filled (`bars`)


def pad_reflect(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad the bottom and right to (height, width) by reflection (zero padding leaks black bars into the output)."""
    pad = [(0, height - array.shape[0]), (0, width - array.shape[1])] + [(0, 0)] * (array.ndim - 2)
    # Reflection needs at least two pixels along an axis; a one-pixel-wide strip repeats its edge.
    mode = "reflect" if min(array.shape[:2]) >= 2 else "edge"
    return np.pad(array, pad, mode=mode)


def resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    if array.shape[1] == width and array.shape[0] == height:
        return array
    shrinking = width < array.shape[1] or height < array.shape[0]
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    if radius <= 0:
        return mask.astype(bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def telea_fill(rgb: np.ndarray, mask: np.ndarray, radius: int = TELEA_RADIUS) -> np.ndarray:
    """OpenCV's Telea inpainting of the masked pixels (the classical fill the network corrects)."""
    if not mask.any():
        return rgb.copy()
    return cv2.inpaint(np.ascontiguousarray(rgb), mask.astype(np.uint8), radius, cv2.INPAINT_TELEA)


def caption_bands(region: np.ndarray, margin: int) -> Iterator[tuple[slice, slice]]:
    """(rows, cols) windows that together cover every masked pixel, one per horizontal band of caption.

    Filling band by band bounds memory on huge images; `margin` pixels of context around each band let the fill
    see what surrounds the text.
    """
    rows = np.flatnonzero(region.any(axis=1))
    if rows.size == 0:
        return
    breaks = np.flatnonzero(np.diff(rows) > 2 * margin)
    starts = np.concatenate([[rows[0]], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], [rows[-1]]])
    height, width = region.shape
    for start, end in zip(starts, ends):
        top, bottom = max(0, start - margin), min(height, end + 1 + margin)
        cols = np.flatnonzero(region[top:bottom].any(axis=0))
        left, right = max(0, cols[0] - margin), min(width, cols[-1] + 1 + margin)
        yield slice(top, bottom), slice(left, right)


def to_tensor(array: np.ndarray, model: LoadedModel) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(array)).to(model.device)
    tensor = tensor.permute(2, 0, 1)[None] if array.ndim == 3 else tensor[None, None]
    tensor = tensor.half() if model.half else tensor.float()
    return tensor / 255.0 if array.dtype == np.uint8 else tensor


def clean(
    image: np.ndarray,
    resolution: int = 512,
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

    # small work (animation frames) on few threads: barriers between threads cost more than they save there
    with torch.inference_mode(), torch_threads(threads_for(pad_w * pad_h)):
        if mask is None:
            logits = model.net.predict_mask(to_tensor(pad_reflect(small, pad_h, pad_w), model))
            probability = torch.sigmoid(logits.float())[0, 0, :work_h, :work_w].cpu().numpy()
            fill_small = probability > config.fill_threshold
            # Upsample the probability, not the binary mask, so edges stay smooth at full size.
            probability_full = resize(np.round(probability * 255).astype(np.uint8), width, height)
            refined = refine_edges(image, probability_full, work_w / width, config)
            if refined is None:
                text_mask = probability_full > round(config.mask_threshold * 255)
                fill_mask = probability_full > round(config.fill_threshold * 255)
            else:
                text_mask = refined > config.mask_threshold
                fill_threshold = config.fill_threshold if config.refined_fill_threshold is None \
                    else config.refined_fill_threshold
                fill_mask = refined > fill_threshold
        else:
            refined = None
            text_mask = fill_mask = mask.astype(bool)
            fill_small = resize(text_mask.astype(np.float32), work_w, work_h) > 0.25
        checkpoint("mask", 0.5)

        hole_small = dilate(fill_small, config.working_dilation)
        prefill = classical_fill(small, hole_small, config)
        hole_tensor = to_tensor(pad_reflect(hole_small.astype(np.float32), pad_h, pad_w)[..., None], model)
        prefill_tensor = to_tensor(pad_reflect(prefill, pad_h, pad_w), model)
        filled = model.net.fill(prefill_tensor, hole_tensor)
        correction = (filled - prefill_tensor).float()[0, :, :work_h, :work_w].permute(1, 2, 0).cpu().numpy() * 255.0
        checkpoint("fill", 0.8)

    scale = work_w / width
    if refined is None:
        region = dilate(fill_mask, max(1, math.ceil(config.working_dilation / scale)))
    else:
        region = dilate(fill_mask, config.refined_dilation) | text_mask
    margin = max(8, math.ceil(4 / scale))
    if config.structure_fill:
        margin = max(margin, STRUCTURE_CONTEXT)  # room to see an edge run up to the hole
    output = composite(image, region, correction, scale, margin=margin, config=config)
    checkpoint("composite", 1.0)
    timings["total"] = time.perf_counter() - started
    return CleanResult(
        image=output,
        mask=text_mask,
        region=region,
        alpha=alpha,
        working_size=(work_w, work_h),
        device=model.device_name,
        timings=timings,
    )


def refine_edges(image: np.ndarray, probability_full: np.ndarray, scale: float,
                 config: PostprocessConfig) -> np.ndarray | None:
    """The upsampled probability (uint8) sharpened against the full-size picture (float32 in [0, 1]), or None
    where the config asks for none or the picture is not larger than the working size."""
    if config.edge_refine == "none" or scale >= 1.0:
        return None
    from . import refine

    probability = probability_full.astype(np.float32) / 255.0
    if config.edge_refine == "colour":
        return refine.colour_probability(image, probability, scale, fill_threshold=config.fill_threshold)
    return refine.guided_probability(image, probability, scale, colour=config.edge_refine == "guided-colour")


def classical_fill(rgb: np.ndarray, mask: np.ndarray, config: PostprocessConfig) -> np.ndarray:
    """The fill the network corrects: Telea, or the structure-keeping fill when the config asks for it."""
    if config.structure_fill:
        from .structure_fill import structure_fill

        return structure_fill(rgb, mask, config.telea_radius)
    return telea_fill(rgb, mask, config.telea_radius)


def composite(image: np.ndarray, region: np.ndarray, correction: np.ndarray, scale: float, margin: int,
              config: PostprocessConfig = DEFAULT_POSTPROCESS) -> np.ndarray:
    """Full-resolution fill of `region`: Telea at full size plus the network's upsampled correction."""
    output = image.copy()
    work_h, work_w = correction.shape[:2]
    for rows, cols in caption_bands(region, margin):
        band_region = region[rows, cols]
        band = classical_fill(image[rows, cols], band_region, config).astype(np.float32)
        # The matching window of the working-size correction, resized to the band.
        top, bottom = int(rows.start * scale), min(work_h, math.ceil(rows.stop * scale))
        left, right = int(cols.start * scale), min(work_w, math.ceil(cols.stop * scale))
        window = correction[top:max(bottom, top + 1), left:max(right, left + 1)]
        band += cv2.resize(window, (band.shape[1], band.shape[0]), interpolation=cv2.INTER_LINEAR)
        patch = output[rows, cols]
        patch[band_region] = np.clip(np.rint(band[band_region]), 0, 255).astype(np.uint8)
    return output


def split_alpha(image: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate an RGB(A) uint8 array; an RGBA array's alpha is split off and returned untouched."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise MemeCleanError("expected an H×W×3 (RGB) or H×W×4 (RGBA) uint8 image")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise MemeCleanError("the image is empty")
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[..., :3]), image[..., 3].copy() if alpha is None else alpha
    return image, alpha
