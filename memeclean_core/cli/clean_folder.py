"""`memeclean clean --input-dir DIR --output-dir OUT`: the command-line layer over `batches.folder`.

    memeclean clean --input-dir DIR --output-dir OUT [--mask-dir M] [--recursive] [--resume]
                    [--manifest FILE.jsonl] [--jobs N] [--resolution N] [--model WEIGHTS] [--device D] [--overwrite]

Checks the options, plans the folder (`batch_folder.plan_folder`), picks the engine (in this process, or `--jobs N`
worker processes), shows one progress bar and a note per skipped file, and prints the summary. The exit status is
1 if any picture failed (files that are not images do not count), 0 otherwise. The options are registered with the
rest of `memeclean clean` in clean.py; the checks both modes share are clean_request.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MemeCleanError
from ..progress import ProgressBar, is_terminal
from ..threads import usable_cores

if TYPE_CHECKING:
    from ..batches.folder import CleanSettings, FolderPlan, FolderSummary

# Options that only make sense for a folder, with their "not given" values.
_FOLDER_OPTIONS = {
    "--recursive": ("recursive", False),
    "--resume": ("resume", False),
    "--manifest": ("manifest", None),
    "--jobs": ("jobs", 1),
    "--threads": ("threads", None),
    "--engine": ("engine", "local"),
    "--address": ("address", None),
}


def check_mode(args: argparse.Namespace) -> bool:
    """True for the folder mode (--input-dir). Refuses a mix of the two modes before anything is loaded."""
    if getattr(args, "input_dir", None) is not None:
        if args.inputs:
            raise MemeCleanError("give either INPUT files or --input-dir DIR, not both")
        return True
    if not args.inputs:
        usage_error = getattr(args, "usage_error", None)
        if usage_error is not None:
            usage_error("the following arguments are required: INPUT")  # argparse's own message, exit status 2
        raise MemeCleanError("no INPUT files given")
    for option, (name, unset) in _FOLDER_OPTIONS.items():
        if getattr(args, name, unset) != unset:
            raise MemeCleanError(f"{option} works with --input-dir DIR (a whole folder)")
    return False


def threads_per_process(jobs: int, threads: int | None = None) -> int | None:
    """`threads` when given; else the cores shared out between `jobs` processes (None for one: torch's default)."""
    if threads is not None:
        return threads
    return max(1, usable_cores() // jobs) if jobs > 1 else None


def run_folder(args: argparse.Namespace) -> int:
    from ..batches import folder as batch_folder
    from .clean_request import clean_options

    check_folder_arguments(args)
    input_dir = Path(args.input_dir)
    make_output_folders(args)
    options = clean_options(args)
    plan = batch_folder.plan_folder(
        input_dir,
        args.output_dir,
        args.mask_dir,
        recursive=args.recursive,
        resume=args.resume,
        overwrite=args.overwrite,
        crop_bars=options.crop_bars,
    )
    if plan.images == 0:
        hint = " (its subfolders are read with --recursive)" if plan.subfolders and not args.recursive else ""
        raise MemeCleanError(f"no image files in '{input_dir}'{hint}")

    jobs = min(args.jobs, max(1, len(plan.items)))
    settings = batch_folder.CleanSettings(
        options=options,
        model=args.model,
        device=args.device,
        runtime=args.runtime,
        threads=threads_per_process(jobs, args.threads),
    )
    clean_one, engine = choose_engine(args, settings, jobs, has_work=bool(plan.items))
    summary = run_with_progress(plan, clean_one, engine, args.manifest)
    print(summary_line(summary, args.output_dir))
    return 0 if summary.ok else 1


def check_folder_arguments(args: argparse.Namespace) -> None:
    """Refuse a bad folder command line in one line, before anything is planned or loaded (Ray's extra too)."""
    from .clean_request import check_arguments

    if args.output:
        raise MemeCleanError("--output names one file; use --output-dir OUT with --input-dir")
    if not args.output_dir:
        raise MemeCleanError("--input-dir needs --output-dir OUT (where the cleaned tree is written)")
    if args.jobs < 1:
        raise MemeCleanError(f"--jobs must be at least 1, got {args.jobs}")
    if args.threads is not None and args.threads < 1:
        raise MemeCleanError(f"--threads must be at least 1, got {args.threads}")
    check_arguments(args, [])
    engine_name = getattr(args, "engine", "local")
    if getattr(args, "address", None) and engine_name != "ray":
        raise MemeCleanError("--address names a Ray cluster: use it with --engine ray")
    if engine_name == "ray":
        from ..batches.ray import check_address, import_ray

        import_ray()  # without the extra: one line saying how to get it, before anything is planned
        if args.address:
            check_address(args.address)  # nothing answers there: one line now, not minutes of Ray's retries
    input_dir = Path(args.input_dir)
    if not input_dir.is_dir():
        reason = "does not exist" if not input_dir.exists() else "is not a folder"
        raise MemeCleanError(f"--input-dir '{input_dir}' {reason}")


def make_output_folders(args: argparse.Namespace) -> None:
    from ..files.safe_write import make_folder

    make_folder(Path(args.output_dir), "the --output-dir folder")
    if args.mask_dir:
        make_folder(Path(args.mask_dir), "the --mask-dir folder")
    if args.manifest:
        make_folder(Path(args.manifest).parent, "the --manifest folder")


def choose_engine(args: argparse.Namespace, settings: CleanSettings, jobs: int, has_work: bool) -> tuple[Any, Any]:
    """(clean_one, engine): this process, `jobs` worker processes, or Ray. With work to do the model is loaded here
    first, so a bad --model ends the run in one line (and a converted model is cached for the workers)."""
    from ..batches import folder as batch_folder

    if not has_work:
        return batch_folder.ItemCleaner(settings), batch_folder.run_in_process  # nothing left to do
    from ..network.checkpoint import load_model

    model = load_model(args.model, device=args.device, runtime=args.runtime, threads=settings.threads)
    if model.note:
        print(f"memeclean: note: {model.note}", file=sys.stderr)
    if getattr(args, "engine", "local") == "ray":
        from ..batches.ray import ray_engine

        # each Ray actor loads its own model and runs --threads T threads (default 1) on T CPUs
        ray_settings = dataclasses.replace(settings, threads=args.threads or 1)
        engine = ray_engine(args.address, args.jobs if args.jobs > 1 else None, args.device, args.threads or 1)
        return batch_folder.ItemCleaner(ray_settings), engine
    if jobs == 1:
        return batch_folder.ItemCleaner(settings, model), batch_folder.run_in_process
    return batch_folder.ItemCleaner(settings), batch_folder.process_pool(jobs)  # each process loads its own


def run_with_progress(plan: FolderPlan, clean_one: Any, engine: Any, manifest_path: str | None) -> FolderSummary:
    """Run the plan with one progress bar, a line per failed or skipped picture, and the manifest."""
    from ..batches import folder as batch_folder

    count = len(plan.items)
    bar = ProgressBar(sys.stderr, enabled=is_terminal(sys.stderr) or count > 1)
    finished = 0
    for removed in plan.removed_temp_files:
        bar.message(f"memeclean: note: removed '{removed}', left by an interrupted run")

    def on_record(record: dict, settled: bool) -> None:
        nonlocal finished
        if record["status"] == "failed":
            bar.message(f"memeclean: {record['error']}")
        elif record["status"] == "skipped" and record["note"] != batch_folder.NOTE_COMPLETE:
            bar.message(f"memeclean: note: skipped '{record['input']}': {record['note']}")
        if not settled:
            finished += 1
            bar.update(finished / count, f"{finished}/{count} {Path(record['input']).name}", force=True)

    if count:
        bar.update(0.0, f"0/{count}", force=True)
    manifest = batch_folder.open_manifest(manifest_path) if manifest_path else None
    try:
        return batch_folder.run_plan(plan, clean_one, engine, manifest=manifest, on_record=on_record)
    finally:
        bar.clear()
        if manifest is not None:
            manifest.close()


def summary_line(summary: FolderSummary, output_dir: str) -> str:
    noun = "picture" if summary.images == 1 else "pictures"
    text = f"cleaned {summary.cleaned} of {summary.images} {noun}"
    if summary.complete:
        text += f" ({summary.complete} already done)"
    if summary.failed:
        text += f", {summary.failed} failed"
    if summary.skipped:
        text += f"; skipped {summary.skipped} other {'file' if summary.skipped == 1 else 'files'}"
    return f"{text}: wrote '{output_dir}'" if summary.cleaned else text
