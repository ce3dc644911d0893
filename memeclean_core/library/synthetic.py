"""Generated pictures for the library's tests and benchmark: distinct textured templates and memes made of them.

A template is a deterministic function of its seed (cartoon shapes over a smooth noise field, the kind of picture
local features find again); `meme_from` captions a copy, resizes it, crops it a little and re-compresses it, as
memes found on the web are.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw


def textured_picture(seed: int, width: int = 480, height: int = 360) -> np.ndarray:
    """A distinct picture per seed (RGB uint8, H×W×3)."""
    rng = np.random.default_rng([7919, seed])
    # two octaves of smooth noise, mostly in brightness (what features see), a little in colour
    base = np.zeros((height, width, 3), np.float32)
    for cells, weight in ((6, 0.65), (20, 0.35)):
        grey = rng.random((cells, max(2, cells * width // height)), dtype=np.float32)
        tint = rng.random((cells, max(2, cells * width // height), 3), dtype=np.float32)
        layer = 0.75 * grey[..., None] + 0.25 * tint
        base += weight * cv2.resize(layer, (width, height), interpolation=cv2.INTER_CUBIC)
    base = (base.clip(0, 1) * 255).astype(np.uint8)
    image = Image.fromarray(base)
    draw = ImageDraw.Draw(image)
    colour = lambda: tuple(int(v) for v in rng.integers(0, 256, 3))  # noqa: E731
    for _ in range(int(rng.integers(30, 60))):
        x0, y0 = int(rng.integers(-width // 8, width)), int(rng.integers(-height // 8, height))
        x1 = x0 + int(rng.integers(width // 20, width // 3))
        y1 = y0 + int(rng.integers(height // 20, height // 3))
        kind = rng.integers(4)
        outline = colour() if rng.random() < 0.5 else (20, 20, 20)
        line = int(rng.integers(1, 4))
        if kind == 0:
            draw.ellipse((x0, y0, x1, y1), fill=colour(), outline=outline, width=line)
        elif kind == 1:
            draw.rectangle((x0, y0, x1, y1), fill=colour(), outline=outline, width=line)
        elif kind == 2:
            points = [(int(rng.integers(x0, x1)), int(rng.integers(y0, y1))) for _ in range(int(rng.integers(3, 7)))]
            draw.polygon(points, fill=colour(), outline=outline)
        else:
            draw.line((x0, y0, x1, y1), fill=colour(), width=int(rng.integers(2, 7)))
    return np.asarray(image)


def resize_crop(image: np.ndarray, scale: float, crop: tuple[float, float, float, float]) -> np.ndarray:
    """Crop (left, top, right, bottom as fractions of the size to cut away), then resize by `scale`."""
    height, width = image.shape[:2]
    left, top = int(round(crop[0] * width)), int(round(crop[1] * height))
    right, bottom = width - int(round(crop[2] * width)), height - int(round(crop[3] * height))
    cut = image[top:bottom, left:right]
    size = (max(8, round(cut.shape[1] * scale)), max(8, round(cut.shape[0] * scale)))
    return cv2.resize(cut, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def meme_from(
    template: np.ndarray,
    seed: int,
    scale: float = 1.0,
    crop: tuple[float, float, float, float] = (0, 0, 0, 0),
    quality: int | None = 75,
) -> tuple[np.ndarray, np.ndarray]:
    """(meme, caption mask) at the meme's geometry: a random caption (the synthetic-data styles) drawn on the
    template, then cropped, resized and JPEG re-compressed."""
    from ..data.font_pool import FontPool
    from ..data.synth import caption_image, jpeg
    from ..resources import resource_path

    rng = np.random.default_rng([104729, seed])
    fonts = FontPool([resource_path("fonts", "Anton-Regular.ttf")])
    captioned, mask = caption_image(template, fonts, rng)
    while mask.mean() > 0.35:  # a caption over most of the picture is no meme
        captioned, mask = caption_image(template, fonts, rng)
    meme = resize_crop(captioned, scale, crop)
    mask = resize_crop(mask.astype(np.uint8) * 255, scale, crop) >= 128
    if quality is not None:
        meme = jpeg(meme, quality)
    return meme, mask
