"""Small widgets beside the canvas, each mirroring one value: set from outside with signals blocked (no echo),
reporting the user's changes through one signal."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from ..model.sizing import SLIDER_MAX, SLIDER_MIN, SLIDER_STEP, describe_resolution, snap_resolution


def _slider_row(widget: QWidget, title: str, slider: QSlider, tip: str, min_width: int, widest_value: str) -> QLabel:
    """Lay `title`, `slider` and a value label out in one row of `widget`; returns the value label. The sliders
    never take keyboard focus: plain keys (Space, [, ]) belong to the canvas and the menus."""
    slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    slider.setMinimumWidth(min_width)
    slider.setToolTip(tip)
    label = QLabel()
    label.setMinimumWidth(label.fontMetrics().horizontalAdvance(widest_value))
    layout = QHBoxLayout(widget)
    layout.setContentsMargins(4, 0, 4, 0)
    for item in (QLabel(title), slider, label):
        layout.addWidget(item)
    return label


class ResolutionControl(QWidget):
    """The working-resolution slider with the working size and memory estimate for the current image."""

    resolution_changed = Signal(int)

    def __init__(self, resolution: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(SLIDER_MIN // SLIDER_STEP, SLIDER_MAX // SLIDER_STEP)
        self.slider.setPageStep(128 // SLIDER_STEP)
        tip = (
            f"Working resolution: the longest side the network sees ({SLIDER_MIN}-{SLIDER_MAX} px). "
            "Higher finds smaller text but is slower and needs more memory. "
            "A smaller picture is worked on at its own size."
        )
        self.label = _slider_row(self, "Resolution", self.slider, tip, 140, "2048 px → 2048×2048, ≈ 99.9 GB")
        self._image_size: tuple[int, int] | None = None
        self._multiple: int | None = None
        self.set_resolution(resolution)
        self.slider.valueChanged.connect(self._on_slider)

    @property
    def resolution(self) -> int:
        return self.slider.value() * SLIDER_STEP

    def set_resolution(self, resolution: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(snap_resolution(resolution) // SLIDER_STEP)
        self._refresh()

    def set_image_size(self, size: tuple[int, int] | None, multiple: int | None = None) -> None:
        self._image_size = size
        if multiple is not None:
            self._multiple = multiple
        self._refresh()

    def _on_slider(self, _value: int) -> None:
        self._refresh()
        self.resolution_changed.emit(self.resolution)

    def _refresh(self) -> None:
        if self._multiple is not None:
            text = describe_resolution(self.resolution, self._image_size, self._multiple)
        else:
            text = describe_resolution(self.resolution, self._image_size)
        self.label.setText(text)


class BrushSizeControl(QWidget):
    """The brush and eraser diameter, in image pixels."""

    size_changed = Signal(int)
    MINIMUM, MAXIMUM = 1, 500

    def __init__(self, size: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(self.MINIMUM, self.MAXIMUM)
        self.label = _slider_row(
            self, "Size", self.slider, "Brush and eraser size in image pixels ([ and ] change it)", 100, "500 px"
        )
        self.set_size(size)
        self.slider.valueChanged.connect(self._on_slider)

    @property
    def size_value(self) -> int:
        return self.slider.value()

    def set_size(self, size: int) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(int(size))
        self.label.setText(f"{self.slider.value()} px")

    def _on_slider(self, value: int) -> None:
        self.label.setText(f"{value} px")
        self.size_changed.emit(value)
