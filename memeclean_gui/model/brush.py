"""Mask brush and eraser: plain functions driven by neutral pointer events in image coordinates (no Qt).

The canvas turns mouse events into `PointerEvent`s (image pixels, zoom, pan and the screen's pixel ratio already
taken out); `BrushTool.handle` paints round dabs along the pointer's path on the document's working mask. A press
begins a gesture, a release ends it: one stroke is one undo step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .document import BBox, Document

# A pixel belongs to a dab when its centre is within the radius. Any point of a pixel is within √½ of its centre,
# so with this smallest radius a click always paints the pixel under it.
_MIN_RADIUS = 0.5**0.5 + 1e-3


@dataclass(frozen=True)
class PointerEvent:
    """A press, move or release at (x, y) in image coordinates: (0, 0) is the top-left corner of the top-left
    pixel, pixel (col, row) covers [col, col + 1) × [row, row + 1)."""

    kind: Literal["press", "move", "release"]
    x: float
    y: float


def paint_segment(
    mask: np.ndarray, x0: float, y0: float, x1: float, y1: float, radius: float, value: bool
) -> BBox | None:
    """Set every pixel whose centre lies within `radius` of the segment (x0, y0)–(x1, y1) to `value`.

    This is the union of round dabs along the segment (a capsule), so fast mouse moves leave no gaps. Returns the
    bounding box of the touched pixels (None when the segment lies outside the mask).
    """
    height, width = mask.shape
    radius = max(float(radius), _MIN_RADIUS)
    left = max(0, math.floor(min(x0, x1) - radius))
    right = min(width, math.ceil(max(x0, x1) + radius) + 1)
    top = max(0, math.floor(min(y0, y1) - radius))
    bottom = min(height, math.ceil(max(y0, y1) + radius) + 1)
    if left >= right or top >= bottom:
        return None
    cx = np.arange(left, right, dtype=np.float32)[None, :] + 0.5
    cy = np.arange(top, bottom, dtype=np.float32)[:, None] + 0.5
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0, 1.0)
        near_x, near_y = x0 + t * dx, y0 + t * dy
    else:
        near_x, near_y = x0, y0
    inside = (cx - near_x) ** 2 + (cy - near_y) ** 2 <= radius * radius
    if not inside.any():
        return None
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    mask[top:bottom, left:right][inside] = value
    return top + int(rows[0]), left + int(cols[0]), top + int(rows[-1]) + 1, left + int(cols[-1]) + 1


class BrushTool:
    """Brush (adds text to the mask) or eraser (removes it); `size` is the dab's diameter in image pixels."""

    def __init__(self, document: Document, *, erase: bool = False, size: float = 24.0):
        self.document = document
        self.erase = erase
        self.size = size
        self._last: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        return "Eraser Stroke" if self.erase else "Brush Stroke"

    @property
    def active(self) -> bool:
        return self._last is not None

    def handle(self, event: PointerEvent) -> BBox | None:
        """Feed one event; returns the box of mask pixels it changed (None when none)."""
        if event.kind == "press":
            if not self.document.has_image:
                return None
            self.document.begin_stroke()
            self._last = (event.x, event.y)
            return self._paint(event.x, event.y)
        if self._last is None or not self.document.stroke_active:
            # a move or release without a press, or the gesture was dropped (undo, a new image) meanwhile
            self._last = None
            return None
        bbox = self._paint(event.x, event.y)
        if event.kind == "release":
            self._last = None
            self.document.end_stroke(self.label)
        return bbox

    def cancel(self) -> None:
        if self._last is not None:
            self._last = None
            self.document.cancel_stroke()

    def _paint(self, x: float, y: float) -> BBox | None:
        mask = self.document.begin_stroke()  # the gesture's working copy (created on press)
        x0, y0 = self._last
        bbox = paint_segment(mask, x0, y0, x, y, self.size / 2, not self.erase)
        self._last = (x, y)
        if bbox is not None:
            self.document.painted(bbox)
        return bbox
