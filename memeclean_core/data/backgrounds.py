"""Clean pictures to draw captions on: a folder of images, clip art on backgrounds, and procedural ones.

Procedural pictures (flat colours, gradients, flat cartoon shapes, noise) teach the network the flat regions that
many meme templates have; clip art composited on a background gives cartoon-like scenes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from ..errors import MemeCleanError
from ..files.file_kinds import is_regular_file
from ..files.filenames import IMAGE_SUFFIXES

CACHE_SIDE = 1600  # pictures are kept in memory at this long side at most


def list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    # regular files only: a named pipe with a picture's name would block the data loader forever
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and is_regular_file(p))


def random_crop_resized(picture: np.ndarray, rng: np.random.Generator, long_side: int) -> np.ndarray:
    """A random crop (aspect 0.55–1.8, 35–100 % of the area) resized so its long side is `long_side`."""
    height, width = picture.shape[:2]
    aspect = float(np.exp(rng.uniform(np.log(0.55), np.log(1.8))))
    area = rng.uniform(0.35, 1.0) * width * height
    crop_w = int(min(width, np.sqrt(area * aspect)))
    crop_h = int(min(height, crop_w / aspect))
    x = int(rng.integers(0, width - crop_w + 1))
    y = int(rng.integers(0, height - crop_h + 1))
    crop = picture[y : y + crop_h, x : x + crop_w]
    scale = long_side / max(crop_w, crop_h)
    size = (max(1, round(crop_w * scale)), max(1, round(crop_h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out = cv2.resize(crop, size, interpolation=interpolation)
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def procedural(rng: np.random.Generator, long_side: int) -> np.ndarray:
    aspect = float(np.exp(rng.uniform(np.log(0.6), np.log(1.7))))
    if aspect >= 1:
        width, height = long_side, max(1, int(long_side / aspect))
    else:
        width, height = max(1, int(long_side * aspect)), long_side
    kind = rng.choice(["flat", "gradient", "shapes", "noise"], p=[0.2, 0.25, 0.4, 0.15])
    colour = lambda: tuple(int(v) for v in rng.integers(0, 256, 3))  # noqa: E731
    if kind == "flat":
        return np.full((height, width, 3), colour(), np.uint8)
    if kind == "noise":
        small = rng.integers(0, 256, (max(2, height // 32), max(2, width // 32), 3)).astype(np.uint8)
        return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    t = np.linspace(0, 1, height if rng.random() < 0.6 else width, dtype=np.float32)
    a, b = np.array(colour(), np.float32), np.array(colour(), np.float32)
    ramp = (a[None] * (1 - t[:, None]) + b[None] * t[:, None]).astype(np.uint8)
    gradient = np.broadcast_to(ramp[:, None] if len(t) == height else ramp[None], (height, width, 3)).copy()
    if kind == "gradient":
        return gradient
    image = Image.fromarray(gradient)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 14))):  # flat cartoon shapes with dark outlines
        x0, y0 = int(rng.integers(-width // 4, width)), int(rng.integers(-height // 4, height))
        x1 = x0 + int(rng.integers(width // 10, width // 2 + 2))
        y1 = y0 + int(rng.integers(height // 10, height // 2 + 2))
        outline_width = int(rng.integers(0, max(1, long_side // 120)))
        shape = rng.choice(["ellipse", "rectangle", "polygon"])
        if shape == "polygon":
            points = [(int(rng.integers(x0, x1)), int(rng.integers(y0, y1))) for _ in range(int(rng.integers(3, 7)))]
            draw.polygon(points, fill=colour(), outline=(20, 20, 20), width=outline_width)
        else:
            getattr(draw, shape)((x0, y0, x1, y1), fill=colour(), outline=(20, 20, 20), width=outline_width)
    return np.asarray(image)


class BackgroundSource:
    """Draws clean pictures: photos from a folder, clip-art scenes and procedural pictures."""

    def __init__(self, images: list[Path], clipart: list[Path] = (), procedural_fraction: float = 0.15):
        self.images = list(images)
        self.clipart = list(clipart)
        self.procedural_fraction = procedural_fraction if self.images else 1.0
        self._cache: dict[Path, np.ndarray] = {}  # decoded pictures, per process
        self._clipart_cache: dict[Path, np.ndarray | None] = {}  # <= 512 px arrays for clipart_pictures
        self._decoded_clipart: dict[Path, Image.Image] = {}  # full size: a PNG decode cost a tenth of a crop

    @classmethod
    def from_folder(cls, root: str | Path, procedural_fraction: float = 0.15) -> BackgroundSource:
        root = Path(root)
        images = list_images(root / "images")
        if not images and not root.is_dir():
            raise MemeCleanError(f"training data folder not found: '{root}'")
        return cls(images, list_images(root / "clipart"), procedural_fraction)

    def picture(self, path: Path) -> np.ndarray | None:
        """The decoded picture (cached), or None when it cannot be read: it is dropped, training goes on."""
        if path not in self._cache:
            try:
                with Image.open(path) as image:
                    image = ImageOps.exif_transpose(image).convert("RGB")
                    image.thumbnail((CACHE_SIDE, CACHE_SIDE), Image.LANCZOS)
                    self._cache[path] = np.asarray(image)
            except Exception:  # noqa: BLE001 - truncated, corrupt, vanished: Pillow raises many types
                self.images.remove(path)
                if not self.images:
                    raise MemeCleanError(f"none of the pictures in '{path.parent}' can be read") from None
                return None
        return self._cache[path]

    def sample(self, rng: np.random.Generator, long_side: int) -> np.ndarray:
        if rng.random() < self.procedural_fraction:
            picture = procedural(rng, long_side)
        else:
            found = None
            while found is None:  # a picture that does not decode is dropped and another drawn
                found = self.picture(self.images[rng.integers(len(self.images))])
            picture = random_crop_resized(found, rng, long_side)
        if self.clipart and rng.random() < 0.2:
            picture = self.paste_clipart(picture, rng)
        return picture

    def clipart_pictures(self, rng: np.random.Generator, count: int) -> list[np.ndarray]:
        """Up to `count` random clip-art pictures as RGBA arrays (long side <= 512, decoded once per process)."""
        pictures = []
        for _ in range(count if self.clipart else 0):
            path = self.clipart[rng.integers(len(self.clipart))]
            if path not in self._clipart_cache:
                try:
                    art = self.decoded_clipart(path).copy()
                    art.thumbnail((512, 512), Image.LANCZOS)
                    self._clipart_cache[path] = np.asarray(art)
                except Exception:  # noqa: BLE001 - as in picture(): an unreadable clip art is simply not used
                    self._clipart_cache[path] = None
            if self._clipart_cache[path] is not None:
                pictures.append(self._clipart_cache[path])
        return pictures

    def decoded_clipart(self, path: Path) -> Image.Image:
        """The clip art at `path` as RGBA at full size, decoded once per process (raises when it cannot be read)."""
        if path not in self._decoded_clipart:
            with Image.open(path) as art:
                self._decoded_clipart[path] = art.convert("RGBA")
        return self._decoded_clipart[path]

    def paste_clipart(self, picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        art = self.decoded_clipart(self.clipart[rng.integers(len(self.clipart))])
        height, width = picture.shape[:2]
        scale = rng.uniform(0.3, 0.9) * min(width / art.width, height / art.height)
        art = art.resize((max(1, int(art.width * scale)), max(1, int(art.height * scale))), Image.LANCZOS)
        base = Image.fromarray(picture).convert("RGBA")
        at = (int(rng.integers(0, width - art.width + 1)), int(rng.integers(0, height - art.height + 1)))
        base.alpha_composite(art, at)
        return np.asarray(base.convert("RGB"))
