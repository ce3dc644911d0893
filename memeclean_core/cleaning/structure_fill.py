"""A classical fill that keeps straight edges (panel borders, object outlines) from being smeared across a hole.

OpenCV's Telea fills every hole pixel from a weighted mix of the known pixels around it, so where a caption lies
across a panel border the two sides and the border bleed into each other as a pale blob. Here:

1. Long straight edges are found in the picture around the hole (Canny, then probabilistic Hough), keeping only
   those that run up to the hole and whose line crosses it: a structure that continues under the caption.
2. Those lines, continued through the hole, split the window into cells (pixels on the same side of every line).
   A thick border gives two parallel lines, so it becomes a cell of its own and is continued in its own colour.
3. Each cell's part of the hole is filled by Telea from that cell's own pixels only: every pixel outside the cell
   is first replaced by the nearest known pixel of the cell ("known = a copy of this side's"), so nothing from the
   other side of a line is within Telea's reach.

Without such a line the hole is filled by plain Telea, exactly as `pipeline.telea_fill`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

CANNY_LOW, CANNY_HIGH = 60, 160
MIN_LINE_LENGTH = 30  # px: shorter edges are texture, not structure
MAX_LINES = 6  # per hole window; more lines than this fragments the hole into cells with too little context
REACH = 4  # px: a line's segment must end this close to the hole to count as running into it


def _line_sides(lines: list[tuple[float, float, float]], height: int, width: int) -> np.ndarray:
    """Per pixel, a cell id: bit k set when the pixel lies on the positive side of line k (a·x + b·y + c > 0)."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cells = np.zeros((height, width), np.int32)
    for k, (a, b, c) in enumerate(lines):
        cells |= ((a * xx + b * yy + c) > 0).astype(np.int32) << k
    return cells


def find_crossing_lines(rgb: np.ndarray, hole: np.ndarray) -> list[tuple[float, float, float]]:
    """Straight edges outside `hole` that run into it and whose line crosses it, as (a, b, c) with a² + b² = 1."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, CANNY_LOW, CANNY_HIGH)
    near_hole = cv2.dilate(hole.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    edges[near_hole > 0] = 0  # the caption's own edges (and the hole's rim) are not structure
    segments = cv2.HoughLinesP(
        edges, 1, np.pi / 180, threshold=MIN_LINE_LENGTH, minLineLength=MIN_LINE_LENGTH, maxLineGap=3
    )
    if segments is None:
        return []
    distance_to_hole = cv2.distanceTransform((~hole.astype(bool)).astype(np.uint8), cv2.DIST_L2, 3)
    height, width = hole.shape
    hole_points = np.argwhere(hole)[:, ::-1].astype(np.float32)  # x, y
    lines: list[tuple[float, float, float, float]] = []  # a, b, c, segment length
    for x1, y1, x2, y2 in np.asarray(segments).reshape(-1, 4):
        ends = [(x1, y1), (x2, y2)]
        if min(distance_to_hole[min(y, height - 1), min(x, width - 1)] for x, y in ends) > REACH + 3:
            continue
        dx, dy = float(x2 - x1), float(y2 - y1)
        length = math.hypot(dx, dy)
        a, b = -dy / length, dx / length
        c = -(a * x1 + b * y1)
        signed = hole_points @ np.array([a, b], np.float32) + c
        if not (signed.min() < -1 and signed.max() > 1):
            continue  # the line does not cut the hole in two
        lines.append((a, b, c, length))
    # Longest first; a line close to one already kept (same angle, same offset) is the same edge.
    kept: list[tuple[float, float, float]] = []
    for a, b, c, _ in sorted(lines, key=lambda line: -line[3]):
        if any(
            abs(a * ka + b * kb) > math.cos(math.radians(3)) and abs(c - kc * np.sign(a * ka + b * kb)) < 2.0
            for ka, kb, kc in kept
        ):
            continue
        kept.append((a, b, c))
        if len(kept) == MAX_LINES:
            break
    return kept


def structure_fill(rgb: np.ndarray, hole: np.ndarray, radius: int = 3) -> np.ndarray:
    """Fill `hole` (H×W, nonzero = unknown) in `rgb` (H×W×3 uint8), keeping straight edges that cross it."""
    hole = hole.astype(bool)
    if not hole.any():
        return rgb.copy()
    rgb = np.ascontiguousarray(rgb)
    lines = find_crossing_lines(rgb, hole)
    if not lines:
        return cv2.inpaint(rgb, hole.astype(np.uint8), radius, cv2.INPAINT_TELEA)
    height, width = hole.shape
    cells = _line_sides(lines, height, width)
    output = rgb.copy()
    for cell in np.unique(cells[hole]):
        in_cell = cells == cell
        known = in_cell & ~hole
        part = hole & in_cell
        if not known.any():  # a sliver of hole with no picture of its own side: plain Telea
            output[part] = cv2.inpaint(rgb, hole.astype(np.uint8), radius, cv2.INPAINT_TELEA)[part]
            continue
        # A crop around this part with room for Telea's neighbourhood and the copied context.
        ys, xs = np.nonzero(part)
        pad = 2 * radius + 2
        top, bottom = max(0, ys.min() - pad), min(height, ys.max() + 1 + pad)
        left, right = max(0, xs.min() - pad), min(width, xs.max() + 1 + pad)
        crop_known = known[top:bottom, left:right]
        if not crop_known.any():
            crop_known = known  # fall back to the whole window's copy below
            top, bottom, left, right = 0, height, 0, width
        # Every pixel outside this cell's known pixels takes the colour of its nearest known pixel of the cell.
        _, labels = cv2.distanceTransformWithLabels(
            (~crop_known).astype(np.uint8), cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
        )
        sources = np.zeros((labels.max() + 1, 2), np.int32)
        points = np.argwhere(crop_known)
        sources[labels[crop_known]] = points
        nearest = sources[labels]
        crop = rgb[top:bottom, left:right][nearest[..., 0], nearest[..., 1]]
        crop_part = part[top:bottom, left:right]
        filled = cv2.inpaint(np.ascontiguousarray(crop), crop_part.astype(np.uint8), radius, cv2.INPAINT_TELEA)
        output[top:bottom, left:right][crop_part] = filled[crop_part]
    return output
