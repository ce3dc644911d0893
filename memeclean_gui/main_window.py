"""The main window: menus, toolbar, canvas and status bar over one document, its controller and the settings.

The window is the app's composition: its actions are declared once in a table (`WINDOW_ACTIONS`, placed by
`WINDOW_MENUS` and `_build_toolbar`), its menus and toolbar are held by reference (`menus`, `toolbar`), and the modes
(caption, queue, library, Model menu) are installed on it through the small `window_view.WindowView` interface it
implements. It mirrors the document; the computing happens in `jobs` (in workers, through the controller's job
runner) and in `model.brush` (plain functions). Every problem reaches the person as a one-line message.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, Qt, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QToolBar,
    QWidget,
)

from memeclean_core.errors import MemeCleanError
from memeclean_core.files.filenames import cleaned_suffix, open_filter, save_filters

from . import __version__
from .controller import Controller
from .model.brush import BrushTool, PointerEvent
from .model.document import BBox, Document
from .model.settings import Settings
from .modes.caption import install_caption_mode
from .modes.library import install_library
from .modes.model_menu import initial_model_path, install_model_menu
from .modes.queue import install_queue
from .views.actions import SEPARATOR, ActionSpec, MenuLayout, fill, laid_out, make_actions
from .views.canvas import Canvas
from .views.controls import BrushSizeControl, ResolutionControl
from .views.qimage import MaskOverlay, can_accept, source_from_mime, to_qimage
from .workers.runner import Workers

APP_NAME = "MemeClean"
OPEN_FILTER = open_filter()  # every suffix the core reads
SAVE_FILTERS = save_filters()


class MainWindow(QMainWindow):
    """`model_path=None` uses the bundled weights; `settings=None` reads the user's settings file."""

    def __init__(
        self,
        settings: Settings | None = None,
        model_path: str | Path | None = None,
        device: str = "auto",
        parent: QWidget | None = None,
        runtime: str | None = None,
    ):
        super().__init__(parent)
        self.settings = settings if settings is not None else Settings.load()
        self.document = Document()
        model = initial_model_path(self.settings, model_path)
        runtime = runtime if runtime is not None else self.settings.runtime  # --runtime, else the remembered one
        self.workers = Workers(parent=self)  # every job runner of the window: one shutdown on quit
        self.controller = Controller(self.document, model, device, self, runtime=runtime, workers=self.workers)
        self.brush = BrushTool(self.document, size=self.settings.brush_size)
        self.canvas = Canvas(self)
        self.canvas.set_brush_size(self.settings.brush_size)
        self.canvas.set_show_mask(self.settings.show_mask)
        self.setCentralWidget(self.canvas)
        self.setAcceptDrops(True)
        self.setWindowTitle(APP_NAME)
        self._overlay: MaskOverlay | None = None
        self._auto_clean_vetoes: list[Callable[[], bool]] = []  # the modes' "this picture needs no clean"
        self._shown_result = None
        self._shown_mask = None
        # Keys that are no menu action, for Help > Keyboard Shortcuts: (what, keys); add-ons append theirs
        self.help_key_rows: list[tuple[str, str]] = [
            ("Show the original", "hold Space or \\"),
            ("Zoom", "mouse wheel"),
            ("Pan", "middle-drag, or drag with the Hand tool"),
        ]
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self.model_menu = install_model_menu(self)
        self.captions = install_caption_mode(self)  # Caption menu and dock, Export Meme, caption projects
        self.queue = install_queue(self)  # many pictures at once: Queue menu and panel, Open Folder, Save All
        self.library = install_library(self)  # Library menu, match offer on open, templates and fixes kept on save
        self._restore_window()
        self._refresh_actions()
        self.canvas.setFocus()

    # -- building ---------------------------------------------------------------------------------------------

    def _build_actions(self) -> None:
        # by name (`named_actions["clean"]`): `actions()` is QWidget's own list
        self.named_actions: dict[str, QAction] = make_actions(self, self, WINDOW_ACTIONS)
        actions = self.named_actions
        actions["auto_clean"].setChecked(self.settings.auto_clean)
        tools = QActionGroup(self)
        for name in ("pan", "brush", "eraser"):
            tools.addAction(actions[name])
        actions["pan"].setChecked(True)
        actions["show_mask"].setChecked(self.settings.show_mask)
        actions["hold_info"] = QAction("Show Original While Held\tSpace or \\", self)
        actions["hold_info"].setEnabled(False)

    def _build_menus(self) -> None:
        """The menus of `WINDOW_MENUS`, held by key in `self.menus`; the modes add theirs with `add_menu`."""
        self.recent_menu = QMenu("Open &Recent", self)
        self._rebuild_recent_menu()
        items = {**self.named_actions, "recent": self.recent_menu}
        self.menus: dict[str, QMenu] = {}
        for layout in WINDOW_MENUS:
            self.menus[layout.key] = menu = self.menuBar().addMenu(layout.title)
            fill(menu, laid_out(layout.items, items))

    def add_menu(self, key: str, menu: QMenu, before: str | None = None) -> None:
        """Put a mode's menu in the menu bar, before the menu `before` (a key of `self.menus`), else at the end."""
        anchor = self.menus.get(before) if before is not None else None
        if anchor is not None:
            self.menuBar().insertMenu(anchor.menuAction(), menu)
        else:
            self.menuBar().addMenu(menu)
        self.menus[key] = menu

    def _build_toolbar(self) -> None:
        self.toolbar = toolbar = QToolBar("Clean", self)
        toolbar.setObjectName("clean-toolbar")  # the key of its place in the saved window state
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(toolbar)
        self.resolution_control = ResolutionControl(self.settings.resolution)
        self.brush_control = BrushSizeControl(self.settings.brush_size)
        actions = self.named_actions
        fill(toolbar, [actions["clean"]])
        toolbar.addWidget(self.resolution_control)
        fill(toolbar, [SEPARATOR, actions["pan"], actions["brush"], actions["eraser"]])
        toolbar.addWidget(self.brush_control)
        fill(toolbar, [actions["refill"], SEPARATOR, actions["show_mask"], actions["split"]])
        clean_button = toolbar.widgetForAction(actions["clean"])
        font = clean_button.font()
        font.setBold(True)
        clean_button.setFont(font)
        for button in toolbar.findChildren(QWidget):
            if button is not self.canvas:
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def add_auto_clean_veto(self, veto: Callable[[], bool]) -> None:
        """Clean Automatically skips an opened picture while `veto()` is true (a mode that opens pictures that are
        clean already, or that it cleans itself)."""
        self._auto_clean_vetoes.append(veto)

    def add_toolbar_action(self, action: QAction) -> None:
        """A mode's toggle at the end of the clean toolbar, after a separator (it never takes the focus)."""
        self.toolbar.addSeparator()
        self.toolbar.addAction(action)
        button = self.toolbar.widgetForAction(action)
        if button is not None:
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(260)
        self.progress_bar.setFormat("%p%")
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel_button.setToolTip("Stop the running clean (Esc)")
        self.cancel_button.clicked.connect(self.controller.cancel)
        self.cancel_button.setVisible(False)
        self.size_label = QLabel()
        self.size_label.setToolTip("Size of the image (width × height in pixels)")
        self.working_label = QLabel()
        self.working_label.setToolTip("The size the network worked at for the result shown")
        self.time_label = QLabel()
        self.time_label.setToolTip("How long the run that made the result took")
        self.device_label = QLabel("Device: not loaded")
        self.device_label.setToolTip("Where the network runs; known once the model is loaded by the first clean")
        self.zoom_label = QLabel()
        for widget in (
            self.progress_bar,
            self.cancel_button,
            self.size_label,
            self.working_label,
            self.time_label,
            self.device_label,
            self.zoom_label,
        ):
            status.addPermanentWidget(widget)

    def _connect(self) -> None:
        document, controller = self.document, self.controller
        document.image_changed.connect(self._on_image_changed)
        document.state_changed.connect(self._on_state_changed)
        document.mask_painted.connect(self._on_mask_painted)
        controller.busy_changed.connect(self._on_busy)
        controller.progress.connect(self._on_progress)
        controller.status.connect(self.show_status)
        controller.error.connect(self.show_error)
        controller.device_changed.connect(self._on_device)
        controller.finished.connect(lambda kind, outcome: self._refresh_actions())
        controller.saved.connect(self._on_saved)
        self.canvas.pointer.connect(self._on_pointer)
        self.canvas.zoom_changed.connect(lambda zoom: self.zoom_label.setText(f"{zoom * 100:.0f} %"))
        self.resolution_control.resolution_changed.connect(lambda value: self.settings.update(resolution=value))
        self.brush_control.size_changed.connect(self._set_brush_size)

    # -- getting images in --------------------------------------------------------------------------------------

    def may_discard_edits(self, doing: str) -> bool:
        """Ask before hand edits that are in no file would be lost; True when it is fine to go on."""
        if not self.document.has_unsaved_edits or self.queue.keeps_document:  # the queue keeps a queued one's edits
            return True
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            APP_NAME,
            f"Your edits to “{self.document.name}” are not saved. {doing} and lose them?",
            buttons.Discard | buttons.Cancel,
            buttons.Cancel,
        )
        return answer != buttons.Cancel

    def open_path(self, path: str | Path) -> None:
        if not self.queue.open_paths([path]) and self.may_discard_edits("Open another image"):
            self.controller.open_path(Path(path))

    def open_dialog(self) -> None:
        if not self.may_discard_edits("Open another image"):
            return
        folder = self.settings.last_folder or str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(self, "Open Images", folder, OPEN_FILTER)
        if paths and not self.queue.open_paths(paths, asked=True):  # several go to the queue
            self.controller.open_path(Path(paths[0]))

    def paste(self) -> None:
        self.open_mime(QGuiApplication.clipboard().mimeData(), "Pasted image", nothing="The clipboard holds no image")

    def open_mime(
        self, mime: QMimeData | None, name: str = "Dropped image", nothing: str = "Nothing to open in what was dropped"
    ) -> None:
        if self.queue.open_mime(mime):  # several files or a folder: the queue
            return
        try:
            source = source_from_mime(mime, name)
        except MemeCleanError as error:
            self.show_error(str(error))
            return
        if source is None:
            self.show_status(nothing)
            return
        if self.may_discard_edits("Open the new image"):
            self.controller.open_source(source)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if can_accept(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802
        self.open_mime(event.mimeData())
        event.acceptProposedAction()

    # -- cleaning -----------------------------------------------------------------------------------------------

    @property
    def resolution(self) -> int:
        return self.resolution_control.resolution

    def clean(self) -> None:
        if self.controller.clean(self.resolution):
            self._refresh_actions()

    def refill(self) -> None:
        if self.controller.refill(self.resolution):
            self._refresh_actions()

    def crop_caption_bars(self) -> None:
        top, bottom = self.document.crop_caption_bars()
        if top or bottom:
            self.show_status(f"Cropped the caption bars: {top} rows at the top, {bottom} at the bottom")
        else:
            self.show_status(
                "No caption bar found: a bar is a uniform white or black strip along the top or "
                "bottom edge holding the detected text"
            )

    # -- getting it out -------------------------------------------------------------------------------------------

    def save(self) -> None:
        """Ctrl+S: where Save As wrote last for this image, else ask (never the original file)."""
        if self.document.result is None:
            self.show_status("Nothing to save yet: clean the image first.")
            return
        if self.document.saved_path is None:
            self.save_as()
            return
        self._save_to(self.document.saved_path)

    def save_as(self) -> None:
        document = self.document
        if document.result is None:
            self.show_status("Nothing to save yet: clean the image first.")
            return
        suggested = self._suggested_path()
        filters = dict(SAVE_FILTERS)
        if not document.image.is_animated:
            filters.pop("GIF animation (*.gif)")
        chosen = next((name for name, ext in filters.items() if ext == suggested.suffix), next(iter(filters)))
        path, selected = QFileDialog.getSaveFileName(
            self, "Save Template As", str(suggested), ";;".join(filters), chosen
        )
        if not path:
            return
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(filters.get(selected, ".png"))
        # The dialog has asked before replacing an existing file; the original is refused by the core.
        self._save_to(path)

    def _save_to(self, path: Path) -> None:
        if self.document.image.is_animated and path.suffix.lower() in (".jpg", ".jpeg"):
            self.show_status("A JPEG holds one frame: only the first frame is saved")
        self.controller.save(path, quality=self.settings.save_quality, overwrite=True)

    def _suggested_path(self) -> Path:
        document = self.document
        image = document.image
        extension = cleaned_suffix(image.format, image.is_animated)
        if document.saved_path is not None:
            return document.saved_path
        if document.source is not None:
            return document.source.with_name(f"{document.source.stem}.clean{extension}")
        folder = Path(self.settings.last_folder) if self.settings.last_folder else Path.home()
        return folder / f"template{extension}"

    @Slot(object)
    def _on_saved(self, path: Path) -> None:
        if not self.document.captions:  # a template file does not hold the captions written on it
            self.document.mark_kept()
        self.settings.update(last_folder=str(Path(path).parent))

    def copy_result(self) -> None:
        result = self.document.result
        if result is None:
            self.show_status("Nothing to copy yet: clean the image first.")
            return
        frame = result.image.frames[0]
        QGuiApplication.clipboard().setImage(to_qimage(frame.pixels, frame.alpha))
        self.show_status("Copied the template to the clipboard")

    # -- mirroring the document -----------------------------------------------------------------------------

    def _on_image_changed(self) -> None:
        document = self.document
        image = document.image
        self._overlay = MaskOverlay(document.mask)
        self._shown_mask = document.mask
        self._shown_result = None
        self.brush.cancel()
        self.canvas.set_images(to_qimage(image.rgb, image.alpha), None, image.alpha is not None)
        self.canvas.set_overlay(self._overlay)
        self.resolution_control.set_image_size((image.width, image.height), self.controller.models.multiple)
        frames = f" · {len(image.frames)} frames" if image.is_animated else ""
        self.size_label.setText(f"Image {image.width}×{image.height}{frames}")
        self.working_label.setText("")
        self.time_label.setText("")
        self.setWindowTitle(f"{document.name} – {APP_NAME}")
        if document.source is not None:
            self.settings.add_recent_file(document.source)
            self._rebuild_recent_menu()
        if image.is_animated:
            self.show_status(
                f"Animation of {len(image.frames)} frames: Clean cleans every frame; mask edits and "
                "Re-fill apply to the first frame, the one shown"
            )
        if self.settings.auto_clean and not document.cropping and not any(veto() for veto in self._auto_clean_vetoes):
            self.clean()
        self._refresh_actions()

    def _on_state_changed(self) -> None:
        document = self.document
        result = document.result
        if result is not self._shown_result:
            self._shown_result = result
            if result is None:
                self.canvas.set_result(None)
                self.working_label.setText("")
                self.time_label.setText("")
            else:
                frame = result.image.frames[0]
                self.canvas.set_result(to_qimage(frame.pixels, frame.alpha))
                self.working_label.setText("Working {}×{}".format(*result.working_size))
                self.time_label.setText(f"Took {result.seconds:.2f} s")
        mask = document.mask
        if mask is not None and mask is not self._shown_mask and self._overlay is not None:
            self._shown_mask = mask
            self._overlay.update(mask)
            self.canvas.overlay_changed()
        self._refresh_actions()

    def _on_mask_painted(self, bbox: BBox) -> None:
        if self._overlay is not None:
            self._overlay.update(self.document.mask, bbox)
            # The stroke's working array becomes the next state's mask as it is: no full refresh at the end.
            self._shown_mask = self.document.mask
            self.canvas.overlay_changed(bbox)

    def _on_pointer(self, event: PointerEvent) -> None:
        if self.canvas.tool in ("brush", "eraser"):
            self.brush.erase = self.canvas.tool == "eraser"
            self.brush.handle(event)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("Starting… %p%")
        self._refresh_actions()

    @Slot(float, str)
    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(round(1000 * fraction))
        self.progress_bar.setFormat(f"{text} %p%".replace("&", "&&") if text else "%p%")

    @Slot(str)
    def _on_device(self, device: str) -> None:
        self.device_label.setText(f"Device: {device}")
        self.update_resolution_limits()

    def enter_caption_mode(self) -> None:
        self.captions.set_active(True)

    def update_resolution_limits(self) -> None:
        """The resolution slider's range for the picture shown and the model in use (its size multiple)."""
        if self.document.size is not None:
            self.resolution_control.set_image_size(self.document.size, self.controller.models.multiple)

    def _refresh_actions(self) -> None:
        document, controller, actions = self.document, self.controller, self.named_actions
        has_image, has_result = document.has_image, document.result is not None
        busy = controller.busy
        state = document.state
        actions["clean"].setEnabled(has_image and not busy)
        actions["refill"].setEnabled(has_image and not busy and state is not None and state.mask_edited)
        actions["cancel"].setEnabled(busy or controller.loading)
        self.cancel_button.setEnabled(busy)
        for name in ("save", "save_as", "copy"):
            actions[name].setEnabled(has_result)
        actions["undo"].setEnabled(document.can_undo)  # the document's: its history, and a crop before it
        actions["redo"].setEnabled(document.can_redo)
        actions["undo"].setText(f"&Undo {document.undo_label}" if document.can_undo else "&Undo")
        actions["redo"].setText(f"&Redo {document.redo_label}" if document.can_redo else "&Redo")
        actions["crop_bars"].setEnabled(has_result and not busy)

    # -- tools and view -----------------------------------------------------------------------------------------

    def undo(self) -> None:
        self.document.undo()

    def redo(self) -> None:
        self.document.redo()

    def cancel_run(self) -> None:
        self.controller.cancel()

    def use_pan_tool(self, on: bool) -> None:
        if on:
            self._set_tool("pan")

    def use_brush_tool(self, on: bool) -> None:
        if on:
            self._set_tool("brush")

    def use_eraser_tool(self, on: bool) -> None:
        if on:
            self._set_tool("eraser")

    def brush_smaller(self) -> None:
        self._step_brush(1 / 1.25)

    def brush_larger(self) -> None:
        self._step_brush(1.25)

    def zoom_in(self) -> None:
        self.canvas.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.canvas.zoom_by(1 / 1.25)

    def fit(self) -> None:
        self.canvas.fit()

    def actual_size(self) -> None:
        self.canvas.actual_size()

    def set_split(self, on: bool) -> None:
        self.canvas.set_split(on)

    def _set_tool(self, tool: str) -> None:
        self.brush.cancel()
        self.canvas.set_tool(tool)
        show_mask = self.named_actions["show_mask"]
        if tool in ("brush", "eraser") and not show_mask.isChecked():
            show_mask.setChecked(True)  # painting an invisible mask would be guesswork

    def _set_brush_size(self, size: int) -> None:
        self.brush.size = size
        self.canvas.set_brush_size(size)
        self.settings.update(brush_size=size)

    def _step_brush(self, factor: float) -> None:
        size = round(self.brush.size * factor)
        if size == self.brush.size:
            size += 1 if factor > 1 else -1
        size = max(BrushSizeControl.MINIMUM, min(BrushSizeControl.MAXIMUM, size))
        self.brush_control.set_size(size)
        self._set_brush_size(size)

    def _set_show_mask(self, show: bool) -> None:
        self.canvas.set_show_mask(show)
        self.settings.update(show_mask=show)

    def _set_auto_clean(self, on: bool) -> None:
        self.settings.update(auto_clean=on)

    # -- messages -----------------------------------------------------------------------------------------------

    @Slot(str)
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    @Slot(str)
    def show_error(self, message: str) -> None:
        """A one-line problem for the person: in a message box and in the status bar. Never a traceback."""
        self.statusBar().showMessage(message, 15000)
        QMessageBox.warning(self, APP_NAME, _sentence(message))

    def show_shortcuts(self) -> None:
        rows = []
        for action in self.findChildren(QAction):
            sequences = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()]
            if sequences and action.text():
                rows.append((action.text().replace("&", "").rstrip("…"), ", ".join(sequences)))
        rows.sort()
        rows += self.help_key_rows
        table = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;<b>{keys}</b></td></tr>" for name, keys in rows)
        QMessageBox.information(self, "Keyboard Shortcuts", f"<table>{table}</table>")

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME} {__version__}</b><p>Takes a meme and gives back its clean template.</p>",
        )

    # -- recent files, window state ----------------------------------------------------------------------------

    def _rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        recent = self.settings.recent_files
        for number, item in enumerate(recent, start=1):
            action = menu.addAction(f"&{number % 10} {Path(item).name}" if number <= 10 else Path(item).name)
            action.setToolTip(item)
            action.triggered.connect(lambda _checked=False, path=item: self.open_path(path))
        if recent:
            menu.addSeparator()
        clear = menu.addAction("Clear Recent Files")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.update(recent_files=[])
        self._rebuild_recent_menu()

    def _restore_window(self) -> None:
        geometry, state = self.settings.window_geometry, self.settings.window_state
        restored = False
        try:
            if geometry:
                restored = self.restoreGeometry(QByteArray(base64.b64decode(geometry)))
            if state:
                self.restoreState(QByteArray(base64.b64decode(state)))
        except ValueError:
            restored = False
        if not restored:
            self.resize(1100, 760)

    def _save_window(self) -> None:
        self.settings.update(
            window_geometry=base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii"),
            window_state=base64.b64encode(bytes(self.saveState().data())).decode("ascii"),
        )

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.may_discard_edits("Quit") or not self.queue.may_discard_edits("Quit"):
            event.ignore()
            return
        self._save_window()
        # Every runner stops as its owner chose (a clean and a look-up are cancelled, a training run writes its
        # checkpoint, a save or export completes) and every worker is waited for.
        self.workers.shutdown()
        self.queue.close()  # its temporary files go
        super().closeEvent(event)


_KEY = QKeySequence.StandardKey

# Every action of the window, declared once: its menu place is in WINDOW_MENUS, its toolbar place in _build_toolbar.
WINDOW_ACTIONS = (
    ActionSpec("open", "&Open…", MainWindow.open_dialog, _KEY.Open, "Open an image file"),
    ActionSpec(
        "save",
        "&Save Template",
        MainWindow.save,
        _KEY.Save,
        "Save the template (asks where the first time; never over the original)",
    ),
    ActionSpec(
        "save_as", "Save Template &As…", MainWindow.save_as, "Ctrl+Shift+S", "Save the template as PNG, JPEG or WebP"
    ),
    ActionSpec("quit", "&Quit", MainWindow.close, _KEY.Quit, "Close MemeClean"),
    ActionSpec("undo", "&Undo", MainWindow.undo, _KEY.Undo, "Undo the last clean or mask edit"),
    ActionSpec("redo", "&Redo", MainWindow.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Redo what was undone"),
    ActionSpec(
        "copy", "&Copy Template", MainWindow.copy_result, _KEY.Copy, "Copy the cleaned picture to the clipboard"
    ),
    ActionSpec("paste", "&Paste Image", MainWindow.paste, _KEY.Paste, "Open the image on the clipboard"),
    ActionSpec(
        "auto_clean",
        "Clean &Automatically",
        MainWindow._set_auto_clean,
        None,
        "Start cleaning as soon as an image is opened, dropped or pasted",
        checkable=True,
    ),
    ActionSpec(
        "clean",
        "&Clean",
        MainWindow.clean,
        ["Ctrl+Return", "Ctrl+Enter"],
        "Find the caption and fill what was behind it",
    ),
    ActionSpec(
        "refill", "&Re-fill", MainWindow.refill, "Ctrl+R", "Fill again with the mask as edited by hand (first frame)"
    ),
    ActionSpec("cancel", "Ca&ncel", MainWindow.cancel_run, "Esc", "Stop the running clean"),
    ActionSpec(
        "crop_bars",
        "Crop Caption &Bars",
        MainWindow.crop_caption_bars,
        None,
        "Cut a white or black bar holding the caption off the top or bottom edge, instead of filling it",
    ),
    ActionSpec("pan", "&Hand (Pan)", MainWindow.use_pan_tool, "H", "Drag to move the picture", checkable=True),
    ActionSpec(
        "brush", "&Brush", MainWindow.use_brush_tool, "B", "Paint text the clean missed onto the mask", checkable=True
    ),
    ActionSpec(
        "eraser",
        "&Eraser",
        MainWindow.use_eraser_tool,
        "E",
        "Remove what the clean wrongly took from the mask",
        checkable=True,
    ),
    ActionSpec("smaller", "Brush S&maller", MainWindow.brush_smaller, "[", "Make the brush smaller"),
    ActionSpec("larger", "Brush &Larger", MainWindow.brush_larger, "]", "Make the brush larger"),
    ActionSpec(
        "show_mask", "Show &Mask", MainWindow._set_show_mask, "M", "Show the text mask as a red overlay", checkable=True
    ),
    ActionSpec("zoom_in", "Zoom &In", MainWindow.zoom_in, [_KEY.ZoomIn, "Ctrl+="], "Zoom in"),
    ActionSpec("zoom_out", "Zoom &Out", MainWindow.zoom_out, _KEY.ZoomOut, "Zoom out"),
    ActionSpec("fit", "&Fit in Window", MainWindow.fit, "Ctrl+0", "Show the whole picture"),
    ActionSpec("actual", "&Actual Size (100 %)", MainWindow.actual_size, "Ctrl+1", "One image pixel per screen pixel"),
    ActionSpec(
        "split",
        "&Split Before/After",
        MainWindow.set_split,
        "S",
        "Original left of a line you can drag, result right of it",
        checkable=True,
    ),
    ActionSpec(
        "shortcuts", "&Keyboard Shortcuts", MainWindow.show_shortcuts, _KEY.HelpContents, "List the keyboard shortcuts"
    ),
    ActionSpec("about", "&About MemeClean", MainWindow.show_about, None, "Version and licence"),
)

# The window's own menus, in menu-bar order ("recent" is the Open Recent submenu). The modes add theirs (Caption,
# Queue, Library, Model) and their File items with `views.actions.install_menus`.
WINDOW_MENUS = (
    MenuLayout("file", "&File", ("open", "recent", SEPARATOR, "save", "save_as", SEPARATOR, "quit")),
    MenuLayout("edit", "&Edit", ("undo", "redo", SEPARATOR, "copy", "paste")),
    MenuLayout("image", "&Image", ("clean", "refill", "crop_bars", "cancel", SEPARATOR, "auto_clean")),
    MenuLayout("mask", "&Mask", ("pan", "brush", "eraser", SEPARATOR, "smaller", "larger", "show_mask")),
    MenuLayout("view", "&View", ("zoom_in", "zoom_out", "fit", "actual", SEPARATOR, "split", "hold_info")),
    MenuLayout("help", "&Help", ("shortcuts", "about")),
)


def _sentence(message: str) -> str:
    """'cannot read x: y' -> 'Cannot read x: y.'"""
    message = message.strip()
    if not message:
        return "Something went wrong."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
