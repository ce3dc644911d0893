"""Perceptual fingerprints of a picture: a fast global key for the prefilter, and local features for the check.

The prefilter compares a meme with every library entry at once, so its key is small and compared with numpy over a
packed array (`Fingerprint.key`): two 64-bit DCT hashes (pHash) — of the whole picture and of its middle band,
which captions rarely cover — and a 4×4 grid of mean colours of that band. The geometric check then needs local
features (ORB keypoints and their binary descriptors), computed on the picture scaled to `FEATURE_SIDE`.

Everything here is a pure function of the pixels (OpenCV, numpy); no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

HASH_SIZE = 32  # the DCT is taken of a 32×32 grey thumbnail; its 8×8 lowest frequencies make the 64-bit hash
BAND = (0.22, 0.78)  # the middle band (fraction of the height) that top and bottom captions leave alone
COLOUR_GRID = 4
FEATURE_SIDE = 512  # long side the ORB features are computed at (keypoints are stored at that scale)
GRID = 6  # features are picked per cell of a GRID×GRID grid ...
PER_CELL = 24  # ... at most this many per cell
DETECT_FEATURES = 5000  # corners detected before the per-cell pick
KEY_BYTES = 16  # the two hashes, packed


@dataclass(frozen=True)
class Fingerprint:
    """What the library stores of a picture to find it again."""

    hashes: np.ndarray  # (KEY_BYTES,) uint8: pHash of the whole picture, then of its middle band
    colours: np.ndarray  # (COLOUR_GRID² × 3,) float32 in 0..1: mean colours of the middle band
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
    small = cv2.resize(np.ascontiguousarray(image[..., :3]), (COLOUR_GRID, COLOUR_GRID), interpolation=cv2.INTER_AREA)
    return (small.astype(np.float32) / 255.0).ravel()


def global_key(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, colours) of an RGB uint8 picture: the prefilter's part of the fingerprint."""
    grey = _grey(image)
    hashes = np.concatenate([phash(grey), phash(middle_band(grey))])
    colours = colour_grid(middle_band(image)) if image.ndim == 3 else np.zeros(COLOUR_GRID**2 * 3, np.float32)
    return hashes, colours


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
        grey = cv2.resize(grey, (max(1, round(width * scale)), max(1, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
    orb = cv2.ORB_create(nfeatures=DETECT_FEATURES, scaleFactor=1.2, nlevels=6, edgeThreshold=15, patchSize=31,
                         fastThreshold=8)
    keypoints = orb.detect(grey, None)
    if not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8), scale
    points = np.array([kp.pt for kp in keypoints], np.float32)
    responses = np.array([kp.response for kp in keypoints], np.float32)
    cell_h, cell_w = grey.shape[0] / GRID, grey.shape[1] / GRID
    cells = (np.minimum(points[:, 1] // cell_h, GRID - 1) * GRID + np.minimum(points[:, 0] // cell_w, GRID - 1))
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
    hashes, colours = global_key(image)
    points, descriptors, scale = orb_features(image)
    return Fingerprint(hashes, colours, points, descriptors, scale)


def hamming(keys: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Bit distances (N, 2) between one packed key (16 bytes: two 64-bit hashes) and N of them (N, 16)."""
    differing = np.bitwise_xor(keys, key[None, :])
    counts = np.bitwise_count(differing) if hasattr(np, "bitwise_count") else np.unpackbits(differing, axis=1)
    if counts.shape[1] != keys.shape[1]:  # unpacked bits: 8 per byte
        return counts.reshape(len(keys), 2, -1).sum(axis=2)
    return counts.reshape(len(keys), 2, -1).sum(axis=2, dtype=np.int32)
