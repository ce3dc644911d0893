"""Benchmark of the desktop app's responsiveness (offscreen Qt, so it runs on a headless machine too).

    python bench/bench_gui.py [--runs 3] [--resolution 1024] [--model WEIGHTS]

1. Start-up: wall time from launching a fresh `python` process to the main window shown and painted (best and
   median of --runs), and whether torch was loaded by then. Target: ≤ 2 s.
2. Stall: the longest gap between ticks of a 5 ms timer on the UI thread while a clean runs in the worker, for the
   first clean (torch import and model load happen in the worker then) and for a second one. Target: no gap over
   100 ms. The image is the bundled sample scaled to 1024×768; the model is the bundled one, or the default
   architecture with random weights when none is bundled (same cost).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTUP_CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from memeclean_gui.app import create_application
from memeclean_gui.main_window import MainWindow
from memeclean_gui.settings import Settings

app = create_application()
window = MainWindow(settings=Settings())
window.show()

def shown():
    print("SHOWN", time.time(), "torch" in sys.modules, window.windowHandle().isExposed(), flush=True)
    app.quit()

QTimer.singleShot(0, shown)  # runs once the show, expose and first paint events have been handled
app.exec()
"""


def bench_startup(runs: int) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    times, torch_loaded = [], []
    with tempfile.TemporaryDirectory() as home:
        env.update(HOME=home, XDG_CONFIG_HOME=home)
        for _ in range(runs):
            started = time.time()
            done = subprocess.run([sys.executable, "-c", STARTUP_CHILD], env=env, capture_output=True, text=True,
                                  timeout=120, cwd=ROOT)
            line = next((line for line in done.stdout.splitlines() if line.startswith("SHOWN")), None)
            if line is None:
                raise SystemExit(f"start-up child failed:\n{done.stderr}")
            _, shown_at, torch_flag, _exposed = line.split()
            times.append(float(shown_at) - started)
            torch_loaded.append(torch_flag == "True")
    return {"best": min(times), "median": statistics.median(times), "all": times, "torch": any(torch_loaded)}


def make_model(path_arg: str | None, folder: Path) -> Path:
    if path_arg:
        return Path(path_arg)
    from memeclean_core.resources import bundled_model_path

    bundled = bundled_model_path()
    if bundled.is_file():
        return bundled
    import torch

    from memeclean_core.checkpoint import save_checkpoint
    from memeclean_core.model import MemeCleanNet, UNetConfig

    torch.manual_seed(0)
    return save_checkpoint(folder / "random-default.pt", MemeCleanNet(UNetConfig()))


def make_image(folder: Path) -> Path:
    from PIL import Image

    from memeclean_core.resources import resource_path

    sample = resource_path("samples", "sample-meme.jpg")
    path = folder / "bench-1024.png"
    if sample.is_file():
        with Image.open(sample) as image:
            image.convert("RGB").resize((1024, 768), Image.Resampling.LANCZOS).save(path)
    else:
        import numpy as np

        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8)).save(path)
    return path


def bench_stall(resolution: int, model_arg: str | None) -> list[dict]:
    # Imported here, after the start-up child runs: nothing of this process leaks into that measurement.
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from memeclean_gui.app import create_application
    from memeclean_gui.main_window import MainWindow
    from memeclean_gui.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    model_path = make_model(model_arg, folder)  # (a random model is made in this process: torch gets imported
    image_path = make_image(folder)  # here then, so the "first clean" below loads only the model)
    create_application()
    window = MainWindow(settings=Settings(values={"auto_clean": False, "resolution": resolution}),
                        model_path=model_path)
    window.show()
    controller = window.controller
    clock = QElapsedTimer()
    clock.start()
    ticks: list[int] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(lambda: ticks.append(clock.elapsed()))
    stages: list[tuple[int, str]] = []  # (ms, progress text): where the longest gap happened
    controller.progress.connect(lambda fraction, text: stages.append((clock.elapsed(), text)))
    outcome: dict = {}
    loop = QEventLoop()  # (not app.exec()/quit(): Qt 6 closes the windows on quit)

    def finished(kind: str, result: str) -> None:
        outcome[kind] = result
        loop.quit()

    controller.finished.connect(finished)
    controller.open_path(image_path)
    loop.exec()
    assert outcome.get("load") == "ok", outcome
    runs = []
    for label in ("first clean (model load in the worker)", "second clean"):
        ticks.clear()
        stages.clear()
        outcome.clear()
        heartbeat.start()
        started = clock.elapsed()
        window.clean()
        loop.exec()
        heartbeat.stop()
        assert outcome.get("clean") == "ok", (outcome, window.statusBar().currentMessage())
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        worst = max(range(len(gaps)), key=gaps.__getitem__) if gaps else 0
        during = [text for at, text in stages if at <= ticks[worst]] if gaps else []
        after = (during[-1] if during else "start") if worst + 1 < len(ticks) - 2 else "applying the result"
        runs.append({
            "label": label,
            "seconds": (clock.elapsed() - started) / 1000,
            "max_gap_ms": max(gaps) if gaps else float("nan"),
            "ticks": len(ticks),
            "over_50ms": sum(gap > 50 for gap in gaps),
            "worst_at": f"{(ticks[worst] - started) / 1000:.2f} s in, during '{after}'" if gaps else "",
            "device": controller.models.device_name,
            "working": window.document.result.working_size,
        })
    window.close()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="start-up runs (default 3)")
    parser.add_argument("--resolution", type=int, default=1024, help="working resolution of the clean (default 1024)")
    parser.add_argument("--model", help="weights file (default: bundled, else a random default-size model)")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}, Python "
          f"{sys.version.split()[0]}, QT_QPA_PLATFORM={os.environ['QT_QPA_PLATFORM']}")
    startup = bench_startup(args.runs)
    verdict = "OK" if startup["best"] <= 2.0 else "SLOW"
    print(f"start-up to window shown: best {startup['best']:.2f} s, median {startup['median']:.2f} s "
          f"({', '.join(f'{t:.2f}' for t in startup['all'])}); torch loaded at start-up: {startup['torch']} "
          f"[target ≤ 2 s: {verdict}]")
    for run in bench_stall(args.resolution, args.model):
        verdict = "OK" if run["max_gap_ms"] <= 100 else "STALL"
        print(f"{run['label']}: clean at {args.resolution} (working {run['working'][0]}×{run['working'][1]}, "
              f"{run['device']}) took {run['seconds']:.2f} s; longest UI event-loop gap {run['max_gap_ms']} ms "
              f"({run['worst_at']}) over {run['ticks']} ticks of 5 ms, {run['over_50ms']} gaps over 50 ms "
              f"[target ≤ 100 ms: {verdict}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
