"""Find bundled files (weights, fonts, icons, samples) from source and from a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

BUNDLED_MODEL_NAME = "memeclean-v3.pt"


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


# -- the user's own files: models trained in the app (Model ▸ Train…) and data prepared for them ------------------

APP_DIR_NAME = "MemeClean"
MODEL_SUFFIX = ".pt"


def user_data_dir() -> Path:
    """<user data dir>/MemeClean (platformdirs): where the app keeps what a person makes, not settings."""
    import platformdirs

    return platformdirs.user_data_path(APP_DIR_NAME, appauthor=False)


def user_models_dir() -> Path:
    """Where models trained in the app are saved by default and listed from (the Model menu). Not created here."""
    return user_data_dir() / "models"


def user_models(folder: Path | None = None) -> list[Path]:
    """The weights files (*.pt) in `folder` (default: `user_models_dir()`), newest first; [] when it is missing."""
    folder = user_models_dir() if folder is None else Path(folder)
    try:
        found = [path for path in folder.iterdir() if path.suffix == MODEL_SUFFIX and path.is_file()]
    except OSError:  # missing or unreadable: no models yet
        return []
    return sorted(found, key=lambda path: (-path.stat().st_mtime, path.name))


def new_user_model_path(stem: str = "model", folder: Path | None = None) -> Path:
    """A file name for a new model that no file has yet, e.g. models/model-2025-01-31-1530.pt (dated, so a list
    sorted by name is also sorted by age)."""
    import time

    folder = user_models_dir() if folder is None else Path(folder)
    base = f"{stem}-{time.strftime('%Y-%m-%d-%H%M')}"
    path, number = folder / f"{base}{MODEL_SUFFIX}", 2
    while path.exists():
        path, number = folder / f"{base}-{number}{MODEL_SUFFIX}", number + 1
    return path
