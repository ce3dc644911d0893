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
    "clean": "cleaning.inference",
    "CleanResult": "cleaning.inference",
    "clean_image": "cleaning.whole_image",
    "CleanedImage": "cleaning.whole_image",
    "load_model": "network.checkpoint",
    "LoadedModel": "network.checkpoint",
}

if TYPE_CHECKING:
    from .cleaning.inference import CleanResult, clean
    from .cleaning.whole_image import CleanedImage, clean_image
    from .network.checkpoint import LoadedModel, load_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'memeclean_core' has no attribute {name!r}")
