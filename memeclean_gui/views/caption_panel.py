"""The caption side panel: the "Top text" and "Bottom text" fields, the box buttons, and the style of the selected box.

Each control mirrors one field of the selected `TextBox`: it is set from the editor with its signals blocked (no
echo) and writes the person's change back through the editor, one undo step per change. Typed text is one undo
step per typing session (it is committed when the field loses focus or Enter is pressed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from memeclean_core.captions import TextBox
from memeclean_core.errors import MemeCleanError

from ..model.caption_editor import CaptionEditor

BUNDLED_FONT_LABEL = "Anton (bundled)"
ALIGN_LABELS = {"left": "Left", "center": "Centre", "right": "Right"}
VALIGN_LABELS = {"top": "Top", "middle": "Middle", "bottom": "Bottom"}


def _spin(minimum: float, maximum: float, step: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(minimum, maximum)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setKeyboardTracking(False)  # a typed number is one change when it is complete, not one per digit
    return spin


class ColorButton(QPushButton):
    """A button showing a colour; clicking it asks for another one (QColorDialog)."""

    def __init__(self, title: str, on_chosen: Callable[[str], None], parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.color = "#000000"
        self._on_chosen = on_chosen
        self.clicked.connect(self._choose)

    def set_color(self, color: str) -> None:
        self.color = color.upper()
        self.setText(self.color)
        text = "#000000" if QColor(color).lightness() > 128 else "#FFFFFF"
        self.setStyleSheet(f"background-color: {color}; color: {text};")

    def _choose(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.color), self, self.title)
        if chosen.isValid():
            self._on_chosen(chosen.name().upper())


class CaptionPanel(QWidget):
    """The widget inside the Caption dock. `actions` are the mode's Add / Delete / Replace buttons."""

    def __init__(
        self,
        editor: CaptionEditor,
        actions: Sequence[QAction],
        report: Callable[[str], None],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.editor = editor
        self._report = report  # shows a one-line problem (a bad value) to the person
        layout = QVBoxLayout(self)

        quick = QFormLayout()
        self.top_edit = QLineEdit()
        self.top_edit.setPlaceholderText("Top text")
        self.bottom_edit = QLineEdit()
        self.bottom_edit.setPlaceholderText("Bottom text")
        for role, edit in (("top", self.top_edit), ("bottom", self.bottom_edit)):
            edit.setClearButtonEnabled(True)
            edit.setAccessibleName(f"{role.capitalize()} text")
            edit.textChanged.connect(lambda text, role=role: self.editor.type_role_text(role, text))
            edit.editingFinished.connect(self.editor.commit)
        quick.addRow("Top", self.top_edit)
        quick.addRow("Bottom", self.bottom_edit)
        layout.addLayout(quick)

        buttons = QHBoxLayout()
        self.buttons: list[QToolButton] = []
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            buttons.addWidget(button)
            self.buttons.append(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.style_group = QGroupBox("Selected text box")
        form = QFormLayout(self.style_group)
        self.font_combo = QComboBox()
        self.font_combo.addItem(BUNDLED_FONT_LABEL, "")
        self.font_combo.setToolTip("The bundled Anton or a font installed on this computer")
        self.font_combo.currentIndexChanged.connect(
            lambda _index: self._change("Change Font", font=self.font_combo.currentData() or "")
        )
        form.addRow("Font", self.font_combo)
        self.size_spin = _spin(0.0, 50.0, 0.5, " % of height")
        self.size_spin.setSpecialValueText("Auto fit")
        self.size_spin.setToolTip("Largest font size; long text shrinks to fit the box. Auto fit fills the box.")
        self.size_spin.valueChanged.connect(
            lambda value: self._change("Change Size", size=value / 100 if value > 0 else None)
        )
        form.addRow("Size", self.size_spin)
        self.fill_button = ColorButton("Text Colour", lambda color: self._change("Change Text Colour", fill=color))
        form.addRow("Fill", self.fill_button)
        self.outline_button = ColorButton(
            "Outline Colour", lambda color: self._change("Change Outline Colour", outline=color)
        )
        form.addRow("Outline", self.outline_button)
        self.outline_spin = _spin(0.0, 40.0, 1.0, " % of size")
        self.outline_spin.setToolTip("Outline width relative to the font size (0: no outline)")
        self.outline_spin.valueChanged.connect(
            lambda value: self._change("Change Outline Width", outline_width=value / 100)
        )
        form.addRow("Outline width", self.outline_spin)
        self.align_combo = QComboBox()
        for value, label in ALIGN_LABELS.items():
            self.align_combo.addItem(label, value)
        self.align_combo.currentIndexChanged.connect(
            lambda _index: self._change("Change Alignment", align=self.align_combo.currentData())
        )
        form.addRow("Alignment", self.align_combo)
        self.valign_combo = QComboBox()
        for value, label in VALIGN_LABELS.items():
            self.valign_combo.addItem(label, value)
        self.valign_combo.setToolTip("Where the text sits in its box when it is shorter than the box")
        self.valign_combo.currentIndexChanged.connect(
            lambda _index: self._change("Change Vertical Alignment", valign=self.valign_combo.currentData())
        )
        form.addRow("Vertical", self.valign_combo)
        self.uppercase_check = QCheckBox("Upper case")
        self.uppercase_check.setToolTip("Draw the text in capitals (what you typed is kept)")
        self.uppercase_check.toggled.connect(lambda on: self._change("Change Upper Case", uppercase=on))
        form.addRow("", self.uppercase_check)
        self.vertical_check = QCheckBox("Vertical text")
        self.vertical_check.setToolTip("Write in columns, top to bottom and right to left (Japanese, Chinese)")
        self.vertical_check.toggled.connect(lambda on: self._change("Change Writing Direction", vertical=on))
        form.addRow("", self.vertical_check)
        self.rotation_spin = _spin(-180.0, 180.0, 1.0, " °")
        self.rotation_spin.setWrapping(True)
        self.rotation_spin.setToolTip("Turn the box counter-clockwise around its centre")
        self.rotation_spin.valueChanged.connect(lambda value: self._change("Rotate Text Box", rotation=value))
        form.addRow("Rotation", self.rotation_spin)
        self.spacing_spin = _spin(0.5, 3.0, 0.1, " ×", decimals=2)
        self.spacing_spin.setToolTip("Distance between lines")
        self.spacing_spin.valueChanged.connect(lambda value: self._change("Change Line Spacing", line_spacing=value))
        form.addRow("Line spacing", self.spacing_spin)
        layout.addWidget(self.style_group)
        layout.addStretch(1)

        editor.changed.connect(self.refresh)
        editor.selection_changed.connect(self.refresh)
        self.refresh()

    # -- fonts -------------------------------------------------------------------------------------------------

    def set_font_names(self, names: Sequence[str]) -> None:
        """Offer the installed fonts (found in a worker: the first scan reads every font file)."""
        with QSignalBlocker(self.font_combo):
            known = {self.font_combo.itemData(i) for i in range(self.font_combo.count())}
            for name in names:
                if name not in known:
                    self.font_combo.addItem(name, name)
        self.refresh()

    # -- mirroring ---------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the editor's state (signals blocked: setting a control here is not a change)."""
        for role, edit in (("top", self.top_edit), ("bottom", self.bottom_edit)):
            text = self.editor.role_text(role)
            if edit.text() != text:
                with QSignalBlocker(edit):
                    edit.setText(text)
        box = self.editor.selected_box
        self.style_group.setEnabled(box is not None)
        self.style_group.setTitle("Selected text box" if box is not None else "Selected text box (click one)")
        self._mirror(box if box is not None else TextBox())

    def _mirror(self, box: TextBox) -> None:
        widgets = (
            self.font_combo,
            self.size_spin,
            self.outline_spin,
            self.align_combo,
            self.valign_combo,
            self.uppercase_check,
            self.vertical_check,
            self.rotation_spin,
            self.spacing_spin,
        )
        blockers = [QSignalBlocker(widget) for widget in widgets]
        try:
            index = self.font_combo.findData(box.font)
            if index < 0:  # a font from a project, not installed or not scanned yet
                self.font_combo.addItem(box.font, box.font)
                index = self.font_combo.count() - 1
            self.font_combo.setCurrentIndex(index)
            self.size_spin.setValue(0.0 if box.size is None else box.size * 100)
            self.outline_spin.setValue(box.outline_width * 100)
            self.align_combo.setCurrentIndex(self.align_combo.findData(box.align))
            self.valign_combo.setCurrentIndex(self.valign_combo.findData(box.valign))
            self.uppercase_check.setChecked(box.uppercase)
            self.vertical_check.setChecked(box.vertical)
            self.rotation_spin.setValue(box.rotation)
            self.spacing_spin.setValue(box.line_spacing)
        finally:
            for blocker in blockers:
                blocker.unblock()
        self.fill_button.set_color(box.fill)
        self.outline_button.set_color(box.outline)

    def _change(self, label: str, **changes: object) -> None:
        try:
            self.editor.update_selected(label, **changes)
        except MemeCleanError as error:  # a value the box refuses: say so, show the box as it is
            self._report(str(error))
            self.refresh()
