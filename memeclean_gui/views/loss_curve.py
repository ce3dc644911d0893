"""A small live loss curve drawn with QPainter (no plotting library): raw losses faint, a smoothed line bold.

The widget only stores and draws points; whoever trains adds them with `add_point`. Long runs keep a bounded
number of points (every other one is dropped when the limit is reached), so drawing stays cheap for hours.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

MAX_POINTS = 2000
SMOOTHING = 0.9  # exponential moving average of the bold line


class LossCurve(QWidget):
    """Loss against training step."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._points: list[tuple[int, float]] = []
        self.setMinimumSize(240, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Training loss curve")
        self.setToolTip("Training loss (lower is better): each report faint, smoothed bold")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 180)

    @property
    def points(self) -> list[tuple[int, float]]:
        """(step, loss) as drawn, oldest first."""
        return list(self._points)

    def add_point(self, step: int, loss: float) -> None:
        """Add a report; a NaN or infinite loss (the trainer's final 'done' report) is skipped."""
        if not math.isfinite(loss):
            return
        self._points.append((int(step), float(loss)))
        if len(self._points) > MAX_POINTS:
            self._points = self._points[::2]
        self.update()

    def clear(self) -> None:
        self._points = []
        self.update()

    def smoothed(self) -> list[float]:
        values, average = [], None
        for _, loss in self._points:
            average = loss if average is None else SMOOTHING * average + (1 - SMOOTHING) * loss
            values.append(average)
        return values

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text_colour = palette.color(QPalette.ColorRole.Text)
        metrics = painter.fontMetrics()
        margin = 6
        plot = QRectF(self.rect()).adjusted(
            margin + metrics.horizontalAdvance("0.000") + 4, margin, -margin, -(metrics.height() + margin)
        )
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(plot)
        if len(self._points) < 2:
            painter.setPen(text_colour)
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "The loss appears here as training runs")
            return
        steps = [step for step, _ in self._points]
        losses = [loss for _, loss in self._points]
        ordered = sorted(losses)
        low = ordered[0]
        high = ordered[min(len(ordered) - 1, math.ceil(0.98 * (len(ordered) - 1)))]  # one early spike: no flat line
        if high - low < 1e-6:
            high = low + 1e-3
        first, last = steps[0], max(steps[-1], steps[0] + 1)

        def at(step: float, loss: float) -> QPointF:
            x = plot.left() + (step - first) / (last - first) * plot.width()
            y = plot.bottom() - (min(loss, high) - low) / (high - low) * plot.height()
            return QPointF(x, y)

        highlight = palette.color(QPalette.ColorRole.Highlight)
        faint = QColor(highlight)
        faint.setAlpha(80)
        for values, pen in ((losses, QPen(faint, 1)), (self.smoothed(), QPen(highlight, 2))):
            path = QPainterPath(at(steps[0], values[0]))
            for step, value in zip(steps[1:], values[1:]):
                path.lineTo(at(step, value))
            painter.setPen(pen)
            painter.drawPath(path)
        painter.setPen(text_colour)
        painter.drawText(QPointF(margin, plot.top() + metrics.ascent()), f"{high:.3f}")
        painter.drawText(QPointF(margin, plot.bottom()), f"{low:.3f}")
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 2, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            f"step {steps[-1]}",
        )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 2, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            f"step {steps[0]}",
        )
