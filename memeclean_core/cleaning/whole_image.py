"""Whole-image steps over a `LoadedImage`: clean every frame, re-fill with an edited mask, draw captions.

`inference.clean` works on one H×W×3 array; the command line, the folder runner and the GUI all need the same
walk over an animation's frames (durations and alpha kept, the mask shown being the first frame's), so it is
written once here. The network's module (torch) is imported inside the functions: importing this module is cheap
and torch-free, so the GUI can import it on its start-up path.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..callbacks import CancelFn, ProgressFn
from ..errors import Cancelled
from ..files.imageio import Frame, LoadedImage
from .options import DEFAULT_OPTIONS, CleanOptions
from .pipeline import dilate

if TYPE_CHECKING:
    from ..captions import TextBox
    from ..network.checkpoint import LoadedModel
    from .bars import CaptionBars

# `inference.clean` reports the stage it has just finished; people want to read what happens next.
NEXT_STEP = {"prepare": "Finding the text", "mask": "Filling", "fill": "Putting it together", "composite": "Done"}


def stage_text(stage: str) -> str:
    """What a progress report of `inference.clean` at `stage` tells a person ("Filling", ...)."""
    return NEXT_STEP.get(stage, stage.capitalize())


@dataclass(frozen=True, eq=False)
class CleanedImage:
    """A cleaned `LoadedImage` and what made it. Its arrays are read-only: results are shared between threads
    and kept in an undo history."""

    image: LoadedImage  # the cleaned frames, with the input's metadata (durations, loop, colour profile)
    mask: np.ndarray  # H×W bool: the text found (or given) in the first frame
    region: np.ndarray  # H×W bool: the pixels replaced in the first frame
    working_size: tuple[int, int]  # (width, height) the network ran at, first frame
    device: str  # "CPU", "GPU (...)"
    seconds: float  # time the cleaning took
    replaced: float = 0.0  # share of the pixels replaced, averaged over the frames
    bars: CaptionBars | None = None  # with crop_bars: the caption bars cropped off every frame
    grown: int = 0  # full-size pixels the region reaches beyond the filled mask (`inference.CleanResult.grown`)


class PreviousResult(Protocol):
    """What `refill` needs of the result it edits (a `CleanedImage`, or a front end's own result type)."""

    image: LoadedImage
    mask: np.ndarray
    region: np.ndarray
    grown: int


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


def clean_image(
    image: LoadedImage,
    options: CleanOptions = DEFAULT_OPTIONS,
    model: LoadedModel | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> CleanedImage:
    """Clean every frame of `image` (alpha and durations kept); the mask and region returned are the first frame's.

    `options` sets the working size and post-processing; with `first_frame_only` only the first frame is kept (a
    JPEG output holds one); with `crop_bars` the caption bars found on the first frame are cropped off every frame
    instead of filled (`bars`). `progress(fraction, text)` is told the stage in words, prefixed "Frame i of n: "
    for an animation; `cancel()` is checked before each frame and between stages, and a cancelled run raises
    `Cancelled`. `model` defaults to the bundled weights.
    """
    from .inference import clean

    if model is None:
        from ..network.checkpoint import load_model

        model = load_model()
    started = time.perf_counter()
    frames_in = image.frames[:1] if options.first_frame_only else image.frames
    count = len(frames_in)
    report = progress or (lambda fraction, text: None)
    frames: list[Frame] = []
    first = None
    replaced_rows = []  # per frame: replaced pixels in each row (the share replaced, after any crop)
    for number, frame in enumerate(frames_in):
        if cancel is not None and cancel():
            raise Cancelled("cleaning cancelled")
        prefix = f"Frame {number + 1} of {count}: " if count > 1 else ""

        def stage_done(fraction: float, stage: str, number: int = number, prefix: str = prefix) -> None:
            report((number + fraction) / count, prefix + stage_text(stage))

        report(number / count, prefix + "Preparing")
        result = clean(
            frame.pixels,
            options.resolution,
            model=model,
            alpha=frame.alpha,
            progress=stage_done,
            cancel=cancel,
            postprocess=options.postprocess,
        )
        frames.append(Frame(_read_only(result.image), result.alpha, frame.duration_ms))
        replaced_rows.append(result.region.sum(axis=1))
        if first is None:
            first = result
    cleaned = CleanedImage(
        image=image.with_frames(frames),
        mask=_read_only(first.mask.astype(bool)),
        region=_read_only(first.region.astype(bool)),
        working_size=tuple(first.working_size),
        device=first.device,
        seconds=0.0,
        grown=first.grown,
    )
    top, bottom = 0, 0
    if options.crop_bars:
        from .bars import crop_cleaned

        cleaned, bars = crop_cleaned(image, cleaned)
        cleaned = replace(cleaned, bars=bars)
        top, bottom = bars.top, bars.bottom
    kept = [rows[top : len(rows) - bottom] for rows in replaced_rows]
    replaced = sum(float(rows.sum()) / (len(rows) * image.width) for rows in kept) / count
    return replace(cleaned, seconds=time.perf_counter() - started, replaced=replaced)


def refill(
    image: LoadedImage,
    mask: np.ndarray,
    options: CleanOptions = DEFAULT_OPTIONS,
    model: LoadedModel | None = None,
    *,
    previous: PreviousResult | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> CleanedImage:
    """Fill the first frame of `image` again with `mask` (edited by hand), changing only what the edit touched.

    The fill runs on the whole edited mask (skipping the mask network); its pixels are taken only near the pixels
    whose mask changed from `previous` (as far as either run's region reaches beyond its mask, `grown`, plus one),
    the previous result everywhere else. Where text was erased from the mask, the original pixels come back.
    Other frames are kept as `previous` has them (as `image` has them without a previous result). Progress texts
    start "Re-filling: ". `options.crop_bars` and `first_frame_only` do not apply: a re-fill keeps the size and
    the frames of the result it edits.
    """
    from .inference import clean

    if model is None:
        from ..network.checkpoint import load_model

        model = load_model()
    started = time.perf_counter()
    frame = image.frames[0]
    report = progress or (lambda fraction, text: None)

    def stage_done(fraction: float, stage: str) -> None:
        report(fraction, "Re-filling: " + stage_text(stage).lower())

    if previous is None:
        old_mask = np.zeros_like(mask, dtype=bool)
        old_region = old_mask
        old_pixels = frame.pixels
        frames = list(image.frames)
    else:
        old_mask, old_region = previous.mask, previous.region
        old_pixels = previous.image.frames[0].pixels
        frames = list(previous.image.frames)

    result = clean(
        frame.pixels,
        options.resolution,
        mask=mask,
        model=model,
        alpha=frame.alpha,
        progress=stage_done,
        cancel=cancel,
        postprocess=options.postprocess,
    )
    # A changed mask pixel changes the result as far as the region reaches beyond the mask, in the new run and in
    # the previous one.
    margin = max(1, result.grown, previous.grown if previous is not None else 0)
    zone = dilate(old_mask ^ mask.astype(bool), margin + 1)
    pixels = np.where(zone[..., None], result.image, old_pixels)
    region = np.where(zone, result.region, old_region)
    frames[0] = Frame(_read_only(pixels), frame.alpha, frame.duration_ms)
    return CleanedImage(
        image=image.with_frames(frames),
        mask=_read_only(mask.astype(bool, copy=True)),
        region=_read_only(region),
        working_size=tuple(result.working_size),
        device=result.device,
        seconds=time.perf_counter() - started,
        replaced=float(region.mean()),
        grown=result.grown,
    )


def captioned(image: LoadedImage, boxes: Sequence[TextBox], *, first_frame_only: bool = False) -> LoadedImage:
    """`image` with the caption `boxes` drawn on every frame (or only the first, e.g. for a preview), at full
    resolution. Text over transparent pixels stays visible: the alpha becomes at least the text's coverage."""
    from ..captions import compose_overlay

    overlay = compose_overlay(list(boxes), (image.width, image.height))
    coverage = overlay.coverage() if any(frame.alpha is not None for frame in image.frames) else None

    def draw(frame: Frame) -> Frame:
        alpha = None if frame.alpha is None else np.maximum(frame.alpha, coverage)
        return Frame(overlay.apply(frame.pixels), alpha, frame.duration_ms)

    frames = image.frames[:1] if first_frame_only else image.frames
    return image.with_frames([draw(frame) for frame in frames])
