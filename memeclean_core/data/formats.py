"""Meme formats beyond top/bottom captions, for validation rows per format and for training data.

`make_format_meme(fmt, picture, fonts, rng, clipart)` turns one clean picture into one meme of a format:

- "classic": top/bottom captions, classic white-on-black-outline, inverse (black, white outline) or shadowed.
- "labels": 1–3 coloured labels anywhere on the picture.
- "caption_bar": a uniform white (or black) bar added above (mostly) or below the picture, holding dark (or light)
  sentence-case text in 1–4 lines, left-aligned or centred, in regular or bold fonts (the Twitter/iFunny look).
  The meme is taller than the picture; the template is the picture WITH the empty bar, and `FormatMeme.bar` says
  which rows the bar takes, so cropping the bar can be scored too (the picture is the template without them).
- "watermark": a small semi-transparent site name ("word.com", "@handle") in a corner, 1.5–3 % of the height.
- "small": classic or label captions whose line height is 3–4 % of the width.
- "multi_panel": 2–4 comic panels (crops of the picture or procedural/clip-art content) separated by 2–10 px
  black or white borders, with captions near the borders and now and then across one. The template has the
  borders intact: a fill must not carry colour across them.
- "distractors": no caption at all; the picture gets small high-contrast details that belong to it (badges or
  clip-art logos, flags, printed patterns, star fields, a word on a sign seen in perspective). Meme == template
  and the mask is empty: any pixel a cleaner replaces is collateral.

`add_distractors(picture, fonts, rng, clipart)` is the last one's detail painter on its own, for hard negatives
in training (a caption drawn elsewhere on a picture with such details).

The mask is every pixel the caption touched (layer alpha ≥ 24 of 255, as in `synth.caption_image`). Like
`synth.caption_image`, the meme is JPEG re-compressed with probability `jpeg_probability` (quality 35–95), so
outside the mask meme and template are equal only without it (`jpeg_probability=0`); for distractors the template
is compressed with the meme (they stay identical). Everything here is a pure function of its inputs and the
`numpy.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .backgrounds import procedural
from .font_pool import FontPool
from .synth import (
    WORDS,
    composite_at,
    draw_block,
    jpeg,
    place_caption,
    random_colour,
    random_text,
    sample_style,
    wrap_lines,
)
from .world_formats import WORLD_FORMATS, make_world_meme

FORMATS = ("classic", "labels", "caption_bar", "watermark", "small", "multi_panel", "distractors")
DISTRACTOR_KINDS = ("badge", "flag", "pattern", "stars", "sign")
MASK_ALPHA = 24  # below ~10 % coverage a pixel is not visibly changed (as in synth.caption_image)


@dataclass(frozen=True)
class FormatMeme:
    """One meme of a format. Unpacks as `meme, template, mask` like `SynthSource.sample`."""

    format: str
    meme: np.ndarray  # H×W×3 uint8
    template: np.ndarray  # H×W×3 uint8, the exact clean target (caption_bar: the picture with the empty bar)
    mask: np.ndarray  # H×W bool, every pixel the caption touched (empty for distractors)
    bar: tuple[str, int] | None = None  # caption_bar: ("top" | "bottom", rows the bar takes)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.meme, self.template, self.mask))

    def picture(self) -> np.ndarray:
        """The template without the caption bar (what cropping the bar should give); the template when none."""
        if self.bar is None:
            return self.template
        side, rows = self.bar
        return self.template[rows:] if side == "top" else self.template[: self.template.shape[0] - rows]


def make_format_meme(
    fmt: str,
    picture: np.ndarray,
    fonts: FontPool,
    rng: np.random.Generator,
    clipart: Sequence[np.ndarray] | None = None,
    *,
    jpeg_probability: float = 0.6,
) -> FormatMeme:
    """A meme of format `fmt` (one of FORMATS or world_formats.WORLD_FORMATS) made from `picture` (H×W×3 uint8,
    already at the target size).

    `clipart`: RGBA uint8 pictures for badges/logos and panel content (procedural shapes without them)."""
    if fmt in WORLD_FORMATS:
        meme, template, mask = make_world_meme(fmt, picture, fonts, rng, jpeg_probability=jpeg_probability)
        return FormatMeme(fmt, meme, template, mask)
    if fmt not in FORMATS:
        known = ", ".join(FORMATS + WORLD_FORMATS)
        raise ValueError(f"unknown meme format {fmt!r}; expected one of {known}")
    picture = np.ascontiguousarray(picture[..., :3], dtype=np.uint8)
    clipart = list(clipart or [])
    bar = None
    if fmt == "distractors":
        template = add_distractors(picture, fonts, rng, clipart)
        if rng.random() < jpeg_probability:
            template = jpeg(template, int(rng.integers(35, 96)))
        return FormatMeme(fmt, template.copy(), template, np.zeros(template.shape[:2], bool))
    if fmt == "caption_bar":
        template, layer, bar = caption_bar(picture, fonts, rng)
    elif fmt == "multi_panel":
        template, layer = multi_panel(picture, fonts, rng, clipart)
    else:
        template = picture
        layer = Image.new("RGBA", (picture.shape[1], picture.shape[0]), (0, 0, 0, 0))
        if fmt == "classic":
            _classic_captions(layer, fonts, rng)
        elif fmt == "labels":
            _label_captions(layer, fonts, rng)
        elif fmt == "small":
            _small_captions(layer, fonts, rng)
        else:  # watermark
            _watermark(layer, fonts, rng, template)
    meme = np.asarray(Image.alpha_composite(Image.fromarray(template).convert("RGBA"), layer).convert("RGB"))
    mask = np.asarray(layer.getchannel("A")) >= MASK_ALPHA
    if rng.random() < jpeg_probability:
        meme = jpeg(meme, int(rng.integers(35, 96)))
    return FormatMeme(fmt, meme, template, mask, bar)


# ------------------------------------------------------------------------------------------ captions on a picture


def _classic_captions(
    layer: Image.Image, fonts: FontPool, rng: np.random.Generator, line_height: float | None = None
) -> None:
    kind = str(rng.choice(["classic", "inverse", "shadow"], p=[0.6, 0.2, 0.2]))
    placements = (["top"], ["bottom"], ["top", "bottom"])[rng.choice(3, p=[0.2, 0.25, 0.55])]
    font_path = fonts.pick(rng)
    for placement in placements:
        place_caption(layer, fonts, rng, kind, placement, font_path, line_height)


def _label_captions(
    layer: Image.Image, fonts: FontPool, rng: np.random.Generator, line_height: float | None = None
) -> None:
    font_path = fonts.pick(rng)
    for _ in range(int(rng.integers(1, 4))):
        place_caption(layer, fonts, rng, "label", "anywhere", font_path, line_height)


def _small_captions(layer: Image.Image, fonts: FontPool, rng: np.random.Generator) -> None:
    line_height = rng.uniform(0.03, 0.04) * layer.width
    if rng.random() < 0.5:
        _classic_captions(layer, fonts, rng, line_height)
    else:
        _label_captions(layer, fonts, rng, line_height)


@lru_cache(maxsize=256)
def _plain_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The font at its default weight (regular for variable fonts; `FontPool.load` picks the boldest)."""
    return ImageFont.truetype(path, size)


def _any_font(fonts: FontPool, rng: np.random.Generator, size: int) -> ImageFont.FreeTypeFont:
    """A font of the pool, drawn uniformly (not Impact-weighted), at regular or bold weight."""
    path = str(fonts.paths[int(rng.integers(len(fonts.paths)))])
    return _plain_font(path, size) if rng.random() < 0.6 else fonts.load(path, size)


def sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def caption_bar(
    picture: np.ndarray, fonts: FontPool, rng: np.random.Generator
) -> tuple[np.ndarray, Image.Image, tuple[str, int]]:
    """(template = picture with an empty bar, caption layer of the template's size, (side, bar rows))."""
    height, width = picture.shape[:2]
    white_bar = rng.random() < 0.8
    bar_colour = (255, 255, 255) if white_bar else (0, 0, 0)
    grey = int(rng.integers(0, 41)) if white_bar else int(rng.integers(225, 256))
    text_colour = (grey, grey, grey, 255)
    line_height = rng.uniform(0.045, 0.09) * width
    font = _any_font(fonts, rng, max(8, int(line_height / 1.25)))
    pitch = max(1, round(font.size * 1.25))
    margin = int(rng.uniform(0.03, 0.07) * width) + 2
    text = sentence_case(random_text(rng, int(rng.integers(3, 26))))
    lines = wrap_lines(text, font, width - 2 * margin, max_lines=int(rng.integers(1, 5)))
    centred = rng.random() < 0.4
    pad_top, pad_bottom = (int(rng.uniform(0.4, 1.2) * pitch) + 2 for _ in range(2))
    bar_rows = pad_top + pitch * len(lines) + int(font.size * 0.3) + pad_bottom
    text_layer = Image.new("RGBA", (width, bar_rows), (0, 0, 0, 0))
    draw = ImageDraw.Draw(text_layer)
    for i, line in enumerate(lines):
        line_width = font.getlength(line)
        x = (width - line_width) / 2 if centred else margin
        draw.text((x, pad_top + i * pitch), line, font=font, fill=text_colour)
    side = "top" if rng.random() < 0.8 else "bottom"
    bar = np.empty((bar_rows, width, 3), np.uint8)
    bar[:] = bar_colour
    template = np.concatenate([bar, picture] if side == "top" else [picture, bar], axis=0)
    layer = Image.new("RGBA", (width, height + bar_rows), (0, 0, 0, 0))
    layer.alpha_composite(text_layer, (0, 0 if side == "top" else height))
    return template, layer, (side, bar_rows)


def watermark_text(rng: np.random.Generator) -> str:
    word = "".join(str(rng.choice(WORDS)) for _ in range(int(rng.integers(1, 3))))
    if rng.random() < 0.3:
        return "@" + word + (str(int(rng.integers(1, 1000))) if rng.random() < 0.5 else "")
    return word + str(rng.choice([".com", ".com", ".net", ".org", ".co", ".io"]))


def _watermark(layer: Image.Image, fonts: FontPool, rng: np.random.Generator, picture: np.ndarray) -> None:
    width, height = layer.size
    font = _any_font(fonts, rng, max(7, int(rng.uniform(0.015, 0.03) * height / 1.12)))
    text = watermark_text(rng)
    corner = str(rng.choice(["bottom-right", "bottom-left", "top-right", "top-left"], p=[0.45, 0.25, 0.15, 0.15]))
    margin = int(rng.uniform(0.005, 0.025) * min(width, height)) + 1
    left, top, right, bottom = font.getbbox(text)
    x = margin - left if corner.endswith("left") else width - margin - right
    y = margin - top if corner.startswith("top") else height - margin - bottom
    # Contrast with the corner it sits on, mostly; now and then a grey or a colour.
    patch = picture[max(0, y + top) : y + bottom + 1, max(0, x + left) : x + right + 1]
    luma = float(patch.mean()) if patch.size else 128.0
    roll = rng.random()
    colour = (
        ((255, 255, 255) if luma < 128 else (0, 0, 0))
        if roll < 0.75
        else ((160, 160, 160) if roll < 0.9 else random_colour(rng))
    )
    stroke = 1 if rng.random() < 0.3 else 0
    ink = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    ImageDraw.Draw(ink).text(
        (x, y),
        text,
        font=font,
        fill=colour + (255,),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 255) if colour != (0, 0, 0) else (255, 255, 255, 255),
    )
    opacity = rng.uniform(0.3, 0.8)
    alpha = (np.asarray(ink.getchannel("A"), np.float32) * opacity).round().astype(np.uint8)
    ink.putalpha(Image.fromarray(alpha))
    layer.alpha_composite(ink)


# ---------------------------------------------------------------------------------------------------- panels


def _crop_resized(
    source: np.ndarray, rng: np.random.Generator, width: int, height: int, min_area: float = 0.35
) -> np.ndarray:
    """A random crop of `source` with the aspect of width×height, resized to it."""
    src_h, src_w = source.shape[:2]
    aspect = width / height
    area = rng.uniform(min_area, 1.0)
    crop_w = max(1, min(src_w, int(np.sqrt(area * src_w * src_h * aspect))))
    crop_h = max(1, min(src_h, int(crop_w / aspect)))
    crop_w = max(1, min(crop_w, int(crop_h * aspect)))
    x = int(rng.integers(0, src_w - crop_w + 1))
    y = int(rng.integers(0, src_h - crop_h + 1))
    crop = source[y : y + crop_h, x : x + crop_w]
    interpolation = cv2.INTER_AREA if crop_w > width else cv2.INTER_CUBIC
    return cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=interpolation)


def panel_boxes(width: int, height: int, rng: np.random.Generator) -> tuple[list[tuple[int, int, int, int]], int]:
    """(panels as (left, top, right, bottom), border px): 2–4 panels in a grid or stacked, inside the border."""
    border = int(rng.integers(2, 11))
    outer = border if rng.random() < 0.6 else 0
    count = int(rng.integers(2, 5))
    layout = {2: ["rows", "cols"], 3: ["rows", "one_two", "cols"], 4: ["grid", "rows"]}[count]
    layout = str(rng.choice(layout))

    def split(start: int, end: int, parts: int) -> list[tuple[int, int]]:
        usable = end - start - border * (parts - 1)
        cuts = np.sort(rng.uniform(0.8, 1.2, parts))
        sizes = np.maximum(1, np.floor(usable * cuts / cuts.sum()).astype(int))
        spans, pos = [], start
        for size in sizes:
            spans.append((pos, pos + int(size)))
            pos += int(size) + border
        spans[-1] = (spans[-1][0], end)
        return spans

    x0, y0, x1, y1 = outer, outer, width - outer, height - outer
    if layout == "rows":
        boxes = [(x0, top, x1, bottom) for top, bottom in split(y0, y1, count)]
    elif layout == "cols":
        boxes = [(left, y0, right, y1) for left, right in split(x0, x1, count)]
    elif layout == "grid":
        boxes = [(left, top, right, bottom) for top, bottom in split(y0, y1, 2) for left, right in split(x0, x1, 2)]
    else:  # one_two: one wide panel over two
        (top_a, bottom_a), (top_b, bottom_b) = split(y0, y1, 2)
        boxes = [(x0, top_a, x1, bottom_a)] + [(left, top_b, right, bottom_b) for left, right in split(x0, x1, 2)]
    return boxes, border


def _panel_content(
    picture: np.ndarray, rng: np.random.Generator, width: int, height: int, clipart: Sequence[np.ndarray]
) -> np.ndarray:
    roll = rng.random()
    if roll < 0.65:
        return _crop_resized(picture, rng, width, height)
    if roll < 0.85 or not clipart:
        return _crop_resized(procedural(rng, max(width, height)), rng, width, height, min_area=0.8)
    art = Image.fromarray(clipart[int(rng.integers(len(clipart)))])
    scale = rng.uniform(0.5, 0.95) * min(width / art.width, height / art.height)
    art = art.resize((max(1, int(art.width * scale)), max(1, int(art.height * scale))), Image.LANCZOS)
    base = Image.new("RGBA", (width, height), tuple(int(v) for v in rng.integers(120, 256, 3)) + (255,))
    base.alpha_composite(art, ((width - art.width) // 2, (height - art.height) // 2))
    return np.asarray(base.convert("RGB"))


def multi_panel(
    picture: np.ndarray, fonts: FontPool, rng: np.random.Generator, clipart: Sequence[np.ndarray]
) -> tuple[np.ndarray, Image.Image]:
    """(template = panels with their borders, caption layer): captions at panel edges, now and then across one."""
    height, width = picture.shape[:2]
    boxes, border = panel_boxes(width, height, rng)
    border_colour = (0, 0, 0) if rng.random() < 0.65 else (255, 255, 255)
    template = np.empty_like(picture)
    template[:] = border_colour
    for left, top, right, bottom in boxes:
        template[top:bottom, left:right] = _panel_content(picture, rng, right - left, bottom - top, clipart)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    font_path = fonts.pick(rng)
    largest = max(range(len(boxes)), key=lambda i: (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1]))
    for index, (left, top, right, bottom) in enumerate(boxes):
        if index != largest and (rng.random() < 0.25 or right - left < 24 or bottom - top < 24):
            continue  # some panels go without a caption; the largest always has one
        panel_layer = Image.new("RGBA", (right - left, bottom - top), (0, 0, 0, 0))
        kind = str(rng.choice(["classic", "inverse", "label"], p=[0.45, 0.25, 0.3]))
        placement = "anywhere" if kind == "label" else str(rng.choice(["top", "bottom"]))
        place_caption(panel_layer, fonts, rng, kind, placement, font_path)
        layer.alpha_composite(panel_layer, (left, top))
    if len(boxes) > 1 and rng.random() < 0.4:  # a label straddling the border between two panels
        (left, top, right, bottom) = boxes[int(rng.integers(len(boxes) - 1))]
        style = sample_style(rng, "label")
        font = fonts.load(font_path, max(8, int(rng.uniform(0.03, 0.07) * height)))
        text = random_text(rng, int(rng.integers(1, 4)))
        block = draw_block(
            wrap_lines(text.upper() if style.uppercase else text, font, width * 0.5, 2), font, style, "center"
        )
        if right < width - border - 1 and (rng.random() < 0.5 or bottom >= height - border - 1):
            x, y = right + border // 2 - block.width // 2, int(rng.integers(top, max(top + 1, bottom - block.height)))
        else:
            x, y = int(rng.integers(left, max(left + 1, right - block.width))), bottom + border // 2 - block.height // 2
        composite_at(layer, block, x, y)
    return template, layer


# ----------------------------------------------------------------------------------------------- distractors


def add_distractors(
    picture: np.ndarray,
    fonts: FontPool,
    rng: np.random.Generator,
    clipart: Sequence[np.ndarray] | None = None,
    count: int | None = None,
) -> np.ndarray:
    """`picture` with 1–3 (or `count`) small high-contrast details that belong to it: badges/logos, flags, printed
    patterns, star fields, a word on a sign in perspective. Returns a new H×W×3 uint8 array."""
    clipart = list(clipart or [])
    count = int(rng.integers(1, 4)) if count is None else count
    kinds = rng.choice(len(DISTRACTOR_KINDS), size=min(count, len(DISTRACTOR_KINDS)), replace=False)
    image = Image.fromarray(np.ascontiguousarray(picture[..., :3], dtype=np.uint8)).convert("RGBA")
    # Stars first: a night sky goes under whatever else is drawn.
    for kind in sorted((DISTRACTOR_KINDS[int(i)] for i in kinds), key=lambda kind: kind != "stars"):
        if kind == "stars":
            image = _star_field(image, rng)
        else:
            painter = {"badge": _badge, "flag": _flag, "pattern": _pattern, "sign": _sign}[kind]
            detail = painter(image.size, fonts, rng, clipart)
            x = int(rng.integers(-detail.width // 6, max(1, image.width - detail.width * 5 // 6)))
            y = int(rng.integers(-detail.height // 6, max(1, image.height - detail.height * 5 // 6)))
            composite_at(image, detail, x, y)
    return np.asarray(image.convert("RGB"))


def _contrasting(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    a = random_colour(rng)
    b = (255, 255, 255) if sum(a) < 380 else (20, 20, 30)
    return (a, b) if rng.random() < 0.5 else (b, a)


def _star_polygon(
    cx: float, cy: float, radius: float, points: int = 5, inner: float = 0.45, turn: float = -np.pi / 2
) -> list[tuple[float, float]]:
    angles = turn + np.arange(2 * points) * np.pi / points
    radii = np.where(np.arange(2 * points) % 2 == 0, radius, radius * inner)
    return [(cx + r * np.cos(a), cy + r * np.sin(a)) for r, a in zip(radii, angles)]


def _badge(size: tuple[int, int], fonts: FontPool, rng: np.random.Generator, clipart: list[np.ndarray]) -> Image.Image:
    side = max(10, int(rng.uniform(0.05, 0.13) * min(size)))
    if clipart and rng.random() < 0.7:
        art = Image.fromarray(clipart[int(rng.integers(len(clipart)))]).convert("RGBA")
        scale = side / max(art.width, art.height)
        return art.resize((max(1, int(art.width * scale)), max(1, int(art.height * scale))), Image.LANCZOS)
    badge = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    body, ink = _contrasting(rng)
    ring = max(1, side // 12)
    if rng.random() < 0.5:  # round badge with a star or a letter
        draw.ellipse((0, 0, side - 1, side - 1), fill=ink)
        draw.ellipse((ring, ring, side - 1 - ring, side - 1 - ring), fill=body)
    else:  # shield
        w = side - 1
        draw.polygon(
            [(0, 0), (w, 0), (w, side * 0.55), (w / 2, w), (0, side * 0.55)], fill=body, outline=ink, width=ring
        )
        for i in range(1, int(rng.integers(2, 5))):  # stripes
            x = i * side / 5
            draw.line([(x, ring), (x, side * 0.7)], fill=ink, width=max(1, ring // 2 + 1))
    if rng.random() < 0.6:
        draw.polygon(_star_polygon(side / 2, side / 2, side * 0.3), fill=ink)
    else:
        font = fonts.load(fonts.pick(rng), max(6, side // 2))
        draw.text((side / 2, side / 2), str(rng.choice(list("ABCDEFGHKMNPRSTWXZ"))), font=font, fill=ink, anchor="mm")
    return badge.rotate(float(rng.uniform(-25, 25)), resample=Image.BICUBIC, expand=True)


def _flag(size: tuple[int, int], fonts: FontPool, rng: np.random.Generator, clipart: list[np.ndarray]) -> Image.Image:
    width = max(12, int(rng.uniform(0.06, 0.18) * size[0]))
    height = max(8, int(width * rng.uniform(0.5, 0.7)))
    flag = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    draw = ImageDraw.Draw(flag)
    stripe_a = random_colour(rng) if rng.random() < 0.5 else (190, 30, 45)
    stripe_b = (255, 255, 255) if rng.random() < 0.7 else random_colour(rng)
    stripes = int(rng.choice([3, 5, 7, 9, 13]))
    for i in range(stripes):
        top = round(i * height / stripes)
        draw.rectangle(
            (0, top, width, max(top, round((i + 1) * height / stripes) - 1)), fill=stripe_a if i % 2 == 0 else stripe_b
        )
    if rng.random() < 0.8:  # a canton of small stars
        canton_w, canton_h = int(width * rng.uniform(0.35, 0.45)), int(height * rng.uniform(0.45, 0.55))
        draw.rectangle((0, 0, canton_w, canton_h), fill=(40, 40, 110) if rng.random() < 0.7 else random_colour(rng))
        rows, cols = int(rng.integers(3, 6)), int(rng.integers(4, 7))
        radius = max(0.8, min(canton_w / cols, canton_h / rows) * 0.3)
        for r in range(rows):
            for c in range(cols):
                cx, cy = (c + 0.5 + 0.25 * (r % 2)) * canton_w / (cols + 0.25), (r + 0.5) * canton_h / rows
                if radius < 2:
                    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(255, 255, 255))
                else:
                    draw.polygon(_star_polygon(cx, cy, radius), fill=(255, 255, 255))
    return flag.rotate(float(rng.uniform(-20, 20)), resample=Image.BICUBIC, expand=True)


def _pattern(
    size: tuple[int, int], fonts: FontPool, rng: np.random.Generator, clipart: list[np.ndarray]
) -> Image.Image:
    width = max(16, int(rng.uniform(0.12, 0.35) * size[0]))
    height = max(16, int(rng.uniform(0.12, 0.35) * size[1]))
    base, ink = _contrasting(rng)
    tile = Image.new("RGBA", (width, height), base + (255,))
    draw = ImageDraw.Draw(tile)
    step = max(4, int(rng.uniform(0.015, 0.04) * max(size)))
    kind = str(rng.choice(["dots", "stripes", "checks", "stars"]))
    if kind == "stripes":  # diagonal stripes
        for offset in range(-width, height + step, step):
            draw.line([(0, offset), (width, offset + width)], fill=ink, width=max(1, step // 3))
    for row, y in enumerate(range(-step, height + step, step) if kind != "stripes" else ()):
        for x in range(-step, width + step, step):
            if kind == "dots":
                r = step * 0.25
                draw.ellipse((x + (row % 2) * step / 2 - r, y - r, x + (row % 2) * step / 2 + r, y + r), fill=ink)
            elif kind == "checks" and (x // step + row) % 2 == 0:
                draw.rectangle((x, y, x + step - 1, y + step - 1), fill=ink)
            elif kind == "stars":
                draw.polygon(_star_polygon(x + (row % 2) * step / 2, y, step * 0.3), fill=ink)
    shape = Image.new("L", (width, height), 0)
    if rng.random() < 0.5:
        ImageDraw.Draw(shape).ellipse((0, 0, width - 1, height - 1), fill=255)
    else:
        ImageDraw.Draw(shape).rounded_rectangle((0, 0, width - 1, height - 1), radius=min(width, height) // 6, fill=255)
    tile.putalpha(shape)
    return tile


# Star radii and their odds, drawn as `rng.choice(STAR_RADII, p=...)` would (the same numbers from the same stream)
# at a fraction of its per-call cost: a star field draws a thousand stars and more.
STAR_RADII = np.array([0.5, 0.8, 1.2, 1.8])
STAR_RADIUS_ODDS = (0.45, 0.3, 0.18, 0.07)
STAR_RADIUS_CDF = np.cumsum(STAR_RADIUS_ODDS)
STAR_RADIUS_CDF /= STAR_RADIUS_CDF[-1]


def star_radius(rng: np.random.Generator) -> float:
    """One star's radius: `rng.choice(STAR_RADII, p=STAR_RADIUS_ODDS)`, from one `rng.random()`."""
    return float(STAR_RADII[STAR_RADIUS_CDF.searchsorted(rng.random(), side="right")])


def _star_field(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Small bright dots on dark: the picture's dark part, or a night sky painted over its top."""
    width, height = image.size
    rgb = np.asarray(image.convert("RGB")).copy()
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    if (luma < 60).mean() > 0.3:
        region = luma < 60
    else:  # paint a night sky over the top part
        sky_rows = int(rng.uniform(0.25, 0.6) * height)
        top, bottom = np.array([5, 8, 25]) + rng.integers(0, 15, 3), np.array([20, 25, 60]) + rng.integers(0, 30, 3)
        t = np.linspace(0, 1, max(1, sky_rows))[:, None, None]
        rgb[:sky_rows] = (top * (1 - t) + bottom * t).astype(np.uint8)
        region = np.zeros((height, width), bool)
        region[:sky_rows] = True
    sky = Image.fromarray(rgb).convert("RGBA")
    draw = ImageDraw.Draw(sky)
    ys, xs = np.nonzero(region)
    count = min(len(ys), int(region.sum() / rng.uniform(150, 600)) + 3)
    for i in rng.choice(len(ys), size=count, replace=False) if len(ys) else []:
        x, y = float(xs[i]), float(ys[i])
        level = int(rng.integers(170, 256))
        colour = (level, level, min(255, level + int(rng.integers(0, 30))))
        r = star_radius(rng)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        if r > 1.5 and rng.random() < 0.5:  # a glint
            draw.line([(x - 3 * r, y), (x + 3 * r, y)], fill=colour, width=1)
            draw.line([(x, y - 3 * r), (x, y + 3 * r)], fill=colour, width=1)
    return sky


def perspective_coefficients(
    target: Sequence[tuple[float, float]], source: Sequence[tuple[float, float]]
) -> tuple[float, ...]:
    """PIL's PERSPECTIVE coefficients mapping each output point in `target` to the input point in `source`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(target, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return tuple(float(c) for c in np.linalg.solve(np.array(rows, float), np.array(rhs, float)))


def _sign(size: tuple[int, int], fonts: FontPool, rng: np.random.Generator, clipart: list[np.ndarray]) -> Image.Image:
    """Words printed on a sign, seen in perspective (the "CHANGE MY MIND" case)."""
    boards = [
        ((250, 250, 245), (15, 15, 15)),
        ((245, 210, 40), (10, 10, 10)),
        ((20, 110, 60), (250, 250, 250)),
        ((140, 90, 50), (250, 240, 220)),
        ((30, 60, 150), (255, 255, 255)),
    ]
    board, ink = boards[int(rng.choice(len(boards), p=[0.45, 0.15, 0.15, 0.15, 0.1]))]
    text = random_text(rng, int(rng.integers(1, 4)))
    text = text.upper() if rng.random() < 0.6 else text
    font = _any_font(fonts, rng, max(8, int(rng.uniform(0.02, 0.06) * size[1])))
    lines = wrap_lines(text, font, font.size * rng.uniform(5, 10), max_lines=3)
    pitch = round(font.size * 1.2)
    pad = int(font.size * rng.uniform(0.3, 0.9)) + 2
    sign_w = int(max(font.getlength(line) for line in lines)) + 2 * pad
    sign_h = pitch * len(lines) + int(font.size * 0.3) + 2 * pad
    sign = Image.new("RGBA", (sign_w, sign_h), board + (255,))
    draw = ImageDraw.Draw(sign)
    if rng.random() < 0.5:
        draw.rectangle((0, 0, sign_w - 1, sign_h - 1), outline=ink, width=max(1, font.size // 10))
    for i, line in enumerate(lines):
        draw.text(((sign_w - font.getlength(line)) / 2, pad + i * pitch), line, font=font, fill=ink)
    # Perspective: the sign's corners moved inwards by up to a fifth of its size, then turned a little.
    jitter = lambda extent: float(rng.uniform(0, 0.2) * extent)  # noqa: E731
    quad = np.array(
        [
            (jitter(sign_w), jitter(sign_h)),
            (sign_w - jitter(sign_w), jitter(sign_h)),
            (sign_w - jitter(sign_w), sign_h - jitter(sign_h)),
            (jitter(sign_w), sign_h - jitter(sign_h)),
        ]
    )
    angle = np.deg2rad(rng.uniform(-20, 20))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    quad = (quad - quad.mean(0)) @ rotation.T
    quad -= quad.min(0)
    out_w, out_h = (int(np.ceil(v)) + 1 for v in quad.max(0))
    corners = [(0, 0), (sign_w, 0), (sign_w, sign_h), (0, sign_h)]
    coefficients = perspective_coefficients([tuple(p) for p in quad], corners)
    return sign.transform((out_w, out_h), Image.PERSPECTIVE, coefficients, resample=Image.BICUBIC)
