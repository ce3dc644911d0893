"""Regenerate the bundled sample meme and its true text mask (run from the repository root).

    python3 resources/samples/make_sample.py

The picture is procedural (`memeclean_core.data.backgrounds.procedural`) and the captions are drawn by the
training renderer (`memeclean_core.data.synth.draw_block`) with the bundled Anton font, so everything here is
ours to redistribute. The mask marks every pixel the caption touched (alpha >= 24, as in training).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from memeclean_core.data.backgrounds import procedural
from memeclean_core.data.font_pool import load_boldest_font
from memeclean_core.data.synth import CaptionStyle, composite_at, draw_block
from memeclean_core.resources import resource_path

HERE = Path(__file__).resolve().parent
NAME = "sample-meme"
SEED = 15
SIZE = (600, 450)
TOP, BOTTOM = "WHEN THE BUILD", "FINALLY PASSES"
JPEG_QUALITY = 90


def background(seed: int, size: tuple[int, int]) -> np.ndarray:
    """A procedural picture cropped/resized to `size` (width, height)."""
    picture = procedural(np.random.default_rng(seed), max(size) * 2)
    image = Image.fromarray(picture)
    scale = max(size[0] / image.width, size[1] / image.height)
    image = image.resize((round(image.width * scale) + 1, round(image.height * scale) + 1), Image.LANCZOS)
    left, top = (image.width - size[0]) // 2, (image.height - size[1]) // 2
    return np.asarray(image.crop((left, top, left + size[0], top + size[1])).convert("RGB"))


def make_sample(seed: int = SEED, size: tuple[int, int] = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(meme RGB uint8, mask bool): classic white-on-black-outline captions at the top and the bottom."""
    width, height = size
    base = Image.fromarray(background(seed, size)).convert("RGBA")
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    font = load_boldest_font(str(resource_path("fonts", "Anton-Regular.ttf")), round(height * 0.13))
    style = CaptionStyle(fill=(255, 255, 255), outline=(0, 0, 0), outline_ratio=0.08, shadow=None, uppercase=True)
    for text, placement in ((TOP, "top"), (BOTTOM, "bottom")):
        block = draw_block([text], font, style, align="center")
        y = 6 if placement == "top" else height - block.height - 6
        composite_at(layer, block, (width - block.width) // 2, y)
    meme = np.asarray(Image.alpha_composite(base, layer).convert("RGB"))
    mask = np.asarray(layer.getchannel("A")) >= 24
    return meme, mask


def main() -> None:
    meme, mask = make_sample()
    Image.fromarray(meme).save(HERE / f"{NAME}.jpg", quality=JPEG_QUALITY, optimize=True)
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(HERE / f"{NAME}.mask.png", optimize=True)
    print(f"wrote {NAME}.jpg and {NAME}.mask.png ({mask.mean():.1%} text)")


if __name__ == "__main__":
    main()
