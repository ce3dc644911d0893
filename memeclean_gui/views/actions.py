"""Menu and toolbar actions, made one way: the window and each mode declare theirs once in a table of
`ActionSpec` rows (`add_named_actions` builds them); and the dialogs' push buttons (`make_button`).

An action is added to the window as well as to its menu, so its shortcut works while the menu is closed; its tool
tip names the keys. `fill` lays out a menu or toolbar from a list where `SEPARATOR` draws a line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QPushButton, QToolBar, QWidget

Shortcut = str | QKeySequence.StandardKey | list[Any] | None  # one key sequence, or several (the first is shown)
SEPARATOR = None  # in a menu or toolbar layout: a separator line


@dataclass(frozen=True)
class ActionSpec:
    """One row of an action table: `handler` is the owner's method (unbound) that the action calls."""

    name: str  # the key in `owner.named_actions`
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


def add_named_actions(owner: Any, window: QWidget, table: Sequence[ActionSpec]) -> dict[str, QAction]:
    """`make_actions`, each action also kept as `owner.<name>_action` (`window.clean_action`,
    `mode.export_action`): the names the owner's code and the tests use."""
    actions = make_actions(owner, window, table)
    for name, action in actions.items():
        setattr(owner, f"{name}_action", action)
    return actions


def fill(target: QMenu | QToolBar, items: Sequence[QAction | QMenu | None]) -> None:
    """Append `items` to a menu or toolbar in order; `SEPARATOR` (None) draws a line, a QMenu is a submenu."""
    for item in items:
        if item is SEPARATOR:
            target.addSeparator()
        elif isinstance(item, QMenu):
            target.addMenu(item)
        else:
            target.addAction(item)


def make_button(text: str, slot: Callable[[], Any], tip: str = "") -> QPushButton:
    """A push button that calls `slot()` when clicked; `tip` is its tool tip."""
    button = QPushButton(text)
    if tip:
        button.setToolTip(tip)
    button.clicked.connect(lambda _checked=False: slot())
    return button
