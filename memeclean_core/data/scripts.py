"""Captions in every writing system: which scripts a font draws, real words of each, lines that wrap as the script
wraps, and the styles people caption with in it.

Words come from `data/words/<script>.txt` (scripts/make_word_lists.py writes them from Faker's locale providers).
Chinese, Japanese and Thai are written without spaces between words, so their captions join words directly and
wrap between words; the rest join with spaces. Shaping (Arabic, Devanagari, Thai) and right-to-left order (Arabic,
Hebrew) come from Pillow's raqm layout, as in `memeclean caption`. Japanese captions are now and then vertical
(top to bottom, columns right to left), as on manga and posters.

A font "covers" a script when it draws each of a few common letters of it with a glyph of its own, not the
font's missing-glyph box (`covers`); `FontPool.pick(rng, script)` draws among the fonts that cover it.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SCRIPTS = (
    "latin",
    "cyrillic",
    "greek",
    "chinese",
    "japanese",
    "korean",
    "arabic",
    "hebrew",
    "devanagari",
    "thai",
)
NON_LATIN = SCRIPTS[1:]
# a few of each script's commonest letters: a font that lacks any of them does not cover the script
PROBES = {
    "latin": "AaEeZz",
    "cyrillic": "ЖжЯяДд",
    "greek": "ΩωΣσΛλ",
    "chinese": "的是国我们",
    "japanese": "あいカタ日本",
    "korean": "한국어가나",
    "arabic": "عربيةك",
    "hebrew": "שלוםאב",
    "devanagari": "हिंदीक",
    "thai": "ภาษาไทย",
}
UNSPACED = ("chinese", "japanese", "thai")  # written without spaces between words
RIGHT_TO_LEFT = ("arabic", "hebrew")
MISSING = "\U0010fffd"  # a private-use code point no font draws: its rendering is the font's missing-glyph box
WORDS_DIR = Path(__file__).resolve().parent / "words"


@cache
def words(script: str) -> tuple[str, ...]:
    """The word list of `script` (one of SCRIPTS)."""
    if script not in SCRIPTS:
        raise ValueError(f"unknown script {script!r}; expected one of {', '.join(SCRIPTS)}")
    lines = (WORDS_DIR / f"{script}.txt").read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line and not line.startswith("#"))


def random_words(rng: np.random.Generator, script: str, count: int) -> list[str]:
    pool = words(script)
    return [pool[int(i)] for i in rng.integers(0, len(pool), count)]


def joiner(script: str) -> str:
    return "" if script in UNSPACED else " "


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


@lru_cache(maxsize=64)
def _probe_font(font_path: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path, 24)


@lru_cache(maxsize=64)
def _missing_glyph(font_path: str) -> tuple[tuple[int, int], bytes]:
    return _glyph(_probe_font(font_path), MISSING)


@lru_cache(maxsize=65536)
def draws(font_path: str, char: str) -> bool:
    """Whether the font has a glyph of its own for `char` (a space always counts)."""
    if char.isspace():
        return True
    size, ink = _glyph(_probe_font(font_path), char)
    return (size, ink) != _missing_glyph(font_path) and any(ink)


def drawable_words(items: list[str], font_path: str) -> list[str]:
    """The words the font draws every letter of (a rare letter the font lacks would show as a box)."""
    return [word for word in items if all(draws(font_path, char) for char in word)]


@lru_cache(maxsize=4096)
def covers(font_path: str, script: str) -> bool:
    """Whether the font draws every probe letter of `script` with a glyph of its own (not its missing-glyph box,
    and not nothing)."""
    try:
        return all(draws(font_path, char) for char in PROBES[script])
    except OSError:
        return False


def wrap_words(
    items: list[str], script: str, font: ImageFont.FreeTypeFont, max_width: float, max_lines: int
) -> list[str]:
    """Greedy line breaking between words, joined as the script joins them."""
    sep = joiner(script)
    lines: list[str] = []
    for word in items:
        if lines and font.getlength(lines[-1] + sep + word) <= max_width:
            lines[-1] += sep + word
        else:
            lines.append(word)
    return lines[:max_lines]


def vertical_block(
    lines: list[str], font: ImageFont.FreeTypeFont, fill: tuple[int, int, int], stroke: int, outline
) -> Image.Image:
    """Japanese set vertically: each line a column read top to bottom, the columns right to left."""
    pitch = round(font.size * 1.15)
    heights = [font.getlength(line, direction="ttb") for line in lines]
    margin = stroke + 4
    width = pitch * len(lines) + 2 * margin
    height = int(max(heights)) + 2 * margin
    block = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(block)
    for i, line in enumerate(lines):
        x = width - margin - (i + 1) * pitch + (pitch - font.size) // 2
        draw.text(
            (x, margin),
            line,
            font=font,
            fill=fill + (255,),
            direction="ttb",
            stroke_width=stroke,
            stroke_fill=(outline + (255,)) if outline else None,
        )
    return block
