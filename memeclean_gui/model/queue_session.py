"""The picture queue beside the window's one document, Qt-free: which queued picture the document holds, the
statuses the document gives it, a run's counters, where a queued clean's result goes, and Save All's split and
summary. `modes.queue.QueueMode` puts this on the screen and runs the jobs; tests drive it without Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from memeclean_core.files.imageio import LoadedImage

from .document import Document, Result, Snapshot
from .queue_state import (
    PictureQueue,
    PlannedSave,
    QueueEntry,
    SaveItem,
    SaveOutcome,
    SpilledResult,
    Status,
    load_spilled,
)

CLEANED = (Status.DONE, Status.EDITED, Status.SAVED)
LISTED = 5  # names a question lists before "…"
REPORTED = 8  # skipped or failed pictures the Save All summary names


@dataclass
class QueueRun:
    """One Clean All run: going on, stopping (Cancel was asked for; it ends when the picture being cleaned has
    stopped), and how far it is (pictures finished, of them failed, of how many)."""

    running: bool = False
    stopping: bool = False
    done: int = 0
    failed: int = 0
    total: int = 0

    @property
    def active(self) -> bool:
        """Cleaning, and not stopping."""
        return self.running and not self.stopping

    def begin(self, waiting: int) -> None:
        """Clean All: a new run counts the `waiting` pictures; a run going on just goes on."""
        self.stopping = False
        if not self.running:
            self.running, self.done, self.failed, self.total = True, 0, 0, waiting

    def grow(self, count: int) -> None:
        """`count` more pictures wait (added or retried) while the run goes on."""
        if self.running:
            self.total += count

    def shrink(self) -> None:
        """A picture the run would have cleaned was taken out of the queue."""
        if self.running:
            self.total = max(self.done, self.total - 1)

    def finished(self, outcome: str) -> None:
        """A picture's clean ended: "ok" and "error" count, a cancelled one goes back in line."""
        if outcome in ("ok", "error"):
            self.done += 1
            self.failed += outcome == "error"

    def progress(self, fraction: float) -> tuple[float, int, int]:
        """(the run's fraction done, the number of the picture being cleaned, of how many)."""
        total = max(1, self.total)
        return min(1.0, (self.done + fraction) / total), min(total, self.done + 1), total

    def end(self) -> bool:
        """The run is over; True when one was going on."""
        was_running, self.running, self.stopping = self.running, False, False
        return was_running

    def summary(self, waiting: int) -> str:
        """The status line at the end of a run."""
        parts = [f"{self.done - self.failed} cleaned"]
        if self.failed:
            parts.append(f"{self.failed} failed (Queue ▸ Retry Failed)")
        if waiting:
            parts.append(f"{waiting} waiting")
        return "Queue: " + ", ".join(parts)


def document_status(document: Document, current: Status, has_result: bool) -> Status | None:
    """The status the shown picture's document gives its entry (whose status is `current`): edited while it has
    edits in no file, saved once its template is kept in a file, done with a result; None: leave it as it is."""
    if document.has_unsaved_edits:
        return Status.EDITED
    if document.result is not None:
        return Status.SAVED if document.is_kept and document.saved_path is not None else Status.DONE
    if current is Status.EDITED:
        return Status.DONE if has_result else Status.WAITING
    return None


def names(items: Sequence[str], limit: int = LISTED) -> str:
    """“a”, “b”, … : the first `limit` names for a question."""
    return ", ".join(f"“{name}”" for name in items[:limit]) + (", …" if len(items) > limit else "")


def queue_summary(state: PictureQueue) -> str:
    """The queue panel's line: "5 pictures · 2 waiting · 3 done"; empty for an empty queue."""
    total = len(state.entries)
    if not total:
        return ""
    counts = state.counts()
    parts = [f"{total} picture{'s' if total != 1 else ''}"]
    parts += [f"{counts[status]} {status.value}" for status in Status if counts[status]]
    return " · ".join(parts)


@dataclass
class SaveAllReport:
    """What Save All did: the summary's lines (the first is the status line) and the counts `saved_all` gives."""

    lines: list[str]
    counts: dict[str, int] = field(default_factory=dict)


class QueueSession:
    """The queue's state with the window's document (see the module docstring)."""

    def __init__(self, document: Document, state: PictureQueue | None = None):
        self.document = document
        self.state = state if state is not None else PictureQueue()
        self.run = QueueRun()
        self._shown: QueueEntry | None = None  # the queued picture in the document
        self._shown_generation = -1
        self.switching_to: QueueEntry | None = None  # the entry whose document is being restored
        self.latest_result: tuple[QueueEntry, Result] | None = None  # the last queued clean's, for an open under way

    # -- the picture shown -------------------------------------------------------------------------------------------

    @property
    def keeps_document(self) -> bool:
        """The document is a queued picture: its edits are kept by the queue when another picture is shown."""
        return self._shown is not None and self.document.generation == self._shown_generation

    @property
    def shown(self) -> QueueEntry | None:
        """The queued picture the document holds (None: no queued picture is shown)."""
        return self._shown if self.keeps_document else None

    def forget_shown(self) -> None:
        """The document keeps showing its picture, as one outside the queue."""
        self._shown = None

    @property
    def cleans_document(self) -> bool:
        """The picture being shown needs no clean from the window: it is cleaned, or the running queue will."""
        entry = self.switching_to or self.shown
        if entry is None:
            return False
        return entry.status in (*CLEANED, Status.CLEANING) or (self.run.active and entry.status is Status.WAITING)

    def restore(self, entry: QueueEntry, snapshot: Snapshot) -> None:
        """Show `entry`'s document; the document's `image_changed` (`image_changed` here) then names it the one
        shown."""
        self.switching_to = entry
        try:
            self.document.restore(snapshot)
        finally:
            self.switching_to = None

    def put_away(self) -> None:
        """The document is about to hold another picture: keep the queued one (edits, history and all)."""
        entry, self._shown = self.shown, None
        if entry is None or entry not in self.state.entries:
            return
        snapshot = self.document.snapshot()
        if snapshot is not None:
            self.state.keep(entry, snapshot)

    def image_changed(self) -> QueueEntry | None:
        """The document holds a new picture: the queued one being restored, or none. Returns it."""
        self._shown, self._shown_generation = self.switching_to, self.document.generation
        return self._shown

    def sync_status(self, entry: QueueEntry) -> bool:
        """The shown picture's status from its document; True when it changed."""
        status = document_status(self.document, entry.status, entry.has_result)
        if status is None or status is entry.status or entry.status is Status.CLEANING:
            return False
        entry.status, entry.error = status, ""
        return True

    def opened(self, entry: QueueEntry, image: LoadedImage, result: Result | None, spilled_before: object) -> Snapshot:
        """The document of a queued picture read from its file with the result read from `spilled_before`: when
        the picture's queued clean ended while it was being read, its newest result instead (a result of another
        size, from a file changed meanwhile, is none)."""
        if spilled_before is None and entry.spilled is not None:
            latest = self.latest_result
            if latest is not None and latest[0] is entry:
                result = latest[1]
            else:
                try:
                    result = load_spilled(entry.spilled)
                except OSError:
                    result = None
            if result is not None and (result.image.width, result.image.height) != (image.width, image.height):
                result = None
        elif result is not None and entry.spilled is spilled_before:
            self.state.loaded_from_disk(entry, result)  # so putting it away again writes nothing
        return Snapshot.opened(image, entry.name, entry.path, result, entry.saved_path)

    # -- a queued clean's result -------------------------------------------------------------------------------------

    def cleaned(self, entry: QueueEntry, spilled: SpilledResult, result: Result, thumbnail: np.ndarray | None) -> None:
        """A queued clean of `entry` ended well: its result is on disk, and becomes the result of its document
        where that has none (an edited document keeps its work, the entry says edited)."""
        self.state.set_spilled(entry, spilled, result)
        self.latest_result = (entry, result)
        entry.thumbnail, entry.error = thumbnail, ""
        edited = False
        if entry is self.shown:
            if self.document.result is None:
                self.document.set_result(result, "Clean")
            edited = self.document.has_unsaved_edits
        else:
            snapshot = self.state.peek(entry)
            if snapshot is not None:
                if snapshot.result is None:
                    snapshot.add_result(result, "Clean")
                edited = snapshot.has_unsaved_edits
        entry.status = Status.EDITED if edited else Status.DONE

    @staticmethod
    def failed(entry: QueueEntry, message: str) -> None:
        entry.status, entry.error = Status.FAILED, message

    # -- results, edits --------------------------------------------------------------------------------------------

    def result_in_memory(self, entry: QueueEntry) -> Result | None:
        if entry is self.shown:
            return self.document.result
        snapshot = self.state.peek(entry)
        return None if snapshot is None else snapshot.result

    def has_result(self, entry: QueueEntry) -> bool:
        if entry is self.shown or self.state.peek(entry) is not None:
            return self.result_in_memory(entry) is not None
        return entry.has_result

    def edited_entries(self, among: Iterable[QueueEntry] | None = None) -> list[QueueEntry]:
        """Queued pictures (all, or those `among`) with edits that are in no file, the one shown included."""
        edited = set(self.state.edited())
        if self.shown is not None and self.document.has_unsaved_edits:
            edited.add(self.shown)
        chosen = None if among is None else set(among)
        return [entry for entry in self.state.entries if entry in edited and (chosen is None or entry in chosen)]

    def mark_saved(self, entry: QueueEntry, target: Path, result: Result | None) -> None:
        """Save All wrote `entry`'s `result` to `target`: its document is kept there, unless it changed since."""
        entry.saved_path = target
        if entry is self.shown:
            if result is None or self.document.result is result:
                self.document.saved_path = target
                if not self.document.captions:  # a template file does not hold the captions written on it
                    self.document.mark_kept()
            self.sync_status(entry)
            return
        snapshot = self.state.peek(entry)
        if snapshot is not None and (result is None or snapshot.result is result):
            snapshot.saved_path = target
            if not snapshot.state.captions:
                snapshot.mark_kept()
        if snapshot is None or not snapshot.has_unsaved_edits:
            entry.status = Status.SAVED

    # -- Save All --------------------------------------------------------------------------------------------------

    def save_items(
        self, plan: list[PlannedSave], overwrite: bool, inputs: tuple[Path, ...]
    ) -> tuple[list[SaveItem], list[tuple[QueueEntry, str]]]:
        """(what to write, what is skipped and why) for a Save All `plan`: a file already there is replaced only
        with `overwrite`; an input picture never is."""
        skipped = [(item.entry, item.reason) for item in plan if item.target is None]
        items = []
        for item in plan:
            if item.target is None:
                continue
            if item.exists and not overwrite:
                skipped.append((item.entry, "a file of that name is there"))
                continue
            result = self.result_in_memory(item.entry)
            items.append(SaveItem(item.entry.key, item.target, result, item.entry.spilled, item.exists, inputs))
        return items, skipped

    def saved_all(
        self,
        folder: Path,
        outcomes: list[SaveOutcome],
        skipped: list[tuple[QueueEntry, str]],
        results: dict[int, Result | None],
    ) -> SaveAllReport:
        """Mark what Save All wrote (`results`: what each item's result was when it started) and sum it up."""
        skipped = list(skipped)
        failed: list[tuple[str, str]] = []
        saved = 0
        for outcome in outcomes:
            entry = self.state.by_key(outcome.key)
            if outcome.status == "saved":
                saved += 1
                if entry is not None:
                    self.mark_saved(entry, outcome.target, results.get(outcome.key))
            elif outcome.status == "failed":
                failed.append((entry.name if entry is not None else outcome.target.name, outcome.message))
            elif entry is not None:
                skipped.append((entry, outcome.message))
        lines = [f"Saved {saved} template{'s' if saved != 1 else ''} to {folder}."]
        if skipped:
            shown = "; ".join(f"{entry.name} ({reason})" for entry, reason in skipped[:REPORTED])
            lines.append(f"Skipped {len(skipped)}: {shown}{'; …' if len(skipped) > REPORTED else ''}.")
        if failed:
            shown = "; ".join(f"{name}: {message}" for name, message in failed[:REPORTED])
            lines.append(f"Failed {len(failed)}: {shown}{'; …' if len(failed) > REPORTED else ''}.")
        return SaveAllReport(lines, {"saved": saved, "skipped": len(skipped), "failed": len(failed)})
