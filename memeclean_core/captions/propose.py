"""Propose caption boxes where a clean removed text, so new words land where the old ones were.

The text mask of a clean is split into lines (letters joined by a horizontal dilation), small fragments such as
accents are folded into the line they sit on, and vertically adjacent lines of similar height become one block.
Each block gives a `TextBox` at the block's bounding box with the old line height, line spacing and alignment.

With an offline OCR engine (rapidocr, which ships its ONNX models in its wheel) the boxes start with the old
words; without one their text is empty. Any `TextReader` can be passed instead, e.g. a fake one in tests.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .boxes import Align, TextBox, VAlign
from .fonts import default_font_path, load_font
from .render import LINE_PITCH

log = logging.getLogger(__name__)

TextSpan = tuple[str, tuple[float, float, float, float]]  # text, (left, top, right, bottom) in image pixels
TextReader = Callable[[np.ndarray], list[TextSpan]]  # RGB H×W×3 uint8 -> text spans found in it

_MERGE_GAP = 0.9  # lines join a block when the gap between them is at most this many line heights
_HEIGHT_RATIO = 1.6  # ... and their heights differ by at most this factor
_CENTER_TOLERANCE = 0.04  # a block whose centre is this close (fraction of width) to the image's is centred
_VERTICAL_RATIO = 1.8  # a block this many times taller than wide, of at least _VERTICAL_MIN_ROWS rows, is vertical
_VERTICAL_MIN_ROWS = 3


@dataclass
class _Line:
    left: int
    top: int
    right: int  # exclusive
    bottom: int  # exclusive

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def overlaps_x(self, other: _Line) -> bool:
        return min(self.right, other.right) > max(self.left, other.left)

    def gap_to(self, other: _Line) -> int:
        """Vertical gap between the two (negative when they overlap)."""
        return max(self.top, other.top) - min(self.bottom, other.bottom)

    def absorb(self, other: _Line) -> None:
        self.left, self.top = min(self.left, other.left), min(self.top, other.top)
        self.right, self.bottom = max(self.right, other.right), max(self.bottom, other.bottom)


def _line_boxes(mask: np.ndarray) -> list[_Line]:
    """Bounding boxes of the text lines in `mask`: components joined horizontally, noise dropped."""
    import cv2  # imported here: `import memeclean_core` stays light

    height, width = mask.shape
    _count, labels, stats, _centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    min_area = max(4, round(height * width * 1e-5))
    keep = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_area)
    keep = keep[keep != 0]
    if keep.size == 0:
        return []
    letter_height = float(np.median(stats[keep, cv2.CC_STAT_HEIGHT]))
    clean = np.isin(labels, keep).astype(np.uint8)
    reach = max(3, round(letter_height)) | 1  # joins letters and words, not separate captions
    joined = cv2.dilate(clean, np.ones((1, reach), np.uint8))
    _count, line_labels = cv2.connectedComponents(joined, connectivity=8)
    ys, xs = np.nonzero(clean)
    ids = line_labels[ys, xs]
    order = np.argsort(ids, kind="stable")
    ys, xs, ids = ys[order], xs[order], ids[order]
    starts = np.flatnonzero(np.diff(ids, prepend=-1))
    lines: list[_Line] = []
    for rows, cols in zip(np.split(ys, starts[1:]), np.split(xs, starts[1:])):
        lines.extend(_split_rows(rows, cols))
    return lines


def _split_rows(rows: np.ndarray, cols: np.ndarray) -> list[_Line]:
    """One joined component as lines, cut at nearly empty rows: lines joined by an accent or a descender come
    apart (ascenders and accents cut off this way are folded back by `_fold_fragments`)."""
    top, bottom = int(rows.min()), int(rows.max()) + 1
    profile = np.bincount(rows - top, minlength=bottom - top)
    dense = profile > 0.25 * np.median(profile[profile > 0])  # rows crossed by a line's letters
    edges = np.flatnonzero(np.diff(np.concatenate(([0], dense.astype(np.int8), [0]))))
    lines = []
    for start, stop in zip(edges[::2], edges[1::2]):
        inside = (rows >= top + start) & (rows < top + stop)
        if inside.any():
            lines.append(_Line(int(cols[inside].min()), top + int(start), int(cols[inside].max()) + 1, top + int(stop)))
    return lines


def _fold_fragments(lines: list[_Line]) -> list[_Line]:
    """Fold small pieces (accents, dots above letters) into the much taller line right next to them."""
    lines = sorted(lines, key=lambda line: -line.height)
    kept: list[_Line] = []
    for line in lines:  # tallest first, so fragments find their line among the kept ones
        host = next(
            (
                big
                for big in kept
                if big.height >= 2 * line.height and big.overlaps_x(line) and big.gap_to(line) <= 0.35 * big.height
            ),
            None,
        )
        if host is None:
            kept.append(_Line(line.left, line.top, line.right, line.bottom))
        else:
            host.absorb(line)
    return kept


def _group_blocks(lines: list[_Line]) -> list[tuple[_Line, list[_Line]]]:
    """Stack vertically adjacent lines of similar height into blocks: [(block box, its lines top to bottom)]."""
    blocks: list[tuple[_Line, list[_Line]]] = []
    for line in sorted(lines, key=lambda line: (line.top, line.left)):
        for block, members in blocks:
            last = members[-1]
            smaller = min(last.height, line.height)
            similar = max(last.height, line.height) <= _HEIGHT_RATIO * smaller
            near = -0.3 * smaller <= line.top - last.bottom <= _MERGE_GAP * smaller
            if similar and near and last.overlaps_x(line):
                block.absorb(line)
                members.append(line)
                break
        else:
            blocks.append((_Line(line.left, line.top, line.right, line.bottom), [line]))
    return blocks


def _cap_height_ratio(font_key: str) -> float:
    """Ink height of a capital (outline excluded) per pixel of font size."""
    font = load_font(font_key, 100)
    _left, top, _right, bottom = font.getbbox("H", anchor="ls")
    return max(0.1, (bottom - top) / 100)


def _alignment(block: _Line, members: list[_Line], image_width: int) -> Align:
    center = (block.left + block.right) / 2
    if abs(center - image_width / 2) <= _CENTER_TOLERANCE * image_width or len(members) < 2:
        return "center"
    tolerance = 0.5 * statistics.median(line.height for line in members)
    lefts_aligned = max(line.left for line in members) - min(line.left for line in members) <= tolerance
    rights_aligned = max(line.right for line in members) - min(line.right for line in members) <= tolerance
    if lefts_aligned and not rights_aligned:
        return "left"
    if rights_aligned and not lefts_aligned:
        return "right"
    return "center"


def _valign(block: _Line, image_height: int) -> VAlign:
    middle = (block.top + block.bottom) / 2
    if middle < image_height / 3:
        return "top"
    if middle > 2 * image_height / 3:
        return "bottom"
    return "middle"


def _font_px(block_height: float, lines: int) -> float:
    """Font size whose `lines` upper-case lines (outlined, default spacing) are `block_height` tall."""
    outline = TextBox().outline_width
    return block_height / (
        (lines - 1) * (LINE_PITCH + 2 * outline) + _cap_height_ratio(str(default_font_path())) + 2 * outline
    )


def _block_box(block: _Line, members: list[_Line], image_size: tuple[int, int]) -> TextBox:
    """A default-styled box over the block, its font as tall as the old lines (outline included)."""
    width, height = image_size
    outline = TextBox().outline_width
    line_height = statistics.median(line.height for line in members)
    font_px = _font_px(line_height, 1)
    spacing = 1.0
    if len(members) > 1:
        measured_pitch = (members[-1].top - members[0].top) / (len(members) - 1)
        default_pitch = LINE_PITCH * font_px + 2 * max(1, round(outline * font_px))
        spacing = min(2.0, max(0.7, measured_pitch / default_pitch))
    pad = max(1, round(0.03 * line_height))  # the mask's edge is anti-aliased ink: leave the outline room
    left, top = max(0, block.left - pad), max(0, block.top - pad)
    right, bottom = min(width, block.right + pad), min(height, block.bottom + pad)
    vertical = _is_vertical(block, members)
    return TextBox(
        x=left / width,
        y=top / height,
        w=(right - left) / width,
        h=(bottom - top) / height,
        size=font_px / height,
        align="center" if vertical else _alignment(block, members, width),
        valign="top" if vertical else _valign(block, height),
        line_spacing=1.0 if vertical else round(spacing, 3),
        vertical=vertical,
        uppercase=not vertical,
    )


def _is_vertical(block: _Line, members: list[_Line]) -> bool:
    """Text written in columns (Japanese, Chinese): a block much taller than wide, of several rows (the rows of
    characters across its columns)."""
    return len(members) >= _VERTICAL_MIN_ROWS and block.height >= _VERTICAL_RATIO * (block.right - block.left)


def _text_of(spans: list[TextSpan]) -> str:
    """Join OCR spans into text: spans on one row by spaces (left to right), rows by newlines (top to bottom)."""
    ordered = sorted(spans, key=lambda span: (span[1][1] + span[1][3]) / 2)
    rows: list[list[TextSpan]] = []
    for span in ordered:
        middle = (span[1][1] + span[1][3]) / 2
        if rows:
            last = rows[-1][-1][1]
            if abs(middle - (last[1] + last[3]) / 2) <= 0.5 * max(1.0, last[3] - last[1]):
                rows[-1].append(span)
                continue
        rows.append([span])
    return "\n".join(" ".join(text for text, _ in sorted(row, key=lambda span: span[1][0])) for row in rows)


def _assign_spans(spans: list[TextSpan], blocks: list[tuple[_Line, list[_Line]]]) -> list[list[TextSpan]]:
    """Each span goes to the block containing its centre (blocks grown by half a line height), else nowhere."""
    found: list[list[TextSpan]] = [[] for _ in blocks]
    for span in spans:
        text, (left, top, right, bottom) = span
        if not text.strip():
            continue
        x, y = (left + right) / 2, (top + bottom) / 2
        best, best_distance = None, float("inf")
        for index, (block, members) in enumerate(blocks):
            margin = 0.5 * statistics.median(line.height for line in members)
            if block.left - margin <= x <= block.right + margin and block.top - margin <= y <= block.bottom + margin:
                distance = abs(x - (block.left + block.right) / 2) + abs(y - (block.top + block.bottom) / 2)
                if distance < best_distance:
                    best, best_distance = index, distance
        if best is not None:
            found[best].append((text.strip(), (left, top, right, bottom)))
    return found


def default_text_reader() -> TextReader | None:
    """An offline OCR reader built on rapidocr, or None when rapidocr is not installed or cannot start.

    Building it loads the ONNX models (about a second); keep the reader to read several images.
    """
    try:
        from rapidocr import RapidOCR  # optional: `pip install memeclean[eval]`
    except ImportError:
        return None
    try:
        engine = RapidOCR()
    except Exception as error:  # noqa: BLE001 - an optional third-party engine: any failure means "no OCR"
        log.warning("OCR engine unavailable: %s", error)
        return None

    def read(rgb: np.ndarray) -> list[TextSpan]:
        result = engine(np.ascontiguousarray(rgb[:, :, ::-1]))  # rapidocr takes arrays as BGR
        boxes, texts = getattr(result, "boxes", None), getattr(result, "txts", None)
        if boxes is None or texts is None:
            return []
        spans: list[TextSpan] = []
        for points, text in zip(np.asarray(boxes, dtype=float), texts):
            xs, ys = points[:, 0], points[:, 1]
            spans.append((str(text), (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))))
        return spans

    return read


def propose_boxes(
    mask: np.ndarray, rgb: np.ndarray | None = None, *, reader: TextReader | None = None, ocr: bool = True
) -> list[TextBox]:
    """One `TextBox` per caption block of a text mask (H×W, bool or 0/255), top to bottom.

    Each box sits on the block's bounding box, with the block's line height (`size`), line spacing and alignment,
    in the default classic style. When `rgb` (the original meme, H×W×3) is given and a reader is available
    (`reader`, else rapidocr when `ocr` is on and installed), the boxes start with the words read there;
    upper-casing stays on unless the old words had lower-case letters.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"expected an H×W mask, got shape {mask.shape}")
    if rgb is not None and (rgb.ndim != 3 or rgb.shape[:2] != mask.shape or rgb.shape[2] != 3):
        raise ValueError(f"image {rgb.shape} does not match the mask {mask.shape}")
    height, width = mask.shape
    blocks = _group_blocks(_fold_fragments(_line_boxes(mask > 0)))
    boxes = [_block_box(block, members, (width, height)) for block, members in blocks]
    if rgb is None or not boxes:
        return boxes
    if reader is None and ocr:
        reader = default_text_reader()
    if reader is None:
        return boxes
    try:
        spans = reader(rgb)
    except Exception as error:  # noqa: BLE001 - OCR is a convenience: boxes without text are still useful
        log.warning("OCR failed: %s", error)
        return boxes
    filled = []
    for box, (block, members), found in zip(boxes, blocks, _assign_spans(spans, blocks)):
        text = _text_of(found)
        if not text:
            filled.append(box)
            continue
        box = replace(box, text=text, uppercase=not any(char.islower() for char in text))
        rows = text.count("\n") + 1
        if rows > len(members):  # lines the mask ran together (a generous dilation): size from the OCR rows
            box = replace(box, size=_font_px(block.height, rows) / height, line_spacing=1.0)
        filled.append(box)
    return filled
