"""Caption mode: write new text on the clean template, see exactly what Export writes, keep the meme editable.

`install_caption_mode(window)` adds it to a main window: the Caption menu and toolbar toggle, the Caption dock
(`CaptionPanel`), box outlines and handles on the canvas (`CaptionOverlay`), and File ▸ Export Meme… / Open and Save
Caption Project. The boxes live in the document's history (one undo step per gesture, `CaptionEditor`).

The canvas shows the preview: the core renderer's output at full resolution, made by the same function Export
uses (`jobs.caption.captioned`), so export equals preview. Rendering, exporting, proposing boxes (OCR) and the font
scan run on a serial runner in the window's shared pool, one caption job at a time (Pillow's fonts are not shared
between threads), so the window never waits for them; a burst of edits renders once (`PREVIEW_DELAY_MS`). On quit the
window's `Workers` forget the caption jobs that have not started and let a running one finish (an export completes).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog

from memeclean_core.captions import CaptionDoc, find_project, load_project
from memeclean_core.captions.project import PROJECT_SUFFIX
from memeclean_core.errors import MemeCleanError
from memeclean_core.files.filenames import same_file, save_filters
from memeclean_core.files.imageio import LoadedImage

from ..jobs import caption as caption_jobs
from ..model.caption_editor import CaptionEditor
from ..views.actions import SEPARATOR, ActionSpec, MenuInsert, MenuLayout, install_menus, make_actions
from ..views.caption_overlay import CaptionOverlay
from ..views.caption_panel import CaptionPanel
from ..views.qimage import to_qimage
from ..workers.runner import Task

if TYPE_CHECKING:
    from .window_view import WindowView

PREVIEW_DELAY_MS = 15  # edits within this time render once
EXPORT_FILTERS = save_filters()
PROJECT_FILTER = f"Caption projects (*{PROJECT_SUFFIX});;All files (*)"


class CaptionJob(enum.StrEnum):
    """Caption mode's jobs: `job_finished(kind, outcome)` names them."""

    PREVIEW = "caption-preview"
    EXPORT = "caption-export"
    PROJECT = "caption-project"
    PROPOSE = "caption-propose"
    FONTS = "caption-fonts"


def make_text_reader() -> caption_jobs.TextReader | None:
    """The OCR reader for "Replace Old Text" (rapidocr when installed); built once, in a worker."""
    from memeclean_core.captions import default_text_reader

    return default_text_reader()


class CaptionMode(QObject):
    """The caption mode of one main window (see the module docstring)."""

    preview_ready = Signal()  # the canvas shows the current boxes on the current template
    exported = Signal(object)  # Path of the meme written
    project_saved = Signal(object)  # Path of the project written
    job_finished = Signal(str, str)  # kind ("caption-preview", "caption-export", ...), outcome

    def __init__(self, window: WindowView):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.editor = CaptionEditor(self.document)
        self.overlay = CaptionOverlay(window.canvas, self.editor, self)
        self.active = False
        self.preview: tuple[Any, Any] | None = None  # (RGB, alpha) of the preview shown
        self.preview_image: QImage | None = None
        self._shown_key: tuple[LoadedImage, tuple] | None = None
        self._preview_busy = False
        self._preview_dirty = False
        # One caption job at a time, in the shared pool: Pillow's fonts are not shared between threads. On quit a
        # running job finishes (an export is written whole) and the waiting ones are forgotten.
        self.runner = window.workers.runner(
            serial=True, wanted=self._wanted, cancel_on_quit=lambda task: False, parent=self
        )
        self.runner.error.connect(window.show_error)
        self.runner.finished.connect(self._on_task_finished)
        self._finishers: dict[Task, Callable[[], None] | None] = {}
        self._pending_project: CaptionDoc | None = None
        self._reader: caption_jobs.TextReader | None = None
        self._reader_made = False
        self._fonts_asked = False
        self._mask_checked: tuple[Any, bool] | None = None  # (result, whether its mask has text)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self._render)
        self._build_actions()
        self.panel = CaptionPanel(
            self.editor, [self.actions["add"], self.actions["delete"], self.actions["replace"]], window.show_error
        )
        self.dock = QDockWidget("Caption", window)
        self.dock.setObjectName("caption-dock")
        self.dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self._build_menus()
        self.document.image_changed.connect(self._on_image_changed)
        self.document.state_changed.connect(self._on_state_changed)
        self.editor.changed.connect(self._on_boxes_changed)
        self.editor.selection_changed.connect(self._on_selection_changed)
        self.refresh_actions()

    # -- building ----------------------------------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.window.help_key_rows.append(("Move the selected text box", "arrow keys (with Shift: 10 pixels)"))
        self.actions = make_actions(self, self.window, CAPTION_ACTIONS)

    def _build_menus(self) -> None:
        self.menu = install_menus(self.window, self.actions, [CAPTION_MENU], [CAPTION_FILE_ITEMS])["caption"]
        self.window.add_toolbar_action(self.actions["caption"])
        self.window.add_auto_clean_veto(lambda: self.opening_project)  # a project's template is clean already

    # -- the mode ----------------------------------------------------------------------------------------------

    @Slot(bool)
    def set_active(self, on: bool) -> None:
        """Enter or leave caption mode (the Caption toggle)."""
        on = bool(on) and self.document.has_image
        if self.actions["caption"].isChecked() != on:
            self.actions["caption"].blockSignals(True)
            self.actions["caption"].setChecked(on)
            self.actions["caption"].blockSignals(False)
        if on == self.active:
            return
        window, canvas = self.window, self.window.canvas
        self.active = on
        self.overlay.set_active(on)
        self.dock.setVisible(on)
        for name in ("brush", "eraser"):  # caption mode drags boxes; the mask brush waits
            window.named_actions[name].setEnabled(not on)
        if on:
            window.named_actions["pan"].setChecked(True)
            canvas.set_show_mask(False)  # the preview is what counts now
            self.editor.ensure_classic()
            self._load_fonts()
            self._shown_key = None
            self._render()
            window.show_status("Caption mode: type the top and bottom text; drag boxes, double-click to edit")
        else:
            self.editor.commit()
            canvas.set_show_mask(window.named_actions["show_mask"].isChecked())
            result = self.document.result
            canvas.set_result(
                None if result is None else to_qimage(result.image.frames[0].pixels, result.image.frames[0].alpha)
            )
            self._shown_key, self.preview, self.preview_image = None, None, None
        self.refresh_actions()

    def template(self) -> LoadedImage | None:
        """What the captions are drawn on: the clean result, else the picture as opened (a template already)."""
        result = self.document.result
        return result.image if result is not None else self.document.image

    def add_box(self) -> None:
        if self.document.has_image:
            if not self.active:
                self.set_active(True)
            self.editor.add_box()

    # -- the preview -------------------------------------------------------------------------------------------

    @property
    def preview_current(self) -> bool:
        """The canvas shows the current boxes on the current template."""
        key = self._shown_key
        return (
            key is not None
            and key[0] is self.template()
            and key[1] == self.editor.boxes
            and not self._preview_busy
            and not self._timer.isActive()
        )

    def request_preview(self) -> None:
        if self.active and not self._timer.isActive():
            self._timer.start()

    def _render(self) -> None:
        template = self.template()
        if not self.active or template is None or self.runner.closed:
            return
        if self._preview_busy:
            self._preview_dirty = True  # rendered again when the running one is done
            return
        boxes = self.editor.boxes
        key = (template, boxes)
        if self._shown_key is not None and self._shown_key[0] is template and self._shown_key[1] == boxes:
            self.preview_ready.emit()
            return
        self._preview_busy = True
        self._submit(
            CaptionJob.PREVIEW,
            lambda progress, cancel: caption_jobs.preview(template, boxes),
            lambda value: self._show_preview(key, value),
            self._preview_done,
        )

    def _show_preview(self, key: tuple[LoadedImage, tuple], value: tuple[Any, Any]) -> None:
        if not self.active:
            return
        self.preview = value
        self.preview_image = to_qimage(*value)
        self._shown_key = key
        self.window.canvas.set_result(self.preview_image)

    def _preview_done(self) -> None:
        self._preview_busy = False
        if self._preview_dirty:
            self._preview_dirty = False
            self._render()
        elif self.preview_current:
            self.preview_ready.emit()

    # -- reacting to the document ------------------------------------------------------------------------------

    def _on_image_changed(self) -> None:
        self._shown_key = None
        pending, self._pending_project = self._pending_project, None
        source = self.document.source
        if pending is not None and source is not None and same_file(source, pending.template):
            self.editor.apply(pending.boxes, "Open Caption Project")
            self.set_active(True)
            self.window.show_status(f"Opened the caption project of {source.name}")
        else:
            if self.active:
                self.editor.ensure_classic()
            image = self.document.image
            if source is not None and not image.is_animated and find_project(source) is not None:
                self.window.show_status(f"{source.name} has a caption project: File ▸ Open Caption Project…")
        self.request_preview()
        self.refresh_actions()

    def _on_state_changed(self) -> None:
        self.request_preview()  # a new result is a new template
        self.refresh_actions()

    def _on_boxes_changed(self) -> None:
        self.window.canvas.update()
        self.request_preview()
        self.refresh_actions()

    def _on_selection_changed(self) -> None:
        self.window.canvas.update()
        self.refresh_actions()

    def refresh_actions(self) -> None:
        document = self.document
        has_image, active = document.has_image, self.active
        selected = self.editor.selected_box is not None
        self.actions["caption"].setEnabled(has_image)
        self.actions["add"].setEnabled(has_image)
        self.actions["delete"].setEnabled(active and selected)
        self.actions["edit_text"].setEnabled(active and selected)
        result = document.result
        if result is not None and (self._mask_checked is None or self._mask_checked[0] is not result):
            self._mask_checked = (result, bool(result.mask.any()))  # once per result, not on every drag step
        self.actions["replace"].setEnabled(result is not None and self._mask_checked[1])
        self.actions["export"].setEnabled(has_image)
        self.actions["save_project"].setEnabled(has_image)

    # -- export --------------------------------------------------------------------------------------------------

    def _finish_typing(self) -> None:
        self.overlay.close_text_editor(True)
        self.editor.commit()

    def _folder(self) -> Path:
        last = self.window.settings.last_folder
        return Path(last) if last else Path.home()

    def suggested_export_path(self) -> Path:
        source = self.document.source
        if source is not None:
            return source.with_name(f"{source.stem}.meme.png")
        return self._folder() / "meme.png"

    def export_dialog(self) -> None:
        """File ▸ Export Meme…: ask where, then render at full size and write (the dialog asks before replacing)."""
        document = self.document
        if not document.has_image:
            return
        self._finish_typing()
        if not any(box.text.strip() for box in self.editor.boxes):
            self.window.show_status("Nothing to export yet: write some text first (Caption mode, T).")
            return
        filters = dict(EXPORT_FILTERS)
        if not document.image.is_animated:
            filters.pop("GIF animation (*.gif)")
        suggested = self.suggested_export_path()
        path, selected = QFileDialog.getSaveFileName(
            self.window, "Export Meme", str(suggested), ";;".join(filters), next(iter(filters))
        )
        if not path:
            return
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(filters.get(selected, ".png"))
        self.export_to(path, overwrite=True)

    def export_to(self, path: Path, *, overwrite: bool = False) -> None:
        """Render the current boxes on the template at full resolution and save atomically (never the original)."""
        template, boxes = self.template(), self.editor.boxes
        if template is None:
            return
        source = self.document.source
        protect = [source] if source is not None else []
        quality = self.window.settings.save_quality
        if template.is_animated and path.suffix.lower() in (".jpg", ".jpeg"):
            self.window.show_status("A JPEG holds one frame: only the first frame is exported")

        def done(written: Path) -> None:
            self.window.settings.update(last_folder=str(Path(written).parent))
            self.window.show_status(f"Exported the meme to {written}")
            self.window.document.mark_kept()
            self.exported.emit(written)

        self._submit(
            CaptionJob.EXPORT,
            lambda progress, cancel: caption_jobs.export(
                path, template, boxes, quality=quality, overwrite=overwrite, protect=protect
            ),
            done,
            keep_result=True,
        )

    # -- projects ------------------------------------------------------------------------------------------------

    def save_project_dialog(self) -> None:
        document = self.document
        if not document.has_image:
            return
        self._finish_typing()
        suggested = caption_jobs.suggested_project_path(document.source, document.result is not None, self._folder())
        path, _ = QFileDialog.getSaveFileName(self.window, "Save Caption Project", str(suggested), PROJECT_FILTER)
        if not path:
            return
        path = Path(path)
        if not path.name.lower().endswith(".json"):
            path = path.with_name(path.name + PROJECT_SUFFIX)
        self.save_project_to(path)

    def save_project_to(self, path: Path) -> None:
        """Write the boxes as a project at `path`; the template is the file it came from, or a PNG beside it."""
        document = self.document
        template, boxes = self.template(), self.editor.boxes
        if template is None:
            return
        if document.result is None:
            known = [document.source] if document.source is not None else []
        else:
            known = [document.saved_path] if document.saved_path is not None else []

        def done(written: tuple[Path, Path]) -> None:
            project, template_path = written
            self.window.settings.update(last_folder=str(project.parent))
            self.window.show_status(f"Saved the caption project {project.name} (template {template_path.name})")
            self.window.document.mark_kept()
            self.project_saved.emit(project)

        self._submit(
            CaptionJob.PROJECT,
            lambda progress, cancel: caption_jobs.save_caption_project(path, template, boxes, known),
            done,
            keep_result=True,
        )

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open Caption Project", str(self._folder()), PROJECT_FILTER)
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path) -> None:
        """Open a project's template and, once it is loaded, its boxes (an undo step), in caption mode."""
        try:
            project = load_project(path)
        except MemeCleanError as error:
            self.window.show_error(str(error))
            return
        if not self.window.may_discard_edits("Open the project"):
            return
        self._pending_project = project
        self.window.controller.open_path(project.template)

    @property
    def opening_project(self) -> bool:
        """A project's template is being opened: it is already clean, so the window does not clean it again."""
        return self._pending_project is not None

    # -- proposals from the clean's mask ---------------------------------------------------------------------------

    def replace_old_text(self) -> None:
        """One box per old caption (from the clean's mask), with the old words when OCR can read them."""
        document = self.document
        result = document.result
        if result is None or not result.mask.any():
            self.window.show_status("Clean the image first: the new boxes go where the clean found text.")
            return
        if not self.active:
            self.set_active(True)
        mask, meme = result.mask, document.image.frames[0].pixels

        def run(progress: Callable[[float, str], None], cancel: Callable[[], bool]) -> list:
            return caption_jobs.propose(mask, meme, self._text_reader())

        def done(boxes: list) -> None:
            count = self.editor.replace_old_text(boxes)
            words = sum(1 for box in boxes if box.text.strip())
            note = f", {words} with the old words" if words else ""
            self.window.show_status(f"{count} text box{'es' if count != 1 else ''} where the old text was{note}")

        self.window.show_status("Finding the old text…")
        self._submit(CaptionJob.PROPOSE, run, done)

    def _text_reader(self) -> caption_jobs.TextReader | None:
        """In the worker: the OCR reader, built on first use (about a second) and kept."""
        if not self._reader_made:
            self._reader = make_text_reader()
            self._reader_made = True
        return self._reader

    def _load_fonts(self) -> None:
        if not self._fonts_asked:
            self._fonts_asked = True
            self._submit(
                CaptionJob.FONTS,
                lambda progress, cancel: caption_jobs.font_names(),
                self.panel.set_font_names,
                keep_result=True,
            )

    # -- one caption job at a time ---------------------------------------------------------------------------------

    def _submit(
        self,
        kind: CaptionJob,
        fn: Callable[..., Any],
        on_result: Callable[[Any], None],
        on_finished: Callable[[], None] | None = None,
        *,
        keep_result: bool = False,
    ) -> None:
        task = Task(fn, kind, self.document.generation, on_result, keep_result=keep_result)
        self._finishers[task] = on_finished
        self.runner.start(task)

    def _wanted(self, task: Task) -> bool:
        return task.keep_result or task.generation == self.document.generation

    @Slot(object)
    def _on_task_finished(self, task: Task) -> None:
        finisher = self._finishers.pop(task, None)
        if finisher is not None:
            finisher()
        self.job_finished.emit(task.kind, task.outcome)

    @property
    def busy(self) -> bool:
        """A caption job is running or waiting."""
        return self.runner.busy


def install_caption_mode(window: WindowView) -> CaptionMode:
    """Add caption mode to a main window (menus, toolbar toggle, dock, canvas overlay); returns it.

    Called once from `MainWindow.__init__`, after its menus and toolbar exist: the mode adds its actions to the
    File menu (before Quit), its Caption menu before View and its toggle to the toolbar, through the window's view
    interface, so the window needs no caption code of its own."""
    return CaptionMode(window)


# Caption mode's actions, declared once (`mode.actions[name]`); CAPTION_MENU and CAPTION_FILE_ITEMS place them (and
# `_build_menus` the toolbar toggle).
CAPTION_ACTIONS = (
    ActionSpec(
        "caption",
        "&Caption Mode",
        CaptionMode.set_active,
        "T",
        "Write new text on the template: top and bottom text, text boxes",
        checkable=True,
    ),
    ActionSpec(
        "add", "&Add Text Box", CaptionMode.add_box, "Ctrl+Shift+T", "Add a text box in the middle of the picture"
    ),
    ActionSpec(
        "delete",
        "&Delete Text Box",
        lambda mode: mode.editor.delete_selected(),
        QKeySequence.StandardKey.Delete,
        "Remove the selected text box",
    ),
    ActionSpec(
        "edit_text",
        "&Edit Text",
        lambda mode: mode.overlay.open_text_editor(),
        "F2",
        "Type the selected box's text in place (or double-click it)",
    ),
    ActionSpec(
        "replace",
        "&Replace Old Text",
        CaptionMode.replace_old_text,
        "Ctrl+Shift+R",
        "One text box where each old caption was, with its words if they can be read",
    ),
    ActionSpec(
        "export",
        "&Export Meme…",
        CaptionMode.export_dialog,
        "Ctrl+E",
        "Save the captioned picture, exactly as shown, at full size",
    ),
    ActionSpec(
        "open_project",
        "Open Caption &Project…",
        CaptionMode.open_project_dialog,
        "Ctrl+Shift+O",
        "Open a saved caption project and edit its text again",
    ),
    ActionSpec(
        "save_project",
        "Save Caption Pro&ject…",
        CaptionMode.save_project_dialog,
        tip="Save the text boxes and template so the meme stays editable",
    ),
)
CAPTION_MENU = MenuLayout(
    "caption",
    "&Caption",
    ("caption", SEPARATOR, "add", "edit_text", "delete", SEPARATOR, "replace", SEPARATOR, "export"),
    before=("view",),
)
# In the File menu, before Quit
CAPTION_FILE_ITEMS = MenuInsert("file", ("export", SEPARATOR, "open_project", "save_project", SEPARATOR), before="quit")
