"""Menu and toolbar actions, made one way: the window and each mode declare theirs once in a table of
`ActionSpec` rows (`make_actions` builds them into a dict by name: `window.named_actions["quit"]`,
`mode.actions["export"]`) and lay their menus out by name (`MenuLayout` for a menu of their own, `MenuInsert` for
their items in one of the window's menus, both built by `install_menus`); and the dialogs' push buttons
(`make_button`).

An action is added to the window as well as to its menu, so its shortcut works while the menu is closed; its tool
tip names the keys. `fill` lays out a menu or toolbar from a list where `SEPARATOR` draws a line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QPushButton, QToolBar, QWidget

Shortcut = str | QKeySequence.StandardKey | list[Any] | None  # one key sequence, or several (the first is shown)
SEPARATOR = None  # in a menu or toolbar layout: a separator line
MenuItem = QAction | QMenu | Sequence[QAction] | None  # what a name in a layout stands for (a list: several actions)


@dataclass(frozen=True)
class ActionSpec:
    """One row of an action table: `handler` is the owner's method (unbound) that the action calls."""

    name: str  # the key in the owner's dict of actions
    text: str  # the menu text, with its & accelerator
    handler: Callable[..., Any]  # called as handler(owner), or handler(owner, checked) when checkable
    shortcut: Shortcut = None
    tip: str = ""  # status-bar text; the tool tip adds the keys
    checkable: bool = False
    # the starting state of a checkable action, read from the owner (e.g. a setting); set before the handler is
    # connected, so the starting state is no change. None: unchecked, or set by the owner afterwards
    checked: Callable[[Any], bool] | None = None


def make_action(
    window: QWidget,
    text: str,
    slot: Callable[..., Any],
    shortcut: Shortcut = None,
    *,
    tip: str = "",
    checkable: bool = False,
    checked: bool | None = None,
) -> QAction:
    """An action of `window`: `slot(checked)` on toggle when checkable (or `checked` is given), else `slot()`."""
    action = QAction(text, window)
    if shortcut is not None:
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(item) for item in shortcuts])
    checkable = checkable or checked is not None
    action.setCheckable(checkable)
    if checked is not None:
        action.setChecked(checked)  # before connecting: the starting state is no change
    if tip:
        action.setStatusTip(tip)
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work even while a menu is hidden
    return action


def make_actions(owner: Any, window: QWidget, table: Sequence[ActionSpec]) -> dict[str, QAction]:
    """The actions of `table`, by name, each calling its handler on `owner`."""

    def slot(spec: ActionSpec) -> Callable[..., Any]:
        if spec.checkable:
            return lambda checked: spec.handler(owner, checked)
        return lambda: spec.handler(owner)

    def make(spec: ActionSpec) -> QAction:
        checked = None if spec.checked is None else spec.checked(owner)
        return make_action(
            window, spec.text, slot(spec), spec.shortcut, tip=spec.tip, checkable=spec.checkable, checked=checked
        )

    return {spec.name: make(spec) for spec in table}


@dataclass(frozen=True)
class MenuLayout:
    """A menu of the owner's own: `key` in `window.menus`, its title, its items by name in order (`SEPARATOR`
    draws a line). It goes in the menu bar before the first menu of `before` the window has, else at the end."""

    key: str
    title: str
    items: tuple[str | None, ...]
    before: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuInsert:
    """Some of the owner's items (by name, `SEPARATOR` a line) in one of the window's menus (`menu`, a key of
    `window.menus`): right after the window's action `after`, or right before `before` (a key of
    `window.named_actions`); at the end of the menu when that action is not in it."""

    menu: str
    items: tuple[str | None, ...]
    after: str | None = None
    before: str | None = None


def laid_out(items: Sequence[str | None], named: Mapping[str, MenuItem]) -> list[QAction | QMenu | None]:
    """The items a layout names, in order (a name for a list of actions stands for all of them)."""
    found: list[QAction | QMenu | None] = []
    for name in items:
        item = SEPARATOR if name is SEPARATOR else named[name]
        found.extend(item if isinstance(item, (list, tuple)) else [item])
    return found


def fill(target: QMenu | QToolBar, items: Sequence[QAction | QMenu | None]) -> None:
    """Append `items` to a menu or toolbar in order; `SEPARATOR` (None) draws a line, a QMenu is a submenu."""
    for item in items:
        if item is SEPARATOR:
            target.addSeparator()
        elif isinstance(item, QMenu):
            target.addMenu(item)
        else:
            target.addAction(item)


def build_menu(layout: MenuLayout, named: Mapping[str, MenuItem], parent: QWidget) -> QMenu:
    menu = QMenu(layout.title, parent)
    fill(menu, laid_out(layout.items, named))
    return menu


class MenuHost(Protocol):
    """The window as `install_menus` sees it (the main window; `modes.window_view.WindowView` includes it)."""

    menus: dict[str, QMenu]
    named_actions: dict[str, QAction]

    def add_menu(self, key: str, menu: QMenu, before: str | None = None) -> None: ...


def install_menus(
    window: MenuHost,
    named: Mapping[str, MenuItem],
    menus: Sequence[MenuLayout] = (),
    inserts: Sequence[MenuInsert] = (),
) -> dict[str, QMenu]:
    """Put an owner's items in the window (its `inserts` in the window's menus, its own `menus` in the menu bar,
    through `window.add_menu`); returns the owner's menus by key."""
    for insert in inserts:
        _insert(window.menus[insert.menu], window.named_actions, insert, laid_out(insert.items, named))
    built = {}
    for layout in menus:
        built[layout.key] = menu = build_menu(layout, named, window)
        window.add_menu(layout.key, menu, before=next((key for key in layout.before if key in window.menus), None))
    return built


def _insert(menu: QMenu, window_actions: Mapping[str, QAction], insert: MenuInsert, items: list) -> None:
    present = menu.actions()
    anchor = window_actions.get(insert.after or insert.before or "")
    before = None
    if anchor in present:
        index = present.index(anchor) + (1 if insert.after else 0)
        before = present[index] if index < len(present) else None
    for item in items:
        if item is SEPARATOR:
            menu.insertSeparator(before)
        elif isinstance(item, QMenu):
            menu.insertMenu(before, item)
        else:
            menu.insertAction(before, item)


def make_button(text: str, slot: Callable[[], Any], tip: str = "") -> QPushButton:
    """A push button that calls `slot()` when clicked; `tip` is its tool tip."""
    button = QPushButton(text)
    if tip:
        button.setToolTip(tip)
    button.clicked.connect(lambda _checked=False: slot())
    return button
