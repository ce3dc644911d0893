"""What the Train dialog's worker runs: plain functions over the core trainer and evaluator (no Qt, no torch here).

`run_training(request, progress, cancel)` is a generator job: it prepares any plain folder of pictures into the
user data folder (the core trainer reads prepared folders only), drives `memeclean_core.training.train.training_run`
(the one training loop) yielding each of its reports as a `TrainerReport`, and, unless cancelled, measures the new
model and the reference (bundled) model on a few validation pictures; that measurement is its return value. torch
is imported by the core modules called here, in the worker thread.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memeclean_core.callbacks import CancelFn, ProgressFn
from memeclean_core.errors import Cancelled, MemeCleanError
from memeclean_core.files.filenames import IMAGE_SUFFIXES
from memeclean_core.geometry import TRAIN_MAX_SIDE

PREPARED_MARKERS = ("images", "pairs", "fonts", "clipart")  # what `train.build_sources` reads
COUNT_LIMIT = 1000  # stop counting pictures here: a look at a folder must stay instant
VISIT_LIMIT = 20_000  # ... and stop walking after this many files and folders, pictures or not


@dataclass(frozen=True)
class DataFolder:
    """A folder the person picked, and how the trainer can use it."""

    path: Path
    kind: str  # "prepared" (images/, pairs/ ...), "pictures" (a plain folder: prepared first), "fixes" (your hand
    # fixes: memeclean_core.training.fixes), "empty", "missing"
    pictures: int = 0  # pictures found in a plain folder (at most COUNT_LIMIT); fixes in a fixes folder

    @property
    def usable(self) -> bool:
        return self.kind != "missing"

    def describe(self) -> str:
        """One line for the folder list."""
        if self.kind == "prepared":
            parts = [name for name in PREPARED_MARKERS if (self.path / name).is_dir()]
            return "prepared data (" + ", ".join(f"{name}/" for name in parts) + ")"
        if self.kind == "pictures":
            count = f"{self.pictures}+" if self.pictures >= COUNT_LIMIT else str(self.pictures)
            return f"{count} picture(s): checked and copied to your MemeClean data folder first"
        if self.kind == "fixes":
            from memeclean_core.training.fixes import list_fixes, split_fixes

            held = len(split_fixes(list_fixes(self.path))[1])
            return (
                f"{self.pictures} of your fixes: fine-tunes the model in use, mixed with synthetic memes; "
                f"{held} held out to measure it"
            )
        if self.kind == "empty":
            return "no pictures found: generated pictures and the bundled font only"
        return "folder not found"


def inspect_data_folder(path: str | Path) -> DataFolder:
    """Classify a folder the way `memeclean_core.training.train.build_sources` will read it, without reading any image.

    The trainer takes a folder without images/ or pairs/ for a folder of *generated* pictures only; a plain folder
    of the person's pictures would be silently ignored, so it is recognised here and prepared first.
    """
    path = Path(path).expanduser()
    if not path.is_dir():
        return DataFolder(path, "missing")
    from memeclean_core.training.fixes import is_fixes_folder, list_fixes

    if is_fixes_folder(path):
        return DataFolder(path, "fixes", len(list_fixes(path)))
    if any((path / name).is_dir() for name in PREPARED_MARKERS):
        return DataFolder(path, "prepared")
    count = 0
    for visited, item in enumerate(path.rglob("*")):
        if visited >= VISIT_LIMIT:
            break  # a huge tree (a whole home folder): what was seen decides, the look stays instant
        if item.suffix.lower() in IMAGE_SUFFIXES and item.is_file():
            count += 1
            if count >= COUNT_LIMIT:
                break
    return DataFolder(path, "pictures" if count else "empty", count)


def prepared_copy_dir(source: str | Path) -> Path:
    """Where a plain folder is prepared: <user data>/data/<name>-<hash of its path> (the same folder each time, so
    training twice on one folder prepares it over the same copy)."""
    from memeclean_core.files.filenames import safe_name
    from memeclean_core.resources import user_data_dir

    source = Path(source).expanduser().resolve()
    digest = hashlib.sha1(str(source).encode("utf-8")).hexdigest()[:8]
    return user_data_dir() / "data" / f"{safe_name(source.name or 'pictures')}-{digest}"


@dataclass
class TrainRequest:
    """Everything the dialog asks for; `overrides` sets any other TrainConfig field (tests: a tiny model)."""

    folders: list[str]
    out: str
    resolution: int = TRAIN_MAX_SIDE  # largest picture long side trained on (TrainConfig.max_side)
    minutes: float | None = 30.0
    steps: int | None = None
    device: str = "auto"
    resume: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    eval_cases: int = 4  # validation pictures measured after training (a few seconds)
    eval_resolution: int = 256  # working resolution of that measurement
    eval_long_side: int = 320  # size of generated validation pictures
    reference: str | None = None  # model to compare with; None: the bundled one
    overwrite: bool = False  # replace an existing `out` (the dialog asked)
    init: str | None = None  # weights to fine-tune (a fixes folder is among the folders): the model in use
    fix_resolution: int = 512  # working resolution of the before/after measurement on your held-out fixes

    def config(self, folders: list[str]) -> Any:
        """The core TrainConfig for the (prepared) `folders`; imports the trainer (and torch)."""
        from memeclean_core.network.device import pick_device
        from memeclean_core.training.train import TrainConfig

        # Cancel is seen at a report: on the CPU (a step takes seconds) report every step; on a GPU every few,
        # as reading the loss waits for the GPU.
        try:
            device = pick_device(self.device)
        except MemeCleanError:  # the core's message names the CLI's --device
            raise MemeCleanError(
                f"there is no {self.device.upper()} GPU here; choose auto or cpu as the device"
            ) from None
        every = 1 if device.type == "cpu" else 5
        values: dict[str, Any] = dict(
            data=folders,
            out=self.out,
            steps=self.steps,
            minutes=self.minutes,
            max_side=self.resolution,
            device=self.device,
            resume=self.resume,
            progress_every=every,
            preview_every=10 * every,
            overwrite=self.overwrite,
        )
        if self.init and not self.resume:
            values.update(init=self.init, lr=5e-4, warmup_steps=20)  # fine-tuning: gentle steps from the weights
        values.update(self.overrides)
        if values.get("min_side", 256) > values["max_side"]:
            values["min_side"] = values["max_side"]
        return TrainConfig(**values)


@dataclass
class TrainOutcome:
    """What a finished run hands back to the dialog."""

    path: Path
    steps: int
    seconds: float
    validation: str = ""  # where the validation pictures came from
    fix_rows: list[tuple[str, float | None]] = field(default_factory=list)  # (label, mask IoU on held-out fixes)
    fix_note: str = ""  # how many fixes were held out, or why they were not measured
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (label, metrics row of evaluate_model)
    note: str = ""  # e.g. why the reference could not be measured


def prepare_folders(folders: list[str], progress: ProgressFn, cancel: CancelFn) -> list[str]:
    """The folders as the trainer reads them: plain folders of pictures are prepared (checked, resized, organised,
    a validation part held out) into the user data folder first. Raises MemeCleanError for an unusable folder."""
    from memeclean_core.data.prepare import prepare

    ready = []
    for folder in folders:
        found = inspect_data_folder(folder)
        if found.kind == "missing":
            raise MemeCleanError(f"training data folder not found: '{found.path}'")
        if found.kind != "pictures":
            ready.append(str(found.path))
            continue
        dest = prepared_copy_dir(found.path)
        name = found.path.name

        def step(fraction: float, text: str, name: str = name) -> None:
            progress(fraction, f"Preparing '{name}': {text}")

        report = prepare(found.path, dest, progress=step, cancel=cancel)
        if not report.written:
            reason = report.skipped[0][1] if report.skipped else "nothing usable"
            raise MemeCleanError(f"none of the pictures in '{found.path}' can be used ({reason})")
        ready.append(str(dest))
    return ready


@dataclass(frozen=True)
class TrainerReport:
    """What `run_training` yields for every report of the core trainer: its `TrainProgress` and the batch size
    (for steps per second)."""

    progress: (
        Any  # memeclean_core.training.train.TrainProgress (the core's train module imports torch: named, not imported)
    )
    batch: int


def run_training(
    request: TrainRequest, progress: ProgressFn, cancel: CancelFn
) -> Generator[TrainerReport, None, TrainOutcome]:
    """Prepare, train (the core loop, `training_run`: a `TrainerReport` is yielded for every report), then evaluate.
    A generator job for `worker.Task`: closing it (cancel, seen between reports) closes the trainer, which writes
    the checkpoint of the last step, so the file stays loadable and resumable."""
    if not request.folders:
        raise MemeCleanError("add at least one data folder")
    if not request.minutes and not request.steps:
        raise MemeCleanError("give a training budget: minutes or steps")
    folders = prepare_folders(request.folders, progress, cancel)
    if cancel():
        raise Cancelled("training cancelled before it started")
    progress(0.0, "Starting the trainer")
    from memeclean_core.training.train import training_run

    config = request.config(folders)
    last = None
    run = training_run(config, stop=cancel)  # `stop` is checked every step, between reports too
    try:
        for report in run:
            last = report
            yield TrainerReport(report, config.batch)
            if cancel():
                break
    finally:
        run.close()  # the trainer writes its checkpoint whatever ended the run
    step = last.step if last is not None else 0
    seconds = last.elapsed if last is not None else 0.0
    if cancel():
        raise Cancelled(f"training stopped at step {step}; the checkpoint is saved in '{config.out}'")
    outcome = TrainOutcome(Path(config.out), step, seconds)
    evaluate_outcome(outcome, request, folders, progress, cancel)
    evaluate_fixes(outcome, request, folders, progress, cancel)
    return outcome


def evaluate_fixes(
    outcome: TrainOutcome, request: TrainRequest, folders: list[str], progress: ProgressFn, cancel: CancelFn
) -> None:
    """Before and after on your own fixes that were held out of training: mask IoU of the model that was
    fine-tuned (or the reference) and of the new model."""
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.fixes import is_fixes_folder, list_fixes, score_fixes, split_fixes

    held = [fix for folder in folders if is_fixes_folder(folder) for fix in split_fixes(list_fixes(folder))[1]]
    if not any(is_fixes_folder(folder) for folder in folders):
        return
    if not held:
        outcome.fix_note = "too few fixes to hold any out (two or more are needed)"
        return
    outcome.fix_note = f"{len(held)} of your fixes held out of training, working resolution {request.fix_resolution}"
    device = "cpu" if request.device == "auto" else request.device
    before = request.init or request.reference
    models = [
        ("Before (the model fine-tuned)" if request.init else "Before (reference model)", before),
        ("After (your new model)", str(outcome.path)),
    ]
    for number, (label, path) in enumerate(models):

        def step(fraction: float, text: str, number: int = number, label: str = label) -> None:
            progress((number + fraction) / len(models), f"Measuring on your fixes: {label.lower()}")

        try:
            model = load_model(path, device=device)
        except MemeCleanError as error:
            outcome.fix_note += f"; {label}: {error}"
            outcome.fix_rows.append((label, None))
            continue
        outcome.fix_rows.append((label, score_fixes(model, held, request.fix_resolution, progress=step, cancel=cancel)))


def validation_cases(folders: list[str], count: int, long_side: int) -> tuple[list[Any], str]:
    """A few validation cases: the held-out val/ part of the first folder that has one (what `memeclean prepare`
    writes), else pictures generated from the first folder with a seed training does not use."""
    from memeclean_core.training.evaluate import is_saved_set, load_cases, make_validation_set

    for folder in folders:
        val = Path(folder) / "val"
        if is_saved_set(val) or (val / "images").is_dir():
            cases, source = load_cases(val, count=count, seed=0, long_side=long_side)
            return cases[:count], source
    first = Path(folders[0])
    cases = make_validation_set(first, count, seed=9973, long_side=long_side)
    return cases, f"{len(cases)} pictures generated from '{first}' (no held-out val/ part there)"


def evaluate_outcome(
    outcome: TrainOutcome, request: TrainRequest, folders: list[str], progress: ProgressFn, cancel: CancelFn
) -> None:
    """MemeClean with the new weights and with the reference weights on the same few validation pictures."""
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.evaluate import MODEL, evaluate_model

    progress(0.0, "Measuring the new model")
    cases, outcome.validation = validation_cases(folders, request.eval_cases, request.eval_long_side)
    device = "cpu" if request.device == "auto" else request.device  # a small measurement: no GPU start-up cost
    models = [
        ("Your model", outcome.path),
        ("Bundled model" if request.reference is None else "Reference model", request.reference),
    ]
    for number, (label, path) in enumerate(models):
        try:
            model = load_model(path, device=device)
        except MemeCleanError as error:
            outcome.note = f"{label}: {error}"
            continue

        def step(fraction: float, text: str, number: int = number, label: str = label) -> None:
            progress((number + fraction) / len(models), f"Measuring: {label.lower()}")

        result = evaluate_model(model, cases, [request.eval_resolution], baselines=False, progress=step, cancel=cancel)
        row = next(row for row in result["rows"] if row["method"] == MODEL)
        outcome.rows.append((label, row))


def format_number(value: float | None, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "∞" if math.isinf(value) else f"{value:.{digits}f}"
