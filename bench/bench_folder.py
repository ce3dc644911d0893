"""Folder cleaning throughput: images per second with 1 and 2 worker processes (`memeclean clean --jobs N`).

    python bench/bench_folder.py [--pictures 24] [--size 800x600] [--resolution 512] [--jobs 1 2]
                                 [--model WEIGHTS] [--device cpu] [--threads T] [--keep DIR]

Generates a folder of memes (procedural pictures with captions in the bundled font, deterministic), then cleans it
once per `--jobs` value with the same code as the command line (`batch_folder.plan_folder`, `ItemCleaner`, the
in-process engine for 1 and the process pool for more; torch threads per process = cores / N as the CLI sets them)
into a fresh output folder, and prints:

- wall s: from the start of the run to the last picture written, with the workers' start (torch import, model
  load) included, i.e. what a user waits for;
- images/s: pictures / wall;
- steady images/s: (pictures - 1) / (time from the first picture finished to the last), the rate once every
  worker is running;
- whether the outputs are byte-identical to the first run's. They are for the same threads per process
  (`--threads T`); with the default (cores / jobs) a different thread count can round a few pixels by one level.

The model is loaded once in this process before the 1-process run (as the CLI does), so that run's wall does not
include a load while the pool's does (each worker loads its own). Run it on an otherwise idle machine: with other
jobs on the CPU the numbers are contended (the load average is printed to show it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, arguments


def make_folder(folder: Path, pictures: int, size: tuple[int, int]) -> None:
    import cv2
    import numpy as np
    from PIL import Image

    from memeclean_core.data.backgrounds import procedural
    from memeclean_core.data.font_pool import FontPool
    from memeclean_core.data.synth import caption_image

    fonts = FontPool.from_folder(ROOT / "no-fonts-here")  # the bundled Anton
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(pictures):
        rng = np.random.default_rng(number)
        picture = cv2.resize(procedural(rng, max(size)), size, interpolation=cv2.INTER_AREA)
        meme, _ = caption_image(picture, fonts, rng)
        Image.fromarray(meme).save(folder / f"meme{number:03d}.jpg", quality=90)


def digest(folder: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hasher.update(path.relative_to(folder).as_posix().encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def run_once(source: Path, out: Path, jobs: int, args: argparse.Namespace) -> dict:
    from memeclean_core.batches import folder as batch_folder
    from memeclean_core.cleaning.options import CleanOptions
    from memeclean_core.cli.clean_folder import threads_per_process
    from memeclean_core.network.checkpoint import load_model

    threads = threads_per_process(jobs, args.threads)
    runtime = getattr(args, "runtime", "auto")
    settings = batch_folder.CleanSettings(
        options=CleanOptions(resolution=args.resolution),
        model=args.model,
        device=args.device,
        threads=threads,
        runtime=runtime,
    )
    plan = batch_folder.plan_folder(source, out)
    if jobs == 1:
        cleaner, engine = (
            batch_folder.ItemCleaner(settings, load_model(args.model, args.device, runtime, threads=threads)),
            batch_folder.run_in_process,
        )
    else:
        cleaner, engine = batch_folder.ItemCleaner(settings), batch_folder.process_pool(jobs)
    finished: list[float] = []
    failed = []

    def on_record(record: dict, settled: bool) -> None:
        if not settled:
            finished.append(time.perf_counter())
            if record["status"] != "done":
                failed.append(record["error"])

    started = time.perf_counter()
    batch_folder.run_plan(plan, cleaner, engine, on_record=on_record)
    wall = finished[-1] - started
    steady = (len(finished) - 1) / (finished[-1] - finished[0]) if len(finished) > 1 else float("nan")
    if failed:
        raise SystemExit(f"bench_folder: {len(failed)} pictures failed, e.g. {failed[0]}")
    return {
        "jobs": jobs,
        "threads": threads,
        "pictures": len(finished),
        "wall": wall,
        "rate": len(finished) / wall,
        "steady": steady,
        "digest": digest(out),
    }


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--pictures", type=int, default=24, help="pictures in the generated folder (default 24)")
    parser.add_argument("--size", default="800x600", help="their size, WIDTHxHEIGHT (default 800x600)")
    parser.add_argument("--resolution", type=int, default=512, help="working resolution (default 512)")
    parser.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        default=[1, 2],
        metavar="N",
        help="worker process counts to compare (default 1 2)",
    )
    parser.add_argument("--model", metavar="WEIGHTS", help="weights file (default: the bundled model)")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--runtime", default="auto", choices=["auto", "openvino", "torch"])
    parser.add_argument(
        "--threads",
        type=int,
        metavar="T",
        help="torch threads per process for every run (default: as the CLI, cores / jobs)",
    )
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.lower().split("x"))

    from memeclean_core.threads import usable_cores

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_folder_"))
    try:
        source = work / "in"
        if not source.is_dir():
            make_folder(source, args.pictures, (width, height))
        rows = []
        for jobs in args.jobs:
            out = work / f"out-jobs{jobs}"
            shutil.rmtree(out, ignore_errors=True)
            rows.append(run_once(source, out, jobs, args))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    load = " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(
        f"{args.pictures} pictures {width}x{height} at resolution {args.resolution}, device {args.device}, "
        f"runtime {args.runtime}, "
        f"{usable_cores()} cores, load average {load}"
    )
    print(
        f"{'jobs':>4} {'threads/proc':>12} {'wall s':>8} {'images/s':>9} {'steady images/s':>16} {'same outputs':>12}"
    )
    for row in rows:
        threads = row["threads"] if row["threads"] is not None else "default"
        same = "yes" if row["digest"] == rows[0]["digest"] else "NO"
        print(
            f"{row['jobs']:>4} {threads!s:>12} {row['wall']:>8.2f} {row['rate']:>9.2f} {row['steady']:>16.2f} "
            f"{same:>12}"
        )
    return 0 if all(row["digest"] == rows[0]["digest"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
