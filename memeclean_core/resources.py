"""Find bundled files (weights, fonts, icons, samples) from source and from a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLED_MODEL_NAME = "memeclean-v1.pt"


def resources_dir() -> Path:
    """The `resources/` folder: next to the packages from source, under sys._MEIPASS when frozen."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a bundled file, e.g. resource_path("fonts", "Anton-Regular.ttf")."""
    return resources_dir().joinpath(*parts)


def bundled_model_path() -> Path:
    return resource_path("models", BUNDLED_MODEL_NAME)
