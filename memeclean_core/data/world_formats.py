"""The formats v3 was not built for (issue #25): captions in every script, on white canvases, on line art, beside
fine textures; and line art without a caption, where every replaced pixel is collateral.

`make_world_meme(fmt, picture, fonts, rng)` returns (meme, template, mask); `formats.make_format_meme` hands these
formats on to it and returns them as a `FormatMeme`:

- "script_<name>" (one per `scripts.SCRIPTS`): captions in that script in the styles people use: outlined
  top/bottom text (Impact-like or bold sans), coloured labels, subtitles (a line or two low in the picture, white
  or yellow with a thin outline or a shadow) and, for Japanese, vertical columns now and then. Words are real words
  of the script (`scripts.words`), fonts those of the pool that draw it (`FontPool.pick_for`).
- "white_canvas": the picture inset on a white or flat canvas (`drawings.inset_canvas`), captions over the canvas
  and over the picture, in the classic outlined style or as plain dark (or light on a dark canvas) text.
- "line_art": a drawing (`drawings.line_art`) with captions over and beside its lines.
- "line_art_clean": the same kind of drawing without a caption (meme == template, empty mask).
- "fine_texture": a picture with grass, reeds, stripes or text-like marks (`drawings.fine_texture`) and captions
  next to and over them.

Pure functions of their inputs and the generator, as everything in `data/`.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .drawings import fine_texture, inset_canvas, line_art
from .font_pool import FontPool
from .scripts import NON_LATIN, SCRIPTS, drawable_words, random_words, vertical_block, wrap_words
from .synth import CaptionStyle, composite_at, draw_block, jpeg, place_caption, sample_style

SCRIPT_FORMATS = tuple(f"script_{script}" for script in SCRIPTS)
WORLD_FORMATS = ("white_canvas", "line_art", "line_art_clean", "fine_texture", *SCRIPT_FORMATS)
SCRIPT_STYLES = ("classic", "label", "subtitle")
CASED = ("latin", "cyrillic", "greek")  # scripts with capital letters: meme captions are often all caps
MASK_ALPHA = 24  # as formats.MASK_ALPHA: below ~10 % coverage a pixel is not visibly changed


def subtitle_style(rng: np.random.Generator) -> CaptionStyle:
    fill = (255, 255, 255) if rng.random() < 0.65 else (255, 230, 40)
    if rng.random() < 0.6:
        return CaptionStyle(fill, (0, 0, 0), float(rng.uniform(0.04, 0.09)), None, False)
    shadow = (int(rng.integers(2, 6)), int(rng.integers(2, 6)), float(rng.uniform(0, 4)))
    return CaptionStyle(fill, None, 0.0, shadow, False)


def place_script_caption(
    layer: Image.Image, fonts: FontPool, rng: np.random.Generator, script: str, style_kind: str
) -> None:
    """One caption in `script` and style `style_kind` ("classic" top or bottom, "label" anywhere, "subtitle" low
    and centred, or "vertical" for Japanese) drawn onto the RGBA `layer`; Latin captions when no font of the
    pool draws the script."""
    width, height = layer.size
    font_path = fonts.pick_for(rng, script)
    if font_path is None:
        script, font_path = "latin", fonts.pick(rng)
    if style_kind == "subtitle":
        style = subtitle_style(rng)
        relative, count, lines_max, span = rng.uniform(0.035, 0.07), int(rng.integers(2, 8)), 2, 0.9
    elif style_kind == "label":
        style = sample_style(rng, "label")
        relative, count, lines_max, span = rng.uniform(0.03, 0.09), int(rng.integers(1, 4)), 2, 0.6
    else:  # classic and vertical: the outlined meme look
        style = sample_style(rng, "classic" if rng.random() < 0.7 else "inverse")
        relative, count, lines_max, span = rng.uniform(0.05, 0.14), int(rng.integers(2, 9)), 3, 0.94
    font = fonts.load(font_path, max(10, int(relative * height)))
    items = drawable_words(random_words(rng, script, count), font_path) or random_words(rng, "latin", count)
    if script in CASED and style.uppercase:
        items = [word.upper() for word in items]
    stroke = max(1, round(style.outline_ratio * font.size)) if style.outline else 0
    if style_kind == "vertical":
        lines = wrap_words(items, script, font, height * 0.8, max_lines=3)
        block = vertical_block(lines, font, style.fill, stroke, style.outline)
        x = 0 if rng.random() < 0.5 else width - block.width
        composite_at(
            layer, block, x + int(rng.integers(0, max(1, width // 30))), int(rng.integers(0, max(1, height // 10)))
        )
        return
    lines = wrap_words(items, script, font, width * span * rng.uniform(0.7, 1.0), max_lines=lines_max)
    longest = max(font.getlength(line) for line in lines)
    if longest > width * span:
        font = fonts.load(font_path, max(10, int(font.size * width * span / longest)))
    align = "right" if script in ("arabic", "hebrew") and style_kind == "label" else "center"
    block = draw_block(lines, font, style, align=align)
    if style_kind == "label":
        x = int(rng.integers(-block.width // 8, max(1, width - block.width * 7 // 8)))
        y = int(rng.integers(0, max(1, height - block.height)))
    else:
        x = (width - block.width) // 2
        low = height - block.height - int(rng.uniform(0.02, 0.08 if style_kind == "subtitle" else 0.03) * height)
        y = low if style_kind == "subtitle" or rng.random() < 0.5 else int(rng.integers(0, max(1, height // 30)))
    composite_at(layer, block, x, y)


def script_captions(layer: Image.Image, fonts: FontPool, rng: np.random.Generator, script: str) -> None:
    style_kind = str(rng.choice(SCRIPT_STYLES, p=[0.5, 0.25, 0.25]))
    if script == "japanese" and rng.random() < 0.25:
        style_kind = "vertical"
    repeats = 1 if style_kind == "subtitle" else int(rng.integers(1, 3))
    for _ in range(repeats):
        place_script_caption(layer, fonts, rng, script, style_kind)


def plain_text_caption(
    layer: Image.Image, fonts: FontPool, rng: np.random.Generator, dark: bool, rows: np.ndarray | None = None
) -> None:
    """Sentence-case text in a regular or bold font, dark (or light), no outline: a caption typed on a canvas;
    `rows` (H bool): where the canvas is, so the text goes there when it fits (text that nobody could read on
    the picture is no caption)."""
    width, height = layer.size
    grey = int(rng.integers(0, 50)) if dark else int(rng.integers(215, 256))
    style = CaptionStyle((grey, grey, grey), None, 0.0, None, False)
    font = fonts.load(fonts.pick(rng), max(10, int(rng.uniform(0.035, 0.08) * height)))
    items = random_words(rng, "latin", int(rng.integers(3, 14)))
    lines = wrap_words(items, "latin", font, width * rng.uniform(0.6, 0.92), max_lines=3)
    lines[0] = lines[0][:1].upper() + lines[0][1:]
    block = draw_block(lines, font, style, align="center" if rng.random() < 0.5 else "left")
    x = int(rng.integers(0, max(1, width - block.width)))
    y = int(rng.integers(0, max(1, height - block.height)))
    if rows is not None:
        # tops from which the whole block lies on canvas rows
        fits = np.convolve(rows.astype(np.int32), np.ones(block.height, np.int32), "valid") == block.height
        if fits.any():
            y = int(rng.choice(np.flatnonzero(fits)))
    composite_at(layer, block, x, y)


def _canvas_captions(layer: Image.Image, template: np.ndarray, fonts: FontPool, rng: np.random.Generator) -> None:
    canvas_dark = float(template[:2].mean()) < 100
    canvas_rows = np.all(template == template[:1, :1], axis=(1, 2))
    for _ in range(int(rng.integers(1, 3))):
        if rng.random() < 0.55:
            kind = "classic" if rng.random() < 0.8 else "inverse"
            place_caption(layer, fonts, rng, kind, str(rng.choice(["top", "bottom"])), fonts.pick(rng))
        else:
            plain_text_caption(layer, fonts, rng, dark=not canvas_dark, rows=canvas_rows)


def _drawing_captions(layer: Image.Image, fonts: FontPool, rng: np.random.Generator) -> None:
    for _ in range(int(rng.integers(1, 3))):
        roll = rng.random()
        if roll < 0.5:
            kind = str(rng.choice(["classic", "inverse"], p=[0.7, 0.3]))
            place_caption(layer, fonts, rng, kind, str(rng.choice(["top", "bottom"])), fonts.pick(rng))
        elif roll < 0.75:
            place_caption(layer, fonts, rng, "label", "anywhere", fonts.pick(rng))
        else:
            plain_text_caption(layer, fonts, rng, dark=True)


def make_world_meme(
    fmt: str,
    picture: np.ndarray,
    fonts: FontPool,
    rng: np.random.Generator,
    *,
    jpeg_probability: float = 0.6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(meme, template, mask) of one of WORLD_FORMATS from `picture` (H×W×3 uint8 at the target size)."""
    if fmt not in WORLD_FORMATS:
        raise ValueError(f"unknown meme format {fmt!r}; expected one of {', '.join(WORLD_FORMATS)}")
    height, width = picture.shape[:2]
    if fmt.startswith("line_art"):
        template = line_art(rng, width, height, fonts)
    elif fmt == "white_canvas":
        template = inset_canvas(picture, rng)
    elif fmt == "fine_texture":
        template = fine_texture(picture, rng, fonts)
    else:
        template = np.ascontiguousarray(picture[..., :3])
    if fmt == "line_art_clean":
        if rng.random() < jpeg_probability:
            template = jpeg(template, int(rng.integers(35, 96)))
        return template.copy(), template, np.zeros((height, width), bool)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if fmt == "white_canvas":
        _canvas_captions(layer, template, fonts, rng)
    elif fmt in ("line_art", "fine_texture"):
        _drawing_captions(layer, fonts, rng)
    else:
        script_captions(layer, fonts, rng, fmt.removeprefix("script_"))
    meme = np.asarray(Image.alpha_composite(Image.fromarray(template).convert("RGBA"), layer).convert("RGB"))
    mask = np.asarray(layer.getchannel("A")) >= MASK_ALPHA
    if rng.random() < jpeg_probability:
        meme = jpeg(meme, int(rng.integers(35, 96)))
    return meme, template, mask


def random_script(rng: np.random.Generator) -> str:
    """A non-Latin script for a training caption, each as likely."""
    return NON_LATIN[int(rng.integers(len(NON_LATIN)))]
