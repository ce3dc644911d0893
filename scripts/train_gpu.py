#!/usr/bin/env python3
"""Train the next MemeClean model within a time budget on one machine, from an unpacked data pack, with no network.

`scripts/train_gpu.sh` unpacks the pack and runs this; see there. It drives the one training loop
(`memeclean_core.training.train.training_run`, bf16 autocast and channels-last on a CUDA GPU, plain fp32 elsewhere)
with a named network size, data workers on every core, and then:

- every `--snapshot-minutes` the full checkpoint (weights + optimiser, for `--resume`) is rewritten in WORK, and
  an fp16 copy of the weights (no optimiser: small enough to bring back) in OUT/model-fp16.pt;
- OUT/train-log.jsonl gets one line per progress report, OUT/summary.json the run's totals;
- at the end the new model and the bundled one are measured on validation memes from the pack's val/ split
  (`memeclean eval`), into OUT/eval-new.json and OUT/eval-bundled.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

SNAPSHOT_NAME = "model-fp16.pt"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from memeclean_core.geometry import TRAIN_MAX_SIDE
    from memeclean_core.threads import usable_cores

    cores = usable_cores()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="unpacked data pack: train/ and val/")
    parser.add_argument("--out", required=True, type=Path, help="what to bring back: fp16 model, logs, scores")
    parser.add_argument("--work", required=True, type=Path, help="the full checkpoint (weights + optimiser)")
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget in wall minutes (default 10)")
    parser.add_argument("--steps", type=int, help="or a budget in steps (the first reached ends the run)")
    parser.add_argument("--preset", default="large", help="network size (memeclean_core.network.model.PRESETS)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crop", type=int, default=256)
    parser.add_argument("--resolution", type=int, default=TRAIN_MAX_SIDE, help="largest picture long side trained on")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--fill-every", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="data and initialisation seed (a new one draws new data)")
    parser.add_argument("--workers", type=int, default=cores, help=f"data-loading processes (default {cores})")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--snapshot-minutes", type=float, default=2.0)
    parser.add_argument("--resume", action="store_true", help="continue the checkpoint in --work")
    parser.add_argument(
        "--init", type=Path, metavar="CKPT", help="start from these weights (and their network size, not --preset)"
    )
    parser.add_argument(
        "--gpu-pack",
        type=Path,
        metavar="PACK",
        help="composite the mask steps' batches on the GPU from this glyph pack (scripts/build_glyph_pack.py): "
        "the data workers then make only the fill steps' batches",
    )
    parser.add_argument("--eval-count", type=int, default=40, help="validation memes (0: no evaluation)")
    parser.add_argument("--eval-resolution", type=int, nargs="+", default=[512, 1024])
    parser.add_argument(
        "--eval-formats", nargs="+", default=["all"], metavar="FORMAT", help="format groups to evaluate (default all)"
    )
    return parser.parse_args(argv)


def export_half(checkpoint: Path, target: Path) -> int:
    """Write the weights of `checkpoint` in fp16 with no optimiser state; returns the file's size in bytes."""
    from memeclean_core.network.weights import build_net, read_checkpoint, save_checkpoint

    payload = read_checkpoint(checkpoint)
    state = payload.get("train") or {}
    info = {"step": state.get("step"), "elapsed": state.get("elapsed"), "source": "scripts/train_gpu.py"}
    save_checkpoint(target, build_net(payload, checkpoint), info, half=True)
    return target.stat().st_size


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from memeclean_core.cli import main as cli_main
    from memeclean_core.network.device import describe, pick_device
    from memeclean_core.network.model import MemeCleanNet, UNetConfig
    from memeclean_core.network.weights import read_checkpoint
    from memeclean_core.training.train import TrainConfig, training_run

    device = pick_device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed crop size: let cuDNN pick its fastest convolutions once
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    checkpoint = args.work / "run.pt"
    start = checkpoint if args.resume else args.init  # the weights this run starts from, if any
    start_payload = read_checkpoint(start) if start else None
    # The network's size comes from those weights, not --preset.
    model = UNetConfig.from_dict(start_payload["config"]) if start_payload else UNetConfig.preset(args.preset)
    first_step = start_payload["train"]["step"] if args.resume else 0
    config = TrainConfig(
        data=[str(args.data / "train")],
        out=str(checkpoint),
        steps=args.steps,
        minutes=args.minutes,
        batch=args.batch,
        crop=args.crop,
        max_side=args.resolution,
        lr=args.lr,
        fill_every=args.fill_every,
        seed=args.seed,
        device=args.device,
        workers=args.workers,
        checkpoint_minutes=args.snapshot_minutes,
        preview_every=0,
        resume=str(checkpoint) if args.resume else None,
        init=str(args.init) if args.init else None,
        gpu_pack=str(args.gpu_pack) if args.gpu_pack else None,
        model=model.to_dict(),
    )
    network = f"network of {start}" if start else f"'{args.preset}' network"
    print(
        f"training the {network} ({MemeCleanNet(model).num_parameters() / 1e6:.2f} M parameters) on "
        f"{describe(device)}, {args.workers} data workers, batch {args.batch} of {args.crop} px, budget "
        f"{args.steps or '-'} steps / {args.minutes} minutes",
        flush=True,
    )

    snapshot = args.out / SNAPSHOT_NAME
    last = None
    started = time.perf_counter()
    printed = float("-inf")
    run = training_run(config)
    interrupted = False
    with open(args.out / "train-log.jsonl", "a", encoding="utf-8") as log:
        try:
            for report in run:
                if report.done:
                    break
                last = report
                if report.checkpoint:
                    size = export_half(Path(report.checkpoint), snapshot)
                    print(
                        f"step {report.step}: checkpoint {report.checkpoint}, fp16 snapshot {snapshot} "
                        f"({size / 1e6:.1f} MB)",
                        flush=True,
                    )
                log.write(
                    json.dumps(
                        {
                            "step": report.step,
                            "loss": report.loss,
                            "mask_loss": report.mask_loss,
                            "fill_loss": report.fill_loss,
                            "samples_per_second": report.samples_per_second,
                            "elapsed": report.elapsed,
                        }
                    )
                    + "\n"
                )
                log.flush()
                if time.perf_counter() - printed > 30:
                    printed = time.perf_counter()
                    print(
                        f"step {report.step} loss {report.loss:.4f} (mask {report.mask_loss:.4f} fill "
                        f"{report.fill_loss:.4f}) {report.samples_per_second:.0f} samples/s, "
                        f"{report.elapsed / 60:.1f} min",
                        flush=True,
                    )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            run.close()  # writes the full checkpoint of the last step
    size = export_half(checkpoint, snapshot)
    wall = time.perf_counter() - started
    steps = read_checkpoint(checkpoint)["train"]["step"]
    samples = (steps - first_step) * args.batch  # this run's
    summary = {
        "preset": None if start else args.preset,
        "init": str(args.init) if args.init else None,
        "config": model.to_dict(),
        "device": describe(device),
        "steps": steps,
        "steps_this_run": steps - first_step,
        "batch": args.batch,
        "crop": args.crop,
        "wall_seconds": round(wall, 1),
        "samples_per_second": round(samples / wall, 1),
        "last_loss": last.loss if last else None,
        "workers": args.workers,
        "snapshot": SNAPSHOT_NAME,
        "snapshot_bytes": size,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"trained to step {steps} in {wall / 60:.1f} min; fp16 model {snapshot} ({size / 1e6:.1f} MB)", flush=True)

    if interrupted:
        print(f"interrupted: continue with --resume (the checkpoint is {checkpoint})", flush=True)
        return 130
    if args.eval_count > 0:
        resolutions = [str(r) for r in args.eval_resolution]
        for name, model_args in (("new", ["--model", str(snapshot)]), ("bundled", [])):
            code = cli_main(
                [
                    "eval",
                    "--data",
                    str(args.data / "val"),
                    "--count",
                    str(args.eval_count),
                    "--resolution",
                    *resolutions,
                    "--formats",
                    *args.eval_formats,
                    "--no-baselines",
                    "--no-text-left",
                    "--markdown",
                    "--device",
                    args.device,
                    "--json",
                    str(args.out / f"eval-{name}.json"),
                    *model_args,
                ]
            )
            if code != 0:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
