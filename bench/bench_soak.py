"""Soak: resident memory, open files and speed over long runs, against flatness targets.

    python bench/bench_soak.py queue  [--count 1000] [--side 200] [--tiny]        the app's picture queue
    python bench/bench_soak.py folder [--count 10000] [--jobs 2] [--side 96] [--tiny]   clean --input-dir
    python bench/bench_soak.py train  [--minutes 30]                               memeclean train

queue: the main window (offscreen Qt) takes the pictures in ten rounds of --count/10, as a user would: add them to
the queue, clean them all, show each result, Save All into a new folder, clear the queue. Measured in this process
after each round. folder: `memeclean clean --input-dir ... --jobs N --manifest` on --count generated pictures in a
child process; its process tree (the workers included) is sampled every --every seconds and the work done read from
the manifest. train: `memeclean train --minutes M` on generated pictures, sampled likewise, the steps read from its
progress lines. --tiny uses a tiny random network (the app's machinery at a fraction of the cost; say so when
quoting numbers), else the bundled model.

Prints a table of the samples (work done, seconds, RSS MB, open files, rate), then the targets: memory at the end
within 10 % of memory after the first tenth of the work, no more open files (files, pipes, sockets) at the end
than after the first tenth,
the rate over the last tenth within 10 % of the first tenth's (or better). `--check memory,files` checks only those
(the test suite's short run: timing on a shared machine is not a test). Exit status 1 when a checked target fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, arguments

MEMORY_TOLERANCE = 0.10
SPEED_TOLERANCE = 0.10
TINY_CONFIG = (
    '{"mask_channels": 4, "mask_levels": 2, "fill_channels": 4, "fill_levels": 2, "max_channels": 8, '
    '"head_channels": 4}'
)


@dataclass
class Sample:
    done: float  # pictures cleaned, or training steps
    seconds: float
    rss_mb: float
    files: int


# -- measuring a process (tree) -------------------------------------------------------------------------------------


def rss_mb(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def open_files(pid: int | str = "self") -> int:
    """Descriptors of files, pipes and sockets. Not counted: anonymous ones (an eventfd or epoll per Qt or torch
    thread), which come and go with thread pools that grow to their size and shrink when idle."""
    count = 0
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for name in names:
        try:
            count += not os.readlink(f"/proc/{pid}/fd/{name}").startswith("anon_inode:")
        except OSError:
            continue  # closed meanwhile
    return count


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant (Linux /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def tree_sample(pid: int, done: float, started: float) -> Sample:
    members = process_tree(pid)
    return live(
        Sample(
            done,
            time.perf_counter() - started,
            sum(rss_mb(member) for member in members),
            sum(open_files(member) for member in members),
        )
    )


def live(sample: Sample) -> Sample:
    """Print a sample as it is taken (a run stopped early still shows its numbers); returns it."""
    shown = f"{sample.done:.0f} done, {sample.seconds:.1f} s, {sample.rss_mb:.0f} MB, {sample.files} files"
    print(f"sample: {shown}", flush=True)
    return sample


# -- the targets ------------------------------------------------------------------------------------------------------


def at_fraction(samples: list[Sample], total: float, fraction: float) -> Sample:
    """The first sample with at least `fraction` of the work done."""
    return next(sample for sample in samples if sample.done >= fraction * total)


def rate(a: Sample, b: Sample) -> float:
    return (b.done - a.done) / max(b.seconds - a.seconds, 1e-9)


def verdicts(samples: list[Sample], unit: str) -> list[tuple[str, bool, str]]:
    """(target, met, numbers) for memory, open files and speed; samples[0] is the start (nothing done)."""
    total = samples[-1].done
    tenth, end = at_fraction(samples, total, 0.1), samples[-1]
    before_last = max((s for s in samples if s.done <= 0.9 * total), key=lambda s: s.done, default=samples[0])
    first_rate, last_rate = rate(samples[0], tenth), rate(before_last, end)
    growth = end.rss_mb / max(tenth.rss_mb, 1e-9) - 1
    speed = (
        f"{first_rate:.2f} {unit}/s in the first tenth, {last_rate:.2f} in the last ({last_rate / first_rate - 1:+.1%})"
        if first_rate > 0
        else "no work in the first tenth"
    )
    return [
        (
            "memory",
            growth <= MEMORY_TOLERANCE,
            f"{tenth.rss_mb:.0f} MB after the first tenth, {end.rss_mb:.0f} MB at the end ({growth:+.1%})",
        ),
        ("files", end.files <= tenth.files, f"{tenth.files} open after the first tenth, {end.files} at the end"),
        (
            "speed",
            last_rate >= (1 - SPEED_TOLERANCE) * first_rate,
            speed,
        ),
    ]


def report(title: str, samples: list[Sample], unit: str, checks: set[str]) -> bool:
    print(f"\n{title}")
    print(f"{unit:>10} {'seconds':>9} {'RSS MB':>8} {'files':>6} {unit + '/s':>10}")
    for previous, sample in zip([samples[0]] + samples, samples):
        shown = f"{rate(previous, sample):10.2f}" if sample is not previous else f"{'':>10}"
        print(f"{sample.done:10.0f} {sample.seconds:9.1f} {sample.rss_mb:8.0f} {sample.files:6d} {shown}")
    ok = True
    for name, met, numbers in verdicts(samples, unit):
        checked = name in checks
        ok &= met or not checked
        state = ("met" if met else "MISSED") if checked else ("(met)" if met else "(missed, not checked)")
        print(f"target {name:<7} {state:<22} {numbers}")
    return ok


# -- the workloads ----------------------------------------------------------------------------------------------------


def make_pictures(folder: Path, count: int, side: int) -> list[Path]:
    """`count` small 4:3 memes: a gradient with a white caption band, each a little different."""
    import numpy as np
    from PIL import Image

    width, height = side, side * 3 // 4
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width * 200, yy / height * 180, np.full_like(xx, 90)], -1)
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        picture = np.clip(base + rng.uniform(-40, 40, 3), 0, 255).astype(np.uint8)
        picture[height // 12 : height // 12 + height // 8, width // 6 : 5 * width // 6 : 5] = 255
        path = folder / f"meme-{number:05d}.png"
        Image.fromarray(picture).save(path)
        paths.append(path)
    return paths


def model_for(tiny: bool, work: Path) -> Path:
    from memeclean_core.resources import bundled_model_path

    if not tiny:
        return bundled_model_path()
    import torch

    from memeclean_core.network.model import MemeCleanNet, UNetConfig
    from memeclean_core.network.weights import save_checkpoint

    torch.manual_seed(0)
    return save_checkpoint(work / "tiny.pt", MemeCleanNet(UNetConfig.tiny()))


def soak_queue(args, work: Path) -> list[Sample]:
    """Ten rounds of add, clean all, show each, Save All, clear, in one main window; a sample after each."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QMessageBox

    from memeclean_gui.app import create_application
    from memeclean_gui.main_window import MainWindow
    from memeclean_gui.model.settings import Settings
    from memeclean_gui.views.queue_dock import SaveAllDialog

    per_round = max(1, args.count // 10)
    paths = make_pictures(work / "pictures", per_round * 10, args.side)
    QMessageBox.information = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok)  # Save All's summary
    application = create_application()
    window = MainWindow(
        settings=Settings(values={"auto_clean": False, "library_lookup": False}),
        model_path=model_for(args.tiny, work),
        device="cpu",
    )
    window.show()
    queue = window.queue
    loop = QEventLoop()

    def wait_until(done, timeout_s: float = 3600) -> None:
        poll = QTimer()
        poll.setInterval(10)
        deadline = time.perf_counter() + timeout_s
        poll.timeout.connect(lambda: (done() or time.perf_counter() > deadline) and loop.quit())
        poll.start()
        if not done():
            loop.exec()
        poll.stop()
        if not done():
            raise RuntimeError("the queue did not finish in time")

    saved: list[dict] = []
    queue.saved_all.connect(saved.append)
    samples = [Sample(0, 0.0, rss_mb(), open_files())]
    started = time.perf_counter()
    for number in range(10):
        batch = paths[number * per_round : (number + 1) * per_round]
        queue.add_paths(batch)
        wait_until(lambda: len(queue.state.entries) == per_round and not queue.thumbnails_pending)
        queue.start()
        wait_until(lambda: not queue.running and all(entry.spilled is not None for entry in queue.state.entries))
        for entry in list(queue.state.entries):  # the user looks at each result
            queue.show_entry(entry)
            wait_until(lambda entry=entry: queue.shown is entry and window.document.result is not None)
        folder = work / f"saved-{number}"
        folder.mkdir()
        SaveAllDialog.ask = classmethod(lambda cls, parent, start, count, folder=folder: (folder, None))
        before = len(saved)
        queue.actions["save_all"].trigger()
        wait_until(lambda before=before: len(saved) > before)
        if saved[-1]["saved"] != per_round:
            raise RuntimeError(f"round {number + 1}: Save All saved {saved[-1]}")
        queue.clear()
        wait_until(lambda: not queue.state.entries)
        application.processEvents()
        samples.append(live(Sample((number + 1) * per_round, time.perf_counter() - started, rss_mb(), open_files())))
    window.close()
    return samples


def watch(command: list[str], every: float, progress) -> list[Sample]:
    """Run `command`, sampling its process tree every `every` s; `progress(stderr so far) -> work done`."""
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - open while the child writes to it, read after
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, text=True, env=environment)
    samples = [tree_sample(child.pid, 0, started)]
    while child.poll() is None:
        time.sleep(every)
        log.seek(0)
        done = progress(log.read())
        if child.poll() is None and done > samples[-1].done:
            samples.append(tree_sample(child.pid, done, started))
    log.seek(0)
    text = log.read()
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{command[3]} exited {child.returncode}: {text[-2000:]}")
    return samples


def soak_folder(args, work: Path) -> list[Sample]:
    make_pictures(work / "in", args.count, args.side)
    manifest = work / "run.jsonl"
    command = [
        sys.executable,
        "-m",
        "memeclean_core",
        "clean",
        "--input-dir",
        str(work / "in"),
        "--output-dir",
        str(work / "out"),
        "--manifest",
        str(manifest),
        "--jobs",
        str(args.jobs),
        "--model",
        str(model_for(args.tiny, work)),
    ]

    def cleaned(_log: str) -> float:
        try:
            with open(manifest, "rb") as file:
                return float(sum(1 for _ in file))
        except OSError:
            return 0.0

    return watch(command, args.every, cleaned)


def soak_train(args, work: Path) -> list[Sample]:
    make_pictures(work / "data" / "images", 200, 256)
    command = [
        sys.executable,
        "-m",
        "memeclean_core",
        "train",
        "--data",
        str(work / "data"),
        "--out",
        str(work / "model.pt"),
        "--minutes",
        str(args.minutes),
        "--device",
        "cpu",
    ]
    if args.tiny:
        command += ["--model-config", TINY_CONFIG, "--batch", "4", "--crop", "64"]
    steps = re.compile(r"(\d+(?:\.\d+)?)% step (\d+)")

    def steps_done(log: str) -> float:
        # not the last line (100 %): by then the run is closing its data workers, which is not a steady state
        found = [int(step) for percent, step in steps.findall(log) if float(percent) < 100]
        return float(found[-1]) if found else 0.0

    return watch(command, args.every, steps_done)


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("workload", choices=["queue", "folder", "train"])
    parser.add_argument("--count", type=int, help="pictures (queue: 1000, folder: 10000)")
    parser.add_argument("--side", type=int, help="long side of the pictures (queue: 200, folder: 96)")
    parser.add_argument("--jobs", type=int, default=2, help="folder: worker processes (default 2)")
    parser.add_argument("--minutes", type=float, default=30.0, help="train: the run's budget (default 30)")
    parser.add_argument("--every", type=float, default=5.0, help="folder, train: seconds between samples")
    parser.add_argument("--tiny", action="store_true", help="a tiny random network instead of the bundled model")
    parser.add_argument("--check", default="memory,files,speed", help="targets that decide the exit status")
    args = parser.parse_args()
    defaults = {"queue": (1000, 200), "folder": (10000, 96), "train": (0, 0)}[args.workload]
    args.count = args.count or defaults[0]
    args.side = args.side or defaults[1]
    checks = {name.strip() for name in args.check.split(",") if name.strip()}

    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    try:
        soak = {"queue": soak_queue, "folder": soak_folder, "train": soak_train}[args.workload]
        samples = soak(args, work)
        unit = "steps" if args.workload == "train" else "pictures"
        model = "tiny random network" if args.tiny else "bundled model"
        size = f"{args.minutes:g} minutes" if args.workload == "train" else f"{args.count} pictures of {args.side} px"
        print(
            f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}; {args.workload}: {size}, "
            f"{model}"
        )
        ok = report(f"soak: {args.workload}", samples, unit, checks)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
