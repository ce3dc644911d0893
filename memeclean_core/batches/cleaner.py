"""Cleaning in batches with one model per worker: `MemeCleaner`, a callable class for Ray Data or any loop.

    import ray
    from memeclean_core.batches.cleaner import MemeCleaner

    memes = ray.data.read_images("memes/", mode="RGB", include_paths=True)   # columns "image" and "path"
    clean = memes.map_batches(MemeCleaner, fn_constructor_kwargs={"resolution": 512}, batch_size=8,
                              concurrency=4, num_cpus=1)   # on GPUs: concurrency=<GPUs>, num_gpus=1
    for row in clean.iter_rows(): ...                      # row["clean"], row["mask"], row["error"], ...

Ray Data makes one instance per actor, so each actor loads the model once and keeps it. The class needs no Ray:
`MemeCleaner()({"path": np.array(["a.jpg", "b.png"])})` cleans two files here. `memeclean clean --input-dir
... --engine ray` (`batches.ray`) runs the folder mode's planned pictures through the same model loading.

A batch is a dict of equal-length columns (Ray's "numpy" batch format) with "image" (H×W×3 uint8 arrays; H×W grey
and H×W×4 RGBA are taken too, the alpha is left out of the cleaning) or "path" (files, read by
`imageio.load_image`: EXIF orientation applied, an animation's first frame; "image" wins when both are there).
The result is the batch's own columns plus, per picture:

- "clean": the cleaned picture, H×W×3 uint8 at the input's size (0×0×3 when it failed)
- "mask": the caption text the network found, H×W bool (0×0 when it failed)
- "working_size": (width, height) the network ran at, int32 (0, 0 when it failed)
- "replaced": the share of pixels replaced, 0..1 (NaN when it failed)
- "ms": the milliseconds the picture took, loading included
- "error": "" or the one-line reason the picture failed; a bad picture never stops the batch
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MemeCleanError, describe_unexpected
from ..geometry import DEFAULT_RESOLUTION

RESULT_COLUMNS = ("clean", "mask", "working_size", "replaced", "ms", "error")


class MemeCleaner:
    """`cleaner(batch) -> batch`: clean a batch of pictures with a model loaded once, on first use."""

    def __init__(
        self,
        model: str | Path | None = None,
        resolution: int = DEFAULT_RESOLUTION,
        device: str = "auto",
        threads: int | None = None,
        runtime: str = "auto",
    ):
        """`model`: a weights file (None: the bundled model); `threads`: torch/OpenCV/OpenVINO threads of this
        worker (None keeps the libraries' defaults; 1 suits one CPU per Ray actor); `runtime`: what runs the
        network (`runtime.RUNTIMES`)."""
        from ..network.lazy import LazyModel

        self.resolution = resolution
        self.holder = LazyModel(model, device, runtime, threads)  # a pickled copy loads its own

    def model(self) -> Any:
        """The `LoadedModel`, loaded on the first call (ModelLoadError for a bad weights file)."""
        return self.holder.get()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if "image" in batch:
            sources: Sequence[Any] = batch["image"]
        elif "path" in batch:
            sources = batch["path"]
        else:
            raise MemeCleanError(f"a batch needs an 'image' or a 'path' column, got {sorted(batch)}")
        model = self.model()
        results = [self.clean_one(source, model) for source in sources]
        out = dict(batch)
        out["clean"] = _object_column([r[0] for r in results])
        out["mask"] = _object_column([r[1] for r in results])
        out["working_size"] = np.array([r[2] for r in results], dtype=np.int32).reshape(len(results), 2)
        out["replaced"] = np.array([r[3] for r in results], dtype=np.float64)
        out["ms"] = np.array([r[4] for r in results], dtype=np.float64)
        out["error"] = np.array([r[5] for r in results], dtype=object)
        return out

    def clean_one(self, source: Any, model: Any) -> tuple[np.ndarray, np.ndarray, tuple[int, int], float, float, str]:
        """(clean, mask, working size, share replaced, ms, error) for one array or file; never raises for a bad
        picture."""
        from ..cleaning.options import CleanOptions
        from ..cleaning.whole_image import clean_image
        from ..files.imageio import Frame, LoadedImage

        started = time.perf_counter()
        try:
            rgb, alpha = _picture(source)
            options = CleanOptions(resolution=self.resolution, first_frame_only=True)
            result = clean_image(LoadedImage([Frame(rgb, alpha)]), options, model)
            ms = (time.perf_counter() - started) * 1000.0
            return result.image.frames[0].pixels, result.mask, tuple(result.working_size), result.replaced, ms, ""
        except MemoryError:
            error = "not enough memory to clean it (try a lower resolution)"
        except MemeCleanError as failure:
            error = str(failure)
        except Exception as failure:  # noqa: BLE001 - a bug or a device failure: reported for this picture, the others go on
            error = f"unexpected error: {describe_unexpected(failure)}"
        ms = (time.perf_counter() - started) * 1000.0
        label = source if isinstance(source, (str, Path)) else None
        if label is not None and f"'{label}'" not in error:
            error = f"{label}: {error}"
        return np.zeros((0, 0, 3), np.uint8), np.zeros((0, 0), bool), (0, 0), float("nan"), ms, error


def _picture(source: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB uint8, alpha or None) from a path or an array."""
    if isinstance(source, (str, Path)):
        from ..files.imageio import load_image

        frame = load_image(source).frames[0]
        return frame.pixels, frame.alpha
    array = np.asarray(source)
    if array.dtype != np.uint8:
        raise MemeCleanError(f"an image array must be uint8, got {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2), None
    if array.ndim == 3 and array.shape[2] in (3, 4) and min(array.shape[:2]) > 0:
        return np.ascontiguousarray(array[:, :, :3]), None
    raise MemeCleanError(f"an image array must be H×W, H×W×3 or H×W×4, got shape {array.shape}")


def _object_column(arrays: list[np.ndarray]) -> np.ndarray:
    """A 1-D object array of arrays (np.array would merge equal shapes into one block)."""
    column = np.empty(len(arrays), dtype=object)
    for i, array in enumerate(arrays):
        column[i] = array
    return column
