"""Cleaning an animation with MemeClean's thread policy against torch's default threads, idle and on a busy machine.

    python bench/bench_threads.py [--frames 300] [--size 320x240] [--busy 0 2] [--model WEIGHTS] [--resolution 512]
                                 [--row-timeout 1800]

A GIF of `--frames` frames (a gradient with a white outlined caption that moves) is generated, written and loaded
back as `memeclean clean` does, then every frame is cleaned on the CPU:
- policy: `memeclean_core.threads.threads_for` picks the threads per frame (what `clean()` does);
- default: every frame on torch's default number of threads (the policy switched off).
`--busy N` starts N processes that only spin (a loaded machine: other builds, a training run) for the time of the
measurement. Each row runs in a fresh child process, so torch's thread pool starts the same way for both.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT


def make_gif(path: Path, frames: int, size: tuple[int, int]) -> None:
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from memeclean_core.resources import resource_path

    width, height = size
    font = ImageFont.truetype(str(resource_path("fonts", "Anton-Regular.ttf")), max(12, height // 7))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    pictures = []
    for index in range(frames):
        shift = index * 3 % width
        base = np.stack([(xx + shift) % width / width * 200, yy / height * 180, np.full_like(xx, 90)], -1)
        picture = Image.fromarray(base.astype(np.uint8))
        ImageDraw.Draw(picture).text(
            (width // 2, 4), "WHEN THE GIF", font=font, fill="white", anchor="mt", stroke_width=2, stroke_fill="black"
        )
        pictures.append(picture.convert("P", palette=Image.Palette.ADAPTIVE))
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=40, loop=0)


def spin(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def child(spec: dict) -> dict:
    """Clean every frame of the GIF with the policy on or off; seconds and the threads used per frame."""
    import torch

    from memeclean_core import threads
    from memeclean_core.cleaning.inference import clean
    from memeclean_core.files.imageio import load_image
    from memeclean_core.network.checkpoint import load_model

    if spec["setting"] == "default":
        threads.PIXELS_PER_THREAD = 1  # every frame gets all of torch's threads, as before the policy
    model = load_model(spec["model"], device="cpu")
    image = load_image(spec["gif"])
    clean(image.frames[0].pixels, resolution=spec["resolution"], model=model)  # warm-up
    used = threads.threads_for(image.width * image.height)
    started = time.perf_counter()
    for frame in image.frames:
        clean(frame.pixels, resolution=spec["resolution"], model=model)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "frames": len(image.frames), "threads": used, "default": torch.get_num_threads()}


def measure(spec: dict, busy: int, timeout: float) -> dict:
    spinners = []
    if busy:
        stop_at = time.time() + 3600
        spinners = [multiprocessing.Process(target=spin, args=(stop_at,), daemon=True) for _ in range(busy)]
        for process in spinners:
            process.start()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": None, "frames": None, "threads": None, "default": None}
    finally:
        for process in spinners:
            process.terminate()
            process.join()
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="320x240", help="frame size WxH (default 320x240)")
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 2], help="spinning processes per measurement")
    parser.add_argument("--model", help="weights (default: the bundled model)")
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument(
        "--row-timeout",
        type=float,
        default=1800,
        help="seconds one row may take; a slower one is shown as '>' that (default 1800)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    width, height = (int(part) for part in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as folder:
        gif = Path(folder) / "animation.gif"
        make_gif(gif, args.frames, (width, height))
        print(
            f"{args.frames}-frame GIF {width}×{height}, resolution {args.resolution}, CPU, "
            f"{os.cpu_count()} logical cores, load average {os.getloadavg()[0]:.1f} at the start"
        )
        print(f"{'busy':>4}  {'setting':<8} {'threads':>7}  {'total s':>8}  {'ms/frame':>8}")
        for busy in args.busy:
            for setting in ("policy", "default"):
                spec = {"gif": str(gif), "model": args.model, "resolution": args.resolution, "setting": setting}
                row = measure(spec, busy, args.row_timeout)
                if row["seconds"] is None:  # slower than the limit: say so instead of waiting on
                    print(
                        f"{busy:>4}  {setting:<8} {'?':>7}  {'>' + format(args.row_timeout, '.0f'):>8}  "
                        f"{'>' + format(1000 * args.row_timeout / args.frames, '.0f'):>8}",
                        flush=True,
                    )
                    continue
                threads = row["threads"] if setting == "policy" else row["default"]
                print(
                    f"{busy:>4}  {setting:<8} {threads:>7}  {row['seconds']:>8.1f}  "
                    f"{1000 * row['seconds'] / row['frames']:>8.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
