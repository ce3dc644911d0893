"""File names: which suffixes are pictures (read, written), the file dialogs' filters made from them, a name made
safe to write on any file system, and when two paths name the same file. Torch-free and cheap to import (the GUI
uses all of it)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

# Decided by the name, not by reading every file: the same on every machine. All of them load with Pillow
# (`imageio.load_image`); a file with one of these suffixes that does not load is a failed picture.
IMAGE_SUFFIXES = frozenset(
    {
        ".png",
        ".apng",
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".webp",
        ".gif",
        ".bmp",
        ".dib",
        ".tif",
        ".tiff",
        ".tga",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
    }
)

# What `imageio.save_image` writes: suffix (lower case) -> Pillow's format name.
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}
# How a save dialog names each format written (Pillow's name -> words).
_FORMAT_WORDS = {"PNG": "PNG image", "JPEG": "JPEG image", "WEBP": "WebP image", "GIF": "GIF animation"}

# Font files: what the caption editor lists and what a training data folder's fonts/ contributes (.ttc: the first
# face of a collection).
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def safe_name(text: str) -> str:
    """`text` as a file name that every file system accepts: runs of other characters become "_", no leading or
    trailing dots or underscores, at most 150 characters ("unnamed" when nothing is left)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")
    return name[:150] or "unnamed"


# Animated inputs keep a container that holds their frames: GIF and WebP as they came, any other (APNG) as PNG.
_ANIMATED_SUFFIXES = {"GIF": ".gif", "WEBP": ".webp"}


def cleaned_suffix(image_format: str | None, animated: bool) -> str:
    """The suffix of a cleaned picture's file: .png for a still; an animation keeps a container that holds its
    frames (`image_format` is Pillow's format name of the input, e.g. "GIF")."""
    return _ANIMATED_SUFFIXES.get(image_format or "", ".png") if animated else ".png"


def open_filter(label: str = "Images") -> str:
    """The file dialog filter of every picture MemeClean reads (`IMAGE_SUFFIXES`), then all files."""
    patterns = " ".join(f"*{suffix}" for suffix in sorted(IMAGE_SUFFIXES))
    return f"{label} ({patterns});;All files (*)"


def weights_filter() -> str:
    """The file dialog filter of MemeClean's weights files (`resources.MODEL_SUFFIX`), then all files."""
    from ..resources import MODEL_SUFFIX

    return f"MemeClean weights (*{MODEL_SUFFIX});;All files (*)"


def save_filters(suffixes: Iterable[str] = (".png", ".jpg", ".webp", ".gif")) -> dict[str, str]:
    """A save dialog's filters for the formats of `suffixes` (each one `SAVE_FORMATS` writes), in that order:
    {"JPEG image (*.jpg *.jpeg)": ".jpg", ...}; each filter lists every suffix of its format, the value is the
    suffix a file chosen without one gets."""
    filters = {}
    for suffix in suffixes:
        image_format = SAVE_FORMATS[suffix]
        patterns = " ".join(f"*{other}" for other, written in SAVE_FORMATS.items() if written == image_format)
        filters[f"{_FORMAT_WORDS[image_format]} ({patterns})"] = suffix
    return filters


def path_key(path: str | os.PathLike[str]) -> str:
    """A comparable identity for a path that may not exist yet: absolute, links resolved as far as the path
    exists, case-folded where the platform folds case. For sets and dicts of paths; `same_file` for two."""
    try:
        resolved = str(Path(path).resolve())
    except (OSError, RuntimeError):  # a link loop, an unreadable folder on the way
        resolved = os.path.abspath(path)
    return os.path.normcase(resolved)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name the same file: where both exist, the same file on disk (hard links, a
    case-insensitive file system, links, `..`); else the same `path_key`."""
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return path_key(a) == path_key(b)
