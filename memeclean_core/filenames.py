"""File names: which suffixes are pictures, and a name made safe to write on any file system. Torch-free and
cheap to import (the GUI uses both)."""

from __future__ import annotations

import re

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
