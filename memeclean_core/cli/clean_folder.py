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

from ..errors import MemeCleanError
from ..progress import ProgressBar, is_terminal
from ..threads import usable_cores

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
    from ..files.safe_write import make_folder
    from .clean_request import check_arguments, clean_options

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
    make_folder(Path(args.output_dir), "the --output-dir folder")
    if args.mask_dir:
        make_folder(Path(args.mask_dir), "the --mask-dir folder")
    if args.manifest:
        make_folder(Path(args.manifest).parent, "the --manifest folder")

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
    if plan.items:
        from ..network.checkpoint import load_model

        # a bad --model ends the run here, in one line; a converted model is cached for the workers
        model = load_model(args.model, device=args.device, runtime=args.runtime, threads=settings.threads)
        if model.note:
            print(f"memeclean: note: {model.note}", file=sys.stderr)
        if engine_name == "ray":
            from ..batches.ray import ray_engine

            del model  # each Ray actor loads its own and runs --threads T threads (default 1) on T CPUs
            ray_settings = dataclasses.replace(settings, threads=args.threads or 1)
            clean_one = batch_folder.ItemCleaner(ray_settings)
            engine = ray_engine(args.address, args.jobs if args.jobs > 1 else None, args.device, args.threads or 1)
        elif jobs == 1:
            clean_one, engine = batch_folder.ItemCleaner(settings, model), batch_folder.run_in_process
        else:
            del model  # each worker process loads its own
            clean_one, engine = batch_folder.ItemCleaner(settings), batch_folder.process_pool(jobs)
    else:
        clean_one, engine = batch_folder.ItemCleaner(settings), batch_folder.run_in_process  # nothing left to do

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
    manifest = batch_folder.open_manifest(args.manifest) if args.manifest else None
    try:
        summary = batch_folder.run_plan(plan, clean_one, engine, manifest=manifest, on_record=on_record)
    finally:
        bar.clear()
        if manifest is not None:
            manifest.close()

    noun = "picture" if summary.images == 1 else "pictures"
    text = f"cleaned {summary.cleaned} of {summary.images} {noun}"
    if summary.complete:
        text += f" ({summary.complete} already done)"
    if summary.failed:
        text += f", {summary.failed} failed"
    if summary.skipped:
        text += f"; skipped {summary.skipped} other {'file' if summary.skipped == 1 else 'files'}"
    print(f"{text}: wrote '{args.output_dir}'" if summary.cleaned else text)
    return 0 if summary.ok else 1
