"""Training throughput: crops per second of `memeclean train`'s loop, now and at an earlier revision.

    python bench/bench_train.py --data DATA_DIR [--before REV] [--steps 60] [--warmup 10] [--threads 2]
                                [--batch 8] [--fill-every 3] [--workers 1] [--reuse K [K ...]]

Each measured code base runs in its own child process (`PYTHONPATH` set to it): the training loop
(`train.training_run`) with the default network for `--warmup` steps, then `--steps` more that are timed; crops/s
= timed steps × batch / wall time. `--before REV` checks out that git revision into a temporary worktree and times
it the same way, for a before/after table (v1 was trained at commit adb06d9). A "data only" row times the current
code's batch stream alone (one process, no network), which says how much of a step the data costs. `--reuse`
times this tree once per value given (training crops drawn from each rendered meme; default: TrainConfig's).

Run it on an otherwise idle machine: contended numbers say so only if you do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, arguments

# Runs in the child: only APIs that every measured revision has (TrainConfig fields, training_run's reports).
LOOP_TIMER = r"""
import json, sys, tempfile, time, torch
from memeclean_core.training.train import TrainConfig, training_run
options = json.loads(sys.argv[1])
torch.set_num_threads(options.pop("threads"))
warmup, steps = options.pop("warmup"), options.pop("steps")
with tempfile.TemporaryDirectory() as folder:
    config = TrainConfig(out=folder + "/bench.pt", steps=warmup + steps, progress_every=1, preview_every=0,
                         warmup_steps=0, checkpoint_minutes=1e5, **options)
    marks = {}
    for report in training_run(config):
        if report.done:
            break
        marks[report.step] = time.perf_counter()
    seconds = marks[warmup + steps] - marks[warmup]
print(json.dumps({"crops_per_second": steps * config.batch / seconds, "seconds_per_step": seconds / steps}))
"""

DATA_TIMER = r"""
import json, sys, time, torch
from memeclean_core.data.dataset import TrainingBatches
from memeclean_core.training.train import build_sources
options = json.loads(sys.argv[1])
torch.set_num_threads(1)
extra = {"reuse": options["reuse"]} if "reuse" in options else {}
batches = iter(TrainingBatches(build_sources(options["data"]), batch=options["batch"],
                               fill_every=options["fill_every"], **extra))
for _ in range(options["warmup"]):
    next(batches)
start = time.perf_counter()
for _ in range(options["steps"]):
    next(batches)
seconds = time.perf_counter() - start
print(json.dumps({"crops_per_second": options["steps"] * options["batch"] / seconds,
                  "seconds_per_step": seconds / options["steps"]}))
"""


def run_child(code_root: Path, script: str, options: dict) -> dict:
    environment = dict(os.environ, PYTHONPATH=str(code_root))
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(options)],
        env=environment,
        cwd=code_root,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"timing in {code_root} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def checkout(revision: str, folder: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), revision], check=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True, help="a prepared training data folder (images/, fonts/, clipart/)")
    parser.add_argument("--before", metavar="REV", help="also time this git revision (e.g. adb06d9)")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--fill-every", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--reuse", type=float, nargs="+", metavar="K", help="this tree's crops per rendered meme")
    args = parser.parse_args(argv)
    data = str(Path(args.data).resolve())
    loop = {
        "data": [data],
        "batch": args.batch,
        "fill_every": args.fill_every,
        "workers": args.workers,
        "threads": args.threads,
        "warmup": args.warmup,
        "steps": args.steps,
    }

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        if args.before:
            before = checkout(args.before, Path(scratch) / "before")
            try:
                rows.append((f"training loop @ {args.before}", run_child(before, LOOP_TIMER, dict(loop))))
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], check=False)
        for reuse in args.reuse or [None]:
            options, label = (dict(loop), "") if reuse is None else ({**loop, "reuse": reuse}, f", reuse {reuse:g}")
            rows.append((f"training loop (this tree{label})", run_child(ROOT, LOOP_TIMER, options)))
            rows.append((f"data only, 1 process (this tree{label})", run_child(ROOT, DATA_TIMER, options)))

    print(
        f"batch {args.batch}, crop 256, fill every {args.fill_every}, {args.workers} data worker(s), "
        f"{args.threads} torch threads, {args.steps} timed steps after {args.warmup}; load average "
        f"{os.getloadavg()[0]:.1f} at the end\n"
    )
    print("| code | crops/s | s/step |")
    print("|---|---:|---:|")
    for name, row in rows:
        print(f"| {name} | {row['crops_per_second']:.1f} | {row['seconds_per_step']:.2f} |")
    if args.before:
        print()
        for name, row in rows[1::2]:  # this tree's training-loop rows
            print(f"speed-up of the {name}: {row['crops_per_second'] / rows[0][1]['crops_per_second']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
