"""What the modes may use of the main window: a small interface, so they never import the window (no cycle) and
tests can drive a mode with a fake window (tests/gui/test_window_view.py).

Caption mode, the picture queue, the template library and the Model menu each take a `WindowView`. The main window
implements it; everything else a mode needs it builds itself (its actions, menu, dock, toolbar row) and hands to the
window through `add_menu` / `add_toolbar_action` and the QMainWindow methods named here. Menus and actions are held
by key (`menus["file"]`, `named_actions["quit"]`): nothing is found by its title or object name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QDockWidget, QMenu, QStatusBar, QToolBar

    from ..controller import Controller
    from ..model.document import Document
    from ..model.settings import Settings
    from ..views.canvas import Canvas
    from ..workers.runner import Workers


class WindowView(Protocol):
    """The main window as the modes see it."""

    document: Document
    controller: Controller
    settings: Settings
    canvas: Canvas
    workers: Workers  # every job runner of the window: a mode makes its own with `workers.runner(...)`
    named_actions: dict[str, QAction]  # the window's actions by table name: "open", "save_as", "quit", "pan", ...
    menus: dict[str, QMenu]  # "file", "edit", "image", "mask", "view", "help", and the modes' menus once added
    help_key_rows: list[tuple[str, str]]  # (what, keys) for Help ▸ Keyboard Shortcuts beyond the actions

    @property
    def resolution(self) -> int:
        """The working resolution chosen on the toolbar."""

    def show_status(self, message: str) -> None: ...

    def show_error(self, message: str) -> None: ...

    def may_discard_edits(self, doing: str) -> bool:
        """Ask before hand edits that are in no file are lost; True when it is fine to go on."""

    def add_menu(self, key: str, menu: QMenu, before: str | None = None) -> None:
        """Put `menu` in the menu bar before `menus[before]` (at the end when there is none) as `menus[key]`."""

    def add_toolbar_action(self, action: QAction) -> None:
        """Add a mode's toggle to the end of the clean toolbar."""

    def add_auto_clean_veto(self, veto: Callable[[], bool]) -> None:
        """Clean Automatically leaves an opened picture alone while `veto()` is true (the one hook through which a
        mode says that a picture needs no clean from the window)."""

    def enter_caption_mode(self) -> None:
        """Switch caption mode on (the library opens its templates in it)."""

    def update_resolution_limits(self) -> None:
        """The resolution slider's range again (the model in use changed)."""

    # QMainWindow's own, as the modes use them
    def addAction(self, action: QAction) -> None: ...  # noqa: N802

    def addDockWidget(self, area: Qt.DockWidgetArea, dock: QDockWidget) -> None: ...  # noqa: N802

    def addToolBar(self, area: Qt.ToolBarArea, toolbar: QToolBar) -> None: ...  # noqa: N802

    def addToolBarBreak(self) -> None: ...  # noqa: N802

    def statusBar(self) -> QStatusBar: ...  # noqa: N802
