"""What the workers run: plain functions taking `progress(fraction, text)` and `cancel() -> bool` (no Qt).

The core modules that import torch (`memeclean_core.checkpoint`, `memeclean_core.inference`) are imported inside
these functions, i.e. in a worker thread the first time a clean runs, never on the start-up path.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from memeclean_core.errors import Cancelled
from memeclean_core.imageio import Frame, LoadedImage

from ..model.document import Result
from ..model.document import frozen as _frozen  # the one read-only helper (model.document), as the bodies name it

if TYPE_CHECKING:
    from memeclean_core.checkpoint import LoadedModel

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]

# clean() reports the stage it just finished; people want to read what happens next.
_NEXT_STEP = {"prepare": "Finding the text", "mask": "Filling", "fill": "Putting it together", "composite": "Done"}


class ModelCache:
    """Loads the network the first time a worker needs it and keeps it for later runs (one per window)."""

    def __init__(self, path: str | Path | None = None, device: str = "auto"):
        self.path = None if path is None else Path(path)
        self.device = device
        self._model: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def device_name(self) -> str | None:
        """'CPU', 'GPU (...)' once loaded, else None."""
        return None if self._model is None else self._model.device_name

    @property
    def multiple(self) -> int | None:
        return None if self._model is None else int(self._model.config.multiple)

    def get(self, progress: Progress | None = None) -> LoadedModel:
        """The loaded model; loads it (imports torch) on first use. Raises ModelLoadError."""
        with self._lock:
            if self._model is None:
                if progress is not None:
                    progress(0.0, "Loading the model")
                from ..preload import preload_native_libraries

                preload_native_libraries()  # keeps the UI thread running while libtorch loads
                from memeclean_core.checkpoint import load_model

                self._model = load_model(self.path, device=self.device)
            return self._model


def _stage_text(stage: str) -> str:
    return _NEXT_STEP.get(stage, stage.capitalize())


def load(source: Path | bytes, name: str | None = None) -> LoadedImage:
    """Read a file (a Path) or encoded image data (bytes, e.g. dragged from a browser). Raises ImageLoadError."""
    from memeclean_core.imageio import image_from_bytes, load_image

    if isinstance(source, (bytes, bytearray, memoryview)):
        return image_from_bytes(bytes(source), name or "dropped image")
    return load_image(source)


def clean_image(image: LoadedImage, resolution: int, models: ModelCache, progress: Progress,
                cancel: Cancel) -> Result:
    """Clean every frame (an animation is cleaned whole; the mask shown is the first frame's)."""
    started = time.perf_counter()
    model = models.get(progress)
    from memeclean_core.inference import clean

    count = len(image.frames)
    frames: list[Frame] = []
    first = None
    for number, frame in enumerate(image.frames):
        if cancel():
            raise Cancelled("cleaning cancelled")
        prefix = f"Frame {number + 1} of {count}: " if count > 1 else ""

        def report(fraction: float, stage: str, number: int = number, prefix: str = prefix) -> None:
            progress((number + fraction) / count, prefix + _stage_text(stage))

        progress(number / count, prefix + "Preparing")
        result = clean(frame.pixels, resolution, model=model, alpha=frame.alpha, progress=report, cancel=cancel)
        frames.append(Frame(_frozen(result.image), frame.alpha, frame.duration_ms))
        if first is None:
            first = result
    return Result(
        image=image.with_frames(frames),
        mask=_frozen(first.mask.astype(bool)),
        region=_frozen(first.region.astype(bool)),
        resolution=resolution,
        working_size=tuple(first.working_size),
        device=first.device,
        seconds=time.perf_counter() - started,
    )


def refill(image: LoadedImage, previous: Result | None, mask: np.ndarray, resolution: int, models: ModelCache,
           progress: Progress, cancel: Cancel) -> Result:
    """Fill the first frame again with a mask edited by hand, changing only what the edit touched.

    The fill runs on the whole edited mask (skipping the mask network); its pixels are taken only near the
    pixels whose mask changed (dilated by the fill's own margin), the previous result everywhere else. Where text
    was erased from the mask, the original pixels come back. Other frames of an animation are kept as they are.
    """
    started = time.perf_counter()
    model = models.get(progress)
    from memeclean_core.inference import WORKING_DILATION, clean, dilate

    frame = image.frames[0]
    height, width = mask.shape

    def report(fraction: float, stage: str) -> None:
        progress(fraction, "Re-filling: " + _stage_text(stage).lower())

    if previous is None:
        old_mask = np.zeros_like(mask, dtype=bool)
        old_region = old_mask
        old_pixels = frame.pixels
        frames = list(image.frames)
    else:
        old_mask, old_region = previous.mask, previous.region
        old_pixels = previous.image.frames[0].pixels
        frames = list(previous.image.frames)

    result = clean(frame.pixels, resolution, mask=mask, model=model, alpha=frame.alpha, progress=report,
                   cancel=cancel)
    # The same margin clean() adds around the text at full size, for the new run and the previous one.
    margins = [math.ceil(WORKING_DILATION * width / result.working_size[0])]
    if previous is not None:
        margins.append(math.ceil(WORKING_DILATION * width / previous.working_size[0]))
    zone = dilate(old_mask ^ mask.astype(bool), max(1, *margins) + 1)
    pixels = np.where(zone[..., None], result.image, old_pixels)
    region = np.where(zone, result.region, old_region)
    frames[0] = Frame(_frozen(pixels), frame.alpha, frame.duration_ms)
    return Result(
        image=image.with_frames(frames),
        mask=_frozen(mask.astype(bool, copy=True)),
        region=_frozen(region),
        resolution=resolution,
        working_size=tuple(result.working_size),
        device=result.device,
        seconds=time.perf_counter() - started,
    )


def save(path: Path, image: LoadedImage, *, quality: int, overwrite: bool, protect: list[Path]) -> Path:
    """Write the template atomically; `protect` (the original) is never written. Raises ImageSaveError."""
    from memeclean_core.imageio import save_image

    return save_image(path, image, quality=quality, overwrite=overwrite, protect=protect)
