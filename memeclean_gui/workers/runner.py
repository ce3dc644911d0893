"""The one job runner: a plain function or generator in a QThreadPool, reported through Qt signals (the superqt
worker pattern, cut small).

A job is called as `fn(progress, cancel)`; `progress(fraction, text)` becomes the `progress` signal and `cancel()`
says whether `Task.cancel()` was called (thread-safe), which long jobs check between stages and raise `Cancelled`.
A job may instead be a generator (generator mode): each item it yields becomes the `yielded` signal (the Train
dialog's loss reports), cancel is checked between yields (the generator is closed, so its `finally` runs), and
the generator's return value is the result. Every run ends with exactly one of `result` / `error` / `cancelled`,
then `finished`. The signals' QObject is created on the UI thread, so connected slots of UI objects run there.

`JobRunner` is what the controller, caption mode, the library and the Train dialog start their tasks with: it
keeps each task until it has finished, hands a result or error to the task's own callbacks only while the task is
still wanted (else the outcome is `Outcome.DROPPED`), can run its tasks one at a time, and cancels and waits on
shutdown.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from memeclean_core.errors import Cancelled, MemeCleanError, describe_unexpected

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
CancelCheck = Callable[[], bool]
Job = Callable[[Progress, CancelCheck], Any]  # returns the result, or a generator that yields reports


class JobKind(enum.StrEnum):
    """What a task does; the controller's and caption mode's `finished` signals name it."""

    LOAD = "load"
    CLEAN = "clean"
    REFILL = "refill"
    MODEL = "model"
    PRELOAD = "preload"
    SAVE = "save"
    CAPTION_PREVIEW = "caption-preview"
    CAPTION_EXPORT = "caption-export"
    CAPTION_PROJECT = "caption-project"
    CAPTION_PROPOSE = "caption-propose"
    CAPTION_FONTS = "caption-fonts"
    QUEUE_CLEAN = "queue-clean"
    QUEUE_THUMBNAILS = "queue-thumbnails"
    QUEUE_SAVE = "queue-save"
    LIBRARY_LOOKUP = "lookup"
    LIBRARY_ADD = "library-add"
    LIBRARY_OPEN = "library-open"
    LIBRARY_IMPORT = "library-import"
    KEEP_FIX = "keep-fix"
    TRAIN = "train"


class Outcome(enum.StrEnum):
    """How a task ended (PENDING and RUNNING before that)."""

    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"
    DROPPED = "dropped"  # it ended well or badly, but what it was for had moved on: nobody was told


class TaskSignals(QObject):
    progress = Signal(object, float, str)  # task, fraction 0..1, what is happening
    yielded = Signal(object, object)  # task, an item a generator job yielded
    result = Signal(object, object)  # task, the function's return value
    error = Signal(object, str)  # task, a one-line message for the user
    cancelled = Signal(object)  # task
    finished = Signal(object)  # task; always last


def run_in_pool(pool: Any, task: Task, priority: int = 0) -> None:
    """Start `task` in `pool` (a QThreadPool) as a plain callable. PySide keeps a reference to a QRunnable that is
    not auto-deleted for as long as the pool lives: every task, with its closures, would stay in memory (the
    queue's soak in bench/bench_soak.py grew by 35 kB a picture); a callable is let go once it has run."""
    pool.start(task.run, priority)


def error_message(error: BaseException) -> str:
    """The one line a person sees for an exception."""
    if isinstance(error, MemeCleanError):
        return str(error)
    if isinstance(error, MemoryError):
        return "Not enough memory for this; try a lower resolution."
    return f"Unexpected error ({describe_unexpected(error)})."


class Task(QRunnable):
    """One job for the pool. `kind` and `generation` tell the runner's owner what the result belongs to."""

    def __init__(
        self,
        fn: Job,
        kind: JobKind,
        generation: int = 0,
        on_result: Callable[[Any], None] | None = None,
        keep_result: bool = False,
        on_error: Callable[[str], None] | None = None,
    ):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until `finished` has been handled
        self.fn = fn
        self.kind = JobKind(kind)
        self.generation = generation
        self.on_result = on_result
        self.on_error = on_error  # the runner reports the message through its `error` signal unless this takes it
        self.keep_result = keep_result  # apply the result even if the document moved on (a file was written)
        self.signals = TaskSignals()
        self.outcome = Outcome.PENDING
        self._cancel = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check or yield (safe from any thread)."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `run` has returned (for tests and shutdown); True if it has."""
        return self._done.wait(timeout)

    def _progress(self, fraction: float, text: str) -> None:
        self.signals.progress.emit(self, float(fraction), str(text))

    def _drive(self, generator: Generator[Any, None, Any]) -> Any:
        """Generator mode: pass every yielded item on, look at cancel between items, return the return value."""
        while True:
            if self._cancel.is_set():
                generator.close()  # GeneratorExit at its yield: its `finally` blocks run (a checkpoint is written)
                raise Cancelled("cancelled")
            try:
                item = next(generator)
            except StopIteration as stop:
                return stop.value
            self.signals.yielded.emit(self, item)

    def run(self) -> None:  # in a pool thread
        self.outcome = Outcome.RUNNING
        try:
            if self._cancel.is_set():
                raise Cancelled("cancelled before it started")
            value = self.fn(self._progress, self._cancel.is_set)
            if isinstance(value, Generator):
                value = self._drive(value)
        except Cancelled:
            self.outcome = Outcome.CANCELLED
            self.signals.cancelled.emit(self)
        except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a crash
            if not isinstance(error, (MemeCleanError, MemoryError)):
                log.error("%s job failed", self.kind, exc_info=error)
            self.outcome = Outcome.ERROR
            self.signals.error.emit(self, error_message(error))
        else:
            self.outcome = Outcome.OK
            self.signals.result.emit(self, value)
        finally:
            self._done.set()
            self.signals.finished.emit(self)


class JobRunner(QObject):
    """Starts tasks in `pool` and sees each one through (see the module docstring).

    `wanted(task)` says whether a finished task's result or error still belongs to what is shown (default: every
    task is wanted until `shutdown`); `serial` runs one task at a time, in the order started (the caption jobs:
    Pillow's fonts are not shared between threads). An error goes to the task's `on_error`, else to `error`."""

    progress = Signal(object, float, str)  # task, fraction, text
    yielded = Signal(object, object)  # task, an item its generator yielded
    error = Signal(str)  # a one-line message for a task without its own `on_error`
    cancelled = Signal(object)  # task
    finished = Signal(object)  # task; its outcome is final

    def __init__(
        self,
        pool: QThreadPool,
        *,
        serial: bool = False,
        wanted: Callable[[Task], bool] | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.pool = pool
        self.serial = serial
        self._wanted = wanted
        self._tasks: set[Task] = set()
        self._waiting: list[Task] = []  # serial: tasks started while another runs
        self._running: Task | None = None  # serial: the task in the pool
        self._closed = False

    @property
    def closed(self) -> bool:
        """`shutdown()` was called: nothing more starts and nothing more is handed on."""
        return self._closed

    @property
    def running(self) -> int:
        """Tasks started (or waiting, when serial) and not yet finished."""
        return len(self._tasks)

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def wants(self, task: Task) -> bool:
        return not self._closed and (self._wanted is None or self._wanted(task))

    def start(self, task: Task, priority: int = 0) -> Task:
        """Run `task`; a higher `priority` starts first among the tasks waiting for a thread of the pool."""
        signals = task.signals
        for source, target in (
            (signals.progress, self.progress),
            (signals.yielded, self.yielded),  # passed on as is
            (signals.cancelled, self.cancelled),
            (signals.result, self._on_result),
            (signals.error, self._on_error),
            (signals.finished, self._on_finished),
        ):
            source.connect(target)
        self._tasks.add(task)
        if not self.serial:
            run_in_pool(self.pool, task, priority)
        else:
            self._waiting.append(task)
            self._next()
        return task

    def _next(self) -> None:
        if self._running is None and self._waiting and not self._closed:
            self._running = self._waiting.pop(0)
            run_in_pool(self.pool, self._running)

    def shutdown(self, timeout_ms: int = -1, *, cancel: Callable[[Task], bool] = lambda task: True) -> bool:
        """Start nothing more, cancel the tasks `cancel` picks (all by default) and wait for the pool."""
        self._closed = True
        self._tasks.difference_update(self._waiting)  # never started: never finished either
        self._waiting.clear()
        for task in list(self._tasks):
            if cancel(task):
                task.cancel()
        return self.pool.waitForDone(timeout_ms)

    def drop_waiting(self) -> None:
        """Forget the serial tasks that have not started (the window is closing; running ones finish)."""
        self._closed = True
        self._tasks.difference_update(self._waiting)
        self._waiting.clear()

    def _hand_on(self, task: Task) -> bool:
        """Whether the result or error of `task` goes anywhere; if not, its outcome becomes DROPPED."""
        if self.wants(task):
            return True
        task.outcome = Outcome.DROPPED
        return False

    @Slot(object, object)
    def _on_result(self, task: Task, value: Any) -> None:
        if self._hand_on(task) and task.on_result is not None:
            task.on_result(value)

    @Slot(object, str)
    def _on_error(self, task: Task, message: str) -> None:
        if not self._hand_on(task):
            return
        if task.on_error is not None:
            task.on_error(message)
        else:
            self.error.emit(message)

    @Slot(object)
    def _on_finished(self, task: Task) -> None:
        self._tasks.discard(task)
        if task is self._running:
            self._running = None
        self.finished.emit(task)
        self._next()
