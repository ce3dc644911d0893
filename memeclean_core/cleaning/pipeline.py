"""The cleaning pipeline's settings and its torch-free steps: the resolution range, the post-processing config
(thresholds, dilation, fill options) and the array helpers `inference.clean` builds on.

Nothing here imports torch, so the GUI and the command line can read the pipeline's numbers (and tests can use its
helpers) without loading the network's libraries; `inference` is the half that runs the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import cv2
import numpy as np

from ..errors import MemeCleanError
from ..geometry import DEFAULT_RESOLUTION, MAX_RESOLUTION, MIN_RESOLUTION  # noqa: F401 - part of the pipeline's settings

MASK_THRESHOLD = 0.5  # the text mask shown and edited: the pixels more likely caption than not
# What is replaced is wider than the text mask: pixels with a caption probability above FILL_THRESHOLD, dilated by
# WORKING_DILATION working pixels. Faint outline edges and JPEG halos that the mask leaves out would otherwise stay
# as a ghost of the caption. Chosen with the shipped model on validation memes that the model card does not use
# (bench/sweep_postprocess.py, seed 1): for v1, 0.2 and 2 px (+0.3 dB text-region PSNR over 0.5; wider dilations
# cost PSNR on the whole image). Re-tuned for v3 on 16 cases of every format: 0.1 gained 0.2 dB in the text region
# and replaced 1.6 % more pixels far from any caption, and on the card's cases it gained nothing, so 0.2 stays.
FILL_THRESHOLD = 0.2
WORKING_DILATION = 2
TELEA_RADIUS = 3
EDGE_REFINE_METHODS = ("none", "guided", "guided-colour", "colour")  # `PostprocessConfig.edge_refine`
STRUCTURE_CONTEXT = 48  # px of picture around each caption band in which the structure fill looks for edges


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
    # size (`EDGE_REFINE_METHODS`, the `refine` module's methods); the thresholds above then
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
    # The full-size classical fill runs at most this many times the working size (None: at full size), and its
    # result is upsampled into the hole. Telea's cost grows with the hole's pixels: a 12 MP photo's caption at 512
    # is 60 times its working-size hole, and the network's correction, added on top, is upsampled from the working
    # size anyway. Pictures up to this factor (the card's 1024-px cases at 512) are filled at full size as before.
    classical_fill_limit: float | None = 2.0

    def __post_init__(self) -> None:
        if self.edge_refine not in EDGE_REFINE_METHODS:
            raise ValueError(f"edge_refine must be one of {', '.join(EDGE_REFINE_METHODS)}, got {self.edge_refine!r}")


DEFAULT_POSTPROCESS = PostprocessConfig()
BEFORE_REFINEMENTS = PostprocessConfig(edge_refine="none", structure_fill=False, classical_fill_limit=None)


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
    if radius <= 0 or mask.size == 0:  # OpenCV refuses an empty array (an empty caption window)
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


def bounding_window(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """(rows, cols): the bounding box of `mask` widened by `margin` pixels (within the array); empty when `mask` is."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    top, bottom = max(0, rows[0] - margin), min(mask.shape[0], rows[-1] + 1 + margin)
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return slice(top, bottom), slice(max(0, cols[0] - margin), min(mask.shape[1], cols[-1] + 1 + margin))


def classical_fill(rgb: np.ndarray, mask: np.ndarray, config: PostprocessConfig) -> np.ndarray:
    """The fill the network corrects: Telea, or the structure-keeping fill when the config asks for it."""
    if config.structure_fill:
        from .structure_fill import structure_fill

        return structure_fill(rgb, mask, config.telea_radius)
    return telea_fill(rgb, mask, config.telea_radius)


def classical_fill_scaled(rgb: np.ndarray, mask: np.ndarray, config: PostprocessConfig, factor: float) -> np.ndarray:
    """`classical_fill` of a full-size window run at `factor` (< 1) of its size: the window and its hole are shrunk
    (a shrunk pixel is hole where any of its pixels is), filled, and the fill is upsampled into the hole; pixels
    outside `mask` are `rgb`'s. Returns float32 (the upsampled fill is not rounded twice)."""
    height, width = mask.shape
    small_w, small_h = max(1, round(width * factor)), max(1, round(height * factor))
    small_rgb = cv2.resize(rgb, (small_w, small_h), interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(mask.astype(np.float32), (small_w, small_h), interpolation=cv2.INTER_AREA) > 0
    filled = cv2.resize(
        classical_fill(small_rgb, small_hole, config).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    out = rgb.astype(np.float32)
    out[mask] = filled[mask]
    return out


Item = TypeVar("Item")


def in_parallel(function: Callable[[Item], Any], items: Sequence[Item]) -> list[Any]:
    """`[function(item) for item in items]`, one thread per core: for OpenCV calls, which release the GIL (Telea
    and the structure fill of separate caption bands)."""
    if len(items) < 2:
        return [function(item) for item in items]
    from ..threads import usable_cores

    with ThreadPoolExecutor(min(len(items), usable_cores())) as pool:
        return list(pool.map(function, items))


def split_alpha(image: np.ndarray, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate an RGB(A) uint8 array; an RGBA array's alpha is split off and returned untouched."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise MemeCleanError("expected an H×W×3 (RGB) or H×W×4 (RGBA) uint8 image")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise MemeCleanError("the image is empty")
    if image.shape[2] == 4:
        return np.ascontiguousarray(image[..., :3]), image[..., 3].copy() if alpha is None else alpha
    return image, alpha
