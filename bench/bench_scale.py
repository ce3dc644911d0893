"""Images per second of the folder mode: in one process, with `--jobs N` processes, and on Ray Data (a local Ray).

    python bench/bench_scale.py [--pictures 16] [--size 640x480] [--resolution 512] [--jobs 2] [--model WEIGHTS]
                                [--engines plain jobs ray] [--json FILE]

Each engine runs `memeclean clean --input-dir ... --output-dir ...` as a fresh command (what a user runs) on
`--pictures` generated memes and then on twice as many. The table shows both wall times (start-up included: Python,
torch, and for Ray starting a local Ray and its actors) and the steady rate, the extra pictures over the extra time:
`pictures / (wall(2 × pictures) - wall(pictures))`, in which the fixed start-up cancels out. The last column is
the largest difference of a pixel value to the first engine's outputs: 0 where the threads per process are the same
(`--threads T` makes them so).

Run it on an otherwise idle machine: with other jobs on the CPU the numbers are contended (the table says how busy
the machine was: the 1-minute load average before and after).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import ROOT, arguments
from PIL import Image


def make_memes(folder: Path, count: int, size: tuple[int, int]) -> None:
    from tests.conftest import make_meme

    folder.mkdir(parents=True)
    for i in range(count):
        meme, _, _ = make_meme(size[0], size[1], seed=i)
        Image.fromarray(meme).save(folder / f"meme{i:04d}.png")


def run_engine(engine: str, source: Path, out: Path, args: argparse.Namespace) -> float:
    command = [
        sys.executable,
        "-m",
        "memeclean_core",
        "clean",
        "--input-dir",
        str(source),
        "--output-dir",
        str(out),
        "--resolution",
        str(args.resolution),
    ]
    if args.model:
        command += ["--model", args.model]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if engine == "jobs":
        command += ["--jobs", str(args.jobs)]
    elif engine == "ray":
        command += ["--engine", "ray", "--jobs", str(args.jobs)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.perf_counter()
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{engine} failed:\n{result.stderr[-2000:]}")
    return wall


def largest_difference(a: Path, b: Path) -> int | None:
    """The largest difference of a pixel value between the outputs in `a` and in `b` (None: other files)."""
    names = sorted(p.name for p in a.iterdir())
    if names != sorted(p.name for p in b.iterdir()):
        return None
    return max(
        int(np.abs(np.asarray(Image.open(a / n), np.int16) - np.asarray(Image.open(b / n), np.int16)).max())
        for n in names
    )


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--pictures", type=int, default=16)
    parser.add_argument("--size", default="640x480", help="WIDTHxHEIGHT of the generated memes")
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--jobs", type=int, default=2, help="processes (jobs) and Ray actors (ray)")
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads per process (default: as the CLI sets them: "
        "torch's default in one process, cores / N with --jobs N, 1 per Ray actor)",
    )
    parser.add_argument("--model", help="weights file (default: the bundled model)")
    parser.add_argument("--engines", nargs="+", default=["plain", "jobs", "ray"], choices=["plain", "jobs", "ray"])
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        tmp = Path(tmp)
        make_memes(tmp / "small", args.pictures, (width, height))
        make_memes(tmp / "large", 2 * args.pictures, (width, height))
        for engine in args.engines:
            small = run_engine(engine, tmp / "small", tmp / f"{engine}-small", args)
            large = run_engine(engine, tmp / "large", tmp / f"{engine}-large", args)
            steady = args.pictures / (large - small) if large > small else float("nan")
            rows.append(
                {
                    "engine": engine,
                    "workers": 1 if engine == "plain" else args.jobs,
                    "wall_small": small,
                    "wall_large": large,
                    "overall": 2 * args.pictures / large,
                    "steady": steady,
                }
            )
        reference = tmp / f"{args.engines[0]}-large"
        for row in rows:
            row["largest_difference"] = largest_difference(reference, tmp / f"{row['engine']}-large")
        equal = all(row["largest_difference"] == 0 for row in rows)
        shutil.rmtree(tmp / "small")
    load_after = os.getloadavg()[0]

    names = {"plain": "plain (1 process)", "jobs": f"--jobs {args.jobs}", "ray": f"--engine ray ({args.jobs} actors)"}
    print(
        f"{args.pictures} and {2 * args.pictures} memes of {width}×{height}, resolution {args.resolution}, "
        f"{os.cpu_count()} CPUs; load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(
        f"| engine | wall, {args.pictures} pictures (s) | wall, {2 * args.pictures} pictures (s) | "
        f"images/s overall ({2 * args.pictures}) | images/s steady | largest pixel difference to {args.engines[0]} |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        difference = "other files" if row["largest_difference"] is None else row["largest_difference"]
        print(
            f"| {names[row['engine']]} | {row['wall_small']:.1f} | {row['wall_large']:.1f} | "
            f"{row['overall']:.2f} | {row['steady']:.2f} | {difference} |"
        )
    if args.threads:
        print(f"outputs equal across engines with {args.threads} threads per process: {'yes' if equal else 'NO'}")
    else:
        print(
            "threads per process as the CLI sets them (torch's default in one process, cores / N with --jobs N, 1 "
            "per Ray actor): a different thread count may round a pixel by one level; --threads T makes them equal"
        )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"rows": rows, "equal": equal, "load": [load_before, load_after]}, indent=1) + "\n"
        )
    return 0 if equal or not args.threads else 1


if __name__ == "__main__":
    sys.exit(main())
