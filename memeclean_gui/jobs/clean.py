"""What the workers run: plain functions taking `progress(fraction, text)` and `cancel() -> bool` (no Qt).

The core modules that import torch (`memeclean_core.network.checkpoint`, `memeclean_core.cleaning.inference`) are
imported inside these functions, i.e. in a worker thread the first time a clean runs, never on the start-up path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from memeclean_core.callbacks import CancelFn, ProgressFn
from memeclean_core.cleaning import whole_image
from memeclean_core.cleaning.options import CleanOptions
from memeclean_core.files.imageio import LoadedImage
from memeclean_core.network.lazy import LazyModel

from ..model.document import Result

if TYPE_CHECKING:
    from memeclean_core.network.checkpoint import LoadedModel


class ModelCache(LazyModel):
    """The window's model (`LazyModel`): loaded the first time a worker needs it, with the native libraries preloaded
    first and the networks compiled, and kept for later runs."""

    def __init__(self, path: str | Path | None = None, device: str = "auto", runtime: str = "auto"):
        super().__init__(path, device, runtime)
        self.path = None if path is None else Path(path)

    @property
    def device_name(self) -> str | None:
        """'CPU', 'CPU (OpenVINO)', 'GPU (...)' once loaded, else None."""
        return None if self._model is None else self._model.device_name

    @property
    def note(self) -> str | None:
        """Why the runtime asked for is not the one running (OpenVINO failed, torch runs), once loaded."""
        return None if self._model is None else self._model.note

    @property
    def multiple(self) -> int | None:
        return None if self._model is None else int(self._model.config.multiple)

    def get(self, progress: ProgressFn | None = None) -> LoadedModel:
        """The loaded model; loads it on first use (imports torch, or OpenVINO and compiles the networks for the
        CPU). Raises ModelLoadError."""
        if progress is not None and not self.loaded:
            progress(0.0, "Loading the model")
        return super().get()

    def load(self) -> LoadedModel:
        from ..workers.preload import preload_native_libraries

        preload_native_libraries()  # keeps the UI thread running while libtorch loads
        model = super().load()
        warm_up = getattr(model.runner, "warm_up", None)
        if warm_up is not None:
            warm_up()  # compile here (the app's preload), not in the first clean
        return model


def load(source: Path | bytes, name: str | None = None) -> LoadedImage:
    """Read a file (a Path) or encoded image data (bytes, e.g. dragged from a browser). Raises ImageLoadError."""
    from memeclean_core.files.imageio import image_from_bytes, load_image

    if isinstance(source, (bytes, bytearray, memoryview)):
        return image_from_bytes(bytes(source), name or "dropped image")
    return load_image(source)


def clean_image(
    image: LoadedImage, resolution: int, models: ModelCache, progress: ProgressFn, cancel: CancelFn
) -> Result:
    """Clean every frame (an animation is cleaned whole; the mask shown is the first frame's). The app's settings
    ask for the working size only: caption bars are cropped afterwards (`Document.crop_caption_bars`)."""
    started = time.perf_counter()
    model = models.get(progress)
    options = CleanOptions(resolution=resolution)
    done = whole_image.clean_image(image, options, model, progress=progress, cancel=cancel)
    return _result(done, resolution, started)


def refill(
    image: LoadedImage,
    previous: Result | None,
    mask: np.ndarray,
    resolution: int,
    models: ModelCache,
    progress: ProgressFn,
    cancel: CancelFn,
) -> Result:
    """Fill the first frame again with a mask edited by hand, changing only what the edit touched
    (`memeclean_core.cleaning.whole_image.refill`). Other frames of an animation are kept as they are."""
    started = time.perf_counter()
    model = models.get(progress)
    options = CleanOptions(resolution=resolution)
    done = whole_image.refill(image, mask, options, model, previous=previous, progress=progress, cancel=cancel)
    return _result(done, resolution, started)


def _result(done: whole_image.CleanedImage, resolution: int, started: float) -> Result:
    """The document's result; its time includes loading the model when this run loaded it."""
    return Result(
        image=done.image,
        mask=done.mask,
        region=done.region,
        resolution=resolution,
        working_size=done.working_size,
        device=done.device,
        seconds=time.perf_counter() - started,
        grown=done.grown,
    )


def save(path: Path, image: LoadedImage, *, quality: int, overwrite: bool, protect: list[Path]) -> Path:
    """Write the template atomically; `protect` (the original) is never written. Raises ImageSaveError."""
    from memeclean_core.files.imageio import save_image

    return save_image(path, image, quality=quality, overwrite=overwrite, protect=protect)
