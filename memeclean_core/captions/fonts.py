"""Fonts for captions: the bundled Anton default, the user's system fonts, and fallbacks for missing glyphs.

A font is named by a *font key*: the path of a font file as a string, or `PIL_DEFAULT` for the font built into
Pillow (the last resort when no fallback font file is installed). Fonts load through `load_font(key, size_px)`.

Missing glyphs are found without fontTools: a character whose rendering (mask and advance) equals the rendering
of a code point no font has (the font's .notdef box) is missing, and `split_by_font` draws it with the first
fallback font that has it. Fallbacks, in order: the host's fonts as fontconfig ranks them for sans-serif text
(`fc-match -s`, with each font's character set, so only fonts that claim the character are tried), the usual
fallback files found in the font folders (where there is no fontconfig), the bundled Noto subsets
(resources/fonts/fallback/: Latin, Greek, Cyrillic, Arabic, Hebrew, Devanagari, Thai and common Chinese, Japanese
and Korean; so the bundle draws those scripts on a host with few fonts), then Pillow's font. A character no font has
keeps a visible .notdef box, so it never silently vanishes.

Nothing here is module-level mutable state except `functools.lru_cache` caches (scans, loaded fonts, coverage).
"""

from __future__ import annotations

import bisect
import os
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..errors import MemeCleanError
from ..files.filenames import FONT_SUFFIXES
from ..resources import resource_path
from .boxes import CaptionError

DEFAULT_FONT_FILE = "Anton-Regular.ttf"
PIL_DEFAULT = "<pil-default>"  # font key of Pillow's built-in font
# Font files tried, in order, for characters the chosen font lacks (file names, matched case-insensitively).
FALLBACK_FILES = (
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansSymbols2-Regular.ttf",
    "Symbola.ttf",
    "DroidSansFallbackFull.ttf",
    "arialuni.ttf",
    "Arial Unicode.ttf",
    "msyh.ttc",
    "seguisym.ttf",
)
_REGULAR_STYLES = ("regular", "book", "normal", "roman", "medium")  # most regular first
_NOTDEF_PROBE = "\U0010fffd"  # a private-use code point in plane 16: no real font draws it
_PROBE_PX = 48
# Categories that never pick a font of their own: they stay with the run they sit in (spaces, joiners, marks).
_NEUTRAL_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me"}


class FontNotFoundError(MemeCleanError):
    """A font named by the user is neither a font file nor an installed family."""


def default_font_path() -> Path:
    """The bundled Impact-style default, Anton (SIL Open Font License, see resources/fonts/Anton-OFL.txt)."""
    return resource_path("fonts", DEFAULT_FONT_FILE)


def font_dirs() -> list[Path]:
    """The usual places fonts are installed on Linux, macOS and Windows (existing or not)."""
    home = Path.home()
    dirs = [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        home / ".fonts",
        Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
        home / "Library" / "Fonts",
    ]
    if sys.platform == "win32":
        dirs.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
        local = os.environ.get("LOCALAPPDATA")
        if local:
            dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    return dirs


@lru_cache(maxsize=1)
def _font_files() -> tuple[Path, ...]:
    found: set[Path] = set()
    for folder in font_dirs():
        if not folder.is_dir():
            continue
        for root, _dirs, files in os.walk(folder, onerror=lambda _error: None):
            found.update(Path(root) / name for name in files if name.lower().endswith(FONT_SUFFIXES))
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def _system_fonts() -> tuple[tuple[str, Path], ...]:
    faces: dict[str, Path] = {}  # "Family Style" -> file
    families: dict[str, tuple[int, Path]] = {}  # "Family" -> (rank of its most regular style, file)
    for path in _font_files():
        try:
            family, style = ImageFont.truetype(str(path), 12).getname()
        except (OSError, ValueError):
            continue  # unreadable or not a scalable font
        if not family:
            continue
        style = style or "Regular"
        faces.setdefault(f"{family} {style}", path)
        rank = _REGULAR_STYLES.index(style.lower()) if style.lower() in _REGULAR_STYLES else len(_REGULAR_STYLES)
        if family not in families or rank < families[family][0]:
            families[family] = (rank, path)
    names = {**faces, **{family: path for family, (_rank, path) in families.items()}}
    return tuple(sorted(names.items(), key=lambda item: item[0].casefold()))


def system_fonts() -> dict[str, Path]:
    """Installed fonts by name: "Family Style" for every face and "Family" for its regular face.

    The scan runs once per process (cached); the result is a fresh dict the caller may change.
    """
    return dict(_system_fonts())


def find_font(name: str) -> Path:
    """The font file for `name`: "" → the bundled default, an existing file → itself, else an installed
    family or face name (case-insensitive). Raises FontNotFoundError when there is none."""
    if not name.strip():
        return default_font_path()
    if name.lower().endswith(FONT_SUFFIXES) and Path(name).expanduser().is_file():
        return Path(name).expanduser()
    wanted = name.strip().casefold()
    if wanted == Path(DEFAULT_FONT_FILE).stem.casefold() or wanted == "anton":
        return default_font_path()
    for family, path in _system_fonts():
        if family.casefold() == wanted:
            return path
    raise FontNotFoundError(f"font {name!r} not found: give a font file or an installed font's name")


def resolve_font(name: str) -> Path:
    """Like `find_font`, but a font that is not installed here falls back to the bundled default.

    Used when drawing, so a project made on another computer still opens and renders.
    """
    try:
        return find_font(name)
    except FontNotFoundError:
        return default_font_path()


@lru_cache(maxsize=1)
def fallback_keys() -> tuple[str, ...]:
    """Font keys tried, after the host's fontconfig fallbacks, for characters the chosen font lacks: installed
    fallback files, the bundled Noto subsets, then Pillow's font."""
    by_name: dict[str, Path] = {}
    for path in _font_files():
        by_name.setdefault(path.name.lower(), path)
    keys = [str(by_name[name.lower()]) for name in FALLBACK_FILES if name.lower() in by_name]
    return (*keys, *(str(path) for path in bundled_fallbacks()), PIL_DEFAULT)


def bundled_fallbacks() -> list[Path]:
    """The Noto subsets shipped for scripts a host may have no font for (resources/fonts/fallback/, sorted)."""
    folder = resource_path("fonts", "fallback")
    return (
        sorted(path for path in folder.glob("*") if path.suffix.lower() in (".ttf", ".otf")) if folder.is_dir() else []
    )


@dataclass(frozen=True)
class _Coverage:
    """A font fontconfig offers, with the code points it claims as sorted, disjoint ranges."""

    key: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def claims(self, char: str) -> bool:
        index = bisect.bisect_right(self.starts, ord(char)) - 1
        return index >= 0 and ord(char) <= self.ends[index]


_FC_FORMAT = "%{file}|%{index}|%{style[0]}|%{charset}\n"
_SLANTED_OR_BOLD = ("bold", "italic", "oblique", "black", "heavy")


def _parse_charset(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ranges = []
    for part in text.split():
        low, _, high = part.partition("-")
        ranges.append((int(low, 16), int(high or low, 16)))
    ranges.sort()
    return tuple(low for low, _ in ranges), tuple(high for _, high in ranges)


@lru_cache(maxsize=1)
def fontconfig_fallbacks() -> tuple[_Coverage, ...]:
    """The host's fonts in fontconfig's order for sans-serif text (`fc-match -s`: each adds characters the ones before
    lack), regular upright faces only, with their character sets. Empty where fontconfig is not installed."""
    program = shutil.which("fc-match")
    if program is None:
        return ()
    try:
        listing = subprocess.run(
            [program, "-s", "sans-serif", "--format", _FC_FORMAT], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    fonts = []
    for line in listing.splitlines():
        fields = line.split("|")
        if len(fields) != 4 or not fields[0] or any(word in fields[2].lower() for word in _SLANTED_OR_BOLD):
            continue
        path, index, _style, charset = fields
        if not path.lower().endswith(FONT_SUFFIXES) or not Path(path).is_file():
            continue
        key = path if index in ("", "0") else f"{path}{_FACE_MARK}{index}"
        fonts.append(_Coverage(key, *_parse_charset(charset)))
    return tuple(fonts)


_FACE_MARK = "#"  # "collection.ttc#1": face 1 of a font collection


def _font_file_and_face(key: str) -> tuple[str, int]:
    path, mark, face = key.rpartition(_FACE_MARK)
    if mark and face.isdigit() and not Path(key).is_file():
        return path, int(face)
    return key, 0


@lru_cache(maxsize=256)
def load_font(key: str, size_px: int) -> ImageFont.FreeTypeFont:
    """Load a font by key at a pixel size (at least 1). Raises FontNotFoundError when the file cannot be read."""
    size_px = max(1, int(size_px))
    if key == PIL_DEFAULT:
        font = ImageFont.load_default(size_px)
        if not isinstance(font, ImageFont.FreeTypeFont):  # Pillow built without FreeType
            raise FontNotFoundError("Pillow was built without FreeType: cannot draw captions")
        return font
    try:
        path, face = _font_file_and_face(key)
        return ImageFont.truetype(path, size_px, index=face)
    except (OSError, ValueError) as error:
        if size_px > 64:  # the file may be fine and only the size too large: say which
            try:
                ImageFont.truetype(key, 64)
            except (OSError, ValueError):
                pass
            else:
                raise CaptionError(f"font size {size_px} px is too large to draw with {key}") from None
        raise FontNotFoundError(f"cannot read font {key}: {error}") from None


def _glyph_signature(key: str, char: str) -> tuple[float, bytes]:
    font = load_font(key, _PROBE_PX)
    canvas = Image.new("L", (_PROBE_PX * 4, _PROBE_PX * 3))
    ImageDraw.Draw(canvas).text((_PROBE_PX, _PROBE_PX * 2), char, font=font, fill=255, anchor="ls")
    return font.getlength(char), canvas.tobytes()


@lru_cache(maxsize=64)
def _notdef(key: str) -> tuple[float, bytes]:
    return _glyph_signature(key, _NOTDEF_PROBE)


@lru_cache(maxsize=65536)
def has_glyph(key: str, char: str) -> bool:
    """Whether the font draws `char` with a glyph of its own (not its .notdef box)."""
    return _glyph_signature(key, char) != _notdef(key)


@lru_cache(maxsize=64)
def notdef_visible(key: str) -> bool:
    """Whether the font's .notdef glyph draws anything (a box), so missing characters stay visible."""
    return any(_notdef(key)[1])


def _is_neutral(char: str) -> bool:
    return unicodedata.category(char) in _NEUTRAL_CATEGORIES or char in "\ufe0e\ufe0f"


@lru_cache(maxsize=65536)
def font_for(char: str, key: str) -> str:
    """The font that draws `char` when `key` is chosen: `key` itself if it has the glyph, else the first fallback
    that has it (the host's fontconfig fonts that claim it, then `fallback_keys()`); a font with a visible .notdef
    box when none has it."""
    claimed = [font.key for font in fontconfig_fallbacks() if font.claims(char)]
    chain = (key, *claimed, *fallback_keys())
    for candidate in chain:
        if has_glyph(candidate, char):
            return candidate
    for candidate in chain:  # nobody has it: show a .notdef box rather than nothing
        if notdef_visible(candidate):
            return candidate
    return key


def split_by_font(text: str, key: str) -> list[tuple[str, str]]:
    """Split `text` into runs `(text, font key)`: the font `key` where it has the glyphs, fallbacks elsewhere.

    Spaces, joiners, variation selectors and combining marks stay in the run they follow, so "é" built from
    "e" + U+0301 and emoji sequences are not cut apart.
    """
    runs: list[tuple[str, str]] = []
    pending = ""  # neutral characters before the first run
    for char in text:
        if _is_neutral(char):
            if runs:
                runs[-1] = (runs[-1][0] + char, runs[-1][1])
            else:
                pending += char
            continue
        chosen = font_for(char, key)
        if runs and runs[-1][1] == chosen:
            runs[-1] = (runs[-1][0] + char, chosen)
        else:
            runs.append((pending + char, chosen))
            pending = ""
    if pending:
        runs.append((pending, key))
    return runs
