#!/usr/bin/env python3
"""Crops per second of the two ways to make mask-training batches: the CPU data path (`TrainingBatches`, rendered
memes cropped in a data worker) and the glyph pack composited on a device (`data.glyph_pack.DeviceBatches`), on the
CPU and, where there is one, on the GPU (end to end: the batch on the device, ready for the network).

    python3 bench/bench_gpu_data.py --data ../data/train [--pack glyph-pack.npz] [--batches 20] [--batch 32]

Without --pack a small pack (--layers, --backgrounds) is built first and its build rate printed: the pack's
one-off CPU cost. Prints one table row per path and device.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from memeclean_core.data.dataset import TrainingBatches
from memeclean_core.data.glyph_pack import DeviceBatches, GlyphPack, build_pack
from memeclean_core.training.train import build_sources, to_device


def time_batches(make, batches: int, batch: int, sync) -> float:
    make()  # warm-up: allocation, kernel selection
    sync()
    started = time.perf_counter()
    for _ in range(batches):
        make()
    sync()
    return batches * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--pack", type=Path)
    parser.add_argument("--layers", type=int, default=200)
    parser.add_argument("--backgrounds", type=int, default=80)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    rows = []
    pack_path = args.pack
    if pack_path is None:
        pack_path = Path(tempfile.mkdtemp()) / "pack.npz"
        started = time.perf_counter()
        info = build_pack(args.data, pack_path, args.layers, args.backgrounds)
        seconds = time.perf_counter() - started
        rows.append(("build the pack (once)", "cpu", f"{info['layers'] / seconds:.1f} layers/s"))
    pack = GlyphPack.load(pack_path)

    stream = iter(TrainingBatches(build_sources([str(args.data)]), batch=args.batch, fill_every=10**9))
    cpu = torch.device("cpu")

    def cpu_batch() -> dict:
        batch = next(stream)
        batch.pop("with_fill")
        return to_device(batch, cpu)

    rate = time_batches(cpu_batch, max(2, args.batches // 4), args.batch, lambda: None)
    rows.append(("CPU data path (one worker)", "cpu", f"{rate:.0f} crops/s"))
    devices = [cpu] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        batches = DeviceBatches(pack, device)
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        rate = time_batches(lambda b=batches: b.batch(args.batch), args.batches, args.batch, sync)
        rows.append(("glyph pack composited on the device", device.type, f"{rate:.0f} crops/s"))
    width = max(len(r[0]) for r in rows)
    print(f"{'path':<{width}}  device  rate   (torch threads {torch.get_num_threads()}, batch {args.batch})")
    for path, device, rate in rows:
        print(f"{path:<{width}}  {device:<6}  {rate}")


if __name__ == "__main__":
    main()
