"""The template library and learning from fixes in the main window.

`install_library(window)` adds the Library menu (before Model and Help), the match bar (a toolbar row shown when an
opened meme shows a library template) and these hooks, all through the document's and the controller's signals:

- an image is opened → it is looked up in the library in a worker; on a match the bar names the template and
  offers it (Use Template: the aligned template becomes the result and the caption its mask, one undo step);
- a template is saved → it is added to the library (setting, on by default; not twice, and not a template that
  came from the library); with the opt-in setting every finished clean is added too;
- a template is saved after the mask was corrected by hand → the meme and the corrected mask (and the template,
  when it was filled with that mask) are kept as a training pair (setting, on by default;
  `memeclean_core.training.fixes`).

The library itself lives in the user data folder (`memeclean_core.library`); the Library window browses it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QToolBar

from memeclean_core.library import LibraryEntry, TemplateLibrary
from memeclean_core.training.fixes import fixes_dir

from ..controller import DocumentJob
from ..jobs import library as library_jobs
from ..views.actions import SEPARATOR, ActionSpec, MenuLayout, install_menus, make_actions
from ..workers.runner import Outcome, Task

if TYPE_CHECKING:
    from ..views.library_window import LibraryWindow
    from .window_view import WindowView

USE_LABEL = "Use Library Template"
HAND_EDIT_LABELS = ("Brush Stroke", "Eraser Stroke")


class LibraryJob(enum.StrEnum):
    """The library mode's jobs."""

    LOOKUP = "lookup"
    ADD = "library-add"
    OPEN = "library-open"
    KEEP_FIX = "keep-fix"


class LibraryMode(QObject):
    """The library features of one main window (see the module docstring)."""

    offer_changed = Signal()  # a match was found for the image shown, or the offer went away
    added = Signal(object)  # LibraryEntry added to the library
    fix_kept = Signal(object)  # Fix written

    def __init__(self, window: WindowView, library: TemplateLibrary | None = None):
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.controller = window.controller
        self.settings = window.settings
        self.library = library if library is not None else TemplateLibrary()
        self.fixes_folder: Path | None = None  # None: <user data>/fixes
        # Two threads of their own (a look-up on open, the Library window's import or change beside it); on quit a
        # look-up stops and a template or fix being written completes.
        self.runner = window.workers.runner(
            threads=2, cancel_on_quit=lambda task: task.kind == LibraryJob.LOOKUP, parent=self
        )
        self.offer: library_jobs.LibraryOffer | None = None
        self.opening_template = False  # a library picture is being opened: it is clean already, not cleaned again
        self._opening_name: str | None = None
        self._hand_edited = False  # the mask was painted on since the image was opened
        self._added_generation: int | None = None  # the image whose template is in the library already
        self._kept_fix: tuple[int, int] | None = None  # (generation, id of the mask) last kept as a fix
        self.library_window: LibraryWindow | None = None
        self._build()
        document = self.document
        document.image_changed.connect(self._on_image_changed)
        document.state_changed.connect(self._on_state_changed)
        self.controller.saved.connect(self._on_saved)
        self.controller.finished.connect(self._on_job_finished)
        QTimer.singleShot(0, self._refresh)  # after the window restored its toolbars: the bar starts hidden

    # -- building ---------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.actions = make_actions(self, self.window, LIBRARY_ACTIONS)
        self.menu = install_menus(self.window, self.actions, [LIBRARY_MENU])["library"]
        self.window.add_auto_clean_veto(lambda: self.opening_template)  # a library picture is clean already

        self.bar = QToolBar("Library Match", self.window)
        self.bar.setObjectName("library-match-bar")
        self.bar.setMovable(False)
        self.bar.toggleViewAction().setVisible(False)
        self.bar_label = QLabel()
        self.bar_label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar.addWidget(self.bar_label)
        self.bar.addActions([self.actions["use"], self.actions["dismiss"]])
        self.window.addToolBarBreak()
        self.window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.bar)
        self.bar.setVisible(False)

    def _refresh(self) -> None:
        offer = self.offer
        self.bar.setVisible(offer is not None)
        if offer is not None:
            entry = offer.match.entry
            self.bar_label.setText(f"  This meme is your library template “{entry.name}”.  ")
        self.actions["use"].setEnabled(offer is not None)
        self.actions["add"].setEnabled(self.document.result is not None)

    # -- look-up on open ---------------------------------------------------------------------------------------

    def _on_image_changed(self) -> None:
        self.offer = None
        self._hand_edited = False
        self._added_generation = None
        if self.opening_template:  # a library picture opened to caption: it is the template already
            self.opening_template = False
            self._added_generation = self.document.generation
            self._refresh()
            self.offer_changed.emit()
            self.window.enter_caption_mode()
            return
        self._refresh()
        self.offer_changed.emit()
        image = self.document.image
        if not self.settings.library_lookup or image is None or image.is_animated or not self.library.exists:
            return
        library = self.library

        def found(offer: library_jobs.LibraryOffer | None) -> None:
            if offer is None:
                return
            self.offer = offer
            self._refresh()
            self.window.show_status(
                f"This meme is your library template “{offer.match.entry.name}”: Library ▸ Use Library Template"
            )
            self.offer_changed.emit()

        self._submit(LibraryJob.LOOKUP, lambda progress, cancel: library_jobs.look_up(library, image), found)

    def use_offer(self) -> bool:
        """Make the offered template the result (one undo step); the model's run, if any, is stopped."""
        offer = self.offer
        if offer is None or not self.document.has_image:
            return False
        if self.controller.busy:
            self.controller.cancel()
        self.document.set_result(offer.result, USE_LABEL)
        self._added_generation = self.document.generation  # it is in the library already
        self.offer = None
        self._refresh()
        self.window.show_status(
            f"Using your library template “{offer.match.entry.name}” ({offer.match.inliers} matching features)"
        )
        self.offer_changed.emit()
        return True

    def dismiss(self) -> None:
        self.offer = None
        self._refresh()
        self.offer_changed.emit()

    # -- adding templates, keeping fixes ------------------------------------------------------------------------

    def _on_state_changed(self) -> None:
        state = self.document.state
        if state is not None and state.label in HAND_EDIT_LABELS:
            self._hand_edited = True
        self._refresh()

    def _template_name(self, saved: Path | None = None) -> str:
        if saved is not None:
            return saved.stem.removesuffix(".clean")
        return Path(self.document.name).stem.removesuffix(".clean") or "template"

    def add_current(self, saved: Path | None = None, quiet: bool = False) -> bool:
        """Add the result shown to the library (in a worker); False when there is none."""
        result = self.document.result
        if result is None:
            if not quiet:
                self.window.show_status("Nothing to add yet: clean the image first.")
            return False
        pixels = result.image.frames[0].pixels
        name = self._template_name(saved)
        source = str(saved) if saved is not None else ""
        library, generation = self.library, self.document.generation

        def done(value: tuple[LibraryEntry, bool]) -> None:
            entry, added = value
            if self.document.generation == generation:
                self._added_generation = generation
            if added:
                self.window.show_status(f"Added “{entry.name}” to your template library")
                self.added.emit(entry)
                if self.library_window is not None:
                    self.library_window.reload()
            elif not quiet:
                self.window.show_status(f"Your library has this template already: “{entry.name}”")

        self._submit(
            LibraryJob.ADD,
            lambda progress, cancel: library_jobs.add_template(library, pixels, name, source),
            done,
            keep_result=True,
        )
        return True

    @Slot(object)
    def _on_saved(self, path: Path) -> None:
        document = self.document
        if document.saved_path != Path(path) or document.result is None:
            return  # the window moved on to another image while it was written
        if self.settings.library_add_saved and self._added_generation != document.generation:
            self._added_generation = document.generation
            self.add_current(Path(path), quiet=True)
        if self.settings.keep_fixes:
            self.keep_fix(Path(path))

    @Slot(str, str)
    def _on_job_finished(self, kind: str, outcome: str) -> None:
        if (
            kind == DocumentJob.CLEAN
            and outcome == Outcome.OK
            and self.settings.library_add_cleaned
            and self._added_generation != self.document.generation
            and self.document.result is not None
        ):
            self._added_generation = self.document.generation
            self.add_current(quiet=True)

    def keep_fix(self, saved: Path | None = None) -> bool:
        """Keep the meme and its hand-corrected mask as a training pair, once per corrected mask. The template
        goes with them only when it was filled with exactly that mask (re-filled after the last stroke)."""
        document = self.document
        state, image = document.state, document.image
        if state is None or image is None or not self._hand_edited or image.is_animated:
            return False
        mask = state.mask
        if not mask.any() or self._kept_fix == (document.generation, id(mask)):
            return False
        result = state.result
        template = None
        if result is not None and not state.mask_edited and np.array_equal(result.mask, mask):
            template = result.image.frames[0].pixels
        meme = image.frames[0].pixels
        self._kept_fix = (document.generation, id(mask))
        folder = self.fixes_folder
        name = document.name

        def done(fix) -> None:
            self.fix_kept.emit(fix)

        self._submit(
            LibraryJob.KEEP_FIX,
            lambda progress, cancel: library_jobs.keep_fix(meme, mask, template, name, folder),
            done,
            keep_result=True,
        )
        return True

    def open_fixes_folder(self) -> None:
        folder = self.fixes_folder or fixes_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # -- the Library window -------------------------------------------------------------------------------------

    def show_library(self) -> LibraryWindow:
        if self.library_window is None:
            from ..views.library_window import LibraryWindow, LibraryWindowJob  # the window's widgets load when asked

            runner = self.window.workers.runner(
                pool=self.runner.pool, cancel_on_quit=lambda task: task.kind == LibraryWindowJob.IMPORT, parent=self
            )
            self.library_window = LibraryWindow(self.library, runner, self.window)
            self.library_window.open_requested.connect(self.open_entry)
        self.library_window.reload()
        self.library_window.show()
        self.library_window.raise_()
        return self.library_window

    def open_entry(self, entry: LibraryEntry) -> None:
        """Open a library template in the window, in caption mode."""
        if not self.window.may_discard_edits("Open the template"):
            return
        library = self.library

        def loaded(image) -> None:
            self.opening_template = True
            self.controller.open_image(image, entry.name)

        self._submit(
            LibraryJob.OPEN,
            lambda progress, cancel: library_jobs.load_entry_image(library, entry),
            loaded,
            keep_result=True,
        )

    # -- workers ----------------------------------------------------------------------------------------------

    def _submit(
        self, kind: LibraryJob, fn: Callable[..., Any], on_result: Callable[[Any], None], *, keep_result: bool = False
    ) -> None:
        generation = self.document.generation

        def apply(value: Any) -> None:
            if keep_result or generation == self.document.generation:
                on_result(value)

        # A failure is shown even when the window has moved on: the person asked for it (a damaged library
        # must not get in the way of cleaning, so a failed look-up is only a status message).
        on_error = self._lookup_failed if kind == LibraryJob.LOOKUP else self.window.show_error
        self.runner.start(Task(fn, kind, generation, apply, keep_result=keep_result, on_error=on_error))

    def _lookup_failed(self, message: str) -> None:
        self.window.show_status(f"Template library: {message}")

    @property
    def running(self) -> int:
        return self.runner.running


def install_library(window: WindowView) -> LibraryMode:
    """Add the Library menu, the match bar and the library/fix hooks to `window`."""
    return LibraryMode(window)


def _setting_toggle(name: str, text: str, setting: str, tip: str) -> ActionSpec:
    """A checkable action that mirrors the boolean setting `setting`: it starts as the setting, and a toggle writes
    the setting."""
    return ActionSpec(
        name,
        text,
        lambda mode, on: mode.settings.update(**{setting: on}),
        tip=tip,
        checkable=True,
        checked=lambda mode: mode.settings.as_dict()[setting],
    )


# The Library menu's actions, declared once (`mode.actions[name]`); LIBRARY_MENU places them, and "use" and
# "dismiss" are the match bar's buttons.
LIBRARY_ACTIONS = (
    ActionSpec(
        "show",
        "Show &Library…",
        LibraryMode.show_library,
        "Ctrl+L",
        "Browse your template library: search, rename, tag, export, import",
    ),
    ActionSpec(
        "add", "&Add Template to Library", LibraryMode.add_current, tip="Add the clean template shown to your library"
    ),
    ActionSpec(
        "use",
        "&Use Library Template",
        LibraryMode.use_offer,
        "Ctrl+Shift+U",
        "Use the library template this meme was made from (aligned to it)",
    ),
    _setting_toggle("lookup", "&Look Up Opened Memes", "library_lookup", "Look every opened meme up in your library"),
    _setting_toggle(
        "add_saved", "Add &Saved Templates", "library_add_saved", "Add every template you save to your library"
    ),
    _setting_toggle(
        "add_cleaned",
        "Add Every &Cleaned Template",
        "library_add_cleaned",
        "Add every cleaned template to your library, saved or not",
    ),
    _setting_toggle(
        "keep_fixes",
        "&Keep My Mask Fixes for Training",
        "keep_fixes",
        "When you correct a mask by hand and save, keep the meme and your mask as a training pair on this "
        "computer (Model ▸ Train… ▸ Add Your Fixes)",
    ),
    ActionSpec(
        "fixes_folder",
        "Open &Fixes Folder",
        LibraryMode.open_fixes_folder,
        tip="Show the folder where your mask fixes are kept",
    ),
    ActionSpec("dismiss", "Dismiss", LibraryMode.dismiss, tip="Hide this offer and keep the model's clean"),
)
# Library, then Model, then Help
LIBRARY_MENU = MenuLayout(
    "library",
    "&Library",
    ("show", "add", "use", SEPARATOR, "lookup", "add_saved", "add_cleaned", SEPARATOR, "keep_fixes", "fixes_folder"),
    before=("model", "help"),
)
