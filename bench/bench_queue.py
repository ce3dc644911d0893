"""Memory of the app with a long picture queue (offscreen Qt, so it runs on a headless machine too).

    python bench/bench_queue.py [--count 500] [--megapixels 1] [--clean 12] [--open 8] [--resolution 512]

Generates --count JPEG pictures of about --megapixels each in a temporary folder, queues them all in a main window
(as a folder dropped on it), waits for every thumbnail, cleans the first --clean with the queue (bundled model, or
the default architecture with random weights when none is bundled: same cost) and shows --open of the cleaned ones
one after another. Prints the process's resident memory (RSS) after each stage, the peak, the whole documents kept
in memory, the size of the queue's temporary folder, and the longest gap of a 5 ms UI timer during each stage
(the window stays responsive when it is short).
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import arguments

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    """The current resident set size (Linux /proc; elsewhere the peak, from getrusage)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_mb()


def peak_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def folder_mb(folder: Path | None) -> float:
    if folder is None or not folder.is_dir():
        return 0.0
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 1e6


def make_pictures(folder: Path, count: int, megapixels: float) -> list[Path]:
    """`count` different JPEGs of about `megapixels`, 4:3, with a white caption-like band (cheap to make)."""
    import numpy as np
    from PIL import Image

    width = int(round((megapixels * 1e6 * 4 / 3) ** 0.5))
    height = int(round(width * 3 / 4))
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width * 200, yy / height * 180, np.full_like(xx, 90)], -1)
    paths = []
    for number in range(count):
        tint = rng.uniform(-40, 40, 3).astype(np.float32)
        picture = np.clip(base + tint, 0, 255).astype(np.uint8)
        band = slice(height // 20, height // 20 + height // 10)
        picture[band, width // 6 : 5 * width // 6 : 7] = 255  # vertical white strokes: text-like edges
        path = folder / f"meme-{number:04d}.jpg"
        Image.fromarray(picture).save(path, quality=88)
        paths.append(path)
    return paths


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--count", type=int, default=500, help="pictures queued (default 500)")
    parser.add_argument("--megapixels", type=float, default=1.0, help="size of each picture (default 1)")
    parser.add_argument("--clean", type=int, default=12, help="pictures the queue cleans (default 12)")
    parser.add_argument("--open", type=int, default=8, help="cleaned pictures shown one after another (default 8)")
    parser.add_argument("--resolution", type=int, default=512, help="working resolution (default 512)")
    parser.add_argument("--model", help="weights file (default: bundled, else a random default-size model)")
    args = parser.parse_args()

    from bench_gui import make_model
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from memeclean_gui.app import create_application
    from memeclean_gui.main_window import MainWindow
    from memeclean_gui.model.settings import Settings

    work = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    rows: list[tuple[str, float, float, str]] = []
    try:
        started = time.perf_counter()
        (work / "pictures").mkdir()
        make_pictures(work / "pictures", args.count, args.megapixels)
        made_in = time.perf_counter() - started
        model_path = make_model(args.model, work)

        create_application()
        window = MainWindow(
            settings=Settings(values={"auto_clean": False, "resolution": args.resolution}), model_path=model_path
        )
        window.show()
        queue = window.queue
        clock = QElapsedTimer()
        clock.start()
        ticks: list[int] = []
        heartbeat = QTimer()
        heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        heartbeat.setInterval(5)
        heartbeat.timeout.connect(lambda: ticks.append(clock.elapsed()))
        loop = QEventLoop()

        def wait_until(done, timeout_s: float = 3600) -> float:
            """Run the event loop until `done()`; returns the longest UI gap in ms meanwhile."""
            ticks.clear()
            heartbeat.start()
            poll = QTimer()
            poll.setInterval(20)
            deadline = time.perf_counter() + timeout_s
            poll.timeout.connect(lambda: (done() or time.perf_counter() > deadline) and loop.quit())
            poll.start()
            if not done():
                loop.exec()
            poll.stop()
            heartbeat.stop()
            gaps = [b - a for a, b in zip(ticks, ticks[1:])]
            return max(gaps) if gaps else 0.0

        def row(stage: str, gap: float | None, note: str = "") -> None:
            rows.append((stage, rss_mb(), gap if gap is not None else float("nan"), note))

        wait_until(lambda: window.isVisible())
        row("window shown", None)

        t0 = time.perf_counter()
        queue.add_paths([work / "pictures"])
        queued_in = time.perf_counter() - t0
        row(f"{len(queue.state.entries)} queued", None, f"add_paths took {queued_in * 1000:.0f} ms on the UI thread")

        t0 = time.perf_counter()
        gap = wait_until(lambda: not queue.thumbnails_pending and window.document.has_image)
        row("thumbnails made", gap, f"{time.perf_counter() - t0:.1f} s for {args.count}")

        to_clean = min(args.clean, args.count)
        t0 = time.perf_counter()
        queue.start()
        cleaned = lambda: sum(entry.spilled is not None for entry in queue.state.entries)  # noqa: E731
        gap = wait_until(lambda: cleaned() >= 1)
        row("first clean (loads the model)", gap, f"{time.perf_counter() - t0:.1f} s, torch import included")
        t0 = time.perf_counter()
        gap = wait_until(lambda: cleaned() >= to_clean)
        queue.cancel()
        wait_until(lambda: not queue.running)
        seconds = time.perf_counter() - t0
        row(
            f"{cleaned()} cleaned by the queue",
            gap,
            f"{seconds / max(1, cleaned() - 1):.2f} s each after the first, at {args.resolution}, "
            f"{window.controller.models.device_name}",
        )

        done = [entry for entry in queue.state.entries if entry.spilled is not None][: args.open]
        t0 = time.perf_counter()
        worst = 0.0
        for entry in done:
            queue.show_entry(entry)
            worst = max(
                worst, wait_until(lambda entry=entry: queue.shown is entry and window.document.result is not None)
            )
        row(
            f"{len(done)} opened one after another",
            worst,
            f"{(time.perf_counter() - t0) / max(1, len(done)) * 1000:.0f} ms each; "
            f"{queue.state.documents_kept} + 1 documents kept whole",
        )

        spill = folder_mb(queue.state.spill_folder)
        print(
            f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}, Python "
            f"{sys.version.split()[0]}; {args.count} JPEGs of {args.megapixels:g} MP "
            f"({folder_mb(work / 'pictures'):.0f} MB on disk, made in {made_in:.0f} s)"
        )
        print(f"{'stage':<32} {'RSS MB':>8} {'UI gap ms':>10}  note")
        for stage, rss, ui_gap, note in rows:
            shown_gap = "" if ui_gap != ui_gap else f"{ui_gap:.0f}"
            print(f"{stage:<32} {rss:8.0f} {shown_gap:>10}  {note}")
        print(
            f"peak RSS {peak_mb():.0f} MB; queue's temporary folder {spill:.1f} MB ({cleaned()} results, lossless PNG)"
        )
        window.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
