"""Run a plain function in a QThreadPool and report through Qt signals (the superqt worker pattern, cut small).

The function is called as `fn(progress, cancel)`; `progress(fraction, text)` becomes the `progress` signal and
`cancel()` says whether `Task.cancel()` was called (thread-safe), which long jobs check between stages and raise
`Cancelled`. Every run ends with exactly one of `result` / `error` / `cancelled`, then `finished`. The signals'
QObject is created on the UI thread, so connected slots of UI objects run there (queued).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from memeclean_core.errors import Cancelled, MemeCleanError, describe_unexpected

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    progress = Signal(object, float, str)  # task, fraction 0..1, what is happening
    result = Signal(object, object)  # task, the function's return value
    error = Signal(object, str)  # task, a one-line message for the user
    cancelled = Signal(object)  # task
    finished = Signal(object)  # task; always last


def error_message(error: BaseException) -> str:
    """The one line a person sees for an exception."""
    if isinstance(error, MemeCleanError):
        return str(error)
    if isinstance(error, MemoryError):
        return "Not enough memory for this; try a lower resolution."
    return f"Unexpected error ({describe_unexpected(error)})."


class Task(QRunnable):
    """One job for the pool. `kind` and `generation` tell the controller what the result belongs to."""

    def __init__(self, fn: Callable[[Callable[[float, str], None], Callable[[], bool]], Any], kind: str,
                 generation: int = 0, on_result: Callable[[Any], None] | None = None, keep_result: bool = False,
                 on_error: Callable[[str], None] | None = None):
        super().__init__()
        self.setAutoDelete(False)  # the controller keeps it until `finished` has been handled
        self.fn = fn
        self.kind = kind
        self.generation = generation
        self.on_result = on_result
        self.on_error = on_error  # the controller shows the message in a box unless this takes it
        self.keep_result = keep_result  # apply the result even if the document moved on (a file was written)
        self.signals = TaskSignals()
        self.outcome = "pending"  # then "running", "ok", "error", "cancelled"
        self._cancel = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check (safe from any thread)."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until `run` has returned (for tests and shutdown); True if it has."""
        return self._done.wait(timeout)

    def _progress(self, fraction: float, text: str) -> None:
        self.signals.progress.emit(self, float(fraction), str(text))

    def run(self) -> None:  # in a pool thread
        self.outcome = "running"
        try:
            if self._cancel.is_set():
                raise Cancelled("cancelled before it started")
            value = self.fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self.outcome = "cancelled"
            self.signals.cancelled.emit(self)
        except Exception as error:  # noqa: BLE001 - every failure becomes a message, never a crash
            if not isinstance(error, (MemeCleanError, MemoryError)):
                log.error("%s job failed", self.kind, exc_info=error)
            self.outcome = "error"
            self.signals.error.emit(self, error_message(error))
        else:
            self.outcome = "ok"
            self.signals.result.emit(self, value)
        finally:
            self._done.set()
            self.signals.finished.emit(self)
