"""The one job runner: a plain function or generator in a QThreadPool, reported through Qt signals (the superqt
worker pattern, cut small).

A job is called as `fn(progress, cancel)`; `progress(fraction, text)` becomes the `progress` signal and `cancel()`
says whether `Task.cancel()` was called (thread-safe), which long jobs check between stages and raise `Cancelled`.
A job may instead be a generator (generator mode): each item it yields becomes the `yielded` signal (the Train
dialog's loss reports), cancel is checked between yields (the generator is closed, so its `finally` runs), and
the generator's return value is the result. Every run ends with exactly one of `result` / `error` / `cancelled`,
then `finished`. The signals' QObject is created on the UI thread, so connected slots of UI objects run there.

`JobRunner` is what every owner of jobs starts its tasks with (the controller, caption mode, the picture queue, the
library and its window, the Train dialog): it keeps each task until it has finished, hands a result or error to the
task's own callbacks only while the task is still wanted (else the outcome is `Outcome.DROPPED`, and a result that
owns something, a temporary file, goes to the task's `on_dropped`), can run its tasks one at a time, and cancels and
waits on shutdown. A task's `kind` is a string its owner declares (a `StrEnum` of the owner's jobs); the runner
knows no feature.

`Workers` holds every runner of one window and the thread pools they run in: one `shutdown()` on quit stops them
all, each cancelling the tasks its owner chose (`cancel_on_quit`), and waits for every pool.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QDeadlineTimer, QObject, QRunnable, QThreadPool, Signal, Slot

from memeclean_core.callbacks import CancelFn, ProgressFn
from memeclean_core.errors import Cancelled, MemeCleanError, describe_unexpected

log = logging.getLogger(__name__)

Job = Callable[[ProgressFn, CancelFn], Any]  # returns the result, or a generator that yields reports


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
    """One job for the pool. `kind` (one of the owner's job kinds) and `generation` tell the runner's owner what
    the result belongs to."""

    def __init__(
        self,
        fn: Job,
        kind: str,
        generation: int = 0,
        on_result: Callable[[Any], None] | None = None,
        keep_result: bool = False,
        on_error: Callable[[str], None] | None = None,
        on_dropped: Callable[[Any], None] | None = None,
    ):
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until `finished` has been handled
        self.fn = fn
        self.kind = kind
        self.generation = generation
        self.on_result = on_result
        self.on_error = on_error  # the runner reports the message through its `error` signal unless this takes it
        self.keep_result = keep_result  # apply the result even if the document moved on (a file was written)
        self.on_dropped = on_dropped  # gets a result nobody wants any more, to let go of what it holds
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
        except Exception as error:  # every failure becomes a message, never a crash
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
        cancel_on_quit: Callable[[Task], bool] = lambda task: True,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.pool = pool
        self.serial = serial
        self._wanted = wanted
        self.cancel_on_quit = cancel_on_quit  # which running tasks `shutdown` cancels; the others finish
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

    def close(self) -> None:
        """Start nothing more, hand nothing more on, and cancel the running tasks `cancel_on_quit` picks (a serial
        task that has not started is forgotten)."""
        self._closed = True
        self._tasks.difference_update(self._waiting)  # never started: never finished either
        self._waiting.clear()
        for task in list(self._tasks):
            if self.cancel_on_quit(task):
                task.cancel()

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """`close()`, then wait for the pool; True when no worker of the pool is left running."""
        self.close()
        return self.pool.waitForDone(timeout_ms)

    def _hand_on(self, task: Task) -> bool:
        """Whether the result or error of `task` goes anywhere; if not, its outcome becomes DROPPED."""
        if self.wants(task):
            return True
        task.outcome = Outcome.DROPPED
        return False

    @Slot(object, object)
    def _on_result(self, task: Task, value: Any) -> None:
        if not self._hand_on(task):
            if task.on_dropped is not None:
                task.on_dropped(value)
        elif task.on_result is not None:
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


class Workers(QObject):
    """Every job runner of one window and the pools they run in, so that quitting has one path: `shutdown()`.

    `runner()` makes a runner in the shared pool (`pool`: a model run, a queued clean and an open or save beside
    them), or in a pool of its own with `threads` (work that must not wait behind the window's, nor hold it up: the
    template library, training)."""

    task_finished = Signal(object)  # task: a task of any runner has finished (its own runner has told its owner)

    def __init__(self, threads: int = 3, parent: QObject | None = None):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._pools = [self.pool]
        self._runners: list[JobRunner] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        """`shutdown()` was called: nothing more starts."""
        return self._closed

    def runner(
        self,
        *,
        serial: bool = False,
        wanted: Callable[[Task], bool] | None = None,
        cancel_on_quit: Callable[[Task], bool] = lambda task: True,
        threads: int | None = None,
        pool: QThreadPool | None = None,
        parent: QObject | None = None,
    ) -> JobRunner:
        """A new runner that `shutdown()` stops (see `JobRunner` for the arguments), in `pool` (one of these
        workers', made for an earlier runner), else in a new pool of `threads`, else in the shared pool."""
        if pool is None and threads is not None:
            pool = QThreadPool(self)
            pool.setMaxThreadCount(threads)
            self._pools.append(pool)
        runner = JobRunner(
            self.pool if pool is None else pool,
            serial=serial,
            wanted=wanted,
            cancel_on_quit=cancel_on_quit,
            parent=parent if parent is not None else self,
        )
        if self._closed:
            runner.close()
        runner.finished.connect(self.task_finished)
        self._runners.append(runner)
        return runner

    @property
    def running(self) -> int:
        """Tasks of every runner started and not yet finished."""
        return sum(runner.running for runner in self._runners)

    def shutdown(self, timeout_ms: int = -1) -> bool:
        """Close every runner (each cancels what its owner chose), then wait for every pool. True when no worker is
        left running. Called once on quit; calling it again only waits."""
        self._closed = True
        for runner in self._runners:
            runner.close()
        deadline = QDeadlineTimer(timeout_ms)  # negative: never expires
        return all([pool.waitForDone(deadline) for pool in self._pools])  # a list: every pool is waited for
