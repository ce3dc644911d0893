"""Library ▸ Show Library…: browse the template library — thumbnails, search by name and tag, open a template in
caption mode, rename, tag, delete, export, import a folder.

The window reads the library (a quick SQLite query) on the UI thread; every write (rename, tags, delete, export)
and importing a folder, which fingerprints every picture, run in a worker, on the runner the library mode gives it.
Thumbnails are small files written when a template was added.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from memeclean_core.errors import MemeCleanError
from memeclean_core.files.filenames import save_filters
from memeclean_core.library import LibraryEntry, TemplateLibrary

from ..workers.runner import JobRunner, Task
from .actions import make_button

THUMBNAIL_SIZE = 120
ALL_TAGS = "All tags"
EXPORT_FILTER = ";;".join(save_filters((".png", ".jpg", ".webp")))  # templates are stills


class LibraryWindowJob(enum.StrEnum):
    """The Library window's jobs."""

    CHANGE = "library-change"  # rename, tags, delete
    EXPORT = "library-export"
    IMPORT = "library-import"


class LibraryWindow(QDialog):
    """A non-modal window over one `TemplateLibrary`."""

    open_requested = Signal(object)  # LibraryEntry: open it in the main window, in caption mode
    changed = Signal()  # entries were renamed, tagged, deleted or imported (or a change failed): shown again
    exported = Signal(object)  # list of the Paths written

    def __init__(self, library: TemplateLibrary, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Template Library")
        self.setModal(False)
        self.library = library
        self.runner = runner  # its `cancel_on_quit` stops an import; a change being written completes
        self.runner.progress.connect(self._on_import_progress)
        self.runner.finished.connect(self._on_task_finished)
        self._import_task: Task | None = None
        self._build()
        self.resize(760, 560)

    def _build(self) -> None:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search names and tags")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(lambda _text: self.reload())
        self.tag_combo = QComboBox()
        self.tag_combo.setToolTip("Only templates with this tag")
        self.tag_combo.currentIndexChanged.connect(lambda _index: self.reload())
        top = QHBoxLayout()
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.tag_combo)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.list.setGridSize(QSize(THUMBNAIL_SIZE + 24, THUMBNAIL_SIZE + 40))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._refresh_buttons)
        self.list.itemActivated.connect(lambda _item: self.open_selected())

        self.open_button = make_button(
            "Open in Caption Mode",
            self.open_selected,
            "Open the template in the main window and write new captions on it",
        )
        self.rename_button = make_button("Rename…", self.rename_selected)
        self.tags_button = make_button(
            "Tags…", self.tag_selected, "Set the tags of the selected templates (comma-separated)"
        )
        self.delete_button = make_button("Delete", self.delete_selected)
        self.export_button = make_button(
            "Export…", self.export_selected, "Write the selected templates to picture files"
        )
        self.import_button = make_button(
            "Import Folder…", self.choose_import_folder, "Add every picture in a folder to the library"
        )
        close_button = make_button("Close", self.close)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.rename_button, self.tags_button, self.delete_button, self.export_button):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.import_button)
        buttons.addWidget(close_button)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

    # -- showing ----------------------------------------------------------------------------------------------

    @property
    def search(self) -> str:
        return self.search_edit.text()

    @property
    def tag(self) -> str | None:
        return None if self.tag_combo.currentIndex() <= 0 else self.tag_combo.currentText()

    def reload(self) -> None:
        """Show the entries that the search and tag select (keeping the selection where it can)."""
        try:
            entries = self.library.entries(search=self.search, tag=self.tag)
            tags, total = self.library.tags(), len(self.library)
        except MemeCleanError as error:
            self.status_label.setText(str(error))
            return
        self._set_tags(tags)
        selected = {entry.id for entry in self.selected_entries()}
        self.list.clear()
        for entry in entries:
            item = QListWidgetItem(QIcon(QPixmap(str(entry.thumbnail))), entry.name)
            item.setData(Qt.ItemDataRole.UserRole, entry)
            tags_text = f"\nTags: {', '.join(entry.tags)}" if entry.tags else ""
            item.setToolTip(f"{entry.name} ({entry.width}×{entry.height}){tags_text}")
            self.list.addItem(item)
            item.setSelected(entry.id in selected)
        if total == 0:
            text = "Your library is empty: templates you save are added to it, or import a folder of templates."
        else:
            text = f"{len(entries)} of {total} template(s)"
        healed = " ".join(f"{note[0].upper()}{note[1:]}." for note in self.library.notes)  # a rebuild, said once
        self.status_label.setText(f"{text}\n{healed}" if healed else text)
        self._refresh_buttons()

    def _set_tags(self, tags: list[str]) -> None:
        current = self.tag
        self.tag_combo.blockSignals(True)
        self.tag_combo.clear()
        self.tag_combo.addItem(ALL_TAGS)
        self.tag_combo.addItems(tags)
        if current in tags:
            self.tag_combo.setCurrentText(current)
        self.tag_combo.blockSignals(False)

    def entries_shown(self) -> list[LibraryEntry]:
        return [self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())]

    def selected_entries(self) -> list[LibraryEntry]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]

    def select(self, entry_id: int) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole).id == entry_id)

    def _refresh_buttons(self) -> None:
        count = len(self.list.selectedItems())
        self.open_button.setEnabled(count == 1)
        self.rename_button.setEnabled(count == 1)
        for button in (self.tags_button, self.delete_button, self.export_button):
            button.setEnabled(count >= 1)
        self.import_button.setEnabled(self._import_task is None)

    # -- acting on the selection ---------------------------------------------------------------------------------

    def open_selected(self) -> None:
        selected = self.selected_entries()
        if len(selected) == 1:
            self.open_requested.emit(selected[0])

    def rename_selected(self) -> None:
        selected = self.selected_entries()
        if len(selected) != 1:
            return
        entry = selected[0]
        name, ok = QInputDialog.getText(self, "Rename Template", "Name:", text=entry.name)
        if ok:
            self._change(lambda: self.library.rename(entry.id, name))

    def tag_selected(self) -> None:
        selected = self.selected_entries()
        if not selected:
            return
        current = ", ".join(selected[0].tags) if len(selected) == 1 else ""
        text, ok = QInputDialog.getText(self, "Template Tags", "Tags (comma-separated):", text=current)
        if ok:
            self._change(lambda: [self.library.set_tags(entry.id, text) for entry in selected])

    def delete_selected(self) -> None:
        selected = self.selected_entries()
        if not selected:
            return
        what = f"“{selected[0].name}”" if len(selected) == 1 else f"{len(selected)} templates"
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Delete Templates", f"Delete {what} from your library?", buttons.Yes | buttons.Cancel, buttons.Cancel
        )
        if answer == buttons.Yes:
            self._change(lambda: [self.library.remove(entry.id) for entry in selected])

    def export_selected(self) -> None:
        selected = self.selected_entries()
        if not selected:
            return
        if len(selected) == 1:
            path, _ = QFileDialog.getSaveFileName(
                self, "Export Template", str(Path.home() / f"{selected[0].name}.png"), EXPORT_FILTER
            )
            if path:
                self.export_to(selected, Path(path) if Path(path).suffix else Path(path + ".png"))
            return
        folder = QFileDialog.getExistingDirectory(self, "Export Templates to a Folder", str(Path.home()))
        if folder:
            self.export_to(selected, Path(folder))

    def export_to(self, entries: list[LibraryEntry], target: Path) -> None:
        """In a worker: one entry to a file (the file dialog asked before replacing it); several to <name>.png in a
        folder, never over a file there. `exported` gives the files written."""
        library = self.library

        self._start(
            lambda progress, cancel: export_entries(library, entries, target), LibraryWindowJob.EXPORT, self._exported
        )

    def _exported(self, value: tuple[list[Path], str]) -> None:
        written, problem = value
        if problem:
            self._problem(problem)
        if written:
            self.status_label.setText(f"Exported {len(written)} template(s) to {written[0].parent}")
        self.exported.emit(written)

    def _change(self, change: Callable[[], Any]) -> None:
        """Write a change to the library in a worker; the list is shown again when it is done (or failed)."""
        self._start(lambda progress, cancel: change(), LibraryWindowJob.CHANGE)

    def _start(
        self, fn: Callable[..., Any], kind: LibraryWindowJob, on_result: Callable[[Any], None] | None = None
    ) -> Task:
        return self.runner.start(Task(fn, kind, on_result=on_result, on_error=self._problem))

    @Slot(object)
    def _on_task_finished(self, task: Task) -> None:
        if task.kind == LibraryWindowJob.IMPORT:
            self._import_task = None
            self._refresh_buttons()
        elif task.kind == LibraryWindowJob.CHANGE and not self.runner.closed:
            self.reload()  # done or failed: the list shows what the library holds now
            self.changed.emit()

    # -- importing a folder -------------------------------------------------------------------------------------

    def choose_import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a Folder of Templates", str(Path.home()))
        if folder:
            self.import_folder(Path(folder))

    def import_folder(self, folder: Path) -> bool:
        """Add every picture in `folder`, in a worker; False while an import runs."""
        if self._import_task is not None:
            return False
        library = self.library
        self.status_label.setText(f"Importing {folder}…")
        self._import_task = self._start(
            lambda progress, cancel: library.import_folder(folder, progress=progress, cancel=cancel),
            LibraryWindowJob.IMPORT,
            self._imported,
        )
        self._refresh_buttons()
        return True

    @Slot(object, float, str)
    def _on_import_progress(self, task: Task, fraction: float, text: str) -> None:
        if task is self._import_task:
            self.status_label.setText(f"{text} ({fraction:.0%})")

    def _imported(self, value: tuple[list, list]) -> None:
        added, skipped = value
        self.reload()
        note = f"; skipped {len(skipped)}: {skipped[0][1]}" if skipped else ""
        self.status_label.setText(f"Imported {len(added)} template(s){note}")
        self.changed.emit()

    def _problem(self, message: str) -> None:
        text = message.strip() or "Something went wrong"
        text = text[:1].upper() + text[1:]
        self.status_label.setText(text)
        QMessageBox.warning(self, "Template Library", text if text.endswith((".", "!", "?")) else text + ".")


def export_entries(library: TemplateLibrary, entries: list[LibraryEntry], target: Path) -> tuple[list[Path], str]:
    """(the files written, the problem that stopped it or ""): one entry to the file `target`, several to
    <name>.png in the folder `target`, never over a file there. Runs in a worker."""
    from memeclean_core.files.filenames import safe_name

    written: list[Path] = []
    try:
        if len(entries) == 1 and not target.is_dir():
            written.append(library.export(entries[0].id, target, overwrite=True))
        else:
            for entry in entries:
                path = target / f"{safe_name(entry.name)}.png"
                if path.exists():
                    path = target / f"{safe_name(entry.name)}-{entry.id}.png"
                written.append(library.export(entry.id, path))
    except MemeCleanError as error:
        return written, str(error)
    return written, ""
