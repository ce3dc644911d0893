"""The geometric check and the alignment: is this meme the same picture as a library template, and where?

`fit_alignment` matches ORB features (ratio test) and fits an affine map, template pixels → meme pixels, with
RANSAC. It accepts only a map that many matches agree on and that is a plausible resize and crop (scale, a little
non-uniform stretch at most, no rotation or shear to speak of). `check_alignment` then warps the template onto the
meme and checks that it covers the meme and that most of the covered pixels agree with it (a caption changes a part
of a meme, never most of it). The caption mask is where meme and aligned template differ, with a one-pixel tolerance
for the alignment (`caption_mask`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..data.pairs import tidy_difference_mask

RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
MIN_INLIERS = 20  # matches the fitted map must explain ...
MIN_INLIER_FRACTION = 0.25  # ... and this share of the matches that passed the ratio test
RANSAC_PIXELS = 3.0  # reprojection tolerance at the feature scale
MAX_ROTATION_DEGREES = 3.0
MAX_STRETCH = 0.15  # |x scale / y scale - 1|: memes are resized, rarely squashed
MAX_SHEAR = 0.05
SCALE_RANGE = (0.1, 10.0)
MIN_COVERAGE = 0.8  # the aligned template must cover this share of the meme
MIN_AGREEMENT = 0.45  # ... and agree with this share of the covered pixels
AGREE_DIFFERENCE = 40  # a pixel agrees when its (tolerant) difference is at most this
FEW_FEATURES = 40  # a template with fewer features is only tried as a resize of the whole picture ...
MAX_ASPECT_CHANGE = 0.03  # ... of about the same shape ...
CLOSE_DIFFERENCE = 12  # ... and must agree within this difference ...
MIN_CLOSE_AGREEMENT = 0.7  # ... on this share of the pixels
DIFF_THRESHOLD = 40  # caption pixels differ by more than this (as data.pairs.DIFF_THRESHOLD)


@dataclass(frozen=True)
class Alignment:
    matrix: np.ndarray  # 2×3 float64: template pixel (x, y, 1) -> meme pixel
    inliers: int
    matches: int

    @property
    def scale(self) -> float:
        return float(math.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))


def _good_matches(meme_descriptors: np.ndarray, template_descriptors: np.ndarray) -> list[tuple[int, int]]:
    if len(meme_descriptors) < 2 or len(template_descriptors) < 2:
        return []
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = matcher.knnMatch(meme_descriptors, template_descriptors, k=2)
    good = []
    for pair in pairs:
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
            good.append((pair[0].queryIdx, pair[0].trainIdx))
    return good


def plausible(linear: np.ndarray) -> bool:
    """A resize (with little stretch), not a rotation, shear or mirror."""
    (a, b), (c, d) = linear
    if a * d - b * c <= 0:
        return False
    scale_x, scale_y = math.hypot(a, c), math.hypot(b, d)
    if not (SCALE_RANGE[0] <= scale_x <= SCALE_RANGE[1] and SCALE_RANGE[0] <= scale_y <= SCALE_RANGE[1]):
        return False
    if abs(scale_x / scale_y - 1.0) > MAX_STRETCH:
        return False
    rotation = math.degrees(math.atan2(c, a))
    shear = (a * b + c * d) / (scale_x * scale_y)
    return abs(rotation) <= MAX_ROTATION_DEGREES and abs(shear) <= MAX_SHEAR


def fit_alignment(
    meme_points: np.ndarray,
    meme_descriptors: np.ndarray,
    meme_scale: float,
    template_points: np.ndarray,
    template_descriptors: np.ndarray,
    template_scale: float,
) -> Alignment | None:
    """The affine map template → meme (full-size pixels) that the features agree on, or None."""
    good = _good_matches(meme_descriptors, template_descriptors)
    if len(good) < MIN_INLIERS:
        return None
    query = np.array([m for m, _ in good])
    train = np.array([t for _, t in good])
    source = template_points[train] / template_scale  # template pixels
    target = meme_points[query] * (1.0 / meme_scale)  # meme pixels
    threshold = RANSAC_PIXELS / meme_scale
    matrix, inlier_flags = cv2.estimateAffine2D(
        source.reshape(-1, 1, 2),
        target.reshape(-1, 1, 2),
        method=cv2.RANSAC,
        ransacReprojThreshold=threshold,
        maxIters=2000,
        confidence=0.995,
        refineIters=10,
    )
    if matrix is None or inlier_flags is None:
        return None
    inliers = int(inlier_flags.sum())
    if inliers < MIN_INLIERS or inliers < MIN_INLIER_FRACTION * len(good) or not plausible(matrix[:, :2]):
        return None
    return Alignment(matrix.astype(np.float64), inliers, len(good))


def resize_alignment(template_size: tuple[int, int], meme_size: tuple[int, int]) -> Alignment | None:
    """The map of a plain resize, template (width, height) -> meme (width, height), when the shapes agree."""
    (template_w, template_h), (meme_w, meme_h) = template_size, meme_size
    scale_x, scale_y = meme_w / template_w, meme_h / template_h
    if abs(scale_x / scale_y - 1.0) > MAX_ASPECT_CHANGE:
        return None
    # pixel centres: x' + 0.5 = (x + 0.5) * scale
    matrix = np.array([[scale_x, 0.0, 0.5 * (scale_x - 1)], [0.0, scale_y, 0.5 * (scale_y - 1)]])
    return Alignment(matrix, 0, 0)


def warp_template(template: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(template warped to the meme's `size` (width, height), bool map of the meme pixels it covers)."""
    width, height = size
    scale = math.sqrt(abs(np.linalg.det(matrix[:, :2])))
    source = template
    matrix = np.asarray(matrix, np.float64)
    if scale < 0.5:  # shrinking a lot: pre-shrink so the warp does not alias
        factor = scale * 1.5
        small = cv2.resize(
            template,
            (max(1, round(template.shape[1] * factor)), max(1, round(template.shape[0] * factor))),
            interpolation=cv2.INTER_AREA,
        )
        undo = np.diag([template.shape[1] / small.shape[1], template.shape[0] / small.shape[0]])
        matrix = np.hstack([matrix[:, :2] @ undo, matrix[:, 2:]])
        source = small
    warped = cv2.warpAffine(
        source,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR if scale <= 1 else cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    ones = np.full(source.shape[:2], 255, np.uint8)
    covered = (
        cv2.warpAffine(
            ones, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        >= 250
    )
    return warped, covered


def tolerant_difference(meme: np.ndarray, aligned: np.ndarray) -> np.ndarray:
    """Per pixel, how far the meme lies outside the range of the aligned template's 3×3 neighbourhood (largest
    channel): an alignment that is off by a pixel leaves edges alone, a caption stands out."""
    kernel = np.ones((3, 3), np.uint8)
    low = cv2.erode(aligned, kernel).astype(np.int16)
    high = cv2.dilate(aligned, kernel).astype(np.int16)
    pixels = meme.astype(np.int16)
    outside = np.maximum(low - pixels, pixels - high).clip(min=0)
    return outside.max(axis=2).astype(np.uint8)


def agreement(meme: np.ndarray, aligned: np.ndarray, covered: np.ndarray, tolerance: int = AGREE_DIFFERENCE) -> float:
    """Share of the covered pixels where the meme is the aligned template (within `tolerance`)."""
    if not covered.any():
        return 0.0
    difference = cv2.GaussianBlur(tolerant_difference(meme, aligned), (3, 3), 0)
    return float((difference[covered] <= tolerance).mean())


def caption_mask(meme: np.ndarray, aligned: np.ndarray, covered: np.ndarray) -> np.ndarray:
    """Where the meme differs from the aligned template: thresholded, then cleaned up as `data.pairs` does for
    meme/template pairs (close, fill glyph counters, dilate over anti-aliased edges, drop specks). Only covered
    pixels can be caption."""
    height, width = meme.shape[:2]
    scale = max(height, width) / 500.0
    difference = cv2.GaussianBlur(tolerant_difference(meme, aligned), (3, 3), 0)
    mask = (difference > DIFF_THRESHOLD) & covered
    if not mask.any():
        return mask
    radius = int(round(max(1.0, 1.5 * scale))) + 1  # +1: the tolerance above shaved a pixel off every edge
    return tidy_difference_mask(mask, scale, radius) & covered
