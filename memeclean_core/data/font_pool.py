"""Fonts for synthetic captions: every .ttf/.otf in a data folder's `fonts/`, or the bundled Anton."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

from ..errors import MemeCleanError
from ..file_kinds import is_regular_file
from ..filenames import FONT_SUFFIXES
from ..resources import resource_path

# Impact-style fonts are the classic meme look: drawn more often than the rest.
IMPACT_LIKE = ("anton", "oswald", "league", "bebas", "fjalla")


@lru_cache(maxsize=512)
def load_boldest_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The font file at `size` px; a variable font set to its boldest named instance (captions are bold). The
    caption editor's `captions.fonts.load_font` draws what the person chose instead."""
    font = ImageFont.truetype(path, size)
    try:  # variable fonts: draw the boldest named instance captions use
        names = [n.decode() if isinstance(n, bytes) else n for n in font.get_variation_names()]
        for wanted in ("Black", "ExtraBold", "Bold"):
            if wanted in names:
                font.set_variation_by_name(wanted)
                break
    except OSError:
        pass  # not a variable font
    return font


def _loads(path: Path) -> bool:
    try:
        ImageFont.truetype(str(path), 24).getbbox("A")
        return True
    except Exception:  # noqa: BLE001 - FreeType reports a bad file in several ways
        return False


class FontPool:
    def __init__(self, paths: list[Path]):
        if not paths:
            raise MemeCleanError("no fonts to draw captions with")
        self.paths = sorted(paths)
        weights = np.array([3.0 if any(k in p.name.lower() for k in IMPACT_LIKE) else 1.0 for p in self.paths])
        self.weights = weights / weights.sum()

    @classmethod
    def from_folder(cls, root: str | Path) -> FontPool:
        """Fonts under `root/fonts/` (a prepared data folder); the bundled font when there are none."""
        folder = Path(root) / "fonts"
        paths = [p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES] if folder.is_dir() else []
        # Only regular files that load: a pipe would block, a broken font would stop training in a worker.
        paths = [p for p in paths if is_regular_file(p) and _loads(p)]
        return cls(paths or [resource_path("fonts", "Anton-Regular.ttf")])

    def pick(self, rng: np.random.Generator) -> str:
        return str(self.paths[rng.choice(len(self.paths), p=self.weights)])

    def load(self, path: str, size: int) -> ImageFont.FreeTypeFont:
        return load_boldest_font(path, int(size))
