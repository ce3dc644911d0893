"""`memeclean train`: train a model from prepared data folders (see `memeclean prepare`)."""

from __future__ import annotations

import argparse
import json

from .progress import ProgressBar, format_duration


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model on clean pictures and/or meme/template pairs")
    parser.add_argument("--data", nargs="+", required=True, metavar="DIR", help="prepared data folder(s)")
    parser.add_argument("--out", required=True, metavar="CKPT", help="checkpoint to write (and rewrite)")
    budget = parser.add_argument_group("budget (the first reached ends the run)")
    budget.add_argument("--minutes", type=float, help="wall-clock minutes")
    budget.add_argument("--steps", type=int, help="optimiser steps")
    parser.add_argument("--resolution", type=int, default=1536, metavar="N",
                        help="largest picture long side trained on; pictures span 256..N (default 1536)")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256, help="training crop size in pixels")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--fill-every", type=int, default=1, metavar="N", help="train the fill every N-th step")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--workers", type=int, default=1, help="data-loading processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint (step, optimiser, schedule)")
    parser.add_argument("--model-preset", metavar="NAME", help="network size: tiny, default or large (a GPU's); "
                        "--model-config changes fields of it")
    parser.add_argument("--model-config", metavar="JSON", help='network size, e.g. \'{"mask_channels": 24}\'')
    parser.add_argument("--distributed", action="store_true",
                        help="one process of a data-parallel run: torchrun --nproc-per-node N -m memeclean_core train "
                             "--distributed ... (--batch is per process)")
    parser.set_defaults(run=run)


def model_fields(preset: str | None, overrides: str | None) -> dict:
    """The network's UNetConfig fields: a named preset's, then the JSON overrides."""
    from .errors import MemeCleanError
    from .model import PRESETS

    if preset is not None and preset not in PRESETS:
        raise MemeCleanError(f"unknown --model-preset '{preset}' (known: {', '.join(PRESETS)})")
    return {**PRESETS.get(preset or "default", {}), **(json.loads(overrides) if overrides else {})}


def run(args: argparse.Namespace) -> int:
    from .errors import MemeCleanError
    from .train import TrainConfig, training_run

    if not args.minutes and not args.steps:
        raise MemeCleanError("give a budget: --minutes M or --steps N")
    if args.resolution < 256:
        raise MemeCleanError("--resolution must be at least 256")
    config = TrainConfig(
        data=args.data, out=args.out, steps=args.steps, minutes=args.minutes, batch=args.batch, crop=args.crop,
        max_side=args.resolution, lr=args.lr, fill_every=args.fill_every, device=args.device,
        workers=args.workers, seed=args.seed, resume=args.resume,
        model=model_fields(args.model_preset, args.model_config), preview_every=0,
    )
    if args.distributed:
        from .train_ddp import run_distributed

        return run_distributed(config)
    bar = ProgressBar()
    run = training_run(config)
    try:
        for report in run:
            if report.done:
                break
            bar.update(report.fraction, f"step {report.step} loss {report.loss:.4f} (mask {report.mask_loss:.4f} "
                       f"fill {report.fill_loss:.4f}) {report.samples_per_second:.1f} samples/s "
                       f"ETA {format_duration(report.eta)}", force=report.checkpoint is not None)
    except KeyboardInterrupt:
        run.close()  # writes the checkpoint of the last step
        bar.finish()
        print(f"interrupted: checkpoint saved to {args.out} (continue with --resume {args.out})")
        return 130
    finally:
        run.close()
    bar.finish()
    print(f"saved {args.out}")
    return 0
