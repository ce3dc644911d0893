"""Synthetic memes: captions drawn on clean pictures, with the exact mask of every pixel the caption touched.

Styles follow what real memes carry: classic uppercase white Impact-style text with a black outline at the top and
bottom, black text with a white outline, coloured labels anywhere, drop shadows; small to huge sizes, varied
outlines, slight rotation, JPEG re-compression. Sizes are relative to the picture, and the picture is scaled so
that its long side spans the resolution slider: the network sees captions at the pixel sizes it meets in use.

Everything here is a pure function of its inputs and a `numpy.random.Generator`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .font_pool import FontPool

WORDS = (
    "when you the me my i to and of a in is it that for on with this your be at have not are but so just like "
    "what all me when finally nobody everyone monday friday cat dog boss code bug deploy coffee sleep work home "
    "one does simply walk into mordor brace yourselves winter coming meme template clean caption text again why "
    "how much wow such very many good bad great nice wait what really yes no maybe always never today tomorrow "
    "teacher student exam homework weekend party pizza tax money time people thing life world day night year "
    "because actually literally me irl expectation reality trust plan nothing everything change mind success "
    "kid parents mom dad friend brother sister internet phone battery wifi update error production friday deploy"
).split()


@dataclass(frozen=True)
class CaptionStyle:
    fill: tuple[int, int, int]
    outline: tuple[int, int, int] | None
    outline_ratio: float  # stroke width / font size
    shadow: tuple[int, int, float] | None  # (dx, dy in font-size hundredths, blur radius in font-size hundredths)
    uppercase: bool


def random_text(rng: np.random.Generator, words: int) -> str:
    text = " ".join(str(rng.choice(WORDS)) for _ in range(words))
    if rng.random() < 0.15:
        text += str(rng.choice(["!", "?", "...", "!!", " 100%", " 2024", " #1"]))
    return text


def random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    hsv = (int(rng.integers(256)), int(rng.integers(150, 256)), int(rng.integers(120, 256)))
    hue_rgb = np.array(Image.new("HSV", (1, 1), hsv).convert("RGB"))
    return tuple(int(v) for v in hue_rgb[0, 0])


def sample_style(rng: np.random.Generator, kind: str) -> CaptionStyle:
    white, black = (255, 255, 255), (0, 0, 0)
    near_white = tuple(int(v) for v in 255 - rng.integers(0, 12, 3))
    if kind == "classic":
        return CaptionStyle(near_white, black, float(rng.uniform(0.03, 0.13)), None, True)
    if kind == "inverse":  # black text, white (or no) outline
        outline = white if rng.random() < 0.7 else None
        return CaptionStyle(black, outline, float(rng.uniform(0.03, 0.12)), None, rng.random() < 0.6)
    if kind == "shadow":
        fill = near_white if rng.random() < 0.6 else random_colour(rng)
        shadow = (int(rng.integers(3, 10)), int(rng.integers(3, 10)), float(rng.uniform(0, 6)))
        outline = black if rng.random() < 0.3 else None
        return CaptionStyle(fill, outline, float(rng.uniform(0.02, 0.08)), shadow, rng.random() < 0.7)
    if kind == "heavy":  # training only: an outline the colour of the letters, extra-bold text (see render_labels)
        fill = random_colour(rng) if rng.random() < 0.5 else (black if rng.random() < 0.5 else white)
        return CaptionStyle(fill, fill, float(rng.uniform(0.03, 0.13)), None, rng.random() < 0.5)
    # "label": coloured text placed on the picture, with or without an outline
    fill = random_colour(rng) if rng.random() < 0.7 else (black if rng.random() < 0.5 else white)
    outline = None if rng.random() < 0.4 else (black if rng.random() < 0.6 else white)
    return CaptionStyle(fill, outline, float(rng.uniform(0.03, 0.12)), None, rng.random() < 0.5)


def wrap_lines(text: str, font: ImageFont.FreeTypeFont, max_width: float, max_lines: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(lines[-1] + " " + word) <= max_width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines[:max_lines]


def draw_block(lines: list[str], font: ImageFont.FreeTypeFont, style: CaptionStyle, align: str) -> Image.Image:
    """The caption block on a transparent RGBA canvas, tightly sized, shadow included."""
    size = font.size
    stroke = max(1, round(style.outline_ratio * size)) if style.outline else 0
    line_height = round(size * 1.12)
    widths = [font.getlength(line) for line in lines]
    margin = stroke + (int(size * 0.12) + 2 if style.shadow else 0) + 4
    width = int(max(widths)) + 2 * margin
    height = line_height * len(lines) + int(size * 0.35) + 2 * margin
    block = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(block)
    for i, (line, line_width) in enumerate(zip(lines, widths)):
        x = {"left": margin, "right": width - margin - line_width}.get(align, (width - line_width) / 2)
        draw.text(
            (x, margin + i * line_height),
            line,
            font=font,
            fill=style.fill + (255,),
            stroke_width=stroke,
            stroke_fill=(style.outline + (255,)) if style.outline else None,
        )
    if style.shadow is None:
        return block
    dx, dy, blur = (round(v * size / 100) for v in style.shadow)
    shadow_alpha = block.getchannel("A").transform(block.size, Image.AFFINE, (1, 0, -dx, 0, 1, -dy))
    if blur > 0:
        shadow_alpha = shadow_alpha.filter(ImageFilter.GaussianBlur(blur))
    shadow = Image.new("RGBA", block.size, (0, 0, 0, 0))
    shadow.putalpha(shadow_alpha.point(lambda a: int(a * 0.85)))
    return Image.alpha_composite(shadow, block)


def render_caption_layer(size: tuple[int, int], fonts: FontPool, rng: np.random.Generator) -> Image.Image:
    """An RGBA layer of `size` holding one meme's captions (its alpha is where the caption touched)."""
    width, height = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    kind = str(rng.choice(["classic", "inverse", "shadow", "label"], p=[0.45, 0.15, 0.15, 0.25]))
    if kind in ("classic", "inverse") or (kind == "shadow" and rng.random() < 0.5):
        layouts = (["top"], ["bottom"], ["top", "bottom"])
        placements = layouts[rng.choice(3, p=[0.2, 0.25, 0.55])]
    else:
        placements = ["anywhere"] * int(rng.integers(1, 4))
    font_path = fonts.pick(rng)
    for placement in placements:
        place_caption(layer, fonts, rng, kind, placement, font_path)
    return layer


def render_labels(size: tuple[int, int], fonts: FontPool, rng: np.random.Generator) -> Image.Image:
    """Training only: 1–3 labels anywhere on the picture, half of them "heavy" (outlined in their own colour).

    The label style draws such text now and then (same-coloured fill and outline), and it is the text a model
    trained among hard negatives learns to leave: solid black or white words look like a printed sign or a badge.
    Drawn here, not in `sample_style("label")`, so the validation set's labels stay as they were."""
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    font_path = fonts.pick(rng)
    for _ in range(int(rng.integers(1, 4))):
        kind = "heavy" if rng.random() < 0.5 else "label"
        place_caption(layer, fonts, rng, kind, "anywhere", font_path)
    return layer


def place_caption(
    layer: Image.Image,
    fonts: FontPool,
    rng: np.random.Generator,
    kind: str,
    placement: str,
    font_path: str,
    line_height: float | None = None,
) -> None:
    """Draw one random caption of style `kind` onto the RGBA `layer`: at its "top", its "bottom" or "anywhere"
    (a label). The font size is drawn relative to the layer's height unless `line_height` (px) is given."""
    width, height = layer.size
    style = sample_style(rng, kind)
    classic = placement != "anywhere"
    if line_height is None:
        # Line height relative to the picture's height: captions span 4–16 % (up to 24 % now and then), labels less.
        relative = rng.uniform(0.04, 0.16) if classic else rng.uniform(0.025, 0.09)
        if rng.random() < 0.08:
            relative = rng.uniform(0.16, 0.24)
        font_size = max(8, int(relative * height))
    else:
        font_size = max(8, int(line_height / 1.12))  # draw_block's line pitch is 1.12 font sizes
    text = random_text(rng, int(rng.integers(2, 13) if classic else rng.integers(1, 4)))
    text = text.upper() if style.uppercase else text
    font = fonts.load(font_path, font_size)
    max_width = width * rng.uniform(0.6, 0.96) if classic else width * rng.uniform(0.25, 0.7)
    lines = wrap_lines(text, font, max_width, max_lines=3 if classic else 2)
    longest = max(font.getlength(line) for line in lines)
    if longest > max_width:  # shrink to fit, as meme generators do
        font = fonts.load(font_path, max(8, int(font_size * max_width / longest)))
    block = draw_block(lines, font, style, align="center" if classic or rng.random() < 0.6 else "left")
    if rng.random() < (0.15 if classic else 0.5):
        block = block.rotate(float(rng.uniform(-8, 8)), resample=Image.BICUBIC, expand=True)
    jitter = max(1, height // 30)
    if classic:
        x = (width - block.width) // 2 + int(rng.integers(-jitter, jitter + 1))
    else:  # labels may run off an edge a little
        x = int(rng.integers(-block.width // 8, max(1, width - block.width * 7 // 8)))
    y = {
        "top": int(rng.integers(0, jitter)),
        "bottom": height - block.height - int(rng.integers(0, jitter)),
    }.get(placement, int(rng.integers(0, max(1, height - block.height))))
    composite_at(layer, block, x, y)


def composite_at(layer: Image.Image, block: Image.Image, x: int, y: int) -> None:
    """Alpha-composite `block` onto `layer` with its top-left at (x, y), clipping whatever falls outside."""
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(block.width, layer.width - x), min(block.height, layer.height - y)
    if right > left and bottom > top:
        layer.alpha_composite(block.crop((left, top, right, bottom)), (x + left, y + top))


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def caption_image(
    clean: np.ndarray, fonts: FontPool, rng: np.random.Generator, render: Callable = render_caption_layer
) -> tuple[np.ndarray, np.ndarray]:
    """Draw random captions (`render(size, fonts, rng)`, a caption layer) on `clean` (H×W×3 uint8); return (meme,
    mask of every pixel the caption touched)."""
    base = Image.fromarray(clean).convert("RGBA")
    layer = render(base.size, fonts, rng)
    meme = np.asarray(Image.alpha_composite(base, layer).convert("RGB"))
    mask = np.asarray(layer.getchannel("A")) >= 24  # below ~10 % coverage a pixel is not visibly changed
    if rng.random() < 0.6:
        meme = jpeg(meme, int(rng.integers(35, 96)))
    return meme, mask


# The training mix: v1's captions (classic, inverse, shadowed top/bottom text and coloured labels) and the formats
# users meet beyond them (data/formats.py), plus memes with no caption at all; since v4 also captions in the other
# scripts, white canvases, line art with and without captions, and fine textures with and without captions
# (data/world_formats.py). Weights, not probabilities.
TRAINING_MIX = {
    "synth": 0.5,
    "labels": 0.12,  # labels alone, half of them heavy (render_labels): v2 without them left solid-coloured words
    "caption_bar": 0.1,
    # v4's first candidate at 0.07 (v3's formats at 59 % of the mix) lost 1.4 dB on watermarks, v4b at 0.1 1.7 dB;
    # v4c at 0.25 (the card's mix 0.6, fewer hard negatives) missed as many and lost caption bars: v4b's mix stays
    "watermark": 0.1,
    "small": 0.1,
    "multi_panel": 0.1,
    "distractors": 0.1,
    # v4's formats on top of v3's, which keep about two thirds of the draws so the new ones do not cost the old ones
    "scripts": 0.25,  # a non-Latin script, each as likely (world_formats.random_script)
    "white_canvas": 0.07,
    "line_art": 0.07,
    "line_art_clean": 0.05,  # hard negatives: drawings whose lines and lettering belong to the template
    "fine_texture": 0.05,
    "texture_clean": 0.04,  # hard negatives: grass, reeds, stripes and text-like marks without a caption
}
# Hard negatives: this share of captioned memes get small details that belong to the picture first (badges, flags,
# printed patterns, star fields, a word on a sign in perspective), so the mask learns caption versus picture.
HARD_NEGATIVE_SHARE = 0.3
