"""Caption boxes on the canvas: outlines and handles painted over the picture, mouse input turned into the editor's
neutral pointer events, and the inline text editor a double-click opens over a box.

The canvas is not changed for this: it paints `decorations` and this module filters its mouse and arrow-key events.
A press on a box or handle is taken here (move, resize); a press anywhere else goes on to the canvas (pan), so the
picture can still be dragged around in caption mode. Arrow keys nudge the selected box. Nothing here computes a
caption: the editor does (`model.caption_editor`), the preview comes from the core renderer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QWidget

from ..model.brush import PointerEvent
from ..model.caption_editor import BoxFrame, CaptionEditor, role_index
from .canvas import Canvas

HANDLE_PX = 4.0  # half the side of a handle square, in logical pixels
GRAB_PX = 7.0  # a press this close to a handle or edge (logical pixels) grabs it
NUDGE_PX, BIG_NUDGE_PX = 1.0, 10.0  # an arrow key moves the selected box this many image pixels (with Shift: big)
_ARROWS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
_CURSORS = {
    None: Qt.CursorShape.SizeAllCursor,
    "n": Qt.CursorShape.SizeVerCursor,
    "s": Qt.CursorShape.SizeVerCursor,
    "e": Qt.CursorShape.SizeHorCursor,
    "w": Qt.CursorShape.SizeHorCursor,
    "nw": Qt.CursorShape.SizeFDiagCursor,
    "se": Qt.CursorShape.SizeFDiagCursor,
    "ne": Qt.CursorShape.SizeBDiagCursor,
    "sw": Qt.CursorShape.SizeBDiagCursor,
}


class InlineTextEditor(QPlainTextEdit):
    """A text field over a box: Enter keeps the text, Shift+Enter starts a new line, Esc drops it, and clicking
    elsewhere keeps it. Emits `done(keep)` once."""

    done = Signal(bool)

    def __init__(self, text: str, parent: QWidget):
        super().__init__(parent)
        self.setPlainText(text)
        self.setFrameShape(QFrame.Shape.Box)
        # see-through, so the preview shows the words as they are typed
        self.setStyleSheet("QPlainTextEdit { background: rgba(0, 0, 0, 110); color: white; }")
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.setFont(font)
        self.setTabChangesFocus(True)
        self.setAccessibleName("Caption text")
        self.setToolTip("Enter keeps the text, Shift+Enter starts a new line, Esc drops the change")
        self._finished = False
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.setTextCursor(cursor)

    def finish(self, keep: bool) -> None:
        if not self._finished:
            self._finished = True
            self.done.emit(keep)

    def event(self, event: QEvent) -> bool:
        # Esc and Enter belong to this field while it is open, not to the window's Cancel and Clean shortcuts.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.finish(False)
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.finish(True)
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.finish(True)


class CaptionOverlay(QObject):
    """Draws the editor's boxes on `canvas` and feeds it the canvas's mouse input while `active`."""

    def __init__(self, canvas: Canvas, editor: CaptionEditor, parent: QObject | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.editor = editor
        self.active = False
        self.text_editor: InlineTextEditor | None = None
        self._text_index: int | None = None
        self._dragging = False
        self._hover = False
        # The canvas events the overlay handles while active, by type; each handler says whether it used the event
        self._mouse_handlers: dict[QEvent.Type, Callable[[QMouseEvent], bool]] = {
            QEvent.Type.MouseButtonDblClick: self._double_click,
            QEvent.Type.MouseButtonPress: self._press,
            QEvent.Type.MouseMove: self._move,
            QEvent.Type.MouseButtonRelease: self._release,
        }
        self._key_handlers: dict[QEvent.Type, Callable[[QKeyEvent], bool]] = {
            QEvent.Type.KeyPress: self._key_press,
            QEvent.Type.KeyRelease: self._key_release,
        }
        canvas.decorations.append(self.paint)
        canvas.installEventFilter(self)
        canvas.zoom_changed.connect(self._place_text_editor)

    def set_active(self, active: bool) -> None:
        if not active:
            self.close_text_editor(True)
            if self._dragging:
                self._dragging = False
                self.editor.commit()
        self.active = active
        self.canvas.update()

    # -- coordinates -------------------------------------------------------------------------------------------

    def image_point(self, position: QPointF) -> QPointF:
        return self.canvas.widget_to_image(position)

    def tolerance(self) -> float:
        """GRAB_PX logical pixels in image pixels at the current zoom."""
        origin, unit = self.canvas.image_to_widget(QPointF(0, 0)), self.canvas.image_to_widget(QPointF(1, 0))
        return GRAB_PX / max(1e-6, unit.x() - origin.x())

    def widget_polygon(self, frame: BoxFrame) -> QPolygonF:
        return QPolygonF([self.canvas.image_to_widget(QPointF(x, y)) for x, y in frame.corners()])

    # -- painting ----------------------------------------------------------------------------------------------

    def paint(self, painter: QPainter) -> None:
        size = self.editor.image_size
        if not self.active or size is None or not self.canvas.has_image:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        highlight = self.canvas.palette().color(QPalette.ColorRole.Highlight)
        boxes = self.editor.boxes
        top, bottom = role_index(boxes, "top"), role_index(boxes, "bottom")
        for index, box in enumerate(boxes):
            frame = BoxFrame.of(box, size)
            polygon = self.widget_polygon(frame)
            selected = index == self.editor.selected
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 160), 3 if selected else 2))
            painter.drawPolygon(polygon)
            pen = QPen(highlight if selected else QColor(255, 255, 255, 200), 1.5 if selected else 1)
            if not selected:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawPolygon(polygon)
            if not box.text.strip() and index != self._text_index:
                hint = "Top text" if index == top else "Bottom text" if index == bottom else "Text"
                painter.setPen(QColor(255, 255, 255, 170))
                painter.drawText(polygon.boundingRect(), Qt.AlignmentFlag.AlignCenter, f"{hint} (double-click to type)")
        selected_box = self.editor.selected_box
        if selected_box is not None:
            painter.setPen(QPen(QColor(0, 0, 0, 200), 1))
            painter.setBrush(QColor(255, 255, 255))
            for x, y in BoxFrame.of(selected_box, size).handle_points().values():
                center = self.canvas.image_to_widget(QPointF(x, y))
                painter.drawRect(QRectF(center.x() - HANDLE_PX, center.y() - HANDLE_PX, 2 * HANDLE_PX, 2 * HANDLE_PX))

    # -- input -------------------------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is not self.canvas or not self.active or not self.canvas.has_image:
            return False
        kind = event.type()
        handlers = (
            self._mouse_handlers
            if isinstance(event, QMouseEvent)
            else (self._key_handlers if isinstance(event, QKeyEvent) else {})
        )
        handler = handlers.get(kind)
        if handler is not None:
            return handler(event)
        if kind == QEvent.Type.Resize:
            # the view moves once the canvas has handled the resize: then the field goes back over its box
            QTimer.singleShot(0, self._place_text_editor)
        return False

    def _key_press(self, event: QKeyEvent) -> bool:
        """Arrow keys move the selected box (Shift: further); held down, the repeats are one undo step."""
        step = _ARROWS.get(event.key())
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if step is None or modifiers not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return False
        distance = BIG_NUDGE_PX if modifiers == Qt.KeyboardModifier.ShiftModifier else NUDGE_PX
        if self.text_editor is not None or not self.editor.nudge(step[0] * distance, step[1] * distance):
            return False
        self.canvas.update()
        return True

    def _key_release(self, event: QKeyEvent) -> bool:
        if event.key() not in _ARROWS or event.isAutoRepeat() or self._dragging:
            return False
        self.editor.commit()  # the nudges so far become one undo step
        return True

    def _pointer(self, kind: str, event: QMouseEvent) -> PointerEvent:
        point = self.image_point(event.position())
        return PointerEvent(kind, point.x(), point.y())

    def _press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        self.close_text_editor(True)
        used = self.editor.handle(self._pointer("press", event), self.tolerance())
        self._dragging = used
        self.canvas.update()
        if used:
            self.canvas.setFocus()
        return used

    def _move(self, event: QMouseEvent) -> bool:
        if self._dragging:
            self.editor.handle(self._pointer("move", event), self.tolerance())
            self.canvas.update()
            return True
        if event.buttons() != Qt.MouseButton.NoButton:
            QTimer.singleShot(0, self._place_text_editor)  # the canvas's own drag (pan, split line)
            return False
        point = self.image_point(event.position())
        hit = self.editor.hit(point.x(), point.y(), self.tolerance())
        if hit is None:
            self._hover = False
            return False  # the canvas sets its own cursor
        self._hover = True
        shape = _CURSORS.get(hit.handle, Qt.CursorShape.SizeAllCursor)
        if self.canvas.cursor().shape() != shape:
            self.canvas.setCursor(QCursor(shape))
        return True

    def _release(self, event: QMouseEvent) -> bool:
        if not self._dragging or event.button() != Qt.MouseButton.LeftButton:
            return False
        self._dragging = False
        self.editor.handle(self._pointer("release", event), self.tolerance())
        self.canvas.update()
        return True

    def _double_click(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        point = self.image_point(event.position())
        hit = self.editor.hit(point.x(), point.y(), self.tolerance())
        if hit is None:
            return False
        self.editor.select(hit.index)
        self.open_text_editor(hit.index)
        return True

    # -- the inline text editor --------------------------------------------------------------------------------

    def open_text_editor(self, index: int | None = None) -> InlineTextEditor | None:
        """Open a text field over box `index` (default: the selected one)."""
        index = self.editor.selected if index is None else index
        size = self.editor.image_size
        if index is None or size is None or not 0 <= index < len(self.editor.boxes):
            return None
        self.close_text_editor(True)
        self.editor.commit()
        self.editor.select(index)
        field = InlineTextEditor(self.editor.boxes[index].text, self.canvas)
        field.textChanged.connect(lambda: self.editor.type_text(index, field.toPlainText()))
        field.done.connect(self._text_done)
        self.text_editor, self._text_index = field, index
        self._place_text_editor()
        field.show()
        field.setFocus()
        self.canvas.update()
        return field

    def _place_text_editor(self) -> None:
        """Put the open text field over its box as the box is now shown (after a zoom, a pan, a resize)."""
        field, index, size = self.text_editor, self._text_index, self.editor.image_size
        if field is None or index is None or size is None or index >= len(self.editor.boxes):
            return
        rect = self.widget_polygon(BoxFrame.of(self.editor.boxes[index], size)).boundingRect()
        rect = rect.adjusted(0, 0, max(0.0, 160 - rect.width()), max(0.0, 48 - rect.height()))  # room to type
        visible = QRectF(self.canvas.rect())
        field.setGeometry((rect.intersected(visible) if rect.intersects(visible) else rect).toAlignedRect())

    def close_text_editor(self, keep: bool) -> None:
        if self.text_editor is not None:
            self.text_editor.finish(keep)

    def _text_done(self, keep: bool) -> None:
        field, self.text_editor, self._text_index = self.text_editor, None, None
        if keep:
            self.editor.commit()
        else:
            self.editor.cancel()
        if field is not None:
            field.hide()
            field.deleteLater()
        self.canvas.setFocus()
        self.canvas.update()
