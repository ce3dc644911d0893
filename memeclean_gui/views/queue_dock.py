"""The queue's widgets: the panel (a dock beside the canvas listing the queued pictures with thumbnail, name and
status, the progress of the whole queue with Cancel, buttons for Clean All and Save All) and the Save All dialog.
They only show what they are given and report choices (and ask the queue's questions); `modes.queue` decides what
they do."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..jobs.queue import THUMBNAIL_SIZE
from ..model.queue_session import names
from ..model.queue_state import QueueEntry, Status
from .qimage import to_qimage

_KEY = Qt.ItemDataRole.UserRole
_HAS_THUMBNAIL = Qt.ItemDataRole.UserRole + 1
_FAILED_COLOUR = QColor(200, 40, 40)
SAVE_ALL_FORMATS = {"Same as each picture": None, "PNG": ".png", "JPEG": ".jpg", "WebP": ".webp"}
_HINT = "Drop several pictures or a folder on the window to clean them one after another."


class QueueDock(QDockWidget):
    """`entry_chosen(key)`: the person picked an entry (click, arrow keys)."""

    entry_chosen = Signal(int)

    def __init__(
        self,
        clean_all: QAction,
        cancel: QAction,
        save_all: QAction,
        context_actions: list[QAction],
        parent: QWidget | None = None,
    ):
        super().__init__("Queue", parent)
        self.setObjectName("queue-dock")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)

        buttons = QHBoxLayout()
        self.clean_button = _button(clean_all, body)
        self.save_button = _button(save_all, body)
        buttons.addWidget(self.clean_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        progress_row = QHBoxLayout()
        self.progress_bar = QProgressBar(body)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setToolTip("Progress of the whole queue")
        self.cancel_button = _button(cancel, body)
        self.cancel_button.setText("Cancel")
        progress_row.addWidget(self.progress_bar, 1)
        progress_row.addWidget(self.cancel_button)
        layout.addLayout(progress_row)
        self.set_progress(None)

        self.list = QListWidget(body)
        self.list.setIconSize(QSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        self.list.setUniformItemSizes(True)  # hundreds of entries lay out at once
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)  # the start of a reason reads best
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.list.addActions(context_actions)
        self.list.setAccessibleName("Queued pictures")
        self.list.currentItemChanged.connect(self._on_current_changed)
        layout.addWidget(self.list, 1)

        self.summary = QLabel(_HINT, body)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.setWidget(body)
        self.setMinimumWidth(220)
        self._items: dict[int, QListWidgetItem] = {}
        blank = QPixmap(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        blank.fill(QColor(0, 0, 0, 0))
        self._blank_icon = QIcon(blank)
        self._failed_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)

    # -- entries -----------------------------------------------------------------------------------------------------

    def add_entries(self, entries: list[QueueEntry]) -> None:
        for entry in entries:
            item = QListWidgetItem()
            item.setData(_KEY, entry.key)
            self._items[entry.key] = item
            self.list.addItem(item)
            self.update_entry(entry)

    def update_entry(self, entry: QueueEntry, thumbnail_changed: bool = False) -> None:
        item = self._items.get(entry.key)
        if item is None:
            return
        status = entry.status
        detail = f"Failed: {entry.error}" if status is Status.FAILED and entry.error else status.label
        item.setText(f"{entry.name}\n{detail}")
        item.setToolTip(f"{entry.path}\n{detail}")
        item.setForeground(QBrush(_FAILED_COLOUR) if status is Status.FAILED else QBrush())
        if entry.thumbnail is not None:
            if thumbnail_changed or item.data(_HAS_THUMBNAIL) is not True:
                item.setIcon(QIcon(QPixmap.fromImage(to_qimage(entry.thumbnail))))
                item.setData(_HAS_THUMBNAIL, True)
        else:  # a placeholder of the same size keeps the names in one column
            item.setIcon(self._failed_icon if status is Status.FAILED else self._blank_icon)

    def remove_entry(self, entry: QueueEntry) -> None:
        item = self._items.pop(entry.key, None)
        if item is not None:
            self.list.blockSignals(True)
            self.list.takeItem(self.list.row(item))
            self.list.blockSignals(False)

    def clear_entries(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        self._items.clear()

    def select(self, entry: QueueEntry | None) -> None:
        """Mark `entry` as the one shown (no `entry_chosen`)."""
        self.list.blockSignals(True)
        item = None if entry is None else self._items.get(entry.key)
        if item is None:
            self.list.setCurrentItem(None)
            self.list.clearSelection()
        else:
            self.list.setCurrentItem(item)
            self.list.scrollToItem(item)
        self.list.blockSignals(False)

    def item_for(self, key: int) -> QListWidgetItem | None:
        return self._items.get(key)

    def current_key(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(_KEY))

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.entry_chosen.emit(int(current.data(_KEY)))

    # -- progress and counts ---------------------------------------------------------------------------------------

    def set_progress(self, fraction: float | None, text: str = "") -> None:
        """The whole queue's progress; None hides it (nothing running)."""
        running = fraction is not None
        self.progress_bar.setVisible(running)
        self.cancel_button.setVisible(running)
        self.clean_button.setVisible(not running)
        if running:
            self.progress_bar.setValue(round(1000 * fraction))
            self.progress_bar.setFormat(f"{text} %p%".replace("&", "&&") if text else "%p%")

    def set_summary(self, text: str) -> None:
        self.summary.setText(text or _HINT)


def _button(action: QAction, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class SaveAllDialog(QDialog):
    """Where Save All writes and in which format. `ask()` returns (folder, extension or None to keep each
    picture's own) or None when cancelled."""

    def __init__(self, folder: Path, count: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Save All Templates")
        form = QFormLayout(self)
        self.folder_edit = QLineEdit(str(folder))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow("Folder:", row)
        self.format_box = QComboBox()
        self.format_box.addItems(list(SAVE_ALL_FORMATS))
        form.addRow("Format:", self.format_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(f"Save {count}")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save All Templates To", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    @classmethod
    def ask(cls, parent: QWidget | None, folder: Path, count: int) -> tuple[Path, str | None] | None:
        dialog = cls(folder, count, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return Path(dialog.folder_edit.text()).expanduser(), SAVE_ALL_FORMATS[dialog.format_box.currentText()]


def ask_discard_edits(parent: QWidget, edited: list[str], doing: str) -> bool:
    """Ask once before the edits of the queued pictures named in `edited` would be lost; True: go on."""
    listed = names(edited)
    what = (
        f"Your edits to {listed} are"
        if len(edited) == 1
        else f"{len(edited)} queued pictures have edits that are ({listed})"
    )
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "MemeClean",
        f"{what} not saved. {doing} and lose them?",
        buttons.Discard | buttons.Cancel,
        buttons.Cancel,
    )
    return answer != buttons.Cancel


def ask_replace(parent: QWidget, existing: list[str], cleaned: int, folder: Path) -> bool | None:
    """Save All found files of the names it would write: True to replace them all, False to keep them and skip
    those templates, None to save nothing."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Save All Templates",
        f"{len(existing)} of the {cleaned} templates would replace files already in “{folder.name}” "
        f"({', '.join(existing[:5]) + (', …' if len(existing) > 5 else '')}). Replace them all (Yes to All), or keep "
        "those files and skip these templates (No to All)?",
        buttons.YesToAll | buttons.NoToAll | buttons.Cancel,
        buttons.NoToAll,
    )
    if answer not in (buttons.YesToAll, buttons.NoToAll):
        return None
    return answer == buttons.YesToAll
