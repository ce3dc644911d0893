"""Everything about a training run that can be wrong is found before the first step, in one line each.

`check_train_config(config)` checks every number of a `TrainConfig` (naming the `memeclean train` option), the
network config (`--model-config`), the checkpoint to resume and the types of its training state, the data folders
(a folder of loose pictures that was never prepared is refused; one with nothing in it trains on generated pictures,
and says so) and that the checkpoint can be written where it is to go (never over a file unasked, never over an
input). It returns the notes to show and the checkpoint to resume, read once. Used by `training_run` (so the app's
Train dialog gets the same checks) and by `memeclean train` before it starts.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import MemeCleanError, ModelLoadError, UsageError, WriteError, first_line
from ..files.file_kinds import is_regular_file
from ..files.filenames import IMAGE_SUFFIXES, same_file
from ..files.safe_write import check_target, check_writable_folder, os_reason
from ..options import check_float, check_int, check_optional_float, check_optional_int

# TrainConfig field -> the `memeclean train` option that sets it (messages name what the user typed)
OPTION = {
    "steps": "--steps",
    "minutes": "--minutes",
    "batch": "--batch",
    "crop": "--crop",
    "max_side": "--resolution",
    "lr": "--lr",
    "fill_every": "--fill-every",
    "workers": "--workers",
    "seed": "--seed",
    "model": "--model-config",
    "resume": "--resume",
    "out": "--out",
    "data": "--data",
    "init": "--init",
    "reuse": "--reuse",
    "precision": "--precision",
    "gpu_pack": "--gpu-pack",
    "anchor": "--anchor",
    "anchor_weight": "--anchor-weight",
}

MAX_STEPS = 10**9
MAX_MINUTES = 60 * 24 * 366  # a year
MAX_SIDE = 8192
MAX_WORKERS = 64
MAX_SEED = 2**32 - 1  # what numpy's generators take


@dataclass
class CheckedTrain:
    notes: list[str] = field(default_factory=list)  # one line each, for the user (not errors)
    resume_payload: dict | None = None  # the checkpoint to resume, read and checked
    init_payload: dict | None = None  # the checkpoint whose weights start a new run (--init), read and checked
    anchor_payload: dict | None = None  # the teacher the mask is anchored to (--anchor), read and checked


def _option(name: str) -> str:
    return OPTION.get(name, name)


def check_numbers(config: Any) -> None:
    """Every number of a TrainConfig in its range (UsageError naming the option)."""
    steps = check_optional_int(_option("steps"), config.steps, 1, MAX_STEPS)
    minutes = check_optional_float(_option("minutes"), config.minutes, 0.0, MAX_MINUTES, low_open=True)
    if steps is None and minutes is None:
        raise UsageError("give a budget: --minutes M or --steps N")
    check_int(_option("batch"), config.batch, 1, 1024)
    check_int(_option("crop"), config.crop, 32, 4096)
    check_int(_option("max_side"), config.max_side, 64, MAX_SIDE)
    check_int("min_side", config.min_side, 16, MAX_SIDE)
    if config.min_side > config.max_side:
        raise UsageError(
            f"{_option('max_side')} must be at least {config.min_side} (the smallest picture size "
            f"trained on), got {config.max_side}"
        )
    check_float(_option("lr"), config.lr, 0.0, 1.0, low_open=True)
    check_int("warmup_steps", config.warmup_steps, 0, MAX_STEPS)
    check_float("weight_decay", config.weight_decay, 0.0, 1.0)
    check_float("fill_weight", config.fill_weight, 0.0, 1000.0)
    check_int(_option("fill_every"), config.fill_every, 1, 10**6)
    check_int(_option("workers"), config.workers, 0, MAX_WORKERS)
    check_int(_option("seed"), config.seed, 0, MAX_SEED)
    check_float("checkpoint_minutes", config.checkpoint_minutes, 0.0, MAX_MINUTES)  # 0: after every step
    check_int("progress_every", config.progress_every, 1, 10**6)
    check_int("preview_every", config.preview_every, 0, 10**9)
    check_float(_option("reuse"), config.reuse, 1.0, 1000.0)
    check_float(_option("anchor_weight"), getattr(config, "anchor_weight", 1.0), 0.0, 1000.0)
    if config.precision not in ("auto", "bf16", "fp32"):
        raise UsageError(f"{_option('precision')} must be auto, bf16 or fp32, got {config.precision!r:.40}")
    if config.resume and config.init:
        raise UsageError("give --resume (continue a run) or --init (start from its weights), not both")
    if not isinstance(config.data, (list, tuple)) or not config.data:
        raise UsageError("--data must name at least one folder")


def check_model_config(values: Any):
    """The network config of a new run as a UNetConfig; UsageError for a non-object, unknown keys, bad values."""
    from ..network.model import UNetConfig

    if not isinstance(values, dict):
        raise UsageError(
            f"--model-config must be a JSON object like '{{\"mask_channels\": 24}}', got {type(values).__name__}"
        )
    try:
        return UNetConfig.from_dict(values)
    except (TypeError, ValueError) as error:
        raise UsageError(f"--model-config: {error}") from None


def parse_model_config(text: str | None) -> dict:
    """The --model-config JSON text as a dict (UsageError when it is not JSON or not an object)."""
    import json

    if not text:
        return {}
    try:
        values = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UsageError(f"--model-config is not valid JSON ({first_line(error)[:120]})") from None
    if not isinstance(values, dict):
        raise UsageError(
            f"--model-config must be a JSON object like '{{\"mask_channels\": 24}}', got {type(values).__name__}"
        )
    return values


def check_train_state(state: Any, path: str | os.PathLike[str]) -> None:
    """The "train" part of a checkpoint to resume: step, elapsed time and optimiser state of the right types."""
    if state is None:
        return
    name = f"--resume '{path}'"
    if not isinstance(state, dict):
        raise ModelLoadError(f"{name}: its training state is {type(state).__name__}, not a dictionary")
    step = state.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= MAX_STEPS:
        raise ModelLoadError(
            f"{name}: its training step must be a whole number from 0 to {MAX_STEPS:,}, got {step!r:.40}"
        )
    elapsed = state.get("elapsed", 0.0)
    if isinstance(elapsed, bool) or not isinstance(elapsed, (int, float)) or not math.isfinite(elapsed) or elapsed < 0:
        raise ModelLoadError(f"{name}: its elapsed time must be a finite number of seconds >= 0, got {elapsed!r:.40}")
    optimiser = state.get("optimiser")
    if optimiser is not None and not (
        isinstance(optimiser, dict)
        and isinstance(optimiser.get("state"), dict)
        and isinstance(optimiser.get("param_groups"), list)
    ):
        raise ModelLoadError(f"{name}: its optimiser state is not an optimiser's state dictionary")


def read_resume(path: str | os.PathLike[str]) -> dict:
    """The checkpoint to resume, read and checked (ModelLoadError, one line)."""
    from ..network.weights import build_net, read_checkpoint

    payload = read_checkpoint(path)
    build_net(payload, path)  # the network must match its weights before any work
    check_train_state(payload.get("train"), path)
    return payload


def data_folder_notes(folders: list[str]) -> list[str]:
    """Refuse data folders that cannot be trained on as meant; notes for those that train on generated pictures."""
    from ..data.backgrounds import list_images

    notes = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise UsageError(f"training data folder not found: '{root}'")
        if (root / ".memeclean-fixes").is_file():  # the user's hand fixes (memeclean_core.training.fixes)
            continue
        has_pairs = (root / "pairs").is_dir() or ((root / "templates").is_dir() and (root / "memes").is_dir())
        images = list_images(root / "images")
        if has_pairs or images:
            continue
        if (root / "images").is_dir():
            raise UsageError(
                f"--data '{root}': its images/ folder holds no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        loose = next((path for path in _walk_files(root) if path.suffix.lower() in IMAGE_SUFFIXES), None)
        if loose is not None:
            raise UsageError(
                f"--data '{root}' is not a prepared data folder: its pictures (e.g. '{loose.name}') "
                f"are not in images/; run `memeclean prepare {root} DEST` and train on DEST"
            )
        notes.append(
            f"note: '{root}' holds no pictures (images/) and no meme/template pairs (pairs/): "
            "training on generated pictures only"
        )
    return notes


def _walk_files(root: Path):
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("fonts", "clipart")]
        for name in names:
            if not name.startswith("."):
                yield Path(folder) / name


def check_out(config: Any) -> None:
    """The checkpoint can be written: not a folder, not an input, not an existing file unless asked (or the
    checkpoint being resumed, which a resumed run continues), and its folder takes files now (not after training)."""
    out = Path(config.out)
    resuming_in_place = bool(config.resume) and same_file(out, Path(config.resume))
    inputs = [Path(folder) for folder in config.data]
    for folder in inputs:
        try:
            inside = out.resolve().is_relative_to(folder.resolve())
        except (OSError, RuntimeError):
            inside = False
        if inside and not same_file(out, folder):
            raise UsageError(f"--out '{out}' is inside the data folder '{folder}'; save the model elsewhere")
    if out.suffix.lower() in IMAGE_SUFFIXES | {".json", ".txt"}:
        raise UsageError(f"--out '{out}' looks like a {out.suffix} file, not a checkpoint; use a .pt file")
    overwrite = bool(getattr(config, "overwrite", False)) or resuming_in_place
    if out.parent.is_dir() or out.parent.exists():
        check_target(out, overwrite=overwrite)
        if out.exists() and not is_regular_file(out):
            raise WriteError(f"cannot write '{out}': it is not a regular file")
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WriteError(f"cannot write '{out}': {os_reason(error)}") from None
    check_writable_folder(out.parent, what=str(out.parent))  # found now, not after an hour of training


def check_train_config(config: Any) -> CheckedTrain:
    """All of the above, cheapest first; raises MemeCleanError (UsageError, ModelLoadError, WriteError)."""
    check_numbers(config)
    checked = CheckedTrain()
    if config.resume:
        checked.resume_payload = read_resume(config.resume)
        from ..network.model import UNetConfig

        network = UNetConfig.from_dict(checked.resume_payload["config"])
    elif config.init:
        from ..network.model import UNetConfig
        from ..network.weights import build_net, read_checkpoint

        checked.init_payload = read_checkpoint(config.init)
        build_net(checked.init_payload, config.init)  # the weights must fit their network before any work
        network = UNetConfig.from_dict(checked.init_payload["config"])
    else:
        network = check_model_config(config.model)
    if config.crop % network.multiple:
        raise UsageError(
            f"--crop must be a multiple of {network.multiple} (the network's input multiple), got {config.crop}"
        )
    anchor = getattr(config, "anchor", None)
    if anchor:
        from ..network.weights import build_net, read_checkpoint

        checked.anchor_payload = read_checkpoint(anchor)
        build_net(checked.anchor_payload, anchor)
    checked.notes = data_folder_notes(list(config.data))
    gpu_pack = getattr(config, "gpu_pack", None)
    if gpu_pack and not is_regular_file(Path(gpu_pack)):
        raise UsageError(f"--gpu-pack '{gpu_pack}' is not a file (build one with scripts/build_glyph_pack.py)")
    check_out(config)
    return checked


__all__ = [
    "CheckedTrain",
    "check_train_config",
    "check_numbers",
    "check_model_config",
    "parse_model_config",
    "check_train_state",
    "read_resume",
    "data_folder_notes",
    "check_out",
    "MemeCleanError",
]
