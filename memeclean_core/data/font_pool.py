"""Fonts for synthetic captions: every .ttf/.otf/.ttc in a data folder's `fonts/` (Latin captions; the bundled Anton
when there are none), and in its `script_fonts/` (fonts for the other writing systems, drawn only for captions in a
script they cover: `pick(rng, script)`). The two folders are apart so that adding script fonts leaves every Latin
caption, and so the validation rows measured before, exactly as they were."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import ImageFont

from ..errors import MemeCleanError
from ..files.file_kinds import is_regular_file
from ..files.filenames import FONT_SUFFIXES
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


def _fonts_in(folder: Path) -> list[Path]:
    paths = [p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES] if folder.is_dir() else []
    # Only regular files that load: a pipe would block, a broken font would stop training in a worker.
    return [p for p in paths if is_regular_file(p) and _loads(p)]


class FontPool:
    def __init__(self, paths: list[Path], script_paths: list[Path] | None = None):
        if not paths:
            raise MemeCleanError("no fonts to draw captions with")
        self.paths = sorted(paths)
        weights = np.array([3.0 if any(k in p.name.lower() for k in IMPACT_LIKE) else 1.0 for p in self.paths])
        self.weights = weights / weights.sum()
        self.script_paths = sorted(script_paths or [])
        self._covering: dict[str, list[str]] = {}

    @classmethod
    def from_folder(cls, root: str | Path) -> FontPool:
        """Fonts under `root/fonts/` (a prepared data folder); the bundled font when there are none."""
        paths = _fonts_in(Path(root) / "fonts")
        return cls(paths or [resource_path("fonts", "Anton-Regular.ttf")], _fonts_in(Path(root) / "script_fonts"))

    def pick(self, rng: np.random.Generator) -> str:
        """A font for a Latin caption (Impact-like ones more often)."""
        return str(self.paths[rng.choice(len(self.paths), p=self.weights)])

    def covering(self, script: str) -> list[str]:
        """The fonts of either folder that draw `script` (data.scripts.covers), in name order."""
        if script not in self._covering:
            from .scripts import covers

            self._covering[script] = [str(p) for p in self.paths + self.script_paths if covers(str(p), script)]
        return self._covering[script]

    def pick_for(self, rng: np.random.Generator, script: str) -> str | None:
        """A font that draws `script`, each as likely; None when no font of the pool does."""
        fonts = self.covering(script)
        return fonts[int(rng.integers(len(fonts)))] if fonts else None

    def load(self, path: str, size: int) -> ImageFont.FreeTypeFont:
        return load_boldest_font(path, int(size))
