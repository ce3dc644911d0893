"""Perceptual fingerprints of a picture: a fast global key for the prefilter, and local features for the check.

The prefilter compares a meme with every library entry at once, so its keys are small and compared with numpy over
packed arrays: two 64-bit DCT hashes (pHash) — of the whole picture and of its middle band, which top and bottom
captions rarely cover — and a colour grid, the picture shrunk to 8×8 RGB pixels in 4×4 cells. A caption anywhere
(a big one in the middle too) changes a few cells, so the grid distance counts only the best-agreeing cells
(`grid_distances`). The geometric check then needs local features (ORB keypoints and their binary descriptors),
computed on the picture scaled to `FEATURE_SIDE`.

Everything here is a pure function of the pixels (OpenCV, numpy); no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

HASH_SIZE = 32  # the DCT is taken of a 32×32 grey thumbnail; its 8×8 lowest frequencies make the 64-bit hash
BAND = (0.22, 0.78)  # the middle band (fraction of the height) that top and bottom captions leave alone
GRID_SIDE = 8  # the colour grid: the picture shrunk to GRID_SIDE² RGB pixels ...
GRID_CELLS = 4  # ... in GRID_CELLS² cells ...
GRID_KEPT = 10  # ... of which the GRID_KEPT that agree best count (a caption changes the others)
GRID_BYTES = GRID_SIDE * GRID_SIDE * 3
FEATURE_SIDE = 512  # long side the ORB features are computed at (keypoints are stored at that scale)
GRID = 6  # features are picked per cell of a GRID×GRID grid ...
PER_CELL = 24  # ... at most this many per cell
DETECT_FEATURES = 5000  # corners detected before the per-cell pick
KEY_BYTES = 16  # the two hashes, packed


@dataclass(frozen=True)
class Fingerprint:
    """What the library stores of a picture to find it again."""

    hashes: np.ndarray  # (KEY_BYTES,) uint8: pHash of the whole picture, then of its middle band
    grid: np.ndarray  # (GRID_BYTES,) uint8: the colour grid, cell by cell
    keypoints: np.ndarray  # (N, 2) float32: ORB keypoint positions at the feature scale
    descriptors: np.ndarray  # (N, 32) uint8: their ORB descriptors
    feature_scale: float  # keypoint coordinates = picture coordinates × this


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def phash(grey: np.ndarray) -> np.ndarray:
    """64-bit DCT hash (8 bytes) of a grey picture: the signs of its 8×8 lowest frequencies against their median."""
    small = cv2.resize(grey, (HASH_SIZE, HASH_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].ravel()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) does not set the threshold
    return np.packbits(bits)


def middle_band(image: np.ndarray) -> np.ndarray:
    height = image.shape[0]
    top, bottom = int(round(BAND[0] * height)), max(int(round(BAND[1] * height)), int(round(BAND[0] * height)) + 1)
    return image[top:bottom]


def colour_grid(image: np.ndarray) -> np.ndarray:
    """The picture at GRID_SIDE² RGB pixels, laid out cell by cell (GRID_CELLS² cells of equal size)."""
    small = cv2.resize(np.ascontiguousarray(image[..., :3]), (GRID_SIDE, GRID_SIDE), interpolation=cv2.INTER_AREA)
    step = GRID_SIDE // GRID_CELLS
    cells = small.reshape(GRID_CELLS, step, GRID_CELLS, step, 3).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(cells).reshape(-1)


def grid_distances(grids: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Distance (N,) of one colour grid to N of them (N, GRID_BYTES): the summed absolute difference over the
    GRID_KEPT cells that agree best."""
    if len(grids) == 0:
        return np.zeros(0, np.int32)
    difference = cv2.absdiff(grids, np.broadcast_to(grid, grids.shape).copy())
    per_cell = difference.reshape(len(grids), GRID_CELLS * GRID_CELLS, -1).sum(axis=2, dtype=np.int32)
    return np.partition(per_cell, GRID_KEPT - 1, axis=1)[:, :GRID_KEPT].sum(axis=1)


def global_key(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, colour grid) of an RGB uint8 picture: the prefilter's part of the fingerprint."""
    grey = _grey(image)
    hashes = np.concatenate([phash(grey), phash(middle_band(grey))])
    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    return hashes, colour_grid(rgb)


def orb_features(image: np.ndarray, side: int = FEATURE_SIDE) -> tuple[np.ndarray, np.ndarray, float]:
    """(keypoints N×2 float32, descriptors N×32 uint8, scale) of the picture scaled so its long side is `side`
    (never enlarged).

    The strongest corners of a meme are on its caption (hard black-on-white outlines): taken over the whole
    picture they leave none for the picture itself. So corners are picked per cell of a GRID×GRID grid, the
    strongest few in each, and the picture keeps its share wherever the caption is not.
    """
    grey = _grey(image)
    height, width = grey.shape
    scale = min(1.0, side / max(height, width))
    if scale < 1.0:
        grey = cv2.resize(
            grey, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
    orb = cv2.ORB_create(
        nfeatures=DETECT_FEATURES, scaleFactor=1.2, nlevels=6, edgeThreshold=15, patchSize=31, fastThreshold=8
    )
    keypoints = orb.detect(grey, None)
    if not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), scale
    points = np.array([kp.pt for kp in keypoints], np.float32)
    responses = np.array([kp.response for kp in keypoints], np.float32)
    cell_h, cell_w = grey.shape[0] / GRID, grey.shape[1] / GRID
    cells = np.minimum(points[:, 1] // cell_h, GRID - 1) * GRID + np.minimum(points[:, 0] // cell_w, GRID - 1)
    order = np.lexsort((-responses, cells))  # by cell, strongest first
    sorted_cells = cells[order]
    first_of_cell = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.arange(len(order)) - first_of_cell
    kept = [keypoints[i] for i in order[rank < PER_CELL]]
    kept, descriptors = orb.compute(grey, kept)
    if descriptors is None or not kept:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), scale
    return np.array([kp.pt for kp in kept], np.float32), descriptors.astype(np.uint8), scale


def fingerprint(image: np.ndarray) -> Fingerprint:
    """The fingerprint of an RGB uint8 picture (H×W×3)."""
    hashes, grid = global_key(image)
    points, descriptors, scale = orb_features(image)
    return Fingerprint(hashes, grid, points, descriptors, scale)


def hamming(keys: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Bit distances (N, 2) between one packed key (16 bytes: two 64-bit hashes) and N of them (N, 16)."""
    differing = np.bitwise_xor(keys, key[None, :])
    counts = np.bitwise_count(differing) if hasattr(np, "bitwise_count") else np.unpackbits(differing, axis=1)
    if counts.shape[1] != keys.shape[1]:  # unpacked bits: 8 per byte
        return counts.reshape(len(keys), 2, -1).sum(axis=2)
    return counts.reshape(len(keys), 2, -1).sum(axis=2, dtype=np.int32)
