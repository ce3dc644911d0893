"""The controller: runs the document's slow jobs (open, clean, re-fill, save) on a job runner of the window's
`Workers` (`workers.runner`), and applies their results to the document on the UI thread.

One model run (clean or re-fill) at a time: asking for another while one runs cancels it and starts the new one
when it has stopped. A result that belongs to an image no longer shown is dropped. The network is loaded in a
worker by `preload_model()` (the app calls it once the window is shown) or else by the first model run, and cached
here for the window's life. `Workers.shutdown()` (the window's one way to quit) cancels its jobs and waits for them.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from memeclean_core.errors import MemeCleanError, ModelLoadError
from memeclean_core.files.imageio import LoadedImage

from .jobs import clean as clean_jobs
from .model.document import Document, Result
from .views.qimage import ImageSource
from .workers.runner import Task, Workers

log = logging.getLogger(__name__)


class DocumentJob(enum.StrEnum):
    """The controller's jobs: `finished(kind, outcome)` names them."""

    LOAD = "load"
    CLEAN = "clean"
    REFILL = "refill"
    MODEL = "model"
    PRELOAD = "preload"
    SAVE = "save"


MODEL_KINDS = (DocumentJob.CLEAN, DocumentJob.REFILL)


class Controller(QObject):
    busy_changed = Signal(bool)  # a model run started / everything it queued has ended
    progress = Signal(float, str)  # of the model run
    status = Signal(str)  # a short message for the status bar
    error = Signal(str)  # a one-line message for a message box
    device_changed = Signal(str)  # "CPU", "GPU (...)": known once the model is loaded
    saved = Signal(object)  # the Path written
    finished = Signal(str, str)  # kind, outcome ("ok", "error", "cancelled", "dropped"), after each job
    model_changed = Signal(object)  # Path of the weights now in use, None for the bundled model

    def __init__(
        self,
        document: Document,
        model_path: str | Path | None = None,
        device: str = "auto",
        parent: QObject | None = None,
        runtime: str = "auto",
        workers: Workers | None = None,
    ):
        super().__init__(parent)
        self.document = document
        self.models = clean_jobs.ModelCache(model_path, device, runtime)
        # The window's runners and pools (a model run, a picture-queue clean, and an open or save beside them)
        self.workers = workers if workers is not None else Workers(parent=self)
        self.pool = self.workers.pool
        self.runner = self.workers.runner(wanted=self._current, parent=self)
        self.runner.progress.connect(self._on_progress)
        self.runner.error.connect(self.error)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.finished.connect(self._on_finished)
        self.workers.task_finished.connect(self._show_device)  # a queued clean may have loaded the model
        self._model_task: Task | None = None
        self._model_request: clean_jobs.ModelCache | None = None  # the model the last set_model_path asked for
        self._pending: Task | None = None
        self._load_task: Task | None = None
        self._device_shown: str | None = None
        self._note_shown: str | None = None
        document.image_changed.connect(self._image_changed)

    # -- state ----------------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A model run is going on (or queued)."""
        return self._model_task is not None or self._pending is not None

    @property
    def loading(self) -> bool:
        return self._load_task is not None

    @property
    def running(self) -> int:
        """The controller's jobs started and not yet handled (`workers.running` counts every runner's)."""
        return self.runner.running

    # -- opening ----------------------------------------------------------------------------------------------

    def open_path(self, path: str | Path) -> None:
        path = Path(path)
        self._open(lambda progress, cancel: clean_jobs.load(path), path.name, path)

    def open_data(self, data: bytes, name: str) -> None:
        self._open(lambda progress, cancel: clean_jobs.load(data, name), name, None)

    def open_image(self, image: LoadedImage, name: str) -> None:
        """An image already decoded (from a QImage on the clipboard)."""
        self.status.emit(f"Opened {name} ({image.width}×{image.height})")
        self.document.set_image(image, name, None)

    def open_source(self, source: ImageSource) -> None:
        if source.path is not None:
            self.open_path(source.path)
            if source.count > 1:
                self.status.emit(f"Opening the first of {source.count} files: {source.path.name}")
        elif source.data is not None:
            self.open_data(source.data, source.name)
        elif source.image is not None:
            self.open_image(source.image, source.name)

    def open_with(
        self,
        fn: Callable[..., Any],
        name: str,
        show: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
    ) -> Task:
        """An open whose worker `fn(progress, cancel)` returns a tuple `(image, ...)` that `show` puts in the document
        (the picture queue opens a picture with its result). Like any open, the newest wins; a failure goes to
        `on_error` when given, else it is an `error` message."""
        return self._open(fn, name, None, show, on_error)

    def _open(
        self,
        fn: Callable[..., Any],
        name: str,
        source: Path | None,
        show: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> Task:
        if self._load_task is not None:
            self._load_task.cancel()  # its result is dropped: the newest request wins

        def apply(value: Any) -> None:
            image = value if show is None else value[0]
            frames = f", {len(image.frames)} frames" if image.is_animated else ""
            self.status.emit(f"Opened {name} ({image.width}×{image.height}{frames})")
            if show is None:
                self.document.set_image(image, name, source)  # after: the window may have more to say about it
            else:
                show(value)

        task = Task(fn, DocumentJob.LOAD, self.document.generation, apply, on_error=on_error)
        self._load_task = task
        self.status.emit(f"Opening {name}…")
        self._launch(task)
        return task

    def _image_changed(self) -> None:
        # Runs for the previous image are of no use any more.
        if self._pending is not None and self._pending.generation != self.document.generation:
            self._pending = None
        if self._model_task is not None and self._model_task.generation != self.document.generation:
            self._model_task.cancel()

    # -- model runs -----------------------------------------------------------------------------------------

    def clean(self, resolution: int) -> bool:
        """Clean the whole image (every frame of an animation). False when there is no image."""
        document = self.document
        if not document.has_image:
            return False
        image, generation = document.image, document.generation
        frames = len(image.frames)

        def apply(result: Result) -> None:
            document.set_result(result, "Clean")
            what = f"all {frames} frames" if frames > 1 else f"{image.width}×{image.height}"
            self.status.emit(f"Cleaned {what} in {result.seconds:.1f} s on {result.device}")

        self._start_model_task(
            Task(
                lambda progress, cancel: clean_jobs.clean_image(image, resolution, self.models, progress, cancel),
                DocumentJob.CLEAN,
                generation,
                apply,
            )
        )
        return True

    def refill(self, resolution: int) -> bool:
        """Fill the first frame again with the edited mask. False when the mask has no edits to fill."""
        document = self.document
        state = document.state
        if state is None or not state.mask_edited:
            self.status.emit("The mask has no edits to re-fill: paint over text the clean missed first.")
            return False
        image, generation = document.image, document.generation
        previous, mask = state.result, state.mask

        def apply(result: Result) -> None:
            document.set_result(result, "Re-fill")
            note = " (first frame only: mask edits apply to the frame shown)" if image.is_animated else ""
            self.status.emit(f"Re-filled in {result.seconds:.1f} s on {result.device}{note}")

        self._start_model_task(
            Task(
                lambda progress, cancel: clean_jobs.refill(
                    image, previous, mask, resolution, self.models, progress, cancel
                ),
                DocumentJob.REFILL,
                generation,
                apply,
            )
        )
        return True

    def _start_model_task(self, task: Task) -> None:
        if self._model_task is not None:
            self._model_task.cancel()
            self._pending = task  # starts when the running one has stopped
            return
        self._model_task = task
        self.busy_changed.emit(True)
        self._launch(task)

    def cancel(self) -> None:
        """Stop the model run (at its next stage) and anything queued; a pending open is dropped too."""
        self._pending = None
        if self._model_task is not None:
            self._model_task.cancel()
        if self._load_task is not None:
            self._load_task.cancel()

    # -- the model -------------------------------------------------------------------------------------------

    @property
    def model_path(self) -> Path | None:
        """The weights cleaning uses (None: the bundled model)."""
        return self.models.path

    @property
    def runtime(self) -> str:
        """What runs the network: "auto", "openvino" or "torch" (as asked; `device_changed` says what runs)."""
        return self.models.runtime

    def set_model_path(self, path: str | Path | None) -> None:
        """Switch to other weights (None: the bundled ones), loading them in a worker first: only a model that
        loads replaces the current one, so a bad file is an `error` message and the previous model stays."""
        path = None if path is None else Path(path)
        name = "the bundled model" if path is None else f"'{path.name}'"
        self._switch(clean_jobs.ModelCache(path, self.models.device, self.models.runtime), name)

    def set_runtime(self, runtime: str) -> None:
        """Run the same weights with another runtime ("auto", "openvino", "torch"), loaded in a worker first; a
        runtime that cannot load them is an `error` message and the current one stays."""
        self._switch(clean_jobs.ModelCache(self.models.path, self.models.device, runtime), f"the {runtime} runtime")

    def _switch(self, candidate: clean_jobs.ModelCache, name: str) -> None:
        path = candidate.path
        self._model_request = candidate  # the latest request wins, whichever load finishes first
        current = "the bundled model" if self.models.path is None else f"'{self.models.path.name}'"

        def load(progress, cancel):
            try:
                return candidate.get(progress)
            except MemeCleanError as error:
                raise ModelLoadError(f"{error} (still using {current})") from None

        def apply(_model) -> None:
            if self._model_request is not candidate:
                return  # the person asked for another model since
            self.models = candidate  # a run already going on keeps the model it started with
            self.model_changed.emit(path)

        self.status.emit(f"Loading {name}…")
        self._launch(Task(load, DocumentJob.MODEL, self.document.generation, apply, keep_result=True))

    def preload_model(self) -> None:
        """Import torch and load the model in a worker now (the app calls this once the window is shown), so that
        the first clean does not wait for them. A clean asked for meanwhile waits for this load instead of loading
        again (the cache's lock). A model that does not load is reported by the clean that needs it, not here."""
        models = self.models
        if models.loaded or self.closed:
            return

        def load(progress, cancel):
            try:
                models.get()
            except Exception as error:  # noqa: BLE001 - the clean that needs the model reports it to the person
                log.info("preloading the model failed: %s", error)

        self._launch(Task(load, DocumentJob.PRELOAD, self.document.generation, keep_result=True))

    # -- saving -----------------------------------------------------------------------------------------------

    def save(self, path: str | Path, *, quality: int = 92, overwrite: bool = False) -> bool:
        """Write the result to `path`; the original file is never written. False when there is no result."""
        document = self.document
        result = document.result
        if result is None:
            self.status.emit("Nothing to save yet: clean the image first.")
            return False
        path = Path(path)
        protect = [document.source] if document.source is not None else []
        generation = document.generation

        def apply(written: Path) -> None:
            if document.generation == generation:
                document.saved_path = written
            self.status.emit(f"Saved the template to {written}")
            self.saved.emit(written)

        task = Task(
            lambda progress, cancel: clean_jobs.save(
                path, result.image, quality=quality, overwrite=overwrite, protect=protect
            ),
            DocumentJob.SAVE,
            generation,
            apply,
            keep_result=True,
        )
        self._launch(task)
        return True

    # -- the pool ---------------------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """The window's workers were shut down: start nothing more."""
        return self.runner.closed

    def _show_device(self, _task: Task | None = None) -> None:
        device, note = self.models.device_name, self.models.note
        if device is not None and device != self._device_shown and not self.closed:
            self._device_shown = device
            self.device_changed.emit(device)
        if note is not None and note != self._note_shown and not self.closed:
            self._note_shown = note  # OpenVINO did not work here: said once, in the status bar and the log
            log.warning("%s", note)
            self.status.emit(note)

    def _launch(self, task: Task) -> None:
        self.runner.start(task)

    def _current(self, task: Task) -> bool:
        """The runner asks: does the result or error of `task` still belong to what is shown?"""
        if task.keep_result:
            return True
        if task.kind == DocumentJob.LOAD:
            return task is self._load_task and not task.is_cancelled()
        return task.generation == self.document.generation and not task.is_cancelled()

    @Slot(object, float, str)
    def _on_progress(self, task: Task, fraction: float, text: str) -> None:
        if task is self._model_task and not task.is_cancelled():
            self.progress.emit(fraction, text)

    @Slot(object)
    def _on_cancelled(self, task: Task) -> None:
        if task.kind in MODEL_KINDS and not self.closed and task.generation == self.document.generation:
            self.status.emit("Cleaning cancelled" if task.kind == DocumentJob.CLEAN else "Re-fill cancelled")

    @Slot(object)
    def _on_finished(self, task: Task) -> None:
        if task is self._load_task:
            self._load_task = None
        self._show_device()
        if task is self._model_task:
            self._model_task = None
            pending, self._pending = self._pending, None
            if pending is not None and not self.closed and pending.generation == self.document.generation:
                self._model_task = pending
                self._launch(pending)
            else:
                self.busy_changed.emit(False)
        self.finished.emit(task.kind, task.outcome)
