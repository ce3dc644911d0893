"""Fonts for captions: the bundled Anton default, the user's system fonts, and fallbacks for missing glyphs.

A font is named by a *font key*: the path of a font file as a string, or `PIL_DEFAULT` for the font built into
Pillow (the last resort when no fallback font file is installed). Fonts load through `load_font(key, size_px)`.

Missing glyphs are found without fontTools: a character whose rendering (mask and advance) equals the rendering
of a code point no font has (the font's .notdef box) is missing, and `split_by_font` draws it with the first
fallback font that has it. A character no font has keeps a visible .notdef box, so it never silently vanishes.

Nothing here is module-level mutable state except `functools.lru_cache` caches (scans, loaded fonts, coverage).
"""

from __future__ import annotations

import os
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..errors import MemeCleanError
from ..filenames import FONT_SUFFIXES
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
    """Font keys tried for characters the chosen font lacks: installed fallback files, then Pillow's font."""
    by_name: dict[str, Path] = {}
    for path in _font_files():
        by_name.setdefault(path.name.lower(), path)
    keys = [str(by_name[name.lower()]) for name in FALLBACK_FILES if name.lower() in by_name]
    return (*keys, PIL_DEFAULT)


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
        return ImageFont.truetype(key, size_px)
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


def _font_for(char: str, chain: tuple[str, ...]) -> str:
    for key in chain:
        if has_glyph(key, char):
            return key
    for key in chain:  # nobody has it: show a .notdef box rather than nothing
        if notdef_visible(key):
            return key
    return chain[0]


def split_by_font(text: str, key: str) -> list[tuple[str, str]]:
    """Split `text` into runs `(text, font key)`: the font `key` where it has the glyphs, fallbacks elsewhere.

    Spaces, joiners, variation selectors and combining marks stay in the run they follow, so "é" built from
    "e" + U+0301 and emoji sequences are not cut apart.
    """
    chain = (key, *(fallback for fallback in fallback_keys() if fallback != key))
    runs: list[tuple[str, str]] = []
    pending = ""  # neutral characters before the first run
    for char in text:
        if _is_neutral(char):
            if runs:
                runs[-1] = (runs[-1][0] + char, runs[-1][1])
            else:
                pending += char
            continue
        chosen = _font_for(char, chain)
        if runs and runs[-1][1] == chosen:
            runs[-1] = (runs[-1][0] + char, chosen)
        else:
            runs.append((pending + char, chosen))
            pending = ""
    if pending:
        runs.append((pending, key))
    return runs
