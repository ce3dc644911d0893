"""The document a window shows: the image, the result of cleaning it, the editable text mask, the undo history.

Plain Python (no Qt, no torch), so it is tested without a display. Widgets mirror it through its signals:

- `image_changed()`: a new image arrived (the history starts afresh);
- `state_changed()`: the result, the mask or the captions changed (a clean, a re-fill, a finished brush stroke,
  a caption edit, undo, redo);
- `mask_painted(bbox)`: a brush stroke in progress changed the pixels in `bbox` of `document.mask`;
- `image_leaving()`: the image shown is about to be replaced (the picture queue puts it away first).

States are immutable snapshots (their arrays are read-only and shared between snapshots), so the history costs
one mask per brush stroke and one result per clean. One gesture (a whole brush stroke) is one undo step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from memeclean_core.files.imageio import LoadedImage

from .events import Signal

if TYPE_CHECKING:
    from memeclean_core.captions import TextBox

BBox = tuple[int, int, int, int]
"""(top, left, bottom, right) in image pixels, bottom and right excluded."""

HISTORY_LIMIT = 50
HISTORY_BYTES = 1 << 30
"""The history keeps at most this many steps and about this much memory (always the current and one more)."""


@dataclass(frozen=True, eq=False)
class Result:
    """A cleaned picture and what made it."""

    image: LoadedImage  # the cleaned frames, with the original's metadata (durations, loop, colour profile)
    mask: np.ndarray  # H×W bool: the text this result was filled with (first frame)
    region: np.ndarray  # H×W bool: the pixels replaced in the first frame
    resolution: int  # the slider value it ran at
    working_size: tuple[int, int]  # (width, height) the network saw
    device: str  # "CPU", "GPU (...)"
    seconds: float  # time the run took
    grown: int = 0  # pixels the region reaches beyond the filled mask (a re-fill's margin, `whole_image.refill`)


@dataclass(frozen=True, eq=False)
class State:
    """One step of the history."""

    result: Result | None  # None until the image is cleaned
    mask: np.ndarray  # H×W bool, read-only: the text mask the user sees and edits (first frame)
    label: str  # what made this state, for Undo/Redo menu texts: "Clean", "Re-fill", "Brush Stroke", ...
    mask_edited: bool = False  # the mask differs from the one the result was filled with (Re-fill has work)
    captions: tuple[TextBox, ...] = ()  # caption boxes drawn on the template (caption mode), back to front


def _state_bytes(state: State, before: State | None) -> int:
    """Memory a state adds to the one before it (arrays are shared between states, not copied)."""
    total = 0 if before is not None and state.mask is before.mask else state.mask.nbytes
    result = state.result
    if result is not None and (before is None or result is not before.result):
        total += result.mask.nbytes + result.region.nbytes + sum(frame.pixels.nbytes for frame in result.image.frames)
    return total


class History:
    """A linear undo stack of states; pushing after an undo drops the redo branch. The oldest steps go when there
    are more than `limit` of them or they hold more than `max_bytes`."""

    def __init__(self, first: State, limit: int = HISTORY_LIMIT, max_bytes: int = HISTORY_BYTES):
        self._states = [first]
        self._sizes = [_state_bytes(first, None)]
        self._index = 0
        self._limit = max(2, limit)
        self._max_bytes = max_bytes

    @property
    def current(self) -> State:
        return self._states[self._index]

    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._states) - 1

    @property
    def undo_label(self) -> str:
        """The step Undo takes back ('' when none)."""
        return self.current.label if self.can_undo else ""

    @property
    def redo_label(self) -> str:
        return self._states[self._index + 1].label if self.can_redo else ""

    @property
    def bytes(self) -> int:
        """About how much memory the steps hold."""
        return sum(self._sizes)

    def push(self, state: State) -> None:
        del self._states[self._index + 1 :]
        del self._sizes[self._index + 1 :]
        self._sizes.append(_state_bytes(state, self._states[-1]))
        self._states.append(state)
        while len(self._states) > 2 and (len(self._states) > self._limit or sum(self._sizes) > self._max_bytes):
            del self._states[0]
            del self._sizes[0]
            self._sizes[0] = _state_bytes(self._states[0], None)
        self._index = len(self._states) - 1

    def undo(self) -> bool:
        if not self.can_undo:
            return False
        self._index -= 1
        return True

    def redo(self) -> bool:
        if not self.can_redo:
            return False
        self._index += 1
        return True


def _unsaved(state: State | None, kept: State | None) -> bool:
    if state is None or state is kept:
        return False
    return bool(state.captions) or state.mask_edited or state.label not in ("Open", "Clean")


@dataclass(eq=False)
class Snapshot:
    """A document's whole content (image, names, history), put away and brought back by the picture queue."""

    image: LoadedImage
    name: str
    source: Path | None
    saved_path: Path | None
    history: History
    kept: State | None  # the state last saved (see `Document.mark_kept`)

    @classmethod
    def opened(
        cls,
        image: LoadedImage,
        name: str,
        source: Path | None = None,
        result: Result | None = None,
        saved_path: Path | None = None,
    ) -> Snapshot:
        """A picture as just opened, with `result` as its clean (a kept state when it was saved to `saved_path`)."""
        empty = frozen(np.zeros((image.height, image.width), bool))
        history = History(State(None, empty, "Open"))
        kept = history.current
        if result is not None:
            history.push(State(result, _result_mask(result), "Clean"))
            if saved_path is not None:
                kept = history.current
        return cls(image, name, Path(source) if source is not None else None, saved_path, history, kept)

    @property
    def state(self) -> State:
        return self.history.current

    @property
    def result(self) -> Result | None:
        return self.history.current.result

    @property
    def has_unsaved_edits(self) -> bool:
        return _unsaved(self.history.current, self.kept)

    @property
    def is_kept(self) -> bool:
        """The current state is in a file (or nothing was done since it was opened)."""
        return self.history.current is self.kept

    def add_result(self, result: Result, label: str) -> None:
        """`Document.set_result` for a document put away (a queue clean that finished while it was not shown)."""
        state = self.history.current
        self.history.push(State(result, _result_mask(result), label, captions=state.captions))

    def mark_kept(self) -> None:
        self.kept = self.history.current


def _result_mask(result: Result) -> np.ndarray:
    return result.mask if not result.mask.flags.writeable else frozen(result.mask.astype(bool, copy=True))


def frozen(array: np.ndarray) -> np.ndarray:
    """`array` made C-contiguous (a copy only when it is not) and read-only: the arrays of results, states and
    frames are shared between the document, the views and workers, so none may change them in place."""
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class _Snapshot:
    """The document's image and history on one side of a crop."""

    image: LoadedImage
    history: History
    kept: State | None


class Document:
    """One image being cleaned. Change it only from the UI thread."""

    def __init__(self) -> None:
        self.image_changed = Signal()
        self.state_changed = Signal()
        self.mask_painted = Signal()
        self.image_leaving = Signal()
        self.image: LoadedImage | None = None
        self.name = ""  # shown in the title bar: the file name, or "Pasted image"
        self.source: Path | None = None  # the file it came from, never overwritten
        self.saved_path: Path | None = None  # where File ▸ Save writes (set by Save As)
        self.generation = 0  # increases with every new image: results of older runs are dropped
        self._history: History | None = None
        self._kept: State | None = None  # the state last saved or exported (or the one opened)
        self._stroke: np.ndarray | None = None
        # Crop Caption Bars makes the cropped picture the document's image with a history of its own; these keep
        # what Undo (the picture before the crop) and Redo (the crop undone) go back to.
        self._before_crop: list[_Snapshot] = []
        self._undone_crops: list[_Snapshot] = []
        self.cropping = False  # True while image_changed is emitted for a crop or its undo (not a new image)

    # -- reading -----------------------------------------------------------------------------------------------

    @property
    def has_image(self) -> bool:
        return self.image is not None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) of the image, or None."""
        return None if self.image is None else (self.image.width, self.image.height)

    @property
    def state(self) -> State | None:
        return None if self._history is None else self._history.current

    @property
    def result(self) -> Result | None:
        state = self.state
        return None if state is None else state.result

    @property
    def mask(self) -> np.ndarray | None:
        """The mask as shown: the stroke in progress, else the current state's."""
        if self._stroke is not None:
            return self._stroke
        state = self.state
        return None if state is None else state.mask

    @property
    def history(self) -> History | None:
        return self._history

    @property
    def has_unsaved_edits(self) -> bool:
        """Work a person did by hand (mask strokes, a re-fill, captions) that is not in a saved or exported file.

        A plain automatic clean does not count: one click makes it again, and asking after every clean would
        get in the way of looking through memes one after another.
        """
        return _unsaved(self.state, self._kept)

    @property
    def is_kept(self) -> bool:
        """The current state is the one last saved (or the one opened)."""
        return self.state is not None and self.state is self._kept

    def mark_kept(self) -> None:
        """The current state is now in a file (saved template, exported meme, caption project)."""
        self._kept = self.state

    @property
    def stroke_active(self) -> bool:
        return self._stroke is not None

    # -- changing ----------------------------------------------------------------------------------------------

    @property
    def can_undo(self) -> bool:
        return self._history is not None and (self._history.can_undo or bool(self._before_crop))

    @property
    def can_redo(self) -> bool:
        return self._history is not None and (self._history.can_redo or bool(self._undone_crops))

    @property
    def undo_label(self) -> str:
        """The step Undo takes back ('' when none)."""
        if self._history is None:
            return ""
        return self._history.undo_label or (self._history.current.label if self._before_crop else "")

    @property
    def redo_label(self) -> str:
        if self._history is None:
            return ""
        if self._history.can_redo:
            return self._history.redo_label
        return self._undone_crops[-1].history.current.label if self._undone_crops else ""

    def set_image(self, image: LoadedImage, name: str, source: Path | None = None) -> None:
        """A new image: no result, an empty mask, a fresh history."""
        self.image_leaving.emit()
        self._stroke = None
        self._before_crop.clear()
        self._undone_crops.clear()
        self.image = image
        self.name = name
        self.source = Path(source) if source is not None else None
        self.saved_path = None
        self.generation += 1
        empty = frozen(np.zeros((image.height, image.width), bool))
        self._history = History(State(None, empty, "Open"))
        self._kept = self._history.current
        self.image_changed.emit()
        self.state_changed.emit()

    def snapshot(self) -> Snapshot | None:
        """The whole content, to be put away (a brush stroke in progress is dropped); None without an image."""
        if self.image is None or self._history is None:
            return None
        self._end_stroke_silently()
        return Snapshot(self.image, self.name, self.source, self.saved_path, self._history, self._kept)

    def restore(self, snapshot: Snapshot) -> None:
        """Show a picture put away, with its history: like `set_image`, a new generation (older runs drop)."""
        self.image_leaving.emit()
        self._stroke = None
        self.image = snapshot.image
        self.name = snapshot.name
        self.source = snapshot.source
        self.saved_path = snapshot.saved_path
        self.generation += 1
        self._history = snapshot.history
        self._kept = snapshot.kept
        self.image_changed.emit()
        self.state_changed.emit()

    def set_result(self, result: Result, label: str) -> None:
        """A clean or re-fill finished: one undo step; the mask becomes the one the result was filled with."""
        self._require_image()
        if result.mask.shape != self.state.mask.shape:
            raise ValueError(f"the result's mask is {result.mask.shape}, the image {self.state.mask.shape}")
        mask = result.mask if not result.mask.flags.writeable else frozen(result.mask.astype(bool, copy=True))
        self._end_stroke_silently()
        self._push(State(result, mask, label, mask_edited=False, captions=self.state.captions))
        self.state_changed.emit()

    def crop_caption_bars(self, label: str = "Crop Caption Bars") -> tuple[int, int]:
        """Cut the caption bars (a uniform white or black bar holding the caption along the top or bottom edge,
        `memeclean_core.cleaning.bars`) off the picture and its result, instead of keeping them filled. The cropped
        picture becomes the image, with its result and mask; Undo brings the whole picture back. Returns the rows
        cut at (top, bottom); (0, 0) and nothing changes when there is no result or no bar."""
        from memeclean_core.cleaning.bars import crop_cleaned, crop_image, read_only_rows

        state = self.state
        if state is None or state.result is None:
            return (0, 0)
        cropped, bars = crop_cleaned(self.image, state.result, text=state.mask)
        if not bars:
            return (0, 0)
        self._end_stroke_silently()
        self._before_crop.append(_Snapshot(self.image, self._history, self._kept))
        self._undone_crops.clear()
        history = History(State(cropped, read_only_rows(state.mask, bars), label))
        self._switch(_Snapshot(crop_image(self.image, bars), history, None))
        return (bars.top, bars.bottom)

    def _push(self, state: State) -> None:
        self._history.push(state)
        self._undone_crops.clear()  # a new step drops what Redo would have done, a crop included

    def _switch(self, snapshot: _Snapshot) -> None:
        """Show the other side of a crop: its image and history (image_changed with `cropping` set)."""
        self.image, self._history, self._kept = snapshot.image, snapshot.history, snapshot.kept
        self.generation += 1
        self.cropping = True
        try:
            self.image_changed.emit()
        finally:
            self.cropping = False
        self.state_changed.emit()

    def begin_stroke(self) -> np.ndarray:
        """Start a gesture: returns the working copy of the mask that the brush paints on."""
        self._require_image()
        if self._stroke is None:
            self._stroke = self.state.mask.copy()
        return self._stroke

    def painted(self, bbox: BBox) -> None:
        """The brush changed `bbox` of the working mask (redraw that part of the overlay)."""
        if self._stroke is not None:
            self.mask_painted.emit(bbox)

    def end_stroke(self, label: str) -> bool:
        """Finish the gesture: one undo step if the mask changed. Returns whether it did."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return False
        state = self.state
        if np.array_equal(stroke, state.mask):
            return False
        result = state.result
        edited = (not np.array_equal(stroke, result.mask)) if result is not None else bool(stroke.any())
        self._push(State(result, frozen(stroke), label, mask_edited=edited, captions=state.captions))
        self.state_changed.emit()
        return True

    @property
    def captions(self) -> tuple[TextBox, ...]:
        """The caption boxes of the current state (empty without an image)."""
        state = self.state
        return () if state is None else state.captions

    def set_captions(self, boxes: tuple[TextBox, ...] | list[TextBox], label: str) -> bool:
        """A finished caption edit (a drag, a typed text, a style change): one undo step if the boxes changed."""
        self._require_image()
        boxes = tuple(boxes)
        if boxes == self.state.captions:
            return False
        self._end_stroke_silently()
        self._push(replace(self.state, label=label, captions=boxes))
        self.state_changed.emit()
        return True

    def cancel_stroke(self) -> None:
        """Drop the gesture in progress (the mask goes back to the current state's)."""
        if self._stroke is not None:
            self._stroke = None
            self.state_changed.emit()

    def undo(self) -> bool:
        return self._step_history(undo=True)

    def redo(self) -> bool:
        return self._step_history(undo=False)

    def _step_history(self, *, undo: bool) -> bool:
        """One step back (undo) or forward; past the first step of a cropped picture it is the crop that is undone,
        and redone. False when there is no step to take."""
        self._end_stroke_silently()
        history = self._history
        if undo:
            crops_from, crops_to = self._before_crop, self._undone_crops
        else:
            crops_from, crops_to = self._undone_crops, self._before_crop
        if history is not None and not (history.can_undo if undo else history.can_redo) and crops_from:
            crops_to.append(_Snapshot(self.image, history, self._kept))
            self._switch(crops_from.pop())
            return True
        if history is None or not (history.undo() if undo else history.redo()):
            return False
        self.state_changed.emit()
        return True

    def _end_stroke_silently(self) -> None:
        self._stroke = None

    def _require_image(self) -> None:
        if self.image is None or self._history is None:
            raise RuntimeError("the document holds no image")
