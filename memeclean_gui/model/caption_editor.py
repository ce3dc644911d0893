"""Caption editing without Qt: box geometry, hit tests, and the editor that turns gestures into undo steps.

The caption boxes live in the document's history (`Document.set_captions`), so Edit ▸ Undo takes back a caption
edit like a brush stroke. `CaptionEditor` adds what the history must not hold: which box is selected, and a *live*
edit in progress (a drag, or text being typed) that is shown at once but becomes one undo step only when the
gesture ends (`commit`). Pointer input arrives as neutral `PointerEvent`s in image pixels, as for the brush, so
tests drive it without a display.

Geometry: a box is (x, y, w, h) in fractions of the image and turns by `rotation` degrees counter-clockwise around
its centre. Hit tests and resizing work in the box's own upright frame ("local" coordinates, pixels, origin at the
centre), so a rotated box is moved and resized along its own sides.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from memeclean_core.captions import TextBox, classic
from memeclean_core.captions.boxes import LIMITS

from .brush import PointerEvent
from .document import Document
from .events import Signal

# Handles of the selected box: name -> (sign along the box's width, sign along its height).
HANDLES: dict[str, tuple[int, int]] = {
    "nw": (-1, -1),
    "n": (0, -1),
    "ne": (1, -1),
    "e": (1, 0),
    "se": (1, 1),
    "s": (0, 1),
    "sw": (-1, 1),
    "w": (-1, 0),
}
MIN_BOX_PX = 6.0  # a box is never resized below this many image pixels a side
MOVE_LABEL = "Move Text Box"  # the undo step of a drag, and of a run of arrow-key nudges
NEW_BOX = TextBox(x=0.2, y=0.4, w=0.6, h=0.2, text="", valign="middle", size=0.08)  # what "Add Text Box" adds
Role = str  # "top" or "bottom": the boxes the quick fields edit


@dataclass(frozen=True)
class BoxFrame:
    """A box in image pixels: centre, upright size and rotation (degrees, counter-clockwise on screen)."""

    cx: float
    cy: float
    width: float
    height: float
    rotation: float = 0.0

    @classmethod
    def of(cls, box: TextBox, image_size: tuple[int, int]) -> BoxFrame:
        width, height = image_size
        return cls(
            (box.x + box.w / 2) * width, (box.y + box.h / 2) * height, box.w * width, box.h * height, box.rotation
        )

    def _cos_sin(self) -> tuple[float, float]:
        angle = math.radians(self.rotation)
        return math.cos(angle), math.sin(angle)

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        """Image point -> the box's upright frame (pixels from the centre)."""
        c, s = self._cos_sin()
        dx, dy = x - self.cx, y - self.cy
        return dx * c - dy * s, dx * s + dy * c

    def to_image(self, u: float, v: float) -> tuple[float, float]:
        """The box's upright frame -> image point (y grows downwards, so a turn to the left has -sin in y)."""
        c, s = self._cos_sin()
        return self.cx + u * c + v * s, self.cy - u * s + v * c

    def corners(self) -> list[tuple[float, float]]:
        """The four corners in image pixels, clockwise from the top left of the upright box."""
        half_w, half_h = self.width / 2, self.height / 2
        return [
            self.to_image(u, v) for u, v in ((-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h))
        ]

    def handle_points(self) -> dict[str, tuple[float, float]]:
        return {name: self.to_image(sx * self.width / 2, sy * self.height / 2) for name, (sx, sy) in HANDLES.items()}

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        u, v = self.to_local(x, y)
        return abs(u) <= self.width / 2 + margin and abs(v) <= self.height / 2 + margin

    def to_box(self, box: TextBox, image_size: tuple[int, int]) -> TextBox:
        """`box` moved and sized to this frame (its other fields kept)."""
        width, height = image_size
        return replace(
            box,
            x=(self.cx - self.width / 2) / width,
            y=(self.cy - self.height / 2) / height,
            w=self.width / width,
            h=self.height / height,
        )


@dataclass(frozen=True)
class Hit:
    index: int  # which box
    handle: str | None  # a key of HANDLES, or None for the box's body (a move)


def hit_test(
    boxes: Sequence[TextBox],
    image_size: tuple[int, int],
    x: float,
    y: float,
    tolerance: float,
    selected: int | None = None,
) -> Hit | None:
    """What a press at (x, y) grabs: a handle of the selected box first, then the front-most box under it.

    `tolerance` is how far from a handle or edge a press still counts, in image pixels (the canvas turns a few
    screen pixels into image pixels at the current zoom).
    """
    if selected is not None and 0 <= selected < len(boxes):
        frame = BoxFrame.of(boxes[selected], image_size)
        nearest = min(frame.handle_points().items(), key=lambda item: math.dist(item[1], (x, y)))
        if math.dist(nearest[1], (x, y)) <= tolerance:
            return Hit(selected, nearest[0])
        if frame.contains(x, y, tolerance / 2):
            return Hit(selected, None)
    for index in range(len(boxes) - 1, -1, -1):
        if BoxFrame.of(boxes[index], image_size).contains(x, y, tolerance / 2):
            return Hit(index, None)
    return None


def moved(box: TextBox, image_size: tuple[int, int], dx: float, dy: float) -> TextBox:
    """`box` moved by (dx, dy) image pixels; its centre stays on the image so it can always be grabbed again."""
    frame = BoxFrame.of(box, image_size)
    width, height = image_size
    cx, cy = min(max(frame.cx + dx, 0.0), float(width)), min(max(frame.cy + dy, 0.0), float(height))
    return replace(frame, cx=cx, cy=cy).to_box(box, image_size)


def resized(box: TextBox, image_size: tuple[int, int], handle: str, dx: float, dy: float) -> TextBox:
    """`box` with `handle` dragged by (dx, dy) image pixels; the opposite side (or corner) stays where it is."""
    sx, sy = HANDLES[handle]
    frame = BoxFrame.of(box, image_size)
    c, s = math.cos(math.radians(frame.rotation)), math.sin(math.radians(frame.rotation))
    du, dv = dx * c - dy * s, dx * s + dy * c  # the drag in the box's own frame
    half_w, half_h = frame.width / 2, frame.height / 2
    width, center_u = frame.width, 0.0
    if sx:
        anchor = -sx * half_w
        width = min(max(MIN_BOX_PX, sx * (sx * half_w + du - anchor)), LIMITS["w"][1] * image_size[0])
        center_u = anchor + sx * width / 2
    height, center_v = frame.height, 0.0
    if sy:
        anchor = -sy * half_h
        height = min(max(MIN_BOX_PX, sy * (sy * half_h + dv - anchor)), LIMITS["h"][1] * image_size[1])
        center_v = anchor + sy * height / 2
    cx, cy = frame.to_image(center_u, center_v)
    return BoxFrame(cx, cy, width, height, frame.rotation).to_box(box, image_size)


def role_index(boxes: Sequence[TextBox], role: Role) -> int | None:
    """The box the "Top text" / "Bottom text" field edits: the first top-aligned box, the last bottom-aligned one.

    Classic boxes and the boxes proposed over old top and bottom captions are aligned that way, so the fields show
    their text whichever way they came.
    """
    order = range(len(boxes)) if role == "top" else range(len(boxes) - 1, -1, -1)
    for index in order:
        if boxes[index].valign == role:
            return index
    return None


@dataclass
class _Gesture:
    hit: Hit
    start: tuple[float, float]
    box: TextBox  # the box as it was at the press
    base: tuple[TextBox, ...]  # the document's boxes at the press


class CaptionEditor:
    """The selected box and the live edit of the document's captions (see the module docstring).

    Signals: `changed()` when the boxes shown change (live or committed), `selection_changed()`.
    """

    def __init__(self, document: Document):
        self.document = document
        self.changed = Signal()
        self.selection_changed = Signal()
        self.selected: int | None = None
        self._live: tuple[TextBox, ...] | None = None
        self._live_base: tuple[TextBox, ...] = ()
        self._live_label = ""
        self._gesture: _Gesture | None = None
        document.state_changed.connect(self._on_state_changed)

    # -- reading -----------------------------------------------------------------------------------------------

    @property
    def boxes(self) -> tuple[TextBox, ...]:
        """The boxes as shown: the live edit's, else the document's."""
        return self._live if self._live is not None else self.document.captions

    @property
    def image_size(self) -> tuple[int, int] | None:
        return self.document.size

    @property
    def selected_box(self) -> TextBox | None:
        boxes = self.boxes
        return boxes[self.selected] if self.selected is not None and self.selected < len(boxes) else None

    @property
    def editing(self) -> bool:
        """A live edit (a drag, typing) is in progress."""
        return self._live is not None

    @property
    def dragging(self) -> bool:
        return self._gesture is not None

    # -- selection ---------------------------------------------------------------------------------------------

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.boxes):
            index = None
        if index != self.selected:
            self.selected = index
            self.selection_changed.emit()

    # -- live edits and undo steps -----------------------------------------------------------------------------

    def preview(self, boxes: Sequence[TextBox], label: str) -> None:
        """Show `boxes` now; they become one undo step called `label` at `commit()`."""
        if self._live is None:
            self._live_base = self.document.captions
        self._live = tuple(boxes)
        self._live_label = label
        self.changed.emit()

    def commit(self) -> bool:
        """End the live edit: one undo step if the boxes changed. Returns whether a step was made."""
        live, self._live, self._gesture = self._live, None, None
        if live is None:
            return False
        if not self.document.set_captions(live, self._live_label):
            self.changed.emit()  # the live boxes were shown; the committed ones are the same or the old ones
            return False
        return True

    def cancel(self) -> None:
        """Drop the live edit: the document's boxes are shown again."""
        if self._live is not None or self._gesture is not None:
            self._live, self._gesture = None, None
            self._clamp_selection()
            self.changed.emit()

    def apply(self, boxes: Sequence[TextBox], label: str) -> bool:
        """A whole edit at once (a button, a style change): commit anything live, then one undo step."""
        self.commit()
        return self.document.set_captions(tuple(boxes), label)

    def _on_state_changed(self) -> None:
        captions = self.document.captions
        if (self._live is not None and captions != self._live_base) or (
            self._gesture is not None and captions != self._gesture.base
        ):
            # undo, redo or a new image changed the boxes underneath the live edit: it no longer applies
            self._live, self._gesture = None, None
        self._clamp_selection()
        self.changed.emit()

    def _clamp_selection(self) -> None:
        if self.selected is not None and self.selected >= len(self.boxes):
            self.select(len(self.boxes) - 1 if self.boxes else None)

    # -- edits ---------------------------------------------------------------------------------------------------

    def ensure_classic(self) -> bool:
        """Give an image without captions the empty classic top and bottom boxes (one undo step)."""
        if not self.document.has_image or self.boxes:
            return False
        return self.apply(classic("", ""), "Add Top and Bottom Text")

    def add_box(self, box: TextBox = NEW_BOX) -> int:
        """Add a box in front and select it; returns its index."""
        self.apply([*self.boxes, box], "Add Text Box")
        self.select(len(self.boxes) - 1)
        return len(self.boxes) - 1

    def delete_selected(self) -> bool:
        index = self.selected
        if index is None or index >= len(self.boxes):
            return False
        boxes = list(self.boxes)
        del boxes[index]
        self.apply(boxes, "Delete Text Box")
        self.select(min(index, len(boxes) - 1) if boxes else None)
        return True

    def update_selected(self, label: str, **changes: object) -> bool:
        """Change fields of the selected box (font, colours, ...): one undo step. Raises CaptionError on bad values."""
        box = self.selected_box
        if box is None:
            return False
        boxes = list(self.boxes)
        boxes[self.selected] = replace(box, **changes)
        return self.apply(boxes, label)

    def nudge(self, dx: float, dy: float) -> bool:
        """Move the selected box by (dx, dy) image pixels, live: a run of arrow presses becomes one "Move Text Box"
        undo step at `commit()`. Returns whether there was a box to move."""
        box, size = self.selected_box, self.image_size
        if box is None or size is None or self._gesture is not None:
            return False
        if self._live is not None and self._live_label != MOVE_LABEL:
            self.commit()  # typing in progress is its own step
        boxes = list(self.boxes)
        boxes[self.selected] = moved(box, size, dx, dy)
        if boxes[self.selected] != box:
            self.preview(boxes, MOVE_LABEL)
        return True

    def type_text(self, index: int, text: str, label: str = "Edit Text") -> None:
        """Text typed into box `index` (live: `commit()` when the typing ends)."""
        boxes = list(self.boxes)
        if 0 <= index < len(boxes) and boxes[index].text != text:
            boxes[index] = replace(boxes[index], text=text)
            self.preview(boxes, label)

    def type_role_text(self, role: Role, text: str) -> None:
        """Text typed into the "Top text" or "Bottom text" field (live); creates the classic box when missing."""
        boxes = list(self.boxes)
        index = role_index(boxes, role)
        label = f"Edit {role.capitalize()} Text"
        if index is None:
            if not text:
                return
            top, bottom = classic("", "")
            if role == "top":
                boxes.insert(0, replace(top, text=text))
            else:
                boxes.append(replace(bottom, text=text))
            self.preview(boxes, label)
            return
        self.type_text(index, text, label)

    def role_text(self, role: Role) -> str:
        index = role_index(self.boxes, role)
        return "" if index is None else self.boxes[index].text

    def replace_old_text(self, proposals: Sequence[TextBox]) -> int:
        """Boxes proposed over the old captions replace the empty boxes (one undo step); boxes with text stay.

        Returns how many boxes were proposed.
        """
        if not proposals:
            return 0
        kept = [box for box in self.boxes if box.text.strip()]
        self.apply([*kept, *proposals], "Replace Old Text")
        self.select(len(kept))
        return len(proposals)

    # -- pointer gestures ----------------------------------------------------------------------------------------

    def hit(self, x: float, y: float, tolerance: float) -> Hit | None:
        size = self.image_size
        return None if size is None else hit_test(self.boxes, size, x, y, tolerance, self.selected)

    def handle(self, event: PointerEvent, tolerance: float = 4.0) -> bool:
        """Feed a press, move or release; a press on a box or handle starts a move or resize, the release makes it
        one undo step. Returns whether the event was used (a press on no box selects nothing and is not used)."""
        size = self.image_size
        if event.kind == "press":
            self.commit()  # typing still in progress ends here
            hit = self.hit(event.x, event.y, tolerance)
            self.select(None if hit is None else hit.index)
            if hit is None or size is None:
                return False
            self._gesture = _Gesture(hit, (event.x, event.y), self.boxes[hit.index], self.document.captions)
            return True
        gesture = self._gesture
        if gesture is None or size is None:
            return False
        dx, dy = event.x - gesture.start[0], event.y - gesture.start[1]
        if dx == 0 and dy == 0:
            box, label = gesture.box, self._live_label  # back where it started: no change
        elif gesture.hit.handle is None:
            box, label = moved(gesture.box, size, dx, dy), MOVE_LABEL
        else:
            box, label = resized(gesture.box, size, gesture.hit.handle, dx, dy), "Resize Text Box"
        boxes = list(self.boxes)
        if gesture.hit.index < len(boxes) and boxes[gesture.hit.index] != box:
            boxes[gesture.hit.index] = box
            self.preview(boxes, label)
        if event.kind == "release":
            self.commit()
        return True
