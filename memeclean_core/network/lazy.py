"""`LazyModel`: a model loaded on first use and kept, one per process.

Importing this module imports neither torch nor OpenVINO (`checkpoint.load_model` is imported when the first model
is loaded), so the app can hold one at start-up: its `ModelCache` is a LazyModel that also compiles the networks.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .runtime import DEFAULT_RUNTIME

if TYPE_CHECKING:
    from .checkpoint import LoadedModel


class LazyModel:
    """A model loaded on first use and kept: `holder.get()`. Pickling drops a loaded model, so each worker process
    or Ray actor given a copy loads its own, once (the folder runner's `ItemCleaner`, the batch `MemeCleaner`).
    `threads`, when given, also sets that process's torch and OpenCV threads before the load."""

    def __init__(
        self,
        path: str | Path | None = None,
        device: str = "auto",
        runtime: str = DEFAULT_RUNTIME,
        threads: int | None = None,
        model: LoadedModel | None = None,
    ):
        self.path = None if path is None else str(path)
        self.device, self.runtime, self.threads = device, runtime, threads
        self._model = model
        self._threads_set = False  # the threads are set once per process, a given model or not
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Every process or actor loads its own model and sets its own threads.
        return {**self.__dict__, "_model": None, "_threads_set": False, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> LoadedModel:
        """The model, loaded on the first call (ModelLoadError for a bad weights file)."""
        with self._lock:
            if not self._threads_set and self.threads is not None:
                import cv2
                import torch

                torch.set_num_threads(self.threads)
                cv2.setNumThreads(self.threads)
            self._threads_set = True
            if self._model is None:
                self._model = self.load()
            return self._model

    def load(self) -> LoadedModel:
        """Load the model (`get` calls it once, holding the lock); a subclass may do more around the load."""
        from .checkpoint import load_model

        return load_model(self.path, self.device, self.runtime, threads=self.threads)
