"""MemeClean's core: find caption text in a meme and fill what was behind it. No Qt here.

`clean` (one picture), `clean_image` (every frame of a loaded image), `load_model` and their results are imported on
first use, so that importing the package (as the GUI does at start-up) does not pull in torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import Cancelled, ImageLoadError, ImageSaveError, MemeCleanError, ModelLoadError

__all__ = [
    "clean",
    "CleanResult",
    "clean_image",
    "CleanedImage",
    "load_model",
    "LoadedModel",
    "MemeCleanError",
    "ImageLoadError",
    "ImageSaveError",
    "ModelLoadError",
    "Cancelled",
]
__version__ = "0.1.0"

_LAZY = {
    "clean": "inference",
    "CleanResult": "inference",
    "clean_image": "whole_image",
    "CleanedImage": "whole_image",
    "load_model": "checkpoint",
    "LoadedModel": "checkpoint",
}

if TYPE_CHECKING:
    from .checkpoint import LoadedModel, load_model
    from .inference import CleanResult, clean
    from .whole_image import CleanedImage, clean_image


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'memeclean_core' has no attribute {name!r}")
