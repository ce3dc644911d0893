"""Pictures that are not photos: line art and comics, flat canvases with a picture inset, fine textures.

Templates of these kinds are where a caption detector trained on photos goes wrong: the black lines of a drawing
look like caption outlines, a white canvas leaves the outline of white letters as the only thing to find, and
thin repeated strokes (reeds, stripes, printed patterns) look like letters. Each function here draws the clean
picture only; `formats` puts captions on it.

- `line_art(rng, width, height, fonts)`: black (now and then coloured) lines on white or paper-coloured ground, in
  1–3 panels: stick figures, rage-comic faces, speech bubbles holding the comic's own hand-lettered words, signs
  with lettering, hatching, scribbles; sometimes flat colour fills. The lettering belongs to the drawing (it is
  part of the template, never of the caption mask).
- `inset_canvas(picture, rng)`: a white (mostly) or flat-coloured canvas holding the picture, with room above
  and/or below it (and sometimes at the sides) where captions go.
- `fine_texture(picture, rng, fonts)`: grass, reeds, thin stripes or text-like marks painted over part of the
  picture.

Lines are drawn at twice the size and shrunk, so they are anti-aliased as a drawing program's are. Everything is a
pure function of its inputs and the `numpy.random.Generator`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .font_pool import FontPool
from .scripts import random_words

SUPERSAMPLE = 2
PAPER = ((255, 255, 255), (250, 248, 240), (245, 245, 245), (255, 252, 235))
COMIC_FONTS = ("comic", "kalam", "marker", "humor", "luckiest", "purisa")


def _ink(rng: np.random.Generator) -> tuple[int, int, int]:
    if rng.random() < 0.8:
        return (0, 0, 0) if rng.random() < 0.7 else tuple(int(v) for v in rng.integers(0, 60, 3))
    return tuple(int(v) for v in rng.integers(0, 200, 3))


def _flat(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(90, 256, 3))


def _wobbly(rng: np.random.Generator, points: list[tuple[float, float]], amount: float) -> list[tuple[float, float]]:
    """A hand-drawn line through `points`: each segment split and nudged sideways a little."""
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        for t in np.linspace(0, 1, 4, endpoint=False):
            out.append((x0 + (x1 - x0) * t + rng.normal(0, amount), y0 + (y1 - y0) * t + rng.normal(0, amount)))
    out.append(points[-1])
    return out


def _ellipse_points(cx: float, cy: float, rx: float, ry: float, start: float = 0, end: float = 360, n: int = 40):
    angles = np.radians(np.linspace(start, end, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def _stick_figure(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box, colour, width: int) -> None:
    x0, y0, x1, y1 = box
    h = (y1 - y0) * rng.uniform(0.5, 0.95)
    cx = (x0 + x1) / 2 + rng.uniform(-0.2, 0.2) * (x1 - x0)
    top = y1 - h
    head = h * 0.14
    draw.line(_ellipse_points(cx, top + head, head, head), fill=colour, width=width)
    neck, hip = top + 2 * head, top + h * 0.6
    draw.line([(cx, neck), (cx + rng.normal(0, head * 0.2), hip)], fill=colour, width=width)
    for side in (-1, 1):  # arms and legs, each at its own angle
        arm = rng.uniform(0.2, 1.3)
        draw.line(
            [(cx, neck + head * 0.6), (cx + side * h * 0.3 * math.cos(arm), neck + h * 0.3 * math.sin(arm) - h * 0.1)],
            fill=colour,
            width=width,
        )
        leg = rng.uniform(1.1, 1.45)
        draw.line(
            [(cx, hip), (cx + side * h * 0.4 * math.cos(leg), y1 - rng.uniform(0, 0.05) * h)], fill=colour, width=width
        )


def _face(draw: ImageDraw.ImageDraw, rng: np.random.Generator, box, colour, width: int) -> None:
    """A rage-comic face: an oval head, eyes with pupils, heavy eyebrows, a mouth (grin with teeth, frown or O)."""
    x0, y0, x1, y1 = box
    r = min(x1 - x0, y1 - y0) * rng.uniform(0.3, 0.48)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ry = r * rng.uniform(1.0, 1.3)
    draw.line(_wobbly(rng, _ellipse_points(cx, cy, r, ry), r * 0.01), fill=colour, width=width)
    eye_y = cy - ry * 0.2
    for side in (-1, 1):
        ex = cx + side * r * 0.38
        er = r * rng.uniform(0.1, 0.2)
        draw.ellipse((ex - er, eye_y - er, ex + er, eye_y + er), outline=colour, width=width)
        pr = er * 0.35
        draw.ellipse((ex - pr, eye_y - pr, ex + pr, eye_y + pr), fill=colour)
        tilt = rng.uniform(-0.3, 0.3) * side
        brow = [(ex - er * 1.3, eye_y - er * (1.6 + tilt)), (ex + er * 1.3, eye_y - er * (1.6 - tilt))]
        draw.line(brow, fill=colour, width=width * int(rng.integers(1, 4)))
    mouth = str(rng.choice(["grin", "frown", "o"]))
    my = cy + ry * 0.45
    if mouth == "o":
        mr = r * 0.15
        draw.ellipse((cx - mr, my - mr, cx + mr, my + mr * 1.4), outline=colour, width=width)
    elif mouth == "frown":
        draw.line(_ellipse_points(cx, my + r * 0.2, r * 0.4, r * 0.2, 200, 340, 20), fill=colour, width=width)
    else:
        mw, mh = r * 0.55, r * 0.22
        draw.rectangle((cx - mw, my - mh, cx + mw, my + mh), outline=colour, width=width)
        for i in range(1, 6):  # teeth
            tx = cx - mw + 2 * mw * i / 6
            draw.line([(tx, my - mh), (tx, my + mh)], fill=colour, width=max(1, width // 2))
        draw.line([(cx - mw, my), (cx + mw, my)], fill=colour, width=max(1, width // 2))


def _lettering(fonts: FontPool, rng: np.random.Generator, size: int):
    """A comic hand-lettering font where the pool has one, else any font."""
    comic = [p for p in fonts.paths if any(k in p.name.lower() for k in COMIC_FONTS)]
    path = str(comic[int(rng.integers(len(comic)))]) if comic else fonts.pick(rng)
    return fonts.load(path, max(8, size))


def _speech_bubble(draw, rng, box, colour, width: int, fonts: FontPool, scale: int) -> None:
    """An oval bubble with a tail and the comic's own words in it (part of the drawing, not a caption)."""
    x0, y0, x1, y1 = box
    bw, bh = (x1 - x0) * rng.uniform(0.45, 0.9), (y1 - y0) * rng.uniform(0.2, 0.4)
    bx = x0 + rng.uniform(0, (x1 - x0) - bw)
    by = y0 + rng.uniform(0, (y1 - y0) * 0.25)
    cx, cy = bx + bw / 2, by + bh / 2
    points = _ellipse_points(cx, cy, bw / 2, bh / 2, 0, 360, 60)
    draw.polygon(points, fill=(255, 255, 255))
    draw.line(points, fill=colour, width=width)
    tail_x = cx + rng.uniform(-0.3, 0.3) * bw
    tip = (tail_x + rng.uniform(-0.2, 0.2) * bw, by + bh + rng.uniform(0.3, 0.8) * bh)
    base = [(tail_x - bw * 0.06, cy + bh * 0.45), (tail_x + bw * 0.06, cy + bh * 0.45)]
    draw.polygon([base[0], tip, base[1]], fill=(255, 255, 255))
    draw.line([base[0], tip, base[1]], fill=colour, width=width)
    font = _lettering(fonts, rng, int(bh * rng.uniform(0.16, 0.26)))
    lines = [
        " ".join(random_words(rng, "latin", int(rng.integers(1, 4)))).upper() for _ in range(int(rng.integers(1, 3)))
    ]
    pitch = font.size * 1.2
    top = cy - pitch * len(lines) / 2
    for i, line in enumerate(lines):
        length = font.getlength(line)
        draw.text((cx - length / 2, top + i * pitch), line, font=font, fill=colour)


def _sign(draw, rng, box, colour, width: int, fonts: FontPool) -> None:
    """A sign on a post with hand lettering: part of the drawing."""
    x0, y0, x1, y1 = box
    sw, sh = (x1 - x0) * rng.uniform(0.3, 0.6), (y1 - y0) * rng.uniform(0.15, 0.3)
    sx, sy = x0 + rng.uniform(0, (x1 - x0) - sw), y0 + rng.uniform(0.1, 0.5) * (y1 - y0)
    draw.line([(sx + sw / 2, sy + sh), (sx + sw / 2, y1)], fill=colour, width=width)
    draw.rectangle((sx, sy, sx + sw, sy + sh), fill=(255, 255, 255), outline=colour, width=width)
    font = _lettering(fonts, rng, int(sh * 0.45))
    word = random_words(rng, "latin", 1)[0].upper()
    draw.text((sx + (sw - font.getlength(word)) / 2, sy + sh * 0.2), word, font=font, fill=colour)


def _hatching(draw, rng, box, colour, width: int) -> None:
    x0, y0, x1, y1 = box
    hw, hh = (x1 - x0) * rng.uniform(0.15, 0.5), (y1 - y0) * rng.uniform(0.1, 0.4)
    hx, hy = x0 + rng.uniform(0, (x1 - x0) - hw), y0 + rng.uniform(0, (y1 - y0) - hh)
    gap = max(3, width * rng.uniform(2.5, 6))
    angle = rng.uniform(0, math.pi)
    dx, dy = math.cos(angle), math.sin(angle)
    for offset in np.arange(-hw - hh, hw + hh, gap):
        px, py = hx + hw / 2 - dy * offset, hy + hh / 2 + dx * offset
        a = (px - dx * hw, py - dy * hh)
        b = (px + dx * hw, py + dy * hh)
        a = (min(max(a[0], hx), hx + hw), min(max(a[1], hy), hy + hh))
        b = (min(max(b[0], hx), hx + hw), min(max(b[1], hy), hy + hh))
        draw.line([a, b], fill=colour, width=max(1, width // 2))


def _scribble(draw, rng, box, colour, width: int) -> None:
    x0, y0, x1, y1 = box
    points = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(int(rng.integers(3, 8)))]
    draw.line(_wobbly(rng, points, (x1 - x0) * 0.01), fill=colour, width=width, joint="curve")


def line_art(rng: np.random.Generator, width: int, height: int, fonts: FontPool) -> np.ndarray:
    """A drawing of `width`×`height`: see the module's docstring."""
    s = SUPERSAMPLE
    canvas = Image.new("RGB", (width * s, height * s), PAPER[int(rng.integers(len(PAPER)))])
    draw = ImageDraw.Draw(canvas)
    colour = _ink(rng)
    line = max(1, round(min(width, height) * rng.uniform(0.003, 0.009) * s))
    panels = int(rng.choice([1, 2, 3], p=[0.5, 0.25, 0.25]))
    vertical = width < height * 0.9 or rng.random() < 0.3
    boxes = []
    for i in range(panels):
        if vertical:
            box = (0, i * height * s / panels, width * s, (i + 1) * height * s / panels)
        else:
            box = (i * width * s / panels, 0, (i + 1) * width * s / panels, height * s)
        pad = max(line * 2, 4 * s)
        box = (box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad)
        boxes.append(box)
        if panels > 1 or rng.random() < 0.3:
            draw.rectangle(box, outline=colour, width=line)
    for box in boxes:
        inner = (box[0] + line * 3, box[1] + line * 3, box[2] - line * 3, box[3] - line * 3)
        if rng.random() < 0.3:  # a flat-colour floor or sky
            cut = inner[1] + (inner[3] - inner[1]) * rng.uniform(0.5, 0.85)
            draw.rectangle((inner[0], cut, inner[2], inner[3]), fill=_flat(rng))
            draw.line([(inner[0], cut), (inner[2], cut)], fill=colour, width=line)
        for _ in range(int(rng.integers(1, 4))):
            kind = str(
                rng.choice(
                    ["figure", "face", "bubble", "sign", "hatching", "scribble"], p=[0.25, 0.25, 0.2, 0.08, 0.12, 0.1]
                )
            )
            if kind == "figure":
                _stick_figure(draw, rng, inner, colour, line)
            elif kind == "face":
                _face(draw, rng, inner, colour, line)
            elif kind == "bubble":
                _speech_bubble(draw, rng, inner, colour, line, fonts, s)
            elif kind == "sign":
                _sign(draw, rng, inner, colour, line, fonts)
            elif kind == "hatching":
                _hatching(draw, rng, inner, colour, line)
            else:
                _scribble(draw, rng, inner, colour, line)
    return cv2.resize(np.asarray(canvas), (width, height), interpolation=cv2.INTER_AREA)


def inset_canvas(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`picture` scaled onto a white (70 %) or flat-colour canvas of the same long side, with room above and/or
    below it (and now and then at the sides)."""
    height, width = picture.shape[:2]
    colour = (255, 255, 255) if rng.random() < 0.7 else _flat(rng)
    top = rng.uniform(0.12, 0.35) if rng.random() < 0.8 else 0.03
    bottom = rng.uniform(0.12, 0.35) if rng.random() < 0.5 else 0.03
    side = rng.uniform(0.0, 0.12) if rng.random() < 0.4 else 0.0
    inner_w = max(8, int(width * (1 - 2 * side)))
    inner_h = max(8, int(height * (1 - top - bottom)))
    scale = min(inner_w / width, inner_h / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    canvas = np.empty_like(picture)
    canvas[:] = colour
    x = (width - size[0]) // 2
    y = int(top * height) + (inner_h - size[1]) // 2
    canvas[y : y + size[1], x : x + size[0]] = small
    return canvas


def fine_texture(picture: np.ndarray, rng: np.random.Generator, fonts: FontPool) -> np.ndarray:
    """`picture` with a patch (20–100 % of it) of grass, reeds, thin stripes or text-like marks painted on."""
    height, width = picture.shape[:2]
    kind = str(rng.choice(["grass", "reeds", "stripes", "marks"]))
    s = SUPERSAMPLE
    layer = Image.new("RGBA", (width * s, height * s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    pw, ph = width * s * rng.uniform(0.2, 1.0), height * s * rng.uniform(0.2, 1.0)
    px, py = rng.uniform(0, width * s - pw), rng.uniform(0, height * s - ph)
    base = np.array(_flat(rng) if rng.random() < 0.5 else rng.integers(0, 120, 3))
    stroke = max(1, round(min(width, height) * rng.uniform(0.0015, 0.005) * s))

    def shade() -> tuple[int, int, int, int]:
        c = np.clip(base + rng.normal(0, 35, 3), 0, 255).astype(int)
        return (int(c[0]), int(c[1]), int(c[2]), 255)

    if kind in ("grass", "reeds"):
        count = int(pw * ph / (s * s) / (60 if kind == "grass" else 300))
        blade = ph * (0.12 if kind == "grass" else 0.6)
        for _ in range(min(count, 2000)):
            x, y = px + rng.uniform(0, pw), py + rng.uniform(blade * 0.5, ph)
            lean = rng.normal(0, 0.25)
            length = blade * rng.uniform(0.4, 1.0)
            top = (x + lean * length, y - length)
            mid = (x + lean * length * 0.4 + rng.normal(0, stroke), y - length * 0.5)
            draw.line([(x, y), mid, top], fill=shade(), width=stroke)
    elif kind == "stripes":
        period = max(3 * s, round(stroke * rng.uniform(2.5, 5)))
        angle = rng.uniform(0, math.pi)
        dx, dy = math.cos(angle), math.sin(angle)
        colour = shade()
        reach = pw + ph
        for offset in np.arange(-reach, reach, period):
            cx, cy = px + pw / 2 - dy * offset, py + ph / 2 + dx * offset
            draw.line(
                [(cx - dx * reach, cy - dy * reach), (cx + dx * reach, cy + dy * reach)], fill=colour, width=stroke
            )
        mask = Image.new("L", layer.size, 0)
        ImageDraw.Draw(mask).rectangle((px, py, px + pw, py + ph), fill=255)
        layer.putalpha(Image.fromarray(np.minimum(np.asarray(layer.getchannel("A")), np.asarray(mask))))
    else:  # rows of small letter-like marks and bars: a printed pattern, a barcode, a shelf of book spines
        row = max(4 * s, ph / rng.uniform(4, 30))
        for y in np.arange(py, py + ph - row, row * 1.3):
            x = px
            while x < px + pw:
                w = row * rng.uniform(0.15, 0.8)
                shape = rng.integers(3)
                if shape == 0:
                    draw.rectangle((x, y, x + w, y + row), fill=shade())
                elif shape == 1:
                    draw.ellipse((x, y, x + w, y + row), outline=shade(), width=stroke)
                else:
                    draw.line([(x, y + row), (x + w / 2, y), (x + w, y + row)], fill=shade(), width=stroke)
                x += w + row * rng.uniform(0.1, 0.6)
    small = layer.resize((width, height), Image.BOX)
    out = Image.alpha_composite(Image.fromarray(picture).convert("RGBA"), small)
    return np.asarray(out.convert("RGB"))
