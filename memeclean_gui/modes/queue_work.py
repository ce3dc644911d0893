"""The picture queue's jobs, on a runner of its own in the window's shared pool: Clean All (one queued clean at a
time beside the window's own runs, at the window's resolution when each starts), the thumbnails, and Save All's
writing. `QueueWork` keeps the tasks going on and hands their outcomes to the Qt-free `QueueSession`; the queue mode
(`modes.queue`) owns it, with the actions and the panel.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from ..jobs import queue as queue_jobs
from ..model.queue_session import QueueSession
from ..model.queue_state import QueueEntry, SaveItem, Status
from ..views.queue_dock import QueueDock
from ..workers.runner import Task

if TYPE_CHECKING:
    from collections.abc import Callable

    from .window_view import WindowView

THUMBNAILS_PER_TASK = 8  # small batches, so an open or a save asked for meanwhile starts soon


class QueueJob(enum.StrEnum):
    """The queue's jobs."""

    CLEAN = "queue-clean"
    THUMBNAILS = "queue-thumbnails"
    SAVE = "queue-save"


class QueueWork(QObject):
    """`entry_finished(key, outcome)` after each queued clean ("ok", "error", "cancelled"); `run_finished()` when the
    queue has nothing left to clean or was cancelled; `saved_all(counts)` after Save All ({"saved": n, ...}).
    `changed()` is called whenever what the actions offer may have changed."""

    entry_finished = Signal(int, str)
    run_finished = Signal()
    saved_all = Signal(object)

    def __init__(self, window: WindowView, session: QueueSession, dock: QueueDock, changed: Callable[[], None]):
        super().__init__(window)
        self.window = window
        self.session = session
        self.state = session.state
        self.dock = dock
        self._changed = changed
        self._task: Task | None = None  # the queued clean going on, of `_task_entry`
        self._task_entry: QueueEntry | None = None
        self._thumbnail_task: Task | None = None
        self._thumbnails_wanted: list[QueueEntry] = []
        self._save_task: Task | None = None
        self.runner = window.workers.runner(wanted=self._wanted, parent=self)
        self.runner.progress.connect(self._on_clean_progress)
        self.runner.error.connect(window.show_error)
        self.runner.finished.connect(self._on_task_finished)

    def _wanted(self, task: Task) -> bool:
        """The runner asks: is the result of `task` still of use? A clean's only while its picture is queued."""
        if task.kind == QueueJob.CLEAN:
            return task is self._task and self._task_entry in self.state.entries
        return task in (self._thumbnail_task, self._save_task)

    @Slot(object)
    def _on_task_finished(self, task: Task) -> None:
        if task is self._thumbnail_task:
            self._thumbnail_task = None
            self._pump_thumbnails()
        elif task is self._save_task:
            self._save_task = None
            self._changed()
        elif task is self._task:
            self._clean_finished(task)

    # -- Clean All ----------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """The queue is cleaning (and not stopping)."""
        return self.session.run.active

    def start(self) -> None:
        """Clean every waiting picture, one after another."""
        if self.runner.closed:
            return
        waiting = len(self.state.waiting())
        if not waiting and not self.session.run.running:
            self.window.show_status("Nothing waiting in the queue")
            return
        self.session.run.begin(waiting)
        self._next()
        self._changed()

    def _next(self) -> None:
        if self._task is not None or not self.running:
            return
        entry = self.state.next_waiting(prefer=self.session.shown)
        if entry is None or self.runner.closed:
            self._finish_run()
            return
        entry.status = Status.CLEANING
        self.dock.update_entry(entry)
        path, resolution, models = entry.path, self.window.resolution, self.window.controller.models
        folder, stem = self.state.folder, self.state.spill_stem(entry)
        self._task_entry = entry
        self._task = self.runner.start(
            Task(
                lambda progress, cancel: queue_jobs.clean_picture(
                    path, resolution, models, folder, stem, progress, cancel
                ),
                QueueJob.CLEAN,
                on_result=lambda cleaned: self._cleaned(entry, cleaned),
                on_error=lambda message: self._clean_failed(entry, message),
                on_dropped=lambda cleaned: cleaned.spilled.delete(),  # its picture left the queue meanwhile
            )
        )
        self._show_progress(0.0)

    def _show_progress(self, fraction: float) -> None:
        done, number, total = self.session.run.progress(fraction)
        name = f": {self._task_entry.name}" if self._task_entry is not None else ""
        self.dock.set_progress(done, f"{number} of {total}{name}")

    @Slot(object, float, str)
    def _on_clean_progress(self, task: Task, fraction: float, _text: str) -> None:
        if task is self._task and not task.is_cancelled():
            self._show_progress(fraction)

    def _cleaned(self, entry: QueueEntry, cleaned: queue_jobs.CleanedPicture) -> None:
        self.session.cleaned(entry, cleaned.spilled, cleaned.result, cleaned.thumbnail)
        self.dock.update_entry(entry, thumbnail_changed=True)

    def _clean_failed(self, entry: QueueEntry, message: str) -> None:
        self.session.failed(entry, message)
        self.dock.update_entry(entry)
        self.window.show_status(f"{entry.name}: {message}")

    def _clean_finished(self, task: Task) -> None:
        entry = self._task_entry
        self._task, self._task_entry = None, None
        if entry is not None and entry.status is Status.CLEANING:
            entry.status = Status.WAITING  # cancelled: back in line
            self.dock.update_entry(entry)
        self.session.run.finished(task.outcome)
        if entry is not None:
            self.entry_finished.emit(entry.key, task.outcome)
        if self.running and not self.runner.closed:
            self._next()
        else:
            self._finish_run()
        self._changed()

    def _finish_run(self) -> None:
        if self._task is not None:
            return  # ends when the picture being cleaned has stopped
        was_running = self.session.run.end()
        self.dock.set_progress(None)
        if was_running and not self.runner.closed:
            self.window.show_status(self.session.run.summary(len(self.state.waiting())))
        self._changed()
        if was_running:
            self.run_finished.emit()

    def cancel(self) -> None:
        """Stop the picture being cleaned (it goes back to waiting, as do the others)."""
        if not self.session.run.running:
            return
        self.session.run.stopping = True
        if self._task is not None:
            self._task.cancel()
        else:
            self._finish_run()
        self._changed()

    def retry_failed(self) -> None:
        retried = self.state.retry_failed()
        for entry in retried:
            self.dock.update_entry(entry)
        if not retried:
            self.window.show_status("No picture in the queue has failed")
            return
        if self.running:
            self.session.run.grow(len(retried))
        self.start()

    def removing(self, entry: QueueEntry) -> None:
        """`entry` leaves the queue: its clean stops, the run has one picture less to clean."""
        if entry is self._task_entry and self._task is not None:
            self._task.cancel()
            self.session.run.shrink()
        elif entry.status is Status.WAITING:
            self.session.run.shrink()

    def emptied(self) -> None:
        """The queue is empty now: the run ends once the picture being cleaned has stopped."""
        if self._task is None:
            self._finish_run()

    def stop_everything(self) -> None:
        """The queue is cleared: every job of it is cancelled and the run is over."""
        self.session.run.end()
        for task in (self._task, self._thumbnail_task, self._save_task):
            if task is not None:
                task.cancel()
        self._thumbnails_wanted.clear()

    # -- thumbnails --------------------------------------------------------------------------------------------------

    def want_thumbnails(self, entries: list[QueueEntry]) -> None:
        self._thumbnails_wanted.extend(entries)
        self._pump_thumbnails()

    def _pump_thumbnails(self) -> None:
        if self._thumbnail_task is not None or self.runner.closed:
            return
        batch = []
        while self._thumbnails_wanted and len(batch) < THUMBNAILS_PER_TASK:
            entry = self._thumbnails_wanted.pop(0)
            if entry in self.state.entries and entry.thumbnail is None:
                batch.append(entry)
        if not batch:
            return
        paths = [(entry.key, entry.path) for entry in batch]

        def make(progress, cancel) -> list[tuple[int, Any]]:
            return [(key, queue_jobs.file_thumbnail(path)) for key, path in paths if not cancel()]

        self._thumbnail_task = Task(make, QueueJob.THUMBNAILS, on_result=self._on_thumbnails)
        self.runner.start(self._thumbnail_task, priority=-1)  # opens and saves go first

    def _on_thumbnails(self, thumbnails: list[tuple[int, Any]]) -> None:
        for key, picture in thumbnails:
            entry = self.state.by_key(key)
            if entry is not None and entry.thumbnail is None and picture is not None:
                entry.thumbnail = picture
                self.dock.update_entry(entry, thumbnail_changed=True)

    @property
    def thumbnails_pending(self) -> bool:
        return self._thumbnail_task is not None or bool(self._thumbnails_wanted)

    # -- Save All ------------------------------------------------------------------------------------------------

    @property
    def saving(self) -> bool:
        """Save All is writing."""
        return self._save_task is not None

    def save(self, folder: Path, items: list[SaveItem], skipped: list[tuple[QueueEntry, str]]) -> None:
        """Write `items` (a Save All into `folder`; `skipped` are left out) in a worker, then sum it up."""
        quality = self.window.settings.save_quality
        results = {item.key: item.result for item in items}
        self._save_task = self.runner.start(
            Task(
                lambda progress, cancel: queue_jobs.save_pictures(items, quality, progress, cancel),
                QueueJob.SAVE,
                on_result=lambda outcomes: self._saved(folder, outcomes, skipped, results),
            ),
            priority=1,
        )
        self.window.show_status(f"Saving {len(items)} templates to {folder}…")

    def _saved(self, folder: Path, outcomes: list, skipped: list, results: dict) -> None:
        self._save_task = None  # done writing: another Save All may start from the summary on
        report = self.session.saved_all(folder, outcomes, skipped, results)
        for entry in filter(None, (self.state.by_key(outcome.key) for outcome in outcomes)):
            self.dock.update_entry(entry)
        self.window.show_status(report.lines[0])
        if not self.runner.closed:
            QMessageBox.information(self.window, "Save All Templates", "\n".join(report.lines))
        self._changed()
        self.saved_all.emit(report.counts)
