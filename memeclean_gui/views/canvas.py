"""The canvas: shows the original, the result and the mask overlay; zoom, pan, before/after; turns mouse input into
neutral pointer events in image coordinates. It computes nothing about the image: the window feeds it QImages.

Zoom is counted in device pixels per image pixel, so 100 % shows one image pixel on one screen pixel on high-DPI
screens too. Enlarged pixels are drawn sharp (nearest neighbour, to see what the brush does); shrunk ones smooth.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..model.brush import PointerEvent
from ..model.document import BBox
from .qimage import MaskOverlay

EMPTY_HINT = "Drop a meme here, open one, or paste with Ctrl+V"
HOLD_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_Backslash)  # held: show the original
MIN_ZOOM, MAX_ZOOM = 0.01, 32.0  # device pixels per image pixel
WHEEL_STEP = 2**0.25  # zoom factor per wheel notch
SPLIT_GRAB = 6.0  # logical pixels either side of the split line that grab it
FIT_MARGIN = 12.0

TOOLS = ("pan", "brush", "eraser")


def _checker_brush() -> QBrush:
    tile = QPixmap(16, 16)
    tile.fill(QColor(204, 204, 204))
    painter = QPainter(tile)
    painter.fillRect(0, 0, 8, 8, QColor(255, 255, 255))
    painter.fillRect(8, 8, 8, 8, QColor(255, 255, 255))
    painter.end()
    return QBrush(tile)


class Canvas(QWidget):
    pointer = Signal(object)  # brush.PointerEvent (brush and eraser tools)
    zoom_changed = Signal(float)  # device pixels per image pixel (1.0 = 100 %)
    hold_changed = Signal(bool)  # the original is shown while a key is held
    split_moved = Signal(float)  # the split line's place, 0..1 of the image width

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 150)
        self.setAccessibleName("Image")
        self.setAccessibleDescription("The picture; hold Space or backslash to see the original")
        self._original: QImage | None = None
        self._result: QImage | None = None
        self._overlay: MaskOverlay | None = None
        self._has_alpha = False
        self._checker = _checker_brush()
        self.show_mask = True
        self.split = False
        self.split_fraction = 0.5
        self._held: set[int] = set()
        self.tool = "pan"
        self.brush_size = 24.0  # diameter in image pixels, for the cursor circle
        self._scale = 1.0  # logical pixels per image pixel
        self._offset = QPointF(0.0, 0.0)  # where the image's top-left corner is, in logical pixels
        self._fit = True  # re-fit when the widget is resized
        self._drag: str | None = None  # "pan", "split", "paint"
        self._drag_start = QPointF()
        self._drag_offset = QPointF()
        self._cursor: QPointF | None = None
        # Painted over the picture, in widget coordinates (the caption mode's box outlines and handles).
        self.decorations: list[Callable[[QPainter], None]] = []
        self._update_cursor_shape()

    # -- what is shown ----------------------------------------------------------------------------------------

    def set_images(self, original: QImage | None, result: QImage | None, has_alpha: bool = False) -> None:
        """The picture changed. A new size re-fits the view."""
        new_size = original is not None and (self._original is None or original.size() != self._original.size())
        self._original, self._result, self._has_alpha = original, result, has_alpha
        if original is None:
            self._overlay = None
        if new_size:
            self._fit = True
            self._apply_fit()
        self.update()

    def set_result(self, result: QImage | None) -> None:
        self._result = result
        self.update()

    def set_overlay(self, overlay: MaskOverlay | None) -> None:
        self._overlay = overlay
        self.update()

    def overlay_changed(self, bbox: BBox | None = None) -> None:
        """The overlay's pixels changed (in `bbox` of image pixels): repaint that part only."""
        if bbox is None:
            self.update()
            return
        top, left, bottom, right = bbox
        rect = self.image_rect_to_widget(QRectF(left, top, right - left, bottom - top))
        self.update(rect.toAlignedRect().adjusted(-2, -2, 2, 2))

    @property
    def has_image(self) -> bool:
        return self._original is not None

    @property
    def showing_original(self) -> bool:
        """The original is on screen (no result yet, or a hold key is down)."""
        return self._result is None or bool(self._held)

    def set_show_mask(self, show: bool) -> None:
        self.show_mask = show
        self.update()

    def set_split(self, split: bool) -> None:
        self.split = split
        self._update_cursor_shape()
        self.update()

    def set_split_fraction(self, fraction: float) -> None:
        self.split_fraction = min(1.0, max(0.0, fraction))
        self.update()

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        self._update_cursor_shape()
        self.update()

    def set_brush_size(self, size: float) -> None:
        self.brush_size = float(size)
        if self.tool != "pan":
            self.update()

    # -- view transform ---------------------------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        """Device pixels per image pixel (1.0 = 100 %)."""
        return self._scale * self.devicePixelRatioF()

    def widget_to_image(self, point: QPointF) -> QPointF:
        return (point - self._offset) / self._scale

    def image_to_widget(self, point: QPointF) -> QPointF:
        return point * self._scale + self._offset

    def image_rect_to_widget(self, rect: QRectF) -> QRectF:
        return QRectF(self.image_to_widget(rect.topLeft()), rect.size() * self._scale)

    def _image_rect(self) -> QRectF:
        if self._original is None:
            return QRectF()
        return QRectF(self._offset, self._original.size().toSizeF() * self._scale)

    def fit(self) -> None:
        """Fit the whole image in the window (and keep fitting as the window is resized)."""
        self._fit = True
        self._apply_fit()
        self.update()

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel, centred on the view's centre."""
        self.set_zoom(1.0)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom to `zoom` keeping the image point under `anchor` (default: the view's centre) in place."""
        if self._original is None:
            return
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        anchor = QPointF(self.width() / 2, self.height() / 2) if anchor is None else anchor
        fixed = self.widget_to_image(anchor)
        self._fit = False
        self._scale = zoom / self.devicePixelRatioF()
        self._offset = anchor - fixed * self._scale
        self.zoom_changed.emit(self.zoom)
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        self._fit = False
        self._offset += QPointF(dx, dy)
        self.update()

    def _apply_fit(self) -> None:
        if self._original is None:
            return
        width, height = self._original.width(), self._original.height()
        room_w = max(1.0, self.width() - 2 * FIT_MARGIN)
        room_h = max(1.0, self.height() - 2 * FIT_MARGIN)
        scale = min(room_w / width, room_h / height)
        scale = min(MAX_ZOOM, max(MIN_ZOOM, scale * self.devicePixelRatioF())) / self.devicePixelRatioF()
        self._scale = scale
        self._offset = QPointF((self.width() - width * scale) / 2, (self.height() - height * scale) / 2)
        self.zoom_changed.emit(self.zoom)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt names)
        if self._fit:
            self._apply_fit()
        super().resizeEvent(event)

    # -- painting ---------------------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(
            self.rect(),
            palette.color(QPalette.ColorRole.Window).darker(115)
            if palette.color(QPalette.ColorRole.Window).lightness() > 128
            else palette.color(QPalette.ColorRole.Window).lighter(125),
        )
        if self._original is None:
            self._paint_hint(painter, palette)
            return
        target = self._image_rect()
        if self._has_alpha:
            painter.fillRect(target, self._checker)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 1.0)
        split_x = target.left() + self.split_fraction * target.width()
        if self.split and self._result is not None and not self._held:
            painter.save()
            painter.setClipRect(QRectF(target.left(), target.top(), split_x - target.left(), target.height()))
            painter.drawImage(target, self._original)
            painter.restore()
            painter.save()
            painter.setClipRect(QRectF(split_x, target.top(), target.right() - split_x, target.height()))
            painter.drawImage(target, self._result)
            painter.restore()
        else:
            painter.drawImage(target, self._original if self.showing_original else self._result)
        if self.show_mask and self._overlay is not None and not self._held:
            painter.drawImage(target, self._overlay.image)
        if self.split and self._result is not None and not self._held:
            self._paint_split(painter, palette, split_x, target)
        elif self._held and self._result is not None:
            self._paint_tag(painter, palette, "Original", QPointF(10, 10))
        if self.tool != "pan" and self._cursor is not None and self._drag != "pan":
            self._paint_brush_cursor(painter)
        for decoration in self.decorations:
            painter.save()
            decoration(painter)
            painter.restore()

    def _paint_hint(self, painter: QPainter, palette: QPalette) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            self.rect().adjusted(24, 24, -24, -24), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_HINT
        )

    def _paint_split(self, painter: QPainter, palette: QPalette, x: float, target: QRectF) -> None:
        top, bottom = max(0.0, target.top()), min(float(self.height()), target.bottom())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(0, 0, 0, 140), 3))
        painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1.5))
        painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        middle = (top + bottom) / 2
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.drawEllipse(QPointF(x, middle), 9, 9)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.HighlightedText), 1.5))
        for sign in (-1, 1):  # two small arrows: this line can be dragged sideways
            path = QPainterPath(QPointF(x + sign * 2, middle - 4))
            path.lineTo(x + sign * 6, middle)
            path.lineTo(x + sign * 2, middle + 4)
            painter.drawPath(path)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        self._paint_tag(painter, palette, "Original", QPointF(max(target.left(), 0) + 10, top + 10))
        tag_width = painter.fontMetrics().horizontalAdvance("Result") + 12
        self._paint_tag(
            painter, palette, "Result", QPointF(min(target.right(), self.width()) - tag_width - 10, top + 10)
        )

    def _paint_tag(self, painter: QPainter, palette: QPalette, text: str, at: QPointF) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(at, metrics.boundingRect(text).size().toSizeF()).adjusted(0, 0, 12, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_brush_cursor(self, painter: QPainter) -> None:
        radius = max(1.0, self.brush_size * self._scale / 2)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(QColor(0, 0, 0, 200), 1.5))
        painter.drawEllipse(self._cursor, radius + 1, radius + 1)
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
        painter.drawEllipse(self._cursor, radius, radius)

    # -- input ------------------------------------------------------------------------------------------------

    def _near_split(self, position: QPointF) -> bool:
        if not (self.split and self._result is not None and self._original is not None):
            return False
        target = self._image_rect()
        x = target.left() + self.split_fraction * target.width()
        return abs(position.x() - x) <= SPLIT_GRAB and target.top() <= position.y() <= target.bottom()

    def _pointer(self, kind: str, position: QPointF) -> None:
        point = self.widget_to_image(position)
        self.pointer.emit(PointerEvent(kind, point.x(), point.y()))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        position = event.position()
        button = event.button()
        if self._original is None:
            return super().mousePressEvent(event)
        if button == Qt.MouseButton.LeftButton and self._near_split(position):
            self._drag = "split"
        elif button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.tool == "pan"):
            self._drag = "pan"
            self._drag_start, self._drag_offset = position, QPointF(self._offset)
        elif button == Qt.MouseButton.LeftButton and self.tool in ("brush", "eraser"):
            self._drag = "paint"
            self._pointer("press", position)
        else:
            return super().mousePressEvent(event)
        self._update_cursor_shape()
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        position = event.position()
        previous, self._cursor = self._cursor, position
        if self._drag == "pan":
            self._fit = False
            self._offset = self._drag_offset + (position - self._drag_start)
            self.update()
        elif self._drag == "split":
            target = self._image_rect()
            if target.width() > 0:
                self.set_split_fraction((position.x() - target.left()) / target.width())
                self.split_moved.emit(self.split_fraction)
        elif self._drag == "paint":
            self._pointer("move", position)
        else:
            self._update_cursor_shape(position)
        if self.tool != "pan":
            self._update_brush_cursor(previous, position)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag == "paint" and event.button() == Qt.MouseButton.LeftButton:
            self._pointer("release", event.position())
        elif self._drag is None:
            return super().mouseReleaseEvent(event)
        self._drag = None
        self._update_cursor_shape(event.position())
        event.accept()

    def leaveEvent(self, event) -> None:  # noqa: N802
        if self._cursor is not None:
            self._cursor = None
            self.update()
        super().leaveEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if self._original is None or delta == 0:
            return super().wheelEvent(event)
        self.zoom_by(WHEEL_STEP ** (delta / 120), event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        if event.key() in HOLD_KEYS and plain:
            if not event.isAutoRepeat():
                self.hold_original(event.key(), True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in HOLD_KEYS:
            if not event.isAutoRepeat():
                self.hold_original(event.key(), False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        if self._held:  # a key released in another window must not leave the original stuck on screen
            self._held.clear()
            self.hold_changed.emit(False)
            self.update()
        super().focusOutEvent(event)

    def hold_original(self, key: int, down: bool) -> None:
        """Show the original while `key` is down."""
        before = bool(self._held)
        if down:
            self._held.add(int(key))
        else:
            self._held.discard(int(key))
        if bool(self._held) != before:
            self.hold_changed.emit(bool(self._held))
            self.update()

    def _update_brush_cursor(self, previous: QPointF | None, current: QPointF) -> None:
        radius = max(1.0, self.brush_size * self._scale / 2) + 3
        for point in (previous, current):
            if point is not None:
                self.update(QRectF(point.x() - radius, point.y() - radius, 2 * radius, 2 * radius).toAlignedRect())

    def _update_cursor_shape(self, position: QPointF | None = None) -> None:
        if self._drag == "pan":
            shape = Qt.CursorShape.ClosedHandCursor
        elif self._drag == "split" or (position is not None and self._near_split(position)):
            shape = Qt.CursorShape.SplitHCursor
        elif self.tool == "pan":
            shape = Qt.CursorShape.OpenHandCursor
        else:
            shape = Qt.CursorShape.CrossCursor
        if self.cursor().shape() != shape:
            self.setCursor(QCursor(shape))
