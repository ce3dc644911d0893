"""Clean a whole folder of pictures: plan the jobs, decide what to skip, run them on an engine, keep a manifest.

`memeclean clean --input-dir` is one caller; another front end or engine (Ray Data, issue 14) runs the SAME plan,
so that output names, skips, the resume rule and the manifest are the same whichever engine cleans the pictures.
Nothing here imports Qt; torch is imported only when a picture is cleaned.

The pieces, in the order a run uses them:

1. `plan_folder(input_dir, output_dir, mask_dir=None, *, recursive=False, resume=False, overwrite=False)
   -> FolderPlan`. Walks the folder (sorted; subfolders with `recursive`, never the output or mask folder) and
   decides everything that needs no model:
   - `plan.items: list[FolderItem]` — the pictures to clean, sorted by relative path. A `FolderItem` is plain
     strings (`input`, `output`, `mask`, `relative`), the upright `size` read from the header, and `overwrite`
     (may the cleaner replace existing targets). `item.to_row()` / `FolderItem.from_row(row)` turn it into a
     plain dict and back (for engines that ship rows, like Ray Data).
   - `plan.settled: list[Record]` — manifest records decided without cleaning: `skipped` (not an image, not a
     regular file, already complete with `resume`) and `failed` (two inputs with one output name, an output that
     would be an input, an existing output without `overwrite`/`resume`).
   Output names: `OUT/<relative folder>/<stem>.png`, or `.gif`/`.webp` for an animated GIF/WebP (as
   `memeclean clean FILE --output-dir` names them); masks `MASK/<relative folder>/<stem>.png`.
2. `ItemCleaner(settings: CleanSettings, model=None)` — a picklable callable `item -> Record` that cleans one
   picture and never raises for a bad picture (the record says `failed` and why). It loads its model on the
   first call, so each worker process (or Ray actor) loads it once; pickling drops a loaded model. It also
   accepts a row dict in place of a `FolderItem`. `settings.threads` sets the process's torch/OpenCV threads on
   that first call: outputs are byte-identical across engines for the same threads per process (not across
   different thread counts; see `CleanSettings`), so give every engine the same count to compare them.
3. An engine: `Engine = Callable[[Sequence[FolderItem], CleanOne], Iterator[Record]]` yields one record per item,
   in any order (`CleanOne = Callable[[FolderItem], Record]`). Here: `run_in_process` (two at a time on threads) and
   `process_pool(jobs)` (that many spawned processes; a dead worker ends the run with a MemeCleanError).
4. `run_plan(plan, clean_one, engine=run_in_process, manifest=None, on_record=None) -> FolderSummary` writes the
   settled records, then each engine record as it arrives, to the manifest (`open_manifest(path)`) and to
   `on_record(record, settled)` (progress, notes), and counts them (`summary.ok`: nothing failed).

A Ray engine plugs in at step 3, for example::

    def ray_engine(concurrency):
        def run(items, clean_one):            # clean_one: an ItemCleaner (picklable, loads its model once)
            ds = ray.data.from_items([item.to_row() for item in items])
            ds = ds.map(type(clean_one), fn_constructor_args=(clean_one.settings,), concurrency=concurrency)
            yield from ds.iter_rows()         # record dicts (Manifest.write turns numpy values plain)
        return run
    summary = run_plan(plan, ItemCleaner(settings), engine=ray_engine(4), manifest=manifest)

Resume rule ("complete"): outputs are written by `imageio.save_image`/`save_mask` through a temporary file in the
target folder that is fsync'ed and renamed into place, so a file under an output's name is never half-written, and
the mask is written before the picture. A picture is complete when its output (and its mask, when masks are asked
for) exists, re-opens, passes Pillow's `verify()` and has the input's upright size. With `resume` such pictures are
skipped; a picture with only some targets complete (killed between the mask and the picture) is cleaned again and
its leftover replaced; a target that exists but is not complete (not an image, another size) is never replaced
without `overwrite`. Stale temporary files (`.<name>.<8 hex>.tmp`) next to planned targets are removed. Resume
does not notice a change of resolution or model: it trusts complete outputs.

Manifest: JSON lines, one per picture, appended, flushed and fsync'ed as each picture ends, so a killed run keeps
its lines (a torn last line from a power cut is dropped when the file is opened again). Fields (`MANIFEST_FIELDS`):
input, output, mask (paths as strings; null when none), size ([width, height] or null), working_size ([w, h] the
network ran at), ms (wall time of the picture in this run), replaced (share of the pixels replaced, 0..1, averaged
over an animation's frames), status ("done", "failed" or "skipped"), error (the one-line reason a picture failed),
note (why it was skipped). A rerun with the same manifest does not repeat a line for a complete picture recorded as
done there, nor for a file skipped for the same reason. Lines come in the order pictures finish (with several
processes, not the plan's order).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any, Self, TextIO

from ..cleaning.options import DEFAULT_OPTIONS, CleanOptions
from ..errors import ImageSaveError, MemeCleanError, describe_unexpected
from ..files.filenames import IMAGE_SUFFIXES, cleaned_suffix, path_key

__all__ = [
    "MANIFEST_FIELDS",
    "CleanOne",
    "CleanSettings",
    "Engine",
    "FolderItem",
    "FolderPlan",
    "FolderSummary",
    "ItemCleaner",
    "Manifest",
    "Record",
    "clean_item",
    "is_complete",
    "open_manifest",
    "plan_folder",
    "process_pool",
    "run_in_process",
    "run_plan",
]

MANIFEST_FIELDS = ("input", "output", "mask", "size", "working_size", "ms", "replaced", "status", "error", "note")

# imageio._atomic_write's temporary files: ".<target name>.<8 hex digits>.tmp" in the target's folder.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.tmp$")

NOTE_NOT_IMAGE = "not an image file"
NOTE_NOT_REGULAR = "not a regular file"
NOTE_BROKEN_LINK = "a broken symbolic link"
NOTE_LINKED_FOLDER = "a link to a folder (not followed)"
NOTE_COMPLETE = "already complete"

Record = dict[str, Any]


# --------------------------------------------------------------------------------------------------------------
# The plan


@dataclass(frozen=True)
class FolderItem:
    """One picture to clean: where it comes from and where its output (and mask) go, as plain strings."""

    input: str
    output: str
    mask: str | None  # None when no masks are written
    relative: str  # the input's path inside the input folder, with "/" separators
    size: tuple[int, int] | None = None  # upright (width, height) from the header; None when it did not open
    overwrite: bool = False  # existing targets may be replaced (--overwrite, or leftovers of a resumed run)

    def to_row(self) -> dict[str, Any]:
        """A plain dict (JSON-able) for engines that ship rows."""
        row = dataclasses.asdict(self)
        row["size"] = list(self.size) if self.size is not None else None
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FolderItem:
        size = row.get("size")
        return cls(
            input=str(row["input"]),
            output=str(row["output"]),
            mask=None if row.get("mask") is None else str(row["mask"]),
            relative=str(row["relative"]),
            size=None if size is None else (int(size[0]), int(size[1])),
            overwrite=bool(row["overwrite"]),
        )


@dataclass
class FolderPlan:
    input_dir: Path
    output_dir: Path
    mask_dir: Path | None
    items: list[FolderItem] = field(default_factory=list)  # to clean, sorted by relative path
    settled: list[Record] = field(default_factory=list)  # skipped or failed without cleaning, in walk order
    images: int = 0  # files with an image extension (cleaned, complete or failed)
    subfolders: int = 0  # subfolders seen and not entered (without `recursive`)
    removed_temp_files: list[Path] = field(default_factory=list)  # stale temporary files removed (resume)


def new_record(input: str, output: str | None = None, mask: str | None = None, **values: Any) -> Record:
    """A manifest record with every field, in MANIFEST_FIELDS order."""
    record: Record = dict.fromkeys(MANIFEST_FIELDS)
    record.update(input=input, output=output, mask=mask)
    record.update(values)
    return record


def plan_folder(
    input_dir: str | Path,
    output_dir: str | Path,
    mask_dir: str | Path | None = None,
    *,
    recursive: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    crop_bars: bool = False,
) -> FolderPlan:
    """Walk `input_dir` and decide, for every file, its output and mask names and whether it is cleaned.

    `crop_bars`: the pictures are cleaned with their caption bars cropped off, so a complete output (for
    `resume`) may be shorter than its input.

    Raises MemeCleanError for a missing input folder or folders that overlap badly; everything about single
    files goes into the plan (see the module docstring).
    """
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    mask_dir = Path(mask_dir) if mask_dir is not None else None
    _check_folders(input_dir, output_dir, mask_dir)
    plan = FolderPlan(input_dir, output_dir, mask_dir)
    files = _picture_files(plan, recursive)
    input_keys = {path_key(path) for _, path in files}
    plan.images = len(files)

    claimed: dict[str, str] = {}  # output/mask key -> the input that names it
    for relative, path in files:
        size, extension = _probe(path)
        folder = PurePosixPath(*relative.parts[:-1])
        output = output_dir / folder / f"{relative.stem}{extension}"
        mask = mask_dir / folder / f"{relative.stem}.png" if mask_dir is not None else None
        targets = [output] + ([mask] if mask is not None else [])
        base = new_record(
            str(path), str(output), None if mask is None else str(mask), size=list(size) if size is not None else None
        )
        error = _name_clash(targets, claimed, input_keys)
        for target in targets:
            claimed.setdefault(path_key(target), str(path))
        if error is None and not overwrite and size is not None:
            error = _existing_outputs(targets, path, size, resume=resume, cropped=crop_bars)
            if error == NOTE_COMPLETE:
                plan.settled.append({**base, "status": "skipped", "note": NOTE_COMPLETE})
                continue
        if error is not None:
            plan.settled.append({**base, "status": "failed", "error": error})
            continue
        replace = overwrite or (resume and any(os.path.lexists(target) for target in targets))
        plan.items.append(
            FolderItem(str(path), str(output), None if mask is None else str(mask), relative.as_posix(), size, replace)
        )
    if resume:
        plan.removed_temp_files = _remove_stale_temp_files(plan.items)
    return plan


def _check_folders(input_dir: Path, output_dir: Path, mask_dir: Path | None) -> None:
    """MemeCleanError for a missing input folder, or output and mask folders that overlap it or each other."""
    if not input_dir.is_dir():
        reason = "does not exist" if not input_dir.exists() else "is not a folder"
        raise MemeCleanError(f"the input folder '{input_dir}' {reason}")
    if path_key(output_dir) == path_key(input_dir):
        raise MemeCleanError(f"the output folder must not be the input folder '{input_dir}'")
    if mask_dir is not None and path_key(mask_dir) == path_key(input_dir):
        raise MemeCleanError(f"the mask folder must not be the input folder '{input_dir}'")
    if mask_dir is not None and path_key(mask_dir) == path_key(output_dir):
        raise MemeCleanError("the mask folder and the output folder must be different (both name files <input>.png)")


def _picture_files(plan: FolderPlan, recursive: bool) -> list[tuple[PurePosixPath, Path]]:
    """(relative path, path) of every file with a picture's suffix; the others are settled as skipped."""
    excluded = {path_key(plan.output_dir)} | ({path_key(plan.mask_dir)} if plan.mask_dir is not None else set())
    files: list[tuple[PurePosixPath, Path]] = []
    for relative, path, note in _walk(plan.input_dir, recursive, excluded, plan):
        if note is not None:
            plan.settled.append(new_record(str(path), status="skipped", note=note))
        elif path.suffix.lower() not in IMAGE_SUFFIXES:  # one that does not load is a failed picture
            plan.settled.append(new_record(str(path), status="skipped", note=NOTE_NOT_IMAGE))
        else:
            files.append((relative, path))
    return files


def _name_clash(targets: list[Path], claimed: dict[str, str], input_keys: set[str]) -> str | None:
    """Why a picture cannot have these targets: another input names one of them, or one is an input."""
    for target in targets:
        earlier = claimed.get(path_key(target))
        if earlier is not None:
            return f"'{target}' is also the output of '{earlier}'; rename one of the inputs"
        if path_key(target) in input_keys:
            return f"cannot write '{target}': it is an input file, which MemeClean never overwrites"
    return None


def _existing_outputs(
    targets: list[Path], path: Path, size: tuple[int, int], *, resume: bool, cropped: bool
) -> str | None:
    """What targets already on disk (without --overwrite) mean: NOTE_COMPLETE when `resume` finds them all complete,
    the reason the picture fails when one is in the way, None when none exists or the rest may be written."""
    existing = [target for target in targets if os.path.lexists(target)]
    if not existing:
        return None
    if not resume:
        return (
            f"'{existing[0]}' already exists (use --overwrite to replace it, "
            "or --resume to skip the pictures already done)"
        )
    complete = [target for target in existing if is_complete(target, size, cropped=cropped)]
    if len(complete) == len(targets):
        return NOTE_COMPLETE
    broken = [target for target in existing if target not in complete]
    if broken:
        return f"'{broken[0]}' already exists and is not a complete output of '{path}' (use --overwrite to replace it)"
    return None


def _walk(
    input_dir: Path, recursive: bool, excluded: set[str], plan: FolderPlan, relative: PurePosixPath | None = None
) -> Iterator[tuple[PurePosixPath, Path, str | None]]:
    """(relative path, path, None) for regular files, (..., reason) for entries skipped; sorted by name."""
    relative = relative if relative is not None else PurePosixPath()
    folder = input_dir / relative
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        if relative == PurePosixPath():
            raise MemeCleanError(
                f"cannot read the input folder '{input_dir}': {(error.strerror or str(error)).lower()}"
            ) from None
        yield relative, folder, f"a folder that cannot be read ({(error.strerror or str(error)).lower()})"
        return
    for entry in entries:
        path, child = Path(entry.path), relative / entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if not recursive:
                    plan.subfolders += 1
                elif path_key(path) not in excluded:
                    yield from _walk(input_dir, recursive, excluded, plan, child)
            elif entry.is_symlink():
                if not path.exists():
                    yield child, path, NOTE_BROKEN_LINK
                elif path.is_dir():
                    if recursive:
                        yield child, path, NOTE_LINKED_FOLDER
                    else:
                        plan.subfolders += 1
                elif path.is_file():
                    yield child, path, None
                else:
                    yield child, path, NOTE_NOT_REGULAR
            elif entry.is_file(follow_symlinks=False):
                yield child, path, None
            else:
                yield child, path, NOTE_NOT_REGULAR  # a FIFO, socket or device: reading it could block forever
        except OSError as error:
            yield child, path, f"cannot be read ({(error.strerror or str(error)).lower()})"


def _probe(path: Path) -> tuple[tuple[int, int] | None, str]:
    """The upright (width, height) and the output extension, from the header only; (None, ".png") when the file
    does not open (cleaning it then reports why)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            width, height = img.size
            try:
                orientation = int(img.getexif().get(0x0112, 1))
            except Exception:  # noqa: BLE001 - broken EXIF: load_image ignores it too
                orientation = 1
            if orientation in (5, 6, 7, 8):  # transposed or turned by a quarter: load_image swaps the sides
                width, height = height, width
            return (width, height), cleaned_suffix(img.format, bool(getattr(img, "is_animated", False)))
    except Exception:  # noqa: BLE001 - a file that does not open is cleaned, and fails with its reason, later
        return None, ".png"


def is_complete(path: str | Path, size: tuple[int, int], *, cropped: bool = False) -> bool:
    """True when `path` is a whole image of `size` (width, height): it opens, passes `verify()` and fits. With
    `cropped` (caption bars cropped off) it may have fewer rows than `size`, never more."""
    from PIL import Image

    path = Path(path)
    width, height = size
    try:
        if not path.is_file():
            return False
        with Image.open(path) as img:
            if img.width != width or not (0 < img.height <= height if cropped else img.height == height):
                return False
            img.verify()  # reads to the end, checks the chunks' CRCs (PNG): a truncated file fails
        return True
    except Exception:  # noqa: BLE001 - whatever cannot be read back whole is not complete
        return False


def _remove_stale_temp_files(items: Iterable[FolderItem]) -> list[Path]:
    """Remove temporary files an interrupted run left next to the planned targets."""
    names_by_folder: dict[Path, set[str]] = {}
    for item in items:
        for target in (item.output, item.mask):
            if target is not None:
                target_path = Path(target)
                names_by_folder.setdefault(target_path.parent, set()).add(target_path.name)
    removed = []
    for folder, names in sorted(names_by_folder.items()):
        try:
            with os.scandir(folder) as scan:
                candidates = [entry for entry in scan if entry.is_file(follow_symlinks=False)]
        except OSError:
            continue  # not created yet
        for entry in candidates:
            match = _TEMP_NAME.match(entry.name)
            if match and match["name"] in names:
                try:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
                except OSError:
                    pass
    return removed


# --------------------------------------------------------------------------------------------------------------
# Cleaning one picture


@dataclass(frozen=True)
class CleanSettings:
    """What every worker needs to clean a picture; plain values, so it pickles to any process or actor."""

    options: CleanOptions = DEFAULT_OPTIONS  # resolution, post-processing, caption bars
    model: str | None = None  # weights file; None = the bundled model
    device: str = "auto"
    runtime: str = "auto"  # what runs the network (`runtime.RUNTIMES`)
    # torch/OpenCV threads in each process that cleans; None leaves the libraries' defaults. The network's sums
    # are split between threads, so a different count can round a few pixels differently (one level); the
    # same count gives byte-identical outputs whatever the engine or the number of processes.
    threads: int | None = None


class ItemCleaner:
    """`cleaner(item) -> Record`: clean one planned picture with a model loaded once per process."""

    def __init__(self, settings: CleanSettings, model: Any = None):
        from ..network.lazy import LazyModel

        self.settings = settings
        # A checkpoint.LoadedModel given, or loaded on the first call; a pickled copy loads its own.
        self.holder = LazyModel(settings.model, settings.device, settings.runtime, settings.threads, model=model)

    def model(self) -> Any:
        return self.holder.get()

    def __call__(self, item: FolderItem | dict[str, Any]) -> Record:
        if not isinstance(item, FolderItem):
            item = FolderItem.from_row(item)
        return clean_item(item, self.model(), self.settings.options)


def clean_item(item: FolderItem, model: Any, options: CleanOptions = DEFAULT_OPTIONS) -> Record:
    """Load, clean every frame, write the mask and then the picture; the record says how it went (never raises
    for a bad picture)."""
    from ..cleaning.whole_image import clean_image
    from ..files.imageio import load_image, save_image, save_mask
    from ..files.safe_write import make_folder

    started = time.perf_counter()
    record = new_record(item.input, item.output, item.mask, size=list(item.size) if item.size else None)
    try:
        image = load_image(item.input)
        record["size"] = [image.width, image.height]
        result = clean_image(image, options, model)
        record["working_size"] = list(result.working_size)
        # The mask first: once the picture exists, everything of this item exists (the resume rule).
        if item.mask is not None:
            make_folder(Path(item.mask).parent, error=ImageSaveError)
            save_mask(item.mask, result.mask, overwrite=item.overwrite, protect=[item.input])
        make_folder(Path(item.output).parent, error=ImageSaveError)
        save_image(item.output, result.image, overwrite=item.overwrite, protect=[item.input])
        record.update(status="done", replaced=round(result.replaced, 6))
    except MemeCleanError as error:
        record.update(status="failed", error=_message_for(item.input, error))
    except MemoryError:
        record.update(status="failed", error=f"{item.input}: not enough memory to clean it (try a lower --resolution)")
    except Exception as error:  # noqa: BLE001 - a bug or a device failure: reported for this picture, the others go on
        record.update(status="failed", error=f"{item.input}: unexpected error: {describe_unexpected(error)}")
    record["ms"] = round((time.perf_counter() - started) * 1000.0, 1)
    return record


def _message_for(source: str, error: Exception) -> str:
    """`<file>: <message>`, without naming the file twice when the message already quotes it."""
    message = str(error)
    return message if f"'{source}'" in message else f"{source}: {message}"


# --------------------------------------------------------------------------------------------------------------
# Engines

CleanOne = Callable[[FolderItem], Record]
Engine = Callable[[Sequence[FolderItem], CleanOne], Iterator[Record]]


IN_FLIGHT = 2  # pictures `run_in_process` works on at once


def run_in_process(items: Sequence[FolderItem], clean_one: CleanOne) -> Iterator[Record]:
    """The pictures in this process, `IN_FLIGHT` at a time on threads, their records in the items' order. The
    networks use every core, but a picture's decoding, classical fill and encoding run on one: two pictures in
    flight keep the other cores busy (bench/bench_folder.py). The model is shared; its runners are thread-safe.
    Ctrl+C lets the pictures being cleaned finish (their outputs are whole) and drops the rest."""
    pool = ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="memeclean-clean")
    queue = iter(items)
    pending: deque[Future] = deque(pool.submit(clean_one, item) for item in islice(queue, IN_FLIGHT))
    try:
        while pending:
            record = pending.popleft().result()
            pending.extend(pool.submit(clean_one, item) for item in islice(queue, 1))  # one in, before handing on
            yield record
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def process_pool(jobs: int) -> Engine:
    """An engine with `jobs` worker processes (spawned: safe with torch's threads, and the same on every OS);
    each gets a pickled copy of `clean_one` and so loads its own model once. Ctrl+C lets the pictures being
    cleaned finish (their outputs are whole) and drops the rest."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")

    def run(items: Sequence[FolderItem], clean_one: CleanOne) -> Iterator[Record]:
        if not items:
            return
        workers = min(jobs, len(items))
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker
        )
        pending: set[Future] = set()
        queue = iter(items)
        try:
            while True:
                for item in queue:  # keep every worker busy and one more picture queued for each
                    pending.add(pool.submit(clean_one, item))
                    if len(pending) >= 2 * workers:
                        break
                if not pending:
                    return
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        raise MemeCleanError(
                            "a worker process stopped unexpectedly (out of memory?); run again with --resume to go on"
                        ) from None
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)

    return run


def _start_worker() -> None:
    """Worker processes leave Ctrl+C to the parent, which stops handing out pictures, and end when the parent
    dies (kill -9, a crash): the pool would otherwise leave them waiting for work forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:

        def exit_with_parent() -> None:
            parent.join()  # returns when the parent is gone
            os._exit(1)  # a picture being written is left as a temporary file, which --resume removes

        threading.Thread(target=exit_with_parent, name="exit-with-parent", daemon=True).start()


# --------------------------------------------------------------------------------------------------------------
# The manifest and the run


class Manifest:
    """An append-only JSON-lines file; each record is flushed and fsync'ed as it is written."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.done: set[tuple[str, str]] = set()  # (input, output) of the pictures recorded as done
        self.skipped: set[tuple[str, str]] = set()  # (input, note) of the files recorded as skipped
        self._file: TextIO | None = None
        self._open()

    def _open(self) -> None:
        if self.path.is_dir():
            raise MemeCleanError(f"cannot write the manifest '{self.path}': it is a folder")
        try:
            with open(self.path, "a+b") as file:
                file.seek(0)
                data = file.read()
                cut = data.rfind(b"\n") + 1
                for number, line in enumerate(data[:cut].decode("utf-8").splitlines(), 1):
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    if not isinstance(record, dict) or "input" not in record or "status" not in record:
                        raise ValueError(f"line {number}")
                    self._remember(record)
                if cut < len(data):
                    # A torn last line (a power cut mid-write) is dropped so that new lines stay whole; anything
                    # else there is not ours to cut.
                    if not data[cut:].startswith(b'{"input": '):
                        raise ValueError("last line")
                    file.truncate(cut)
            self._file = open(self.path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed by close())
        except (ValueError, UnicodeDecodeError):
            raise MemeCleanError(
                f"'{self.path}' is not a MemeClean manifest (JSON lines); choose a new file for --manifest"
            ) from None
        except OSError as error:
            raise MemeCleanError(
                f"cannot write the manifest '{self.path}': {(error.strerror or str(error)).lower()}"
            ) from None

    def write(self, record: Record) -> None:
        assert self._file is not None, "the manifest is closed"
        # MANIFEST_FIELDS first, in their order, whatever order an engine's rows come in (extra keys after them)
        ordered = {name: record.get(name) for name in MANIFEST_FIELDS} | record
        try:
            self._file.write(json.dumps(ordered, ensure_ascii=False, default=_plain) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as error:
            raise MemeCleanError(
                f"cannot write the manifest '{self.path}': {(error.strerror or str(error)).lower()}"
            ) from None
        self._remember(record)

    def _remember(self, record: Record) -> None:
        if record.get("status") == "done" and record.get("output") is not None:
            self.done.add((str(record["input"]), str(record["output"])))
        elif record.get("status") == "skipped":
            self.skipped.add((str(record["input"]), str(record.get("note"))))

    def has(self, record: Record) -> bool:
        """True when a rerun would only repeat this settled record: the picture is recorded as done, or the
        file as skipped for the same reason."""
        if record.get("status") == "skipped" and record.get("note") == NOTE_COMPLETE:
            return (str(record["input"]), str(record["output"])) in self.done
        if record.get("status") == "skipped":
            return (str(record["input"]), str(record.get("note"))) in self.skipped
        return False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _plain(value: Any) -> Any:
    """numpy arrays and scalars (rows that went through Arrow, e.g. Ray Data) as plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def open_manifest(path: str | Path) -> Manifest:
    """Open (or create) a manifest for appending; MemeCleanError if it cannot be written or is not a manifest."""
    return Manifest(path)


@dataclass
class FolderSummary:
    cleaned: int = 0  # done in this run
    failed: int = 0
    complete: int = 0  # skipped: done by an earlier run (resume)
    skipped: int = 0  # not images, not regular files
    images: int = 0  # pictures planned: cleaned + failed + complete

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def count(self, record: Record) -> None:
        status = record.get("status")
        if status == "done":
            self.cleaned += 1
        elif status == "failed":
            self.failed += 1
        elif record.get("note") == NOTE_COMPLETE:
            self.complete += 1
        else:
            self.skipped += 1


def run_plan(
    plan: FolderPlan,
    clean_one: CleanOne,
    engine: Engine = run_in_process,
    manifest: Manifest | None = None,
    on_record: Callable[[Record, bool], None] | None = None,
) -> FolderSummary:
    """Run the plan's items on `engine`, recording every picture; `on_record(record, settled)` is called for the
    settled records first (settled=True), then for each cleaned one as it finishes."""
    summary = FolderSummary(images=plan.images)
    for record in plan.settled:
        if manifest is not None and not manifest.has(record):
            manifest.write(record)
        summary.count(record)
        if on_record is not None:
            on_record(record, True)
    for record in engine(plan.items, clean_one):
        if manifest is not None:
            manifest.write(record)
        summary.count(record)
        if on_record is not None:
            on_record(record, False)
    return summary
