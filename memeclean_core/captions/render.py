"""Draw caption boxes onto an image at full resolution.

`layout_box` decides where every line goes: it wraps words to the box width, picks the largest font size that
fits (at most the box's `size`; auto-fit when that is None), and places the block by the lines' ink, outline
included, so the text touches the box edges it is aligned to and never leaves the box. When even 1 px does not
fit, long words are broken and whatever still overflows is clipped at the box edge (`BoxLayout.fits` is False).

`render_captions` draws the layouts: outline, then fill, blended with integer arithmetic, so the same inputs
always give the same pixels. A rotated box is drawn upright and turned around its centre.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, features

from .boxes import TextBox
from .fonts import load_font, resolve_font, split_by_font

# Baseline-to-baseline distance in font sizes (plus both outlines), before the box's `line_spacing`.
LINE_PITCH = 1.0
_MIN_PX = 1
MAX_FONT_PX = 8192  # the largest font size tried: larger only spends memory (FreeType refuses sizes far beyond)


@dataclass(frozen=True)
class Run:
    """A piece of a line drawn with one font (the chosen one, or a fallback for missing glyphs)."""

    text: str
    font: str  # font key (see fonts.py)
    x: float  # pen position of the run's start, relative to the line's `x`


@dataclass(frozen=True)
class LineLayout:
    """One wrapped line, in image pixels of the upright box."""

    text: str
    x: float  # pen position where the line starts
    baseline: float  # y of the baseline
    width: float  # width of the line's ink, outline included
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class BoxLayout:
    """Where a box's text goes, in image pixels, before rotation (rotation turns it around `center`)."""

    left: int
    top: int
    width: int
    height: int
    font_px: int  # chosen font size in pixels
    stroke_px: int  # outline width in pixels
    lines: tuple[LineLayout, ...]
    ink: tuple[float, float, float, float] | None  # (left, top, right, bottom) of all the text; None when empty
    fits: bool  # False when the text overflows even at the smallest size and is clipped
    rotation: float
    vertical: bool = False  # one "line" per character, drawn upright with the fonts' vertical forms

    @property
    def center(self) -> tuple[float, float]:
        return self.left + self.width / 2, self.top + self.height / 2


def box_rect(box: TextBox, image_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box in whole image pixels: (left, top, width, height), at least 1×1. `image_size` is (width, height)."""
    width, height = image_size
    left, top = round(box.x * width), round(box.y * height)
    right, bottom = round((box.x + box.w) * width), round((box.y + box.h) * height)
    return left, top, max(1, right - left), max(1, bottom - top)


@dataclass(frozen=True)
class _Measured:
    runs: tuple[Run, ...]
    ink: tuple[float, float, float, float] | None  # relative to (pen start, baseline)


class _Measurer:
    """Measures strings at one font size, remembering results during one layout."""

    def __init__(self, font_key: str, font_px: int, stroke_px: int) -> None:
        self.font_key, self.font_px, self.stroke_px = font_key, font_px, stroke_px
        self._cache: dict[str, _Measured] = {}

    def __call__(self, text: str) -> _Measured:
        if text not in self._cache:
            self._cache[text] = self._measure(text)
        return self._cache[text]

    def width(self, text: str) -> float:
        ink = self(text).ink
        return 0.0 if ink is None else ink[2] - ink[0]

    def _measure(self, text: str) -> _Measured:
        runs: list[Run] = []
        ink: tuple[float, float, float, float] | None = None
        pen = 0.0
        pieces = split_by_font(text, self.font_key)
        if is_right_to_left(text):  # each run is shaped in its own order; the runs go right to left
            pieces.reverse()
        for piece, key in pieces:
            font = load_font(key, self.font_px)
            runs.append(Run(piece, key, pen))
            if piece.strip():
                left, top, right, bottom = font.getbbox(piece, anchor="ls", stroke_width=self.stroke_px)
                box = (pen + left, float(top), pen + right, float(bottom))
                ink = (
                    box
                    if ink is None
                    else (min(ink[0], box[0]), min(ink[1], box[1]), max(ink[2], box[2]), max(ink[3], box[3]))
                )
            pen += font.getlength(piece)
        return _Measured(tuple(runs), ink)


def is_right_to_left(text: str) -> bool:
    """Whether the text's first strong character (Unicode bidi class R or AL: Hebrew, Arabic, ...) reads right to
    left; such a line's font runs are placed right to left (Pillow's raqm orders the characters within a run)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def _pieces(paragraph: str) -> list[tuple[str, str]]:
    """Break a paragraph into (glue, piece): words glued by a space; wide (CJK) characters each on their own."""
    pieces: list[tuple[str, str]] = []
    for word in paragraph.split():
        glue = " "
        chunk = ""
        for char in word:
            if unicodedata.east_asian_width(char) in ("W", "F") and unicodedata.category(char).startswith("L"):
                if chunk:
                    pieces.append((glue, chunk))
                    glue, chunk = "", ""
                pieces.append((glue, char))
                glue = ""
            else:
                chunk += char
        if chunk:
            pieces.append((glue, chunk))
    return pieces


def _wrap(paragraph: str, fits_width: Callable[[str], bool], break_words: bool) -> list[str] | None:
    """Greedy word wrap; None when a word is wider than the box and `break_words` is off."""
    lines: list[str] = []
    line = ""
    for glue, piece in _pieces(paragraph):
        candidate = line + glue + piece if line else piece
        if fits_width(candidate):
            line = candidate
            continue
        if line:
            lines.append(line)
        if fits_width(piece):
            line = piece
        elif not break_words:
            return None
        else:  # cut the word between characters
            line = ""
            for char in piece:
                if line and not fits_width(line + char):
                    lines.append(line)
                    line = ""
                line += char
    lines.append(line)
    return lines


def _stroke_px(box: TextBox, font_px: int) -> int:
    if box.outline_width <= 0:
        return 0
    return max(1, round(box.outline_width * font_px))


_Fitted = tuple[list[str], _Measurer, tuple[float, float]]  # lines, measurer, ink top/bottom from 1st baseline


def _fit(
    box: TextBox, font_key: str, font_px: int, width: int, height: int, break_words: bool, check: bool = True
) -> _Fitted | None:
    """Wrap the box's text at one font size; None when it does not fit (only when `check` is on)."""
    measure = _Measurer(font_key, font_px, _stroke_px(box, font_px))
    lines: list[str] = []
    for paragraph in box.display_text.split("\n"):
        wrapped = _wrap(paragraph, lambda text: measure.width(text) <= width, break_words)
        if wrapped is None:
            return None
        lines.extend(wrapped)
    pitch = _pitch(box, font_px, measure.stroke_px)
    inks = [
        (index * pitch + ink[1], index * pitch + ink[3])
        for index, line in enumerate(lines)
        if (ink := measure(line).ink) is not None
    ]
    extent = (min((ink[0] for ink in inks), default=0.0), max((ink[1] for ink in inks), default=0.0))
    if check and (extent[1] - extent[0] > height or any(measure.width(line) > width for line in lines)):
        return None
    return lines, measure, extent


def _pitch(box: TextBox, font_px: int, stroke_px: int) -> float:
    return box.line_spacing * (LINE_PITCH * font_px + 2 * stroke_px)


def _largest_fitting(try_size: Callable[[int], object | None], low: int, high: int) -> int | None:
    """Largest size in [low, high] for which `try_size` succeeds (binary search; fitting is ~monotonic)."""
    if high < low or try_size(low) is None:
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if try_size(middle) is not None:
            low = middle
        else:
            high = middle - 1
    return low


def layout_box(box: TextBox, image_size: tuple[int, int]) -> BoxLayout:
    """Lay out one box for an image of `image_size` = (width, height): lines, font size and positions."""
    if box.vertical:
        return _layout_vertical(box, image_size)
    left, top, width, height = box_rect(box, image_size)
    font_key = str(resolve_font(box.font))
    max_px = round(box.size * image_size[1]) if box.size is not None else 2 * height
    max_px = max(_MIN_PX, min(MAX_FONT_PX, max_px))

    found: _Fitted | None = None
    for break_words in (False, True):  # break long words only when no size fits whole words
        size = _largest_fitting(
            lambda px, words=break_words: _fit(box, font_key, px, width, height, words), _MIN_PX, max_px
        )
        if size is not None:
            found = _fit(box, font_key, size, width, height, break_words)
            break
    fits = found is not None
    if found is None:  # not even 1 px fits: draw at 1 px, clipped at the box
        found = _fit(box, font_key, _MIN_PX, width, height, True, check=False)
    assert found is not None  # with words broken, wrapping always succeeds
    lines, measure, (ink_top, ink_bottom) = found

    # Place the block by its ink: aligned edges touch the box, overflow (if any) is split evenly.
    block = ink_bottom - ink_top
    if box.valign == "middle" or block > height:
        first_baseline = top + (height - block) / 2 - ink_top
    elif box.valign == "top":
        first_baseline = top - ink_top
    else:
        first_baseline = top + height - ink_bottom
    pitch = _pitch(box, measure.font_px, measure.stroke_px)

    placed: list[LineLayout] = []
    bounds: tuple[float, float, float, float] | None = None
    for index, line in enumerate(lines):
        measured = measure(line)
        baseline = first_baseline + index * pitch
        ink = measured.ink
        if ink is None:
            placed.append(LineLayout(line, float(left), baseline, 0.0, measured.runs))
            continue
        line_width = ink[2] - ink[0]
        if box.align == "center" or line_width > width:
            ink_left = left + (width - line_width) / 2
        elif box.align == "left":
            ink_left = float(left)
        else:
            ink_left = left + width - line_width
        pen = ink_left - ink[0]
        placed.append(LineLayout(line, pen, baseline, line_width, measured.runs))
        line_box = (pen + ink[0], baseline + ink[1], pen + ink[2], baseline + ink[3])
        bounds = (
            line_box
            if bounds is None
            else (
                min(bounds[0], line_box[0]),
                min(bounds[1], line_box[1]),
                max(bounds[2], line_box[2]),
                max(bounds[3], line_box[3]),
            )
        )
    return BoxLayout(
        left, top, width, height, measure.font_px, measure.stroke_px, tuple(placed), bounds, fits, float(box.rotation)
    )


# Vertical writing: every character upright in a square cell, cells down a column, columns right to left. Fonts
# with vertical forms (CJK punctuation, the long-vowel mark, brackets) get them through OpenType's "vert" feature.
_VERTICAL_FEATURES = ["vert"]


def _columns(text: str, per_column: int) -> list[str]:
    """The characters of `text` in columns of at most `per_column`; a line break starts a new column."""
    columns: list[str] = []
    for paragraph in text.split("\n"):
        chars = paragraph.strip()
        columns.extend(chars[start : start + per_column] for start in range(0, max(1, len(chars)), per_column))
    return columns


def _vertical_fit(box: TextBox, font_px: int, width: int, height: int) -> tuple[list[str], int, float] | None:
    """Columns, outline and column pitch at one font size; None when they do not fit the box."""
    stroke = _stroke_px(box, font_px)
    cell = font_px + 2 * stroke
    per_column = height // cell
    if per_column < 1:
        return None
    columns = _columns(box.display_text, per_column)
    pitch = _pitch(box, font_px, stroke)
    if (len(columns) - 1) * pitch + cell > width:
        return None
    return columns, stroke, pitch


def _features(vertical: bool) -> list[str] | None:
    return _VERTICAL_FEATURES if vertical and features.check("raqm") else None


def _layout_vertical(box: TextBox, image_size: tuple[int, int]) -> BoxLayout:
    left, top, width, height = box_rect(box, image_size)
    max_px = round(box.size * image_size[1]) if box.size is not None else height
    max_px = max(_MIN_PX, min(MAX_FONT_PX, max_px))
    size = _largest_fitting(lambda px: _vertical_fit(box, px, width, height), _MIN_PX, max_px)
    fits = size is not None
    font_px = size if size is not None else _MIN_PX
    stroke = _stroke_px(box, font_px)
    cell = font_px + 2 * stroke
    columns, pitch = _columns(box.display_text, max(1, height // cell)), _pitch(box, font_px, stroke)
    block_w = (len(columns) - 1) * pitch + cell
    block_h = max(len(column) for column in columns) * cell
    start_x = {"left": left + block_w, "center": left + (width + block_w) / 2, "right": left + width}[box.align]
    start_y = {"top": top, "middle": top + (height - block_h) / 2, "bottom": top + height - block_h}[box.valign]
    font_key = str(resolve_font(box.font))
    placed: list[LineLayout] = []
    bounds: tuple[float, float, float, float] | None = None
    for index, column in enumerate(columns):
        center_x = start_x - cell / 2 - index * pitch
        for row, char in enumerate(column):
            if not char.strip():
                continue
            ((_, key),) = split_by_font(char, font_key)
            font = load_font(key, font_px)
            ascent, descent = font.getmetrics()
            pen = center_x - font.getlength(char, features=_features(True)) / 2
            baseline = start_y + (row + 0.5) * cell + (ascent - descent) / 2
            ink = font.getbbox(char, anchor="ls", stroke_width=stroke, features=_features(True))
            placed.append(LineLayout(char, pen, baseline, float(ink[2] - ink[0]), (Run(char, key, 0.0),)))
            box_ink = (pen + ink[0], baseline + ink[1], pen + ink[2], baseline + ink[3])
            bounds = box_ink if bounds is None else (
                min(bounds[0], box_ink[0]), min(bounds[1], box_ink[1]),
                max(bounds[2], box_ink[2]), max(bounds[3], box_ink[3]),
            )  # fmt: skip
    return BoxLayout(
        left, top, width, height, font_px, stroke, tuple(placed), bounds, fits, float(box.rotation), vertical=True
    )


def _draw_masks(layout: BoxLayout) -> tuple[Image.Image, Image.Image]:
    """The outline (text plus outline) and fill coverage masks of one box, the size of the upright box."""
    size = (layout.width, layout.height)
    outline, fill = Image.new("L", size), Image.new("L", size)
    targets = [(ImageDraw.Draw(fill), 0)]
    if layout.stroke_px > 0:
        targets.append((ImageDraw.Draw(outline), layout.stroke_px))
    for line in layout.lines:
        for run in line.runs:
            if not run.text.strip():
                continue
            font = load_font(run.font, layout.font_px)
            origin = (line.x + run.x - layout.left, line.baseline - layout.top)
            for draw, stroke in targets:
                draw.text(
                    origin,
                    run.text,
                    font=font,
                    fill=255,
                    anchor="ls",
                    stroke_width=stroke,
                    features=_features(layout.vertical),
                )
    if layout.rotation % 360:
        outline = outline.rotate(layout.rotation, resample=Image.Resampling.BICUBIC, expand=True)
        fill = fill.rotate(layout.rotation, resample=Image.Resampling.BICUBIC, expand=True)
    return outline, fill


@dataclass(frozen=True)
class _Layer:
    rows: slice
    cols: slice
    alpha: np.ndarray  # uint8 coverage, clipped to the image and trimmed to the ink
    color: np.ndarray  # (3,) uint16 RGB


@dataclass(frozen=True)
class Overlay:
    """Drawn captions for one image size, ready to apply to any number of frames of that size."""

    size: tuple[int, int]  # (width, height)
    layers: tuple[_Layer, ...]  # back to front: each box's outline, then its fill

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """A copy of `rgb` (H×W×3 uint8, of this overlay's size) with the captions drawn on it."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an H×W×3 uint8 image, got {rgb.shape} {rgb.dtype}")
        if (rgb.shape[1], rgb.shape[0]) != self.size:
            raise ValueError(f"overlay is for {self.size[0]}×{self.size[1]}, image is {rgb.shape[1]}×{rgb.shape[0]}")
        out = np.array(rgb, copy=True)
        for layer in self.layers:
            # uint16 is enough: pixel * (255 - a) + color * a <= 255 * 255 + 127. Layers are trimmed to their ink,
            # which keeps a 12-megapixel preview quick.
            region = out[layer.rows, layer.cols].astype(np.uint16)
            a = layer.alpha.astype(np.uint16)[..., None]
            out[layer.rows, layer.cols] = ((region * (255 - a) + layer.color * a + 127) // 255).astype(np.uint8)
        return out

    def coverage(self) -> np.ndarray:
        """H×W uint8: how much of each pixel the text and outlines cover (255 = fully)."""
        width, height = self.size
        cover = np.zeros((height, width), dtype=np.uint8)
        for layer in self.layers:
            np.maximum(cover[layer.rows, layer.cols], layer.alpha, out=cover[layer.rows, layer.cols])
        return cover


def compose_overlay(boxes: Sequence[TextBox], image_size: tuple[int, int]) -> Overlay:
    """Lay out and draw `boxes` for an image of `image_size` = (width, height)."""
    width, height = image_size
    layers: list[_Layer] = []
    for box in boxes:
        layout = layout_box(box, image_size)
        if layout.ink is None:
            continue  # nothing to draw
        outline, fill = _draw_masks(layout)
        center_x, center_y = layout.center
        x, y = round(center_x - outline.width / 2), round(center_y - outline.height / 2)
        for mask, color in ((np.asarray(outline), box.outline), (np.asarray(fill), box.fill)):
            clipped = _clip(x, y, mask, width, height)
            if clipped is not None and clipped[2].any():
                layers.append(_trimmed_layer(*clipped, _hex_rgb(color)))
    return Overlay((width, height), tuple(layers))


def _trimmed_layer(rows: slice, cols: slice, alpha: np.ndarray, color: np.ndarray) -> _Layer:
    """The layer cut down to the bounding box of its ink (blending a zero alpha changes nothing)."""
    inked_rows, inked_cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    top, bottom, left, right = inked_rows[0], inked_rows[-1] + 1, inked_cols[0], inked_cols[-1] + 1
    alpha = alpha[top:bottom, left:right]
    return _Layer(
        slice(rows.start + top, rows.start + bottom), slice(cols.start + left, cols.start + right), alpha, color
    )


def _clip(x: int, y: int, mask: np.ndarray, width: int, height: int) -> tuple[slice, slice, np.ndarray] | None:
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + mask.shape[1], width), min(y + mask.shape[0], height)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1), mask[y0 - y : y1 - y, x0 - x : x1 - x]


def _hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint16)


def render_captions(rgb: np.ndarray, boxes: Sequence[TextBox]) -> np.ndarray:
    """Draw `boxes` (back to front) onto a copy of `rgb` (H×W×3 uint8) at its full resolution.

    Pure and deterministic: the input is not changed, and the same inputs give the same pixels.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 image, got {rgb.shape} {rgb.dtype}")
    return compose_overlay(boxes, (rgb.shape[1], rgb.shape[0])).apply(rgb)


def caption_mask(boxes: Sequence[TextBox], image_size: tuple[int, int]) -> np.ndarray:
    """H×W bool mask of every pixel the boxes' text or outline touches; `image_size` is (width, height)."""
    return compose_overlay(boxes, image_size).coverage() > 0
