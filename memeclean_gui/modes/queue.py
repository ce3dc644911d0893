"""The picture queue in the main window: many pictures dropped or opened at once, cleaned one after another.

`install_queue(window)` adds the Queue menu, Open Folder… and Save All… in the File menu, and the queue panel (a
dock, shown once there is something queued). It owns a Qt-free `PictureQueue` (entries, statuses, the documents
kept whole) and runs its jobs on a runner of its own in the window's shared pool, one queued clean at a time beside
the window's own runs.

The picture shown, when it is a queued one, lives in the window's one `Document` like any other: compare, mask,
brush, re-fill, captions and undo work as they do for a single picture. Showing another entry puts the document
away in the queue first (with its history, or spilled to disk for the older ones), so switching never asks about
unsaved edits: quitting and clearing the queue do, once for all of them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from ..jobs import queue as queue_jobs
from ..model.document import Result, Snapshot
from ..model.queue_state import PictureQueue, QueueEntry, Status, image_files, load_spilled, plan_save_all
from ..views.actions import make_action
from ..views.queue_dock import QueueDock, SaveAllDialog
from ..workers.runner import Outcome, Task

if TYPE_CHECKING:
    from .window_view import WindowView

THUMBNAILS_PER_TASK = 8  # small batches, so an open or a save asked for meanwhile starts soon


class QueueJob(enum.StrEnum):
    """The queue's jobs."""

    CLEAN = "queue-clean"
    THUMBNAILS = "queue-thumbnails"
    SAVE = "queue-save"


class QueueMode(QObject):
    """`entry_finished(key, outcome)` after each queued clean ("ok", "error", "cancelled"); `run_finished()` when the
    queue has nothing left to clean or was cancelled; `saved_all(counts)` after Save All ({"saved": n, ...})."""

    entry_finished = Signal(int, str)
    run_finished = Signal()
    saved_all = Signal(object)

    def __init__(self, window: WindowView):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.controller = window.controller
        self.settings = window.settings
        self.state = PictureQueue()
        self._shown: QueueEntry | None = None  # the queued picture in the document
        self._shown_generation = -1
        self._switching_to: QueueEntry | None = None
        self._open_task: Task | None = None  # the controller's open of a queued picture (the newest open wins)
        self._running = False
        self._stopping = False  # Cancel was asked for: the run ends when the picture being cleaned has stopped
        self._task: Task | None = None
        self._task_entry: QueueEntry | None = None
        self._run_done = 0  # pictures this run has finished with (cleaned or failed)
        self._run_failed = 0
        self._run_total = 0
        self._thumbnail_task: Task | None = None
        self._thumbnails_wanted: list[QueueEntry] = []
        self._save_task: Task | None = None
        self._latest_result: tuple[QueueEntry, Result] | None = None  # the last queued clean's, for an open under way
        self._save_context: tuple[Path, list[tuple[QueueEntry, str]], dict[int, Result | None]] | None = None
        self.runner = window.workers.runner(wanted=self._wanted, parent=self)
        self.runner.progress.connect(self._on_clean_progress)
        self.runner.error.connect(window.show_error)
        self.runner.finished.connect(self._on_task_finished)
        self._build_actions()
        self.dock = QueueDock(
            self.clean_all_action,
            self.cancel_action,
            self.save_all_action,
            [self.remove_action, self.retry_action, self.clear_action],
            window,
        )
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.entry_chosen.connect(self._on_entry_chosen)
        self._build_menus()
        window.help_key_rows.append(("Next / previous queued picture, in the queue panel", "Down / Up"))
        self.document.image_leaving.connect(self._on_image_leaving)
        self.document.image_changed.connect(self._on_image_changed)
        self.document.state_changed.connect(self._on_state_changed)
        self.controller.saved.connect(self._on_saved)
        self.refresh()

    # -- building ----------------------------------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], Any], shortcut: Any = None, tip: str = "") -> QAction:
        return make_action(self.window, text, slot, shortcut, tip=tip)

    def _build_actions(self) -> None:
        self.open_folder_action = self._action(
            "Open &Folder…", self.open_folder_dialog, None, "Queue every picture in a folder and its subfolders"
        )
        self.clean_all_action = self._action(
            "Clean &All",
            self.start,
            ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
            "Clean every waiting picture of the queue, one after another",
        )
        self.cancel_action = self._action(
            "&Cancel Queue", self.cancel, "Shift+Esc", "Stop the picture being cleaned; the rest stay waiting"
        )
        self.next_action = self._action(
            "&Next Picture", lambda: self.step(1), "Ctrl+PgDown", "Show the next picture of the queue"
        )
        self.previous_action = self._action(
            "&Previous Picture", lambda: self.step(-1), "Ctrl+PgUp", "Show the previous picture of the queue"
        )
        self.retry_action = self._action(
            "&Retry Failed", self.retry_failed, None, "Put the pictures that failed back in line"
        )
        self.remove_action = self._action(
            "Re&move from Queue",
            self.remove_current,
            None,
            "Take the selected picture out of the queue (its file stays)",
        )
        self.clear_action = self._action("C&lear Queue", self.clear, None, "Empty the queue (the files stay)")
        self.save_all_action = self._action(
            "Save A&ll Templates…",
            self.save_all,
            "Ctrl+Alt+S",
            "Save every cleaned picture of the queue to a folder, with its own name",
        )

    def _build_menus(self) -> None:
        window = self.window
        file_menu = window.menus["file"]
        open_action, save_as_action = window.named_actions["open"], window.named_actions["save_as"]
        actions = file_menu.actions()
        opening = actions.index(open_action) + 1 if open_action in actions else 0
        file_menu.insertAction(actions[opening] if opening < len(actions) else None, self.open_folder_action)
        actions = file_menu.actions()
        after_save = actions.index(save_as_action) + 1 if save_as_action in actions else len(actions)
        file_menu.insertAction(actions[after_save] if after_save < len(actions) else None, self.save_all_action)
        menu = QMenu("&Queue", window)
        menu.addActions([self.clean_all_action, self.cancel_action])
        menu.addSeparator()
        menu.addActions([self.next_action, self.previous_action])
        menu.addSeparator()
        menu.addActions([self.retry_action, self.remove_action, self.clear_action])
        menu.addSeparator()
        menu.addAction(self.save_all_action)
        toggle = self.dock.toggleViewAction()
        toggle.setText("Queue &Panel")
        menu.addAction(toggle)
        window.add_menu("queue", menu, before="model" if "model" in window.menus else "help")  # after View

    # -- adding pictures ---------------------------------------------------------------------------------------------

    def open_mime(self, mime: QMimeData | None) -> bool:
        """Queue the files and folders dropped when there are several, a folder, or a queue already: True when
        handled here (one file with an empty queue opens as a single picture, as it always did)."""
        if mime is None or not mime.hasUrls():
            return False
        local = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        return bool(local) and self.open_paths(local)

    def open_paths(self, paths: list[str | Path], asked: bool = False) -> bool:
        """Like `open_mime` for paths from a dialog (`asked`: the window has asked about unsaved edits already)."""
        paths = [Path(path) for path in paths]
        if not paths or (len(paths) == 1 and not paths[0].is_dir() and not self.state.entries):
            return False
        self.add_paths(paths, asked=asked)
        return True

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Open Folder", self.settings.last_folder or str(Path.home())
        )
        if folder:
            self.add_paths([Path(folder)])

    def add_paths(self, paths: list[Path], asked: bool = False) -> list[QueueEntry]:
        """Queue files and the image files in folders (recursively); show the first one unless a queued picture is
        shown already and several were added. Starts cleaning when Clean Automatically is on."""
        files, left_out = image_files(paths)
        note = f" ({left_out} other files left out)" if left_out else ""
        if not files:
            self.window.show_status(f"No pictures to queue in what was given{note}")
            return []
        show = self.shown is None or len(files) == 1
        if show and not asked and not self.window.may_discard_edits("Open the pictures"):
            return []
        added = self.state.add(files)
        if added:
            self.dock.add_entries(added)
            self._thumbnails_wanted.extend(added)
            self._pump_thumbnails()
            if self._running:
                self._run_total += len(added)
        self.dock.show()
        already = len(files) - len(added)
        also = f", {already} already queued" if already else ""
        self.window.show_status(f"Queued {len(added)} picture{'s' if len(added) != 1 else ''}{also}{note}")
        if show:
            self.show_entry(added[0] if added else self.state.find(files[0]))
        if added and self.settings.auto_clean:
            self.start()
        self.refresh()
        return added

    # -- showing a picture -------------------------------------------------------------------------------------------

    @property
    def shown(self) -> QueueEntry | None:
        """The queued picture the document holds (None: no queued picture is shown)."""
        return self._shown if self.keeps_document else None

    @property
    def keeps_document(self) -> bool:
        """The document is a queued picture: its edits are kept by the queue when another picture is shown."""
        return self._shown is not None and self.document.generation == self._shown_generation

    @property
    def cleans_document(self) -> bool:
        """The picture being shown needs no clean from the window: it is cleaned, or the running queue will."""
        entry = self._switching_to or self.shown
        if entry is None:
            return False
        return entry.status in (Status.DONE, Status.EDITED, Status.SAVED, Status.CLEANING) or (
            self.running and entry.status is Status.WAITING
        )

    def show_entry(self, entry: QueueEntry | None) -> None:
        if entry is None or entry not in self.state.entries:
            return
        self.dock.select(entry)
        if entry is self.shown:
            return
        snapshot = self.state.take(entry)
        if snapshot is not None:
            self._restore(entry, snapshot)
            return
        path, spilled = entry.path, entry.spilled
        self._open_task = self.controller.open_with(
            lambda progress, cancel: queue_jobs.open_picture(path, spilled),
            entry.name,
            lambda value: self._opened(entry, value, spilled),
            lambda message: self._open_failed(entry, message),
        )

    def _opened(self, entry: QueueEntry, value: tuple, spilled_before: Any) -> None:
        image, result = value
        if spilled_before is None and entry.spilled is not None:  # its queued clean ended while it was being read
            latest = self._latest_result
            if latest is not None and latest[0] is entry:
                result = latest[1]
            else:
                try:
                    result = load_spilled(entry.spilled)
                except OSError:
                    result = None
            if result is not None and (result.image.width, result.image.height) != (image.width, image.height):
                result = None
        elif result is not None and entry.spilled is spilled_before:
            self.state.loaded_from_disk(entry, result)  # so putting it away again writes nothing
        if entry in self.state.entries:
            self._restore(entry, Snapshot.opened(image, entry.name, entry.path, result, entry.saved_path))

    def _restore(self, entry: QueueEntry, snapshot: Snapshot) -> None:
        self._switching_to = entry
        try:
            self.document.restore(snapshot)
        finally:
            self._switching_to = None

    def _open_failed(self, entry: QueueEntry, message: str) -> None:
        """A queued picture that cannot be read fails in its entry (no message box: the queue goes on)."""
        self.window.show_status(message)
        if entry in self.state.entries and entry.status is not Status.CLEANING:
            entry.status, entry.error = Status.FAILED, message
            self.dock.update_entry(entry)
            self.refresh()
        if not self.document.has_image:  # nothing to look at yet: the next picture that is not known to fail
            following = self.state.neighbour(entry, 1)
            while following is not None and following.status is Status.FAILED:
                following = self.state.neighbour(following, 1)
            self.show_entry(following)

    def _on_entry_chosen(self, key: int) -> None:
        self.show_entry(self.state.by_key(key))

    def step(self, offset: int) -> None:
        entry = self.state.neighbour(self.shown or self.state.by_key(self.dock.current_key() or -1), offset)
        if entry is not None:
            self.show_entry(entry)

    def _on_image_leaving(self) -> None:
        """The document is about to hold another picture: put the queued one away (edits, history and all)."""
        entry, self._shown = self.shown, None
        if entry is None or entry not in self.state.entries:
            return
        snapshot = self.document.snapshot()
        if snapshot is not None:
            self.state.keep(entry, snapshot)

    def _on_image_changed(self) -> None:
        entry = self._switching_to
        self._shown = entry
        self._shown_generation = self.document.generation
        self.dock.select(entry)
        if entry is not None:
            self._sync_status(entry)
        self.refresh()

    def _on_state_changed(self) -> None:
        entry = self.shown
        if entry is not None:
            self._sync_status(entry)

    @Slot(object)
    def _on_saved(self, _path: Path) -> None:
        entry = self.shown
        if entry is not None:
            entry.saved_path = self.document.saved_path
            self._sync_status(entry)

    def _sync_status(self, entry: QueueEntry) -> None:
        """The shown picture's status from its document: edited, saved, done."""
        document = self.document
        if document.has_unsaved_edits:
            status = Status.EDITED
        elif document.result is not None:
            status = Status.SAVED if document.is_kept and document.saved_path is not None else Status.DONE
        elif entry.status is Status.EDITED:
            status = Status.DONE if entry.has_result else Status.WAITING
        else:
            return
        if status is not entry.status and entry.status is not Status.CLEANING:
            entry.status = status
            entry.error = ""
            self.dock.update_entry(entry)
            self.refresh()

    # -- cleaning the queue ------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """The queue is cleaning (and not stopping)."""
        return self._running and not self._stopping

    def start(self) -> None:
        """Clean every waiting picture, one after another, at the window's resolution at the time each starts."""
        if self.runner.closed:
            return
        waiting = len(self.state.waiting())
        if not waiting and not self._running:
            self.window.show_status("Nothing waiting in the queue")
            return
        self._stopping = False
        if not self._running:
            self._running = True
            self._run_done = self._run_failed = 0
            self._run_total = waiting
        self._next()
        self.refresh()

    def _next(self) -> None:
        if self._task is not None or not self.running:
            return
        entry = self.state.next_waiting(prefer=self.shown)
        if entry is None or self.runner.closed:
            self._finish_run()
            return
        entry.status = Status.CLEANING
        self.dock.update_entry(entry)
        path, resolution, models = entry.path, self.window.resolution, self.controller.models
        folder, stem = self.state.folder, self.state.spill_stem(entry)
        task = Task(
            lambda progress, cancel: queue_jobs.clean_picture(path, resolution, models, folder, stem, progress, cancel),
            QueueJob.CLEAN,
            on_result=lambda cleaned: self._on_clean_result(entry, cleaned),
            on_error=lambda message: self._on_clean_error(entry, message),
            on_dropped=lambda cleaned: cleaned.spilled.delete(),  # its picture left the queue meanwhile
        )
        self._task, self._task_entry = task, entry
        self._show_progress(0.0)
        self.runner.start(task)

    def _wanted(self, task: Task) -> bool:
        """The runner asks: is the result of `task` still of use? A clean's only while its picture is queued."""
        if task.kind == QueueJob.CLEAN:
            return task is self._task and self._task_entry in self.state.entries
        return task in (self._thumbnail_task, self._save_task)

    @Slot(object)
    def _on_task_finished(self, task: Task) -> None:
        finish = {
            QueueJob.CLEAN: self._on_clean_finished,
            QueueJob.THUMBNAILS: self._on_thumbnails_finished,
            QueueJob.SAVE: self._on_save_finished,
        }
        finish[task.kind](task)

    def _show_progress(self, fraction: float) -> None:
        entry = self._task_entry
        total = max(1, self._run_total)
        number = min(total, self._run_done + 1)
        name = f": {entry.name}" if entry is not None else ""
        self.dock.set_progress(min(1.0, (self._run_done + fraction) / total), f"{number} of {total}{name}")

    @Slot(object, float, str)
    def _on_clean_progress(self, task: Task, fraction: float, _text: str) -> None:
        if task is self._task and not task.is_cancelled():
            self._show_progress(fraction)

    def _on_clean_result(self, entry: QueueEntry, cleaned: queue_jobs.CleanedPicture) -> None:
        self.state.set_spilled(entry, cleaned.spilled, cleaned.result)
        self._latest_result = (entry, cleaned.result)
        entry.thumbnail, entry.error = cleaned.thumbnail, ""
        edited = False
        if entry is self.shown:
            if self.document.result is None:
                self.document.set_result(cleaned.result, "Clean")
            edited = self.document.has_unsaved_edits
        else:
            snapshot = self.state.peek(entry)
            if snapshot is not None:
                if snapshot.result is None:
                    snapshot.add_result(cleaned.result, "Clean")
                edited = snapshot.has_unsaved_edits
        entry.status = Status.EDITED if edited else Status.DONE
        self.dock.update_entry(entry, thumbnail_changed=True)

    def _on_clean_error(self, entry: QueueEntry, message: str) -> None:
        entry.status, entry.error = Status.FAILED, message
        self.dock.update_entry(entry)
        self.window.show_status(f"{entry.name}: {message}")

    def _on_clean_finished(self, task: Task) -> None:
        if task is not self._task:
            return
        entry = self._task_entry
        self._task, self._task_entry = None, None
        if entry is not None and entry.status is Status.CLEANING:
            entry.status = Status.WAITING  # cancelled: back in line
            self.dock.update_entry(entry)
        if task.outcome in (Outcome.OK, Outcome.ERROR):
            self._run_done += 1
            self._run_failed += task.outcome == Outcome.ERROR
        if entry is not None:
            self.entry_finished.emit(entry.key, task.outcome)
        if self.running and not self.runner.closed:
            self._next()
        else:
            self._finish_run()
        self.refresh()

    def _finish_run(self) -> None:
        if self._task is not None:
            return  # ends when the picture being cleaned has stopped
        was_running, self._running, self._stopping = self._running, False, False
        self.dock.set_progress(None)
        counts = self.state.counts()
        if was_running and not self.runner.closed:
            parts = [f"{self._run_done - self._run_failed} cleaned"]
            if self._run_failed:
                parts.append(f"{self._run_failed} failed (Queue ▸ Retry Failed)")
            if counts[Status.WAITING]:
                parts.append(f"{counts[Status.WAITING]} waiting")
            self.window.show_status("Queue: " + ", ".join(parts))
        self.refresh()
        if was_running:
            self.run_finished.emit()

    def cancel(self) -> None:
        """Stop the picture being cleaned (it goes back to waiting, as do the others)."""
        if not self._running:
            return
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
        else:
            self._finish_run()
        self.refresh()

    def retry_failed(self) -> None:
        retried = self.state.retry_failed()
        for entry in retried:
            self.dock.update_entry(entry)
        if not retried:
            self.window.show_status("No picture in the queue has failed")
            return
        if self.running:
            self._run_total += len(retried)
        self.start()

    # -- thumbnails --------------------------------------------------------------------------------------------------

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

    def _on_thumbnails_finished(self, task: Task) -> None:
        if task is self._thumbnail_task:
            self._thumbnail_task = None
            self._pump_thumbnails()

    @property
    def thumbnails_pending(self) -> bool:
        return self._thumbnail_task is not None or bool(self._thumbnails_wanted)

    # -- removing --------------------------------------------------------------------------------------------------

    def edited_entries(self) -> list[QueueEntry]:
        """Queued pictures with edits that are in no file (the one shown included)."""
        edited = set(self.state.edited())
        if self.shown is not None and self.document.has_unsaved_edits:
            edited.add(self.shown)
        return [entry for entry in self.state.entries if entry in edited]

    def may_discard_edits(self, doing: str, entries: list[QueueEntry] | None = None) -> bool:
        """Ask once before the edits of queued pictures (all, or those in `entries`) would be lost."""
        edited = [entry for entry in self.edited_entries() if entries is None or entry in entries]
        if not edited:
            return True
        names = ", ".join(f"“{entry.name}”" for entry in edited[:5]) + (", …" if len(edited) > 5 else "")
        what = (
            f"Your edits to {names} are"
            if len(edited) == 1
            else f"{len(edited)} queued pictures have edits that are ({names})"
        )
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window,
            "MemeClean",
            f"{what} not saved. {doing} and lose them?",
            buttons.Discard | buttons.Cancel,
            buttons.Cancel,
        )
        return answer != buttons.Cancel

    def remove_current(self) -> None:
        entry = self.state.by_key(self.dock.current_key() or -1) or self.shown
        if entry is not None:
            self.remove(entry)

    def remove(self, entry: QueueEntry) -> None:
        if not self.may_discard_edits("Remove it from the queue", [entry]):
            return
        neighbour = self.state.neighbour(entry, 1) or self.state.neighbour(entry, -1)
        was_shown = entry is self.shown
        if entry is self._task_entry and self._task is not None:
            self._task.cancel()
            if self._running:
                self._run_total = max(self._run_done, self._run_total - 1)
        elif self._running and entry.status is Status.WAITING:
            self._run_total = max(self._run_done, self._run_total - 1)
        if was_shown:
            self._shown = None  # the document keeps showing it, as a picture outside the queue
        self.state.remove(entry)
        self.dock.remove_entry(entry)
        if was_shown and neighbour is not None:
            self.show_entry(neighbour)
        self._after_removal()

    def clear(self) -> None:
        if not self.state.entries or not self.may_discard_edits("Clear the queue"):
            return
        self._drop_everything()
        self._after_removal()
        self.window.show_status("The queue is empty")

    def _drop_everything(self) -> None:
        self._running = self._stopping = False
        for task in (self._task, self._thumbnail_task, self._save_task, self._open_task):
            if task is not None:
                task.cancel()
        self._thumbnails_wanted.clear()
        self._latest_result = None
        self._shown = None
        self.state.clear()
        self.dock.clear_entries()

    def _after_removal(self) -> None:
        if not self.state.entries:
            self.dock.hide()
            if self._task is None:
                self._finish_run()
        self.refresh()

    def shutdown(self) -> None:
        """On quit, once the window's workers have stopped: forget the queue and remove its temporary files."""
        self._drop_everything()

    # -- Save All ------------------------------------------------------------------------------------------------

    def _result_in_memory(self, entry: QueueEntry) -> Result | None:
        if entry is self.shown:
            return self.document.result
        snapshot = self.state.peek(entry)
        return None if snapshot is None else snapshot.result

    def _has_result(self, entry: QueueEntry) -> bool:
        if entry is self.shown or self.state.peek(entry) is not None:
            return self._result_in_memory(entry) is not None
        return entry.has_result

    def save_all(self) -> None:
        """Write every cleaned picture to one folder with its own name; asks once about files already there."""
        if self._save_task is not None:
            self.window.show_status("Save All is still writing")
            return
        entries = list(self.state.entries)
        cleaned = [entry for entry in entries if self._has_result(entry)]
        if not cleaned:
            self.window.show_status("Nothing to save yet: clean the queue first (Queue ▸ Clean All)")
            return
        choice = SaveAllDialog.ask(self.window, Path(self.settings.last_folder or Path.home()), len(cleaned))
        if choice is None:
            return
        folder, suffix = choice
        if not folder.is_dir():
            self.window.show_error(f"cannot save to '{folder}': it is not a folder")
            return
        inputs = tuple(entry.path for entry in entries)
        plan = plan_save_all(entries, folder, suffix, inputs, cleaned=self._has_result)
        existing = [item for item in plan if item.exists]
        overwrite = False
        if existing:
            buttons = QMessageBox.StandardButton
            names = ", ".join(item.target.name for item in existing[:5]) + (", …" if len(existing) > 5 else "")
            answer = QMessageBox.question(
                self.window,
                "Save All Templates",
                f"{len(existing)} of the {len(cleaned)} templates would replace files already in “{folder.name}” "
                f"({names}). Replace them all (Yes to All), or keep those files and skip these templates "
                "(No to All)?",
                buttons.YesToAll | buttons.NoToAll | buttons.Cancel,
                buttons.NoToAll,
            )
            if answer not in (buttons.YesToAll, buttons.NoToAll):
                return
            overwrite = answer == buttons.YesToAll
        skipped = [(item.entry, item.reason) for item in plan if item.target is None]
        items = []
        for item in plan:
            if item.target is None:
                continue
            if item.exists and not overwrite:
                skipped.append((item.entry, "a file of that name is there"))
                continue
            items.append(
                queue_jobs.SaveItem(
                    item.entry.key,
                    item.target,
                    self._result_in_memory(item.entry),
                    item.entry.spilled,
                    overwrite=item.exists,
                    protect=inputs,
                )
            )
        self.settings.update(last_folder=str(folder))
        quality = self.settings.save_quality
        saved_results = {item.key: item.result for item in items}
        task = Task(
            lambda progress, cancel: queue_jobs.save_pictures(items, quality, progress, cancel),
            QueueJob.SAVE,
            on_result=self._on_save_result,
        )
        self._save_task = task
        self._save_context = (folder, skipped, saved_results)
        self.window.show_status(f"Saving {len(items)} templates to {folder}…")
        self.runner.start(task, priority=1)
        self.refresh()

    def _on_save_result(self, outcomes: list[queue_jobs.SaveOutcome]) -> None:
        self._save_task = None  # done writing: another Save All may start from the summary on
        folder, skipped, results = self._save_context
        failed = []
        saved = 0
        for outcome in outcomes:
            entry = self.state.by_key(outcome.key)
            if outcome.status == "saved":
                saved += 1
                if entry is not None:
                    self._mark_saved(entry, outcome.target, results.get(outcome.key))
            elif outcome.status == "failed":
                failed.append((entry.name if entry is not None else outcome.target.name, outcome.message))
            elif entry is not None:
                skipped.append((entry, outcome.message))
        lines = [f"Saved {saved} template{'s' if saved != 1 else ''} to {folder}."]
        if skipped:
            shown = "; ".join(f"{entry.name} ({reason})" for entry, reason in skipped[:8])
            lines.append(f"Skipped {len(skipped)}: {shown}{'; …' if len(skipped) > 8 else ''}.")
        if failed:
            shown = "; ".join(f"{name}: {message}" for name, message in failed[:8])
            lines.append(f"Failed {len(failed)}: {shown}{'; …' if len(failed) > 8 else ''}.")
        self.window.show_status(lines[0])
        if not self.runner.closed:
            QMessageBox.information(self.window, "Save All Templates", "\n".join(lines))
        self.refresh()
        self.saved_all.emit({"saved": saved, "skipped": len(skipped), "failed": len(failed)})

    def _mark_saved(self, entry: QueueEntry, target: Path, result: Result | None) -> None:
        entry.saved_path = target
        if entry is self.shown:
            if result is None or self.document.result is result:
                self.document.saved_path = target
                if not self.document.captions:  # a template file does not hold the captions written on it
                    self.document.mark_kept()
            self._sync_status(entry)
        else:
            snapshot = self.state.peek(entry)
            if snapshot is not None and (result is None or snapshot.result is result):
                snapshot.saved_path = target
                if not snapshot.state.captions:
                    snapshot.mark_kept()
            if snapshot is None or not snapshot.has_unsaved_edits:
                entry.status = Status.SAVED
        self.dock.update_entry(entry)

    def _on_save_finished(self, task: Task) -> None:
        if task is self._save_task:
            self._save_task = None
            self.refresh()

    # -- enabling ------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        counts = self.state.counts()
        total = len(self.state.entries)
        has_entries = total > 0
        self.clean_all_action.setEnabled(counts[Status.WAITING] > 0 and not self.running)
        self.cancel_action.setEnabled(self.running)
        self.next_action.setEnabled(has_entries)
        self.previous_action.setEnabled(has_entries)
        self.retry_action.setEnabled(counts[Status.FAILED] > 0)
        self.remove_action.setEnabled(has_entries)
        self.clear_action.setEnabled(has_entries)
        self.save_all_action.setEnabled(
            self._save_task is None and any(counts[status] for status in (Status.DONE, Status.EDITED, Status.SAVED))
        )
        if not has_entries:
            self.dock.set_summary("")
            return
        parts = [f"{total} picture{'s' if total != 1 else ''}"]
        parts += [f"{counts[status]} {status.value}" for status in Status if counts[status]]
        self.dock.set_summary(" · ".join(parts))


def install_queue(window: WindowView) -> QueueMode:
    """Add the picture queue to a main window (menus, panel, drop handling through `open_mime`); returns it."""
    return QueueMode(window)
