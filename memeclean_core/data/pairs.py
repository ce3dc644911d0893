"""Real memes with their blank templates: (meme, template, mask) training samples.

The folder is the one `memeclean prepare` writes::

    pairs/templates/<name>.png        the blank template
    pairs/memes/<name>/<i>.jpg        memes made from it

The caption mask is not stored: it is the set of pixels where the meme differs from its template
(`mask_from_difference`), computed at the meme's own resolution with the template resized onto it. A pair whose
difference covers most of the picture is not the same picture (another crop, a reworked template, a different
colour grade) and is never used.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageLoadError, MemeCleanError
from ..files.filenames import IMAGE_SUFFIXES

DIFF_THRESHOLD = 40
"""A pixel is caption when its (lightly blurred) largest channel difference to the template exceeds this."""

MAX_MASK_FRACTION = 0.6
"""Pairs whose mask covers more of the picture than this are misaligned, not captioned."""

MAX_ASPECT_MISMATCH = 0.03
"""Pairs whose aspect ratios differ by more than this (relative) are different crops: rejected."""


def _odd(value: float) -> int:
    return max(1, int(round(value)) | 1)


def fill_holes(mask: np.ndarray, max_area: int) -> np.ndarray:
    """Fill enclosed holes of at most `max_area` pixels (glyph interiors whose colour matches the template)."""
    inverse = (~mask).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inverse, connectivity=4)
    if count <= 1:
        return mask
    height, width = mask.shape
    x, y, w, h, area = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3], stats[:, 4]
    touches_border = (x == 0) | (y == 0) | (x + w == width) | (y + h == height)
    small_hole = (~touches_border) & (area <= max_area)
    small_hole[0] = False  # label 0 is the mask itself
    return mask | small_hole[labels]


def remove_small_components(mask: np.ndarray, min_area: int) -> np.ndarray:
    if min_area <= 1 or not mask.any():
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return keep[labels]


def mask_from_difference(
    meme: np.ndarray, template: np.ndarray, threshold: float = DIFF_THRESHOLD, dilation: int | None = None
) -> np.ndarray:
    """The caption mask (H×W bool) of a meme given its blank template of the same size.

    Per pixel the largest absolute difference over the channels, lightly blurred (JPEG noise and resampling
    edges fall below the threshold; thin strokes stay above it), above `threshold`; then a morphological close
    joins letters and their outlines, enclosed holes the size of glyph counters are filled (white letters over a
    white template region differ only by their outline), a small dilation covers anti-aliased edges, and tiny
    specks are dropped. Kernel sizes scale with the picture (they are tuned at a 500-pixel long side).
    """
    meme = np.asarray(meme)
    template = np.asarray(template)
    if meme.shape != template.shape or meme.ndim != 3 or meme.shape[2] != 3:
        raise ValueError(f"meme and template must be H×W×3 of one size, got {meme.shape} and {template.shape}")
    height, width = meme.shape[:2]
    scale = max(height, width) / 500.0
    difference = np.abs(meme.astype(np.int16) - template.astype(np.int16)).max(axis=2).astype(np.uint8)
    difference = cv2.GaussianBlur(difference, (3, 3), 0)
    mask = difference > threshold
    if not mask.any():
        return mask
    radius = int(round(max(1.0, 1.5 * scale))) if dilation is None else int(dilation)
    return tidy_difference_mask(mask, scale, radius)


def tidy_difference_mask(mask: np.ndarray, scale: float, dilation: int) -> np.ndarray:
    """A thresholded meme/template difference made a caption mask: a close joins letters and outlines, holes the
    size of glyph counters are filled, `dilation` px cover anti-aliased edges, specks are dropped. `scale` is the
    long side / 500 (the kernels were tuned at a 500-pixel long side)."""
    close = _odd(max(3.0, 5 * scale))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close, close))
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, kernel).astype(bool)
    mask = fill_holes(mask, max_area=int(max(64, 1500 * scale * scale)))
    if dilation > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilation + 1, 2 * dilation + 1))
        mask = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    return remove_small_components(mask, min_area=int(max(12, 40 * scale * scale)))


def resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _read_rgb(path: Path) -> np.ndarray:
    """RGB uint8 of an image file (EXIF orientation applied, alpha flattened onto white)."""
    from ..files.imageio import load_image

    loaded = load_image(path)
    rgb = loaded.rgb
    if loaded.alpha is not None:
        alpha = loaded.alpha.astype(np.float32)[..., None] / 255.0
        rgb = (rgb.astype(np.float32) * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    return rgb


def find_pairs(root: Path) -> list[tuple[Path, Path]]:
    """(meme, template) paths of a pairs folder: templates/<name>.<ext> and memes/<name>/*.<ext>."""
    templates_dir, memes_dir = root / "templates", root / "memes"
    if not templates_dir.is_dir() or not memes_dir.is_dir():
        return []
    templates = {
        p.stem: p for p in sorted(templates_dir.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    }
    pairs = []
    for name, template in sorted(templates.items()):
        folder = memes_dir / name
        if folder.is_dir():
            pairs += [
                (p, template) for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            ]
    return pairs


class PairSource:
    """Samples (meme, template, mask) from a prepared `pairs/` folder (or a data folder that holds one)."""

    def __init__(self, root: Path, cache_size: int = 24):
        root = Path(root)
        if not (root / "templates").is_dir() and (root / "pairs").is_dir():
            root = root / "pairs"
        self.root = root
        self.pairs = find_pairs(root)
        if not self.pairs:
            raise MemeCleanError(
                f"no meme/template pairs in '{root}' (expected templates/<name>.png and memes/<name>/<i>.jpg)"
            )
        self.rejected: set[int] = set()  # misaligned or unreadable pairs: never drawn again (per process)
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self.pairs)

    def load_pair(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(meme, template, mask) at the meme's own size, or None when the pair is unusable."""
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        meme_path, template_path = self.pairs[index]
        try:
            meme, template = _read_rgb(meme_path), _read_rgb(template_path)
        except ImageLoadError:
            return None
        height, width = meme.shape[:2]
        t_height, t_width = template.shape[:2]
        if abs((width / height) / (t_width / t_height) - 1.0) > MAX_ASPECT_MISMATCH:
            return None
        template = cv2.resize(
            template, (width, height), interpolation=cv2.INTER_AREA if t_width > width else cv2.INTER_CUBIC
        )
        mask = mask_from_difference(meme, template)
        if mask.mean() > MAX_MASK_FRACTION:
            return None
        self._cache[index] = (meme, template, mask)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return meme, template, mask

    def sample(self, rng: np.random.Generator, long_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(meme RGB uint8, template RGB uint8, mask bool), all H×W with the given long side."""
        for _ in range(256):
            if len(self.rejected) >= len(self.pairs):
                break
            index = int(rng.integers(len(self.pairs)))
            if index in self.rejected:
                continue
            loaded = self.load_pair(index)
            if loaded is None:
                self.rejected.add(index)
                continue
            meme, template, mask = loaded
            meme_out = resize_long_side(meme, long_side)
            size = (meme_out.shape[1], meme_out.shape[0])
            template_out = cv2.resize(
                template, size, interpolation=cv2.INTER_AREA if size[0] < template.shape[1] else cv2.INTER_CUBIC
            )
            shrink = size[0] < mask.shape[1]
            mask_out = (
                cv2.resize(
                    mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
                )
                >= 128
            )
            return meme_out, template_out, mask_out
        raise MemeCleanError(
            f"no usable meme/template pair in '{self.root}' "
            f"({len(self.rejected)} of {len(self.pairs)} rejected as misaligned or unreadable)"
        )
