"""Un-blend translucent captions: recover the picture under a site watermark instead of filling it.

A translucent mark is the picture plus one colour at a constant opacity: `I = (1 - alpha) * B + alpha * c` on the
letters, `I = B` around them. Where the fill `F` is a fair guess of the picture's smooth part, the letters' pixels
satisfy `I ≈ a * F + d` with `a = 1 - alpha` and `d = alpha * c`: a straight line fitted to (F, I) over a group of
letters gives the opacity and the colour, and `B = (I - d) / a` then restores the picture's own detail (grain,
texture, fine lines) that no fill can invent. Opaque captions fit `a ≈ 0` and are left to the fill.

Per pixel, the letters' anti-aliased rims and the dilated region's margin have less opacity than the letters'
cores: each pixel gets the opacity in `[0, alpha]` that brings its un-blended colour nearest the fill, cores snap
to the fitted opacity, and a pixel the model does not explain (an outline in another colour, a shadow) keeps the
fill. Pure numpy; `inference.composite` calls `unblend` on each caption band.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MIN_SIGNAL = 12.0  # grey levels between a pixel and the fill for it to count as overlay in the fit
MIN_PIXELS = 30  # overlay pixels a group needs for a fit
MIN_SPREAD = 12.0  # RMS spread of the fill over the overlay pixels: below it the line through (F, I) is not defined
OPACITY_RANGE = (0.2, 0.8)  # opacities un-blended: below, the mark barely shows; above, noise is amplified 5×+
MAX_FIT_ERROR = 10.0  # RMS grey levels of the fit's inliers
MIN_INLIERS = 0.4  # share of the overlay pixels the fitted line explains
CORE_SNAP = 0.5  # a pixel with more than this share of the fitted opacity is a letter's core: it gets all of it
MAX_DETAIL = 40.0  # an un-blended pixel further than this from the fill is not explained by the model: fill kept
CORE_PERCENTILE = 80  # over a flat fill, the opacity is this percentile of the marks' pixels' own
GROUP_GAP = 6  # px: letters closer than this are one mark (one opacity and colour)


@dataclass(frozen=True)
class Overlay:
    """A translucent overlay fitted to one group of letters: `I = (1 - opacity) * B + opacity * colour`."""

    opacity: float
    colour: np.ndarray  # float32 RGB
    inliers: float  # share of the overlay pixels on the line
    error: float  # RMS grey levels of the inliers


def fit_overlay(observed: np.ndarray, fill: np.ndarray) -> Overlay | None:
    """The translucent overlay that explains `observed` over `fill` (N×3 float32 each) on the pixels that differ
    from the fill; None when they do not look like one translucent colour over the picture (opaque text, too few
    pixels, several colours)."""
    signal = np.linalg.norm(observed - fill, axis=1) > MIN_SIGNAL
    candidates = int(signal.sum())
    if candidates < MIN_PIXELS:
        return None
    f, i = fill[signal], observed[signal]
    df = f - f.mean(axis=0)
    if float((df * df).sum()) / len(f) >= MIN_SPREAD**2:
        fitted = _fit_line(i, f)
    else:  # a flat picture under the mark: the colour is where the marks' direction leaves the RGB cube
        fitted = _fit_flat(i, f)
    if fitted is None:
        return None
    opacity, colour = fitted
    if not OPACITY_RANGE[0] <= opacity <= OPACITY_RANGE[1] or colour.min() < -30 or colour.max() > 285:
        return None
    # How well one opacity and colour explain the marks: the un-blended cores against the fill.
    most = opacity / (1.0 - opacity)
    away = i - colour
    t = ((f - i) * away).sum(axis=1) / np.maximum((away * away).sum(axis=1), 1.0)
    residual = np.linalg.norm(i + np.clip(t, 0.0, most)[:, None] * away - f, axis=1)
    inliers = residual <= 2 * MAX_FIT_ERROR
    share = float(inliers.mean())
    error = float(np.sqrt(np.mean(residual[inliers] ** 2))) if inliers.any() else np.inf
    if share < MIN_INLIERS or error > MAX_FIT_ERROR:
        return None
    return Overlay(opacity, colour.astype(np.float32), share, error)


def _fit_line(observed: np.ndarray, fill: np.ndarray) -> tuple[float, np.ndarray] | None:
    """(opacity, colour) from `observed ≈ a * fill + d`, least squares, then again without the rims and outlines
    the line does not explain."""
    keep = np.ones(len(fill), bool)
    for _ in range(3):
        f, i = fill[keep], observed[keep]
        f_mean, i_mean = f.mean(axis=0), i.mean(axis=0)
        df, di = f - f_mean, i - i_mean
        spread = float((df * df).sum())
        if spread / len(f) < MIN_SPREAD**2:
            return None
        slope = float((df * di).sum() / spread)
        offset = i_mean - slope * f_mean
        residual = np.linalg.norm(observed - (slope * fill + offset), axis=1)
        keep = residual <= max(6.0, 2.5 * float(np.median(residual[keep])))
        if keep.sum() < MIN_PIXELS:
            return None
    opacity = 1.0 - slope
    if opacity <= 0.0:
        return None
    return opacity, offset / opacity


def _fit_flat(observed: np.ndarray, fill: np.ndarray) -> tuple[float, np.ndarray] | None:
    """(opacity, colour) over a flat fill: the colour is the RGB cube's face where the marks' mean direction from
    the fill leaves it (white or black marks, the common case, are exact), the opacity the cores' share of the way
    there (a high percentile: the rims have less)."""
    start = fill.mean(axis=0)
    direction = (observed - fill).mean(axis=0)
    if float(np.linalg.norm(direction)) < MIN_SIGNAL:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        steps = np.where(direction > 0, (255.0 - start) / direction, np.where(direction < 0, -start / direction, np.inf))
    step = float(steps.min())
    if not np.isfinite(step) or step <= 0:
        return None
    colour = start + step * direction
    toward = colour - fill
    share = ((observed - fill) * toward).sum(axis=1) / np.maximum((toward * toward).sum(axis=1), 1.0)
    return float(np.percentile(share, CORE_PERCENTILE)), colour


def recover(observed: np.ndarray, fill: np.ndarray, overlay: Overlay) -> np.ndarray:
    """The picture under `overlay` (N×3 float32), each pixel at the opacity in [0, overlay.opacity] nearest the
    fill; the fill where the model does not explain the pixel."""
    most = overlay.opacity / (1.0 - overlay.opacity)  # B = I + t (I - c), t = alpha / (1 - alpha)
    away = observed - overlay.colour
    t = ((fill - observed) * away).sum(axis=1) / np.maximum((away * away).sum(axis=1), 1.0)
    t = np.clip(t, 0.0, most)
    t = np.where(t > CORE_SNAP * most, most, t)
    picture = observed + t[:, None] * away
    explained = np.linalg.norm(picture - fill, axis=1) <= MAX_DETAIL
    return np.where(explained[:, None], picture, fill)


def unblend(image: np.ndarray, fill: np.ndarray, region: np.ndarray) -> np.ndarray:
    """`fill` (H×W×3 float32, the filled band) with the pixels of `region` under a translucent mark replaced by the
    un-blended picture, one fit per group of letters; groups that are not translucent keep the fill."""
    groups = cv2.dilate(region.astype(np.uint8), np.ones((2 * GROUP_GAP + 1,) * 2, np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(groups, connectivity=8)
    out = fill
    for label in range(1, count):
        left, top, width, height = stats[label, :4]
        box = slice(top, top + height), slice(left, left + width)
        where = region[box] & (labels[box] == label)
        observed = image[box][where].astype(np.float32)
        filled = fill[box][where]
        overlay = fit_overlay(observed, filled)
        if overlay is None:
            continue
        if out is fill:
            out = fill.copy()
        out[box][where] = recover(observed, filled, overlay)
    return out
