"""Caption bars: a caption written on a uniform white or black bar along the top or bottom edge of the picture.

There the exact template is the picture without the bar, so cropping the bar beats filling it. A bar is a run of
rows from the edge whose pixels, apart from the detected text (and its replaced rim), are all close to one colour,
near white or near black; it holds detected text; and it ends at a sharp transition to the picture (most of the
next rows are far from the bar's colour), which a white sky or a dark night, fading into the picture, does not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

import cv2
import numpy as np

if TYPE_CHECKING:
    from ..files.imageio import LoadedImage

COLOUR_TOLERANCE = 32.0  # max RGB distance of a bar pixel from the bar's colour (JPEG noise, anti-aliasing)
UNIFORM_SHARE = 0.97  # share of a row's non-text pixels within the tolerance for the row to be bar
TRANSITION_SHARE = 0.6  # share of the rows just past the bar that must be far from the bar's colour
TRANSITION_ROWS = 3  # rows past the bar that must be picture (a sharp edge, not a fade)
MIN_BAR_SHARE, MAX_BAR_SHARE = 0.04, 0.6  # bar height as a share of the image height
MIN_FREE_SHARE = 0.15  # a row needs this share of pixels outside the text to be judged
MIN_TEXT_PIXELS = 12  # detected text pixels the bar must hold
LIGHT, DARK = 200.0, 55.0  # a bar's colour: every channel above LIGHT (white) or below DARK (black)


@dataclass(frozen=True)
class CaptionBars:
    """Rows of caption bar found at the top and at the bottom (0 = none)."""

    top: int = 0
    bottom: int = 0

    def __bool__(self) -> bool:
        return self.top > 0 or self.bottom > 0


def _bar_rows(image: np.ndarray, text: np.ndarray, replaced: np.ndarray, rim: np.ndarray) -> int:
    """Rows of caption bar from the first row down (0 when there is none). `rim`: the text with its anti-aliased
    edge, which is of neither colour."""
    height = image.shape[0]
    free = ~replaced
    edge_rows = max(1, min(4, height // 50))
    edge_free = free[:edge_rows] if free[:edge_rows].mean() >= 0.5 else ~rim[:edge_rows]
    sample = image[:edge_rows][edge_free]
    if len(sample) < 0.5 * edge_rows * image.shape[1]:
        return 0
    colour = np.median(sample.astype(np.float32), axis=0)
    if not ((colour > LIGHT).all() or (colour < DARK).all()):
        return 0
    limit = int(MAX_BAR_SHARE * height) + 1
    close = np.linalg.norm(image[: limit + TRANSITION_ROWS].astype(np.float32) - colour, axis=2) <= COLOUR_TOLERANCE
    # The bar ends at the first row that is not of its colour. A row is judged on its pixels outside the replaced
    # region or, where that leaves too few, outside the text's rim, or else outside the text itself; a row that is
    # nearly all text is skipped.
    rows = 0
    while rows < min(limit, height):
        for judged in (free[rows], ~rim[rows], ~text[rows]):
            if judged.mean() >= MIN_FREE_SHARE:
                break
        if judged.mean() >= MIN_FREE_SHARE and close[rows][judged].mean() < UNIFORM_SHARE:
            break
        rows += 1
    if not MIN_BAR_SHARE * height <= rows <= MAX_BAR_SHARE * height or rows + TRANSITION_ROWS > height:
        return 0
    # A sharp edge to the picture: the next rows are mostly far from the bar's colour.
    if close[rows : rows + TRANSITION_ROWS].mean() > 1 - TRANSITION_SHARE:
        return 0
    # The detected text lies inside the bar and does not run on into the picture.
    if text[:rows].sum() < MIN_TEXT_PIXELS or text[rows : rows + TRANSITION_ROWS].any():
        return 0
    return rows


def detect_caption_bars(image: np.ndarray, text: np.ndarray, replaced: np.ndarray | None = None) -> CaptionBars:
    """The caption bars of `image` (H×W×3 uint8) given the detected `text` mask (H×W bool) and, optionally, the
    replaced region (the text with its rim; its pixels are not required to have the bar's colour)."""
    text = text.astype(bool)
    rim = cv2.dilate(text.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))).astype(bool)
    replaced = rim if replaced is None else replaced.astype(bool) | rim
    top = _bar_rows(image, text, replaced, rim)
    bottom = _bar_rows(image[::-1], text[::-1], replaced[::-1], rim[::-1])
    if top + bottom >= image.shape[0] - 1:
        return CaptionBars()
    return CaptionBars(top, bottom)


def crop_rows(array: np.ndarray, bars: CaptionBars) -> np.ndarray:
    """`array` (H×W or H×W×C) without the bars' rows."""
    return array[bars.top : array.shape[0] - bars.bottom]


def read_only_rows(array: np.ndarray, bars: CaptionBars) -> np.ndarray:
    """A read-only copy of `array` without the bars' rows (results are shared between threads)."""
    cropped = crop_rows(array, bars).copy()
    cropped.flags.writeable = False
    return cropped


def crop_image(image: LoadedImage, bars: CaptionBars) -> LoadedImage:
    """`image` without the bars' rows on every frame (pixels and alpha), its metadata kept."""
    frames = [
        replace(
            frame,
            pixels=read_only_rows(frame.pixels, bars),
            alpha=None if frame.alpha is None else read_only_rows(frame.alpha, bars),
        )
        for frame in image.frames
    ]
    return image.with_frames(frames)


class Cleaned(Protocol):
    """What `crop_cleaned` crops: a cleaned picture with the first frame's text mask and replaced region (a
    `whole_image.CleanedImage`, or a front end's own result type; a frozen dataclass)."""

    image: LoadedImage
    mask: np.ndarray
    region: np.ndarray


CleanedT = TypeVar("CleanedT", bound=Cleaned)


def crop_cleaned(
    original: LoadedImage, cleaned: CleanedT, text: np.ndarray | None = None
) -> tuple[CleanedT, CaptionBars]:
    """The one way caption bars are cropped (`memeclean clean --crop-bars`, the folder mode, Ray, the app's Image ▸
    Crop Caption Bars): the bars are found on `original`'s first frame from the `text` mask (default: the
    result's own) and the replaced region, and cut off every frame of the result, its mask and its region.
    Returns (the cropped result, the bars); the result itself when there are none."""
    text = cleaned.mask if text is None else text
    bars = detect_caption_bars(original.frames[0].pixels, text, cleaned.region)
    if not bars:
        return cleaned, bars
    cropped = replace(
        cleaned,
        image=crop_image(cleaned.image, bars),
        mask=read_only_rows(cleaned.mask, bars),
        region=read_only_rows(cleaned.region, bars),
    )
    return cropped, bars
