"""Multi-panel validation cases for the structure-keeping fill: comic-style grids of pictures separated by black or
white borders, with a caption laid across a border. Not a benchmark itself (`bench/bench_structure_fill.py` uses
it); the evaluation formats of `memeclean eval` may replace it.

Each case is (meme, template, caption mask, border mask): the border mask marks the border pixels, so "border
intact" can be measured where the caption covered them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import _common  # noqa: F401 - puts the repository root on sys.path
import numpy as np
from PIL import Image


@dataclass
class PanelCase:
    name: str
    meme: np.ndarray
    template: np.ndarray
    mask: np.ndarray  # the caption
    border: np.ndarray  # the panel borders


def panel_grid(pictures, rng: np.random.Generator, long_side: int) -> tuple[np.ndarray, np.ndarray]:
    """(template, border mask): 1×2, 2×1 or 2×2 panels of pictures inside borders of one colour."""
    rows, cols = [(1, 2), (2, 1), (2, 2)][int(rng.integers(3))]
    aspect = cols / rows * rng.uniform(0.8, 1.3)
    width, height = (long_side, int(long_side / aspect)) if aspect >= 1 else (int(long_side * aspect), long_side)
    thickness = int(rng.integers(max(3, long_side // 250), max(5, long_side // 70)))
    colour = (0, 0, 0) if rng.random() < 0.6 else (255, 255, 255)
    template = np.empty((height, width, 3), np.uint8)
    template[:] = colour
    border = np.ones((height, width), bool)
    xs = np.linspace(thickness, width, cols + 1).astype(int)
    ys = np.linspace(thickness, height, rows + 1).astype(int)
    for r in range(rows):
        for c in range(cols):
            x0, x1, y0, y1 = xs[c], xs[c + 1] - thickness, ys[r], ys[r + 1] - thickness
            picture = pictures.sample(rng, max(x1 - x0, y1 - y0))
            picture = np.asarray(Image.fromarray(picture).resize((x1 - x0, y1 - y0), Image.LANCZOS))
            template[y0:y1, x0:x1] = picture
            border[y0:y1, x0:x1] = False
    return template, border


def caption_across_border(template: np.ndarray, border: np.ndarray, fonts, rng: np.random.Generator):
    """A classic (white, black outline) or black caption centred on an inner border line. Returns (meme, mask)."""
    from memeclean_core.data.synth import CaptionStyle, composite_at, draw_block, jpeg, random_text, wrap_lines

    height, width = border.shape
    column_share = border[border.shape[0] // 4 : 3 * border.shape[0] // 4].mean(axis=0)
    row_share = border[:, border.shape[1] // 4 : 3 * border.shape[1] // 4].mean(axis=1)
    vertical = np.flatnonzero(column_share > 0.9)
    vertical = vertical[(vertical > width // 8) & (vertical < width - width // 8)]
    horizontal = np.flatnonzero(row_share > 0.9)
    horizontal = horizontal[(horizontal > height // 8) & (horizontal < height - height // 8)]
    size = int(height * rng.uniform(0.06, 0.11))
    font = fonts.load(fonts.pick(rng), size)
    style = (
        CaptionStyle((255, 255, 255), (0, 0, 0), float(rng.uniform(0.05, 0.1)), None, True)
        if rng.random() < 0.6
        else CaptionStyle((0, 0, 0), (255, 255, 255), 0.06, None, True)
    )
    lines = wrap_lines(random_text(rng, int(rng.integers(2, 5))).upper(), font, width * 0.8, 2)
    block = draw_block(lines, font, style, "center")
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if len(vertical) and (not len(horizontal) or rng.random() < 0.5):  # across a vertical border
        x = int(vertical.mean()) - block.width // 2
        y = int(rng.integers(0, max(1, height - block.height)))
    else:  # along a horizontal border
        x = (width - block.width) // 2
        y = int(horizontal.mean()) - block.height // 2
    composite_at(layer, block, x, y)
    base = Image.fromarray(template).convert("RGBA")
    meme = np.asarray(Image.alpha_composite(base, layer).convert("RGB"))
    mask = np.asarray(layer.getchannel("A")) >= 24
    if rng.random() < 0.5:
        meme = jpeg(meme, int(rng.integers(60, 96)))
    return meme, mask


def make_panel_cases(data: str | Path, count: int, seed: int = 7, long_sides=(1024, 1280)) -> list[PanelCase]:
    """`count` multi-panel cases from a prepared data folder (pictures and fonts); case i from rng([seed, i])."""
    from memeclean_core.data.backgrounds import BackgroundSource
    from memeclean_core.data.font_pool import FontPool

    pictures, fonts = BackgroundSource.from_folder(data), FontPool.from_folder(data)
    cases = []
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        long_side = long_sides[i % len(long_sides)]
        template, border = panel_grid(pictures, rng, long_side)
        meme, mask = caption_across_border(template, border, fonts, rng)
        cases.append(PanelCase(f"panel-{i:03d}", meme, template, mask, border))
    return cases
