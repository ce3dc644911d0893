"""`memeclean train`: train a model from prepared data folders (see `memeclean prepare`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import MemeCleanError
from ..geometry import TRAIN_MAX_SIDE, TRAIN_MIN_SIDE
from ..progress import ProgressBar, format_duration
from .arguments import DEVICES, add_command

if TYPE_CHECKING:
    from ..training.train import TrainConfig

SUMMARY = "train a model on clean pictures and/or meme/template pairs"
# how a data-parallel run starts its processes, each one `train --distributed` (`training.ddp.DataParallel`)
DISTRIBUTED_LAUNCH = "torchrun --nproc-per-node N -m memeclean_core train --distributed ..."


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "train", SUMMARY)
    parser.add_argument("--data", nargs="+", required=True, metavar="DIR", help="prepared data folder(s)")
    parser.add_argument("--out", required=True, metavar="CKPT", help="checkpoint to write (and rewrite)")
    budget = parser.add_argument_group("budget (the first reached ends the run)")
    budget.add_argument("--minutes", type=float, help="wall-clock minutes")
    budget.add_argument("--steps", type=int, help="optimiser steps")
    parser.add_argument(
        "--resolution",
        type=int,
        default=TRAIN_MAX_SIDE,
        metavar="N",
        help=f"largest picture long side trained on; pictures span {TRAIN_MIN_SIDE}..N (default {TRAIN_MAX_SIDE})",
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--crop", type=int, default=256, help="training crop size in pixels")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--fill-every", type=int, default=3, metavar="N", help="train the fill every N-th step")
    parser.add_argument("--device", default="auto", choices=DEVICES)
    parser.add_argument("--workers", type=int, default=1, help="data-loading processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint (step, optimiser, schedule)")
    parser.add_argument(
        "--init",
        metavar="CKPT",
        help="start from these weights (and their network size) with a fresh schedule, e.g. to "
        "fine-tune the bundled model on new data",
    )
    parser.add_argument(
        "--anchor",
        metavar="WEIGHTS",
        help="keep the mask's answers where these weights are right (usually the model being fine-tuned), so "
        "new data does not make it forget them",
    )
    parser.add_argument(
        "--anchor-weight", type=float, default=1.0, metavar="W", help="weight of the --anchor loss (default 1)"
    )
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "bf16", "fp32"],
        help="bf16 autocast (auto: on CUDA and on CPUs with native bf16)",
    )
    parser.add_argument(
        "--reuse", type=float, default=8.0, metavar="K", help="training crops drawn from each rendered meme (default 8)"
    )
    parser.add_argument(
        "--gpu-pack",
        metavar="PACK",
        help="composite the mask-training batches on the training device from this glyph pack "
        "(scripts/build_glyph_pack.py); the fill batches still come from --data",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out file (the checkpoint given to --resume is always continued)",
    )
    parser.add_argument(
        "--model-preset",
        metavar="NAME",
        help="network size: tiny, default or large (a GPU's); --model-config changes fields of it",
    )
    parser.add_argument("--model-config", metavar="JSON", help="network size, e.g. '{\"mask_channels\": 24}'")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help=f"one process of a data-parallel run: {DISTRIBUTED_LAUNCH} (--batch is per process)",
    )
    parser.set_defaults(run=run)


def progress_line(report, processes: int = 1) -> str:
    """The progress bar's text for a TrainProgress; samples/s over all `processes` of a data-parallel run."""
    return (
        f"step {report.step} loss {report.loss:.4f} (mask {report.mask_loss:.4f} fill {report.fill_loss:.4f}) "
        f"{report.samples_per_second * processes:.1f} samples/s ETA {format_duration(report.eta)}"
    )


def model_fields(preset: str | None, overrides: str | None) -> dict:
    """The network's UNetConfig fields: a named preset's, then the JSON overrides."""
    from ..errors import UsageError
    from ..network.model import PRESETS
    from ..training.checks import parse_model_config

    if preset is not None and preset not in PRESETS:
        raise UsageError(f"unknown --model-preset '{preset}' (known: {', '.join(PRESETS)})")
    return {**PRESETS.get(preset or "default", {}), **parse_model_config(overrides)}


def run(args: argparse.Namespace) -> int:
    import sys

    from ..options import check_int
    from ..training.checks import MAX_SIDE, check_train_config
    from ..training.stop_signals import StopSignals
    from ..training.train import TrainConfig, training_run

    # The floor is the app's smallest working size.
    check_int("--resolution", args.resolution, TRAIN_MIN_SIDE, MAX_SIDE)
    config = TrainConfig(
        data=args.data,
        out=args.out,
        steps=args.steps,
        minutes=args.minutes,
        batch=args.batch,
        crop=args.crop,
        max_side=args.resolution,
        lr=args.lr,
        fill_every=args.fill_every,
        device=args.device,
        workers=args.workers,
        seed=args.seed,
        resume=args.resume,
        init=args.init,
        anchor=args.anchor,
        anchor_weight=args.anchor_weight,
        precision=args.precision,
        reuse=args.reuse,
        gpu_pack=args.gpu_pack,
        model=model_fields(args.model_preset, args.model_config),
        preview_every=0,
        overwrite=args.overwrite,
    )
    if args.distributed:
        return run_distributed(config)
    # Every option, the data, the resume file and the output are checked before the model is built.
    for note in check_train_config(config).notes:
        print(f"memeclean: {note}", file=sys.stderr)
    bar = ProgressBar()
    with StopSignals(what="stopping after this step and saving the checkpoint") as stop:
        run = training_run(config, stop=stop)
        try:
            for report in run:
                if report.done:
                    break
                bar.update(report.fraction, progress_line(report), force=report.checkpoint is not None)
        except KeyboardInterrupt:  # a Ctrl+C that reached Python before the handler was set, or after
            run.close()  # writes the checkpoint of the last step
            bar.finish()
            print(f"interrupted: checkpoint saved to {args.out} (continue with --resume {args.out})")
            return 130
        finally:
            run.close()
    bar.finish()
    if stop.signum is not None:
        print(f"interrupted: checkpoint saved to {args.out} (continue with --resume {args.out})")
        return stop.exit_status
    print(f"saved {args.out}")
    return 0


# -------------------------------------------------------------------------------------------- --distributed


def _interrupt_once(signum: int, frame: object) -> None:
    """SIGINT/SIGTERM (torchrun passes Ctrl+C on as SIGTERM): stop once, then let the checkpoint be written."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run_distributed(config: TrainConfig) -> int:
    """Train as one process of a torchrun job; rank 0 shows the progress and writes the checkpoint."""
    import signal

    import torch.distributed as dist

    from ..training.ddp import DataParallel, peer_lost
    from ..training.train import training_run

    parallel = DataParallel.from_environment(config.device)
    signal.signal(signal.SIGINT, _interrupt_once)
    signal.signal(signal.SIGTERM, _interrupt_once)
    bar = ProgressBar(enabled=parallel.is_main)
    if parallel.is_main:
        bar.message(
            f"distributed training: {parallel.world_size} processes on {parallel.device.type}, "
            f"{config.batch} crops per process and step"
        )
    run = training_run(config, parallel=parallel)
    finished = False
    try:
        for report in run:
            if report.done:
                break
            bar.update(report.fraction, progress_line(report, parallel.world_size), force=report.checkpoint is not None)
        run.close()
        parallel.share_buffers()
        finished = True
    except KeyboardInterrupt:
        run.close()  # rank 0 writes the checkpoint of the last step
        bar.finish()
        if parallel.is_main:
            print(f"interrupted: checkpoint saved to {config.out} (continue with --resume {config.out})")
        return 130
    except (RuntimeError, dist.DistError) as error:  # a peer died or hung: its collective failed or timed out
        bar.finish()
        raise MemeCleanError(peer_lost(parallel, config.out, error)) from None
    finally:
        run.close()
        parallel.close(wait_for_all=finished)
    bar.finish()
    if parallel.is_main:
        print(f"saved {config.out}")
    return 0
