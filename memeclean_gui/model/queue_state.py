"""The picture queue's state, Qt-free: entries, their statuses and order, the few documents kept whole, spilling.

A queue holds one `QueueEntry` per picture: its file, a status, a small thumbnail and, once cleaned, where its
result lies on disk (`SpilledResult`, in a temporary folder the queue owns). Whole documents (the original, the
result, the undo history) are kept for the `keep_documents` most recently shown pictures only, plus every one
with edits that are in no file: those are never put away, so nothing a person did by hand is lost. A document
put away keeps its latest result on disk (spilled when it is not there yet) and comes back from the original file
and that result, without its undo history. So memory grows with the thumbnails, not with the pictures.
"""

from __future__ import annotations

import enum
import itertools
import os
import shutil
import tempfile
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from memeclean_core.files.filenames import IMAGE_SUFFIXES, path_key
from memeclean_core.files.imageio import SAVE_FORMATS, Frame, LoadedImage

from .document import Result, Snapshot, frozen

KEEP_DOCUMENTS = 3
"""Whole documents kept besides the one shown (those with unsaved edits are always kept)."""


class Status(enum.Enum):
    WAITING = "waiting"
    CLEANING = "cleaning"
    DONE = "done"
    FAILED = "failed"
    EDITED = "edited"
    SAVED = "saved"

    @property
    def label(self) -> str:
        return {"cleaning": "Cleaning…"}.get(self.value, self.value.capitalize())


def image_files(paths: Iterable[str | Path]) -> tuple[list[Path], int]:
    """(files to queue, how many files in the folders were left out): files as given, folders walked recursively
    for regular image files (hidden files and folders skipped, links to folders not followed), in name order."""
    found: list[Path] = []
    left_out = 0
    for path in map(Path, paths):
        if not path.is_dir():
            found.append(path)
            continue
        for folder, subfolders, names in os.walk(path):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                file = Path(folder) / name
                if name.startswith(".") or not file.is_file():
                    continue
                if file.suffix.lower() in IMAGE_SUFFIXES:  # what a folder added to the queue contributes
                    found.append(file)
                else:
                    left_out += 1
    return found, left_out


# -- results on disk ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpilledResult:
    """A cleaned picture written to the queue's temporary folder (lossless PNGs) and what is needed to rebuild it."""

    frame_files: tuple[Path, ...]  # RGB, or RGBA when the picture has an alpha channel
    mask_file: Path
    region_file: Path
    durations: tuple[int | None, ...]
    source: Path | None
    format: str | None
    loop: int | None
    icc_profile: bytes | None
    resolution: int
    working_size: tuple[int, int]
    device: str
    seconds: float

    @property
    def is_animated(self) -> bool:
        return len(self.frame_files) > 1

    def delete(self) -> None:
        for file in (*self.frame_files, self.mask_file, self.region_file):
            file.unlink(missing_ok=True)


def spill_result(folder: Path, stem: str, result: Result) -> SpilledResult:
    """Write `result` under `folder` as `stem.*.png` (fast, lossless compression). Safe in a worker thread."""
    files = []
    for number, frame in enumerate(result.image.frames):
        file = folder / f"{stem}.f{number}.png"
        pixels = frame.pixels if frame.alpha is None else np.dstack([frame.pixels, frame.alpha])
        Image.fromarray(np.ascontiguousarray(pixels)).save(file, format="PNG", compress_level=1)
        files.append(file)
    mask_file, region_file = folder / f"{stem}.mask.png", folder / f"{stem}.region.png"
    Image.fromarray(np.ascontiguousarray(result.mask)).save(mask_file, format="PNG", compress_level=1)
    Image.fromarray(np.ascontiguousarray(result.region)).save(region_file, format="PNG", compress_level=1)
    image = result.image
    return SpilledResult(
        tuple(files),
        mask_file,
        region_file,
        tuple(f.duration_ms for f in image.frames),
        image.source,
        image.format,
        image.loop,
        image.icc_profile,
        result.resolution,
        tuple(result.working_size),
        result.device,
        result.seconds,
    )


def load_spilled(spilled: SpilledResult) -> Result:
    """The `Result` written by `spill_result`, read back. Raises OSError when the files are gone."""
    frames = []
    for file, duration in zip(spilled.frame_files, spilled.durations):
        with Image.open(file) as picture:
            pixels = np.asarray(picture)
        alpha = np.ascontiguousarray(pixels[:, :, 3]) if pixels.shape[2] == 4 else None
        frames.append(Frame(frozen(pixels[:, :, :3]), alpha, duration))
    masks = []
    for file in (spilled.mask_file, spilled.region_file):
        with Image.open(file) as picture:
            masks.append(frozen(np.asarray(picture).astype(bool)))
    image = LoadedImage(frames, spilled.source, spilled.format, spilled.loop, spilled.icc_profile)
    return Result(image, masks[0], masks[1], spilled.resolution, spilled.working_size, spilled.device, spilled.seconds)


# -- the queue --------------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class QueueEntry:
    """One queued picture."""

    path: Path
    key: int  # unique in its queue, stable (names the spill files)
    status: Status = Status.WAITING
    error: str = ""  # the one-line reason when FAILED
    thumbnail: np.ndarray | None = None  # small H×W×3 uint8, of the original, then of the result
    spilled: SpilledResult | None = None  # the latest result, on disk
    spilled_from: weakref.ref[Result] | None = None  # which in-memory result `spilled` is a copy of
    saved_path: Path | None = None  # where Save / Save All last wrote its template
    frames: int = 1

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def has_result(self) -> bool:
        return self.spilled is not None


class PictureQueue:
    """The entries in order, which one is shown, and the whole documents kept in memory (least recent first)."""

    def __init__(self, keep_documents: int = KEEP_DOCUMENTS):
        self.entries: list[QueueEntry] = []
        self.keep_documents = keep_documents
        self._documents: OrderedDict[int, Snapshot] = OrderedDict()
        self._keys = itertools.count(1)
        self._spill_serial = itertools.count(1)
        self._folder: Path | None = None

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    # -- entries ---------------------------------------------------------------------------------------------------

    def add(self, paths: Iterable[str | Path]) -> list[QueueEntry]:
        """Queue files (a file already queued is not added twice); returns the new entries."""
        known = {path_key(entry.path) for entry in self.entries}
        added = []
        for path in map(Path, paths):
            identity = path_key(path)
            if identity in known:
                continue
            known.add(identity)
            entry = QueueEntry(path, next(self._keys))
            self.entries.append(entry)
            added.append(entry)
        return added

    def find(self, path: str | Path) -> QueueEntry | None:
        identity = path_key(Path(path))
        return next((entry for entry in self.entries if path_key(entry.path) == identity), None)

    def by_key(self, key: int) -> QueueEntry | None:
        return next((entry for entry in self.entries if entry.key == key), None)

    def index(self, entry: QueueEntry) -> int:
        return self.entries.index(entry)

    def remove(self, entry: QueueEntry) -> None:
        self.entries.remove(entry)
        self._documents.pop(entry.key, None)
        if entry.spilled is not None:
            entry.spilled.delete()

    def clear(self) -> None:
        """Every entry goes, and the temporary folder with the results."""
        self.entries.clear()
        self._documents.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def neighbour(self, entry: QueueEntry | None, step: int) -> QueueEntry | None:
        """The entry `step` places after `entry` (before, when negative); the first or last when `entry` is None."""
        if not self.entries:
            return None
        if entry is None or entry not in self.entries:
            return self.entries[0] if step > 0 else self.entries[-1]
        index = self.index(entry) + step
        return self.entries[index] if 0 <= index < len(self.entries) else None

    def waiting(self) -> list[QueueEntry]:
        return [entry for entry in self.entries if entry.status is Status.WAITING]

    def next_waiting(self, prefer: QueueEntry | None = None) -> QueueEntry | None:
        """The next picture to clean: `prefer` (the one shown) when it is waiting, else the first waiting."""
        if prefer is not None and prefer.status is Status.WAITING and prefer in self.entries:
            return prefer
        return next(iter(self.waiting()), None)

    def retry_failed(self) -> list[QueueEntry]:
        failed = [entry for entry in self.entries if entry.status is Status.FAILED]
        for entry in failed:
            entry.status, entry.error = Status.WAITING, ""
        return failed

    def counts(self) -> dict[Status, int]:
        counts = dict.fromkeys(Status, 0)
        for entry in self.entries:
            counts[entry.status] += 1
        return counts

    # -- results on disk ---------------------------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        """The temporary folder for spilled results (made when first needed, removed by `clear`)."""
        if self._folder is None or not self._folder.is_dir():
            self._folder = Path(tempfile.mkdtemp(prefix="memeclean-queue-"))
        return self._folder

    @property
    def spill_folder(self) -> Path | None:
        """The temporary folder if one was made."""
        return self._folder

    def spill_stem(self, entry: QueueEntry) -> str:
        """A fresh file stem for a result of `entry` (a new one each time, so a worker never writes over files
        that are still in use)."""
        return f"{entry.key:05d}-{next(self._spill_serial)}"

    def set_spilled(self, entry: QueueEntry, spilled: SpilledResult, result: Result | None) -> None:
        """`entry`'s latest result is on disk in `spilled` (a copy of `result`); older files go."""
        old = entry.spilled
        entry.spilled = spilled
        entry.spilled_from = None if result is None else weakref.ref(result)  # weak: the copy must not pin it
        entry.frames = len(spilled.frame_files)
        if old is not None and old is not spilled:
            old.delete()

    def loaded_from_disk(self, entry: QueueEntry, result: Result) -> None:
        """`result` was read back from `entry.spilled`: the files on disk are a copy of it."""
        entry.spilled_from = weakref.ref(result)

    def spill_now(self, entry: QueueEntry, result: Result) -> None:
        """Write `result` as `entry`'s latest result unless it already is (on the calling thread)."""
        if entry.spilled is not None and entry.spilled_from is not None and entry.spilled_from() is result:
            return
        self.set_spilled(entry, spill_result(self.folder, self.spill_stem(entry), result), result)

    # -- whole documents ---------------------------------------------------------------------------------------------

    def keep(self, entry: QueueEntry, snapshot: Snapshot) -> list[QueueEntry]:
        """Keep `entry`'s document (the most recent now); put away the least recent ones beyond the limit that
        have no unsaved edits, after spilling their latest result. Returns the entries put away."""
        self._documents.pop(entry.key, None)
        self._documents[entry.key] = snapshot
        put_away = []
        for key in list(self._documents)[:-1]:  # never the one just kept
            if len(self._documents) <= self.keep_documents:
                break
            kept = self._documents[key]
            if kept.has_unsaved_edits or kept.state.captions:
                continue  # work by hand is never dropped
            owner = self.by_key(key)
            if owner is not None and kept.result is not None:
                self.spill_now(owner, kept.result)
            del self._documents[key]
            if owner is not None:
                put_away.append(owner)
        return put_away

    def document(self, entry: QueueEntry) -> Snapshot | None:
        """`entry`'s whole document if it is kept (it becomes the most recent)."""
        snapshot = self._documents.get(entry.key)
        if snapshot is not None:
            self._documents.move_to_end(entry.key)
        return snapshot

    def peek(self, entry: QueueEntry) -> Snapshot | None:
        """`entry`'s whole document if it is kept (its place in line unchanged)."""
        return self._documents.get(entry.key)

    def take(self, entry: QueueEntry) -> Snapshot | None:
        """Take `entry`'s document out (to show it)."""
        return self._documents.pop(entry.key, None)

    @property
    def documents_kept(self) -> int:
        return len(self._documents)

    def kept_entries(self) -> list[QueueEntry]:
        return [entry for entry in self.entries if entry.key in self._documents]

    def edited(self) -> list[QueueEntry]:
        """Entries whose kept document has edits in no file."""
        return [
            entry
            for entry in self.entries
            if entry.key in self._documents and self._documents[entry.key].has_unsaved_edits
        ]


# -- Save All ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSave:
    entry: QueueEntry
    target: Path | None  # None: skipped (see `reason`)
    reason: str = ""  # why it is skipped
    exists: bool = False  # the target is a file already there (written only when the person agrees)


def output_suffix(entry: QueueEntry, suffix: str | None) -> str:
    """The extension Save All writes for `entry`: `suffix` when chosen, else the input's own when MemeClean writes
    it (an animation keeps .gif/.webp/.png), else .png."""
    if suffix:
        return suffix
    own = entry.path.suffix.lower()
    if own == ".jfif":
        return ".jpg"
    return own if own in SAVE_FORMATS else ".png"


def plan_save_all(
    entries: Iterable[QueueEntry],
    folder: Path,
    suffix: str | None,
    inputs: Iterable[Path] = (),
    cleaned: Callable[[QueueEntry], bool] = lambda entry: entry.has_result,
) -> list[PlannedSave]:
    """Where Save All writes each entry in `folder`: its own name (with the chosen or kept extension), `-2`, `-3`, …
    when two pictures of the batch have the same name. An input file is never a target; an existing file is marked
    `exists` (the caller asks once for the whole batch)."""
    protected = {path_key(Path(path)) for path in inputs}
    taken: set[str] = set()
    plan = []
    for entry in entries:
        if not cleaned(entry):
            plan.append(PlannedSave(entry, None, "not cleaned"))
            continue
        extension = output_suffix(entry, suffix)
        stem = entry.path.stem
        for number in itertools.count(1):
            name = f"{stem}{extension}" if number == 1 else f"{stem}-{number}{extension}"
            target = folder / name
            if os.path.normcase(name) not in taken:
                break
        taken.add(os.path.normcase(name))
        if path_key(target) in protected:
            plan.append(PlannedSave(entry, None, "it would replace an input picture"))
        else:
            plan.append(PlannedSave(entry, target, exists=target.exists()))
    return plan


@dataclass(frozen=True, eq=False)
class SaveItem:
    """One picture for Save All's worker (`jobs.queue.save_pictures`)."""

    key: int  # the entry's
    target: Path
    result: Result | None  # in memory, or
    spilled: SpilledResult | None  # on disk
    overwrite: bool
    protect: tuple[Path, ...]  # the inputs: never written


@dataclass(frozen=True)
class SaveOutcome:
    """What became of one `SaveItem`."""

    key: int
    target: Path
    status: str  # "saved", "failed" or "skipped"
    message: str = ""
