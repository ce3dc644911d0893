"""The picture queue in the main window: many pictures dropped or opened at once, cleaned one after another.

`install_queue(window)` adds the Queue menu, Open Folder… and Save All… in the File menu, and the queue panel (a
dock, shown once there is something queued). The state lives in a Qt-free `model.queue_session.QueueSession`
(entries, statuses, the documents kept whole, a run's counters, Save All's split and summary); this mode puts it
on the screen, and `QueueWork` (`modes.queue_work`) runs its jobs: Clean All, thumbnails, Save All's writing.

The picture shown, when it is a queued one, lives in the window's one `Document` like any other: compare, mask,
brush, re-fill, captions and undo work as they do for a single picture. Showing another entry puts the document
away in the queue first (with its history, or spilled to disk for the older ones), so switching never asks about
unsaved edits: quitting and clearing the queue do, once for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QObject, Qt, Slot
from PySide6.QtWidgets import QFileDialog

from ..jobs import queue as queue_jobs
from ..model.queue_session import CLEANED, QueueSession, queue_summary
from ..model.queue_state import QueueEntry, Status, image_files, plan_save_all
from ..views.actions import SEPARATOR, ActionSpec, MenuInsert, MenuLayout, install_menus, make_actions
from ..views.queue_dock import QueueDock, SaveAllDialog, ask_discard_edits, ask_replace
from ..workers.runner import Task
from .queue_work import QueueWork

if TYPE_CHECKING:
    from .window_view import WindowView


class QueueMode(QObject):
    """The picture queue of one main window (see the module docstring). Its signals are its `QueueWork`'s:
    `entry_finished(key, outcome)` after each queued clean, `run_finished()` when Clean All ends, `saved_all(counts)`
    after Save All."""

    def __init__(self, window: WindowView):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.controller = window.controller
        self.settings = window.settings
        self.session = QueueSession(self.document)
        self.state = self.session.state
        self._open_task: Task | None = None  # the controller's open of a queued picture (the newest open wins)
        self.actions = make_actions(self, window, QUEUE_ACTIONS)
        self.dock = QueueDock(
            *(self.actions[name] for name in ("clean_all", "cancel", "save_all")),
            [self.actions[name] for name in ("remove", "retry", "clear")],
            window,
        )
        self.work = QueueWork(window, self.session, self.dock, self.refresh)
        self.entry_finished, self.run_finished, self.saved_all = (
            self.work.entry_finished,
            self.work.run_finished,
            self.work.saved_all,
        )
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        self.dock.hide()
        self.dock.entry_chosen.connect(lambda key: self.show_entry(self.state.by_key(key)))
        panel = self.dock.toggleViewAction()
        panel.setText("Queue &Panel")
        self.menus = install_menus(window, {**self.actions, "panel": panel}, [QUEUE_MENU], QUEUE_FILE_ITEMS)
        window.help_key_rows.append(("Next / previous queued picture, in the queue panel", "Down / Up"))
        window.add_auto_clean_veto(lambda: self.session.cleans_document)
        self.document.image_leaving.connect(self.session.put_away)
        self.document.image_changed.connect(self._on_image_changed)
        self.document.state_changed.connect(lambda: self._sync_status(self.shown))
        self.controller.saved.connect(self._on_saved)
        self.refresh()

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
            self.work.want_thumbnails(added)
            self.session.run.grow(len(added))
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
        return self.session.shown

    @property
    def keeps_document(self) -> bool:
        """The document is a queued picture: its edits are kept by the queue when another picture is shown."""
        return self.session.keeps_document

    def show_entry(self, entry: QueueEntry | None) -> None:
        if entry is None or entry not in self.state.entries:
            return
        self.dock.select(entry)
        if entry is self.shown:
            return
        snapshot = self.state.take(entry)
        if snapshot is not None:
            self.session.restore(entry, snapshot)
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
        snapshot = self.session.opened(entry, image, result, spilled_before)
        if entry in self.state.entries:
            self.session.restore(entry, snapshot)

    def _open_failed(self, entry: QueueEntry, message: str) -> None:
        """A queued picture that cannot be read fails in its entry (no message box: the queue goes on)."""
        self.window.show_status(message)
        if entry in self.state.entries and entry.status is not Status.CLEANING:
            self.session.failed(entry, message)
            self._entry_changed(entry)
        if not self.document.has_image:  # nothing to look at yet: the next picture that is not known to fail
            following = self.state.neighbour(entry, 1)
            while following is not None and following.status is Status.FAILED:
                following = self.state.neighbour(following, 1)
            self.show_entry(following)

    def step(self, offset: int) -> None:
        entry = self.state.neighbour(self.shown or self.state.by_key(self.dock.current_key() or -1), offset)
        if entry is not None:
            self.show_entry(entry)

    def _on_image_changed(self) -> None:
        entry = self.session.image_changed()
        self.dock.select(entry)
        self._sync_status(entry)
        self.refresh()

    @Slot(object)
    def _on_saved(self, _path: Path) -> None:
        entry = self.shown
        if entry is not None:
            entry.saved_path = self.document.saved_path
            self._sync_status(entry)

    def _sync_status(self, entry: QueueEntry | None) -> None:
        if entry is not None and self.session.sync_status(entry):
            self._entry_changed(entry)

    def _entry_changed(self, entry: QueueEntry, thumbnail_changed: bool = False) -> None:
        self.dock.update_entry(entry, thumbnail_changed)
        self.refresh()

    # -- cleaning the queue (QueueWork) ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """The queue is cleaning (and not stopping)."""
        return self.work.running

    def start(self) -> None:
        """Clean every waiting picture, one after another, at the window's resolution at the time each starts."""
        self.work.start()

    def cancel(self) -> None:
        """Stop the picture being cleaned (it goes back to waiting, as do the others)."""
        self.work.cancel()

    def retry_failed(self) -> None:
        self.work.retry_failed()

    @property
    def thumbnails_pending(self) -> bool:
        return self.work.thumbnails_pending

    # -- removing --------------------------------------------------------------------------------------------------

    def edited_entries(self) -> list[QueueEntry]:
        """Queued pictures with edits that are in no file (the one shown included)."""
        return self.session.edited_entries()

    def may_discard_edits(self, doing: str, entries: list[QueueEntry] | None = None) -> bool:
        """Ask once before the edits of queued pictures (all, or those in `entries`) would be lost."""
        edited = self.session.edited_entries(entries)
        return not edited or ask_discard_edits(self.window, [entry.name for entry in edited], doing)

    def remove_current(self) -> None:
        entry = self.state.by_key(self.dock.current_key() or -1) or self.shown
        if entry is not None:
            self.remove(entry)

    def remove(self, entry: QueueEntry) -> None:
        if not self.may_discard_edits("Remove it from the queue", [entry]):
            return
        neighbour = self.state.neighbour(entry, 1) or self.state.neighbour(entry, -1)
        was_shown = entry is self.shown
        self.work.removing(entry)
        if was_shown:
            self.session.forget_shown()  # the document keeps showing it, as a picture outside the queue
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
        self.work.stop_everything()
        if self._open_task is not None:
            self._open_task.cancel()
        self.session.latest_result = None
        self.session.forget_shown()
        self.state.clear()
        self.dock.clear_entries()

    def _after_removal(self) -> None:
        if not self.state.entries:
            self.dock.hide()
            self.work.emptied()
        self.refresh()

    def close(self) -> None:
        """On quit, once the window's workers have stopped: forget the queue and remove its temporary files."""
        self._drop_everything()

    # -- Save All ------------------------------------------------------------------------------------------------

    def save_all(self) -> None:
        """Write every cleaned picture to one folder with its own name; asks once about files already there."""
        if self.work.saving:
            self.window.show_status("Save All is still writing")
            return
        entries = list(self.state.entries)
        cleaned = [entry for entry in entries if self.session.has_result(entry)]
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
        plan = plan_save_all(entries, folder, suffix, inputs, cleaned=self.session.has_result)
        existing = [item.target.name for item in plan if item.exists]
        overwrite = bool(existing) and ask_replace(self.window, existing, len(cleaned), folder)
        if overwrite is None:
            return
        items, skipped = self.session.save_items(plan, overwrite, inputs)
        self.settings.update(last_folder=str(folder))
        self.work.save(folder, items, skipped)
        self.refresh()

    # -- enabling ------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        counts = self.state.counts()
        has_entries = bool(self.state.entries)
        enabled = {
            "clean_all": counts[Status.WAITING] > 0 and not self.running,
            "cancel": self.running,
            "retry": counts[Status.FAILED] > 0,
            "save_all": not self.work.saving and any(counts[status] for status in CLEANED),
            **dict.fromkeys(("next", "previous", "remove", "clear"), has_entries),
        }
        for name, on in enabled.items():
            self.actions[name].setEnabled(on)
        self.dock.set_summary(queue_summary(self.state))


def install_queue(window: WindowView) -> QueueMode:
    """Add the picture queue to a main window (menus, panel, drop handling through `open_mime`); returns it."""
    return QueueMode(window)


# The queue's actions, declared once (`mode.actions[name]`); QUEUE_MENU and QUEUE_FILE_ITEMS place them.
QUEUE_ACTIONS = (
    ActionSpec(
        "open_folder",
        "Open &Folder…",
        QueueMode.open_folder_dialog,
        None,
        "Queue every picture in a folder and its subfolders",
    ),
    ActionSpec(
        "clean_all",
        "Clean &All",
        QueueMode.start,
        ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
        "Clean every waiting picture of the queue, one after another",
    ),
    ActionSpec(
        "cancel",
        "&Cancel Queue",
        QueueMode.cancel,
        "Shift+Esc",
        "Stop the picture being cleaned; the rest stay waiting",
    ),
    ActionSpec("next", "&Next Picture", lambda mode: mode.step(1), "Ctrl+PgDown", "Show the next picture of the queue"),
    ActionSpec(
        "previous",
        "&Previous Picture",
        lambda mode: mode.step(-1),
        "Ctrl+PgUp",
        "Show the previous picture of the queue",
    ),
    ActionSpec("retry", "&Retry Failed", QueueMode.retry_failed, None, "Put the pictures that failed back in line"),
    ActionSpec(
        "remove",
        "Re&move from Queue",
        QueueMode.remove_current,
        None,
        "Take the selected picture out of the queue (its file stays)",
    ),
    ActionSpec("clear", "C&lear Queue", QueueMode.clear, None, "Empty the queue (the files stay)"),
    ActionSpec(
        "save_all",
        "Save A&ll Templates…",
        QueueMode.save_all,
        "Ctrl+Alt+S",
        "Save every cleaned picture of the queue to a folder, with its own name",
    ),
)
# The Queue menu after View (before Model, else Help); "panel" is the queue panel's show/hide toggle.
QUEUE_MENU = MenuLayout(
    "queue",
    "&Queue",
    ("clean_all", "cancel", SEPARATOR, "next", "previous", SEPARATOR, "retry", "remove", "clear", SEPARATOR)
    + ("save_all", "panel"),
    before=("model", "help"),
)
QUEUE_FILE_ITEMS = (
    MenuInsert("file", ("open_folder",), after="open"),
    MenuInsert("file", ("save_all",), after="save_as"),
)
