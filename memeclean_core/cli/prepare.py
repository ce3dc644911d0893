"""`memeclean prepare SRC DEST`: organise a raw folder into a training data folder (`memeclean_core.data.prepare`)."""

from __future__ import annotations

import argparse
import os

from ..geometry import TRAIN_MAX_SIDE
from .arguments import add_command

SUMMARY = "check, convert and organise pictures, meme/template pairs and fonts for training"
DESCRIPTION = (
    "Organise SRC into DEST: clean pictures -> DEST/images, clip art -> DEST/clipart, "
    "meme/template pairs (templates/<name>.<ext> + memes/<name>/*, or the ImgFlip575K JSON layout "
    "with downloaded images) -> DEST/pairs, fonts -> DEST/fonts; a held-out part goes to DEST/val. "
    "Every image is decoded, turned upright (EXIF), converted to RGB and resized; broken files "
    "are skipped and reported."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "prepare", SUMMARY, DESCRIPTION)
    parser.add_argument("src", metavar="SRC", help="raw folder")
    parser.add_argument("dest", metavar="DEST", help="prepared data folder to write (train with --data DEST)")
    parser.add_argument(
        "--max-side", type=int, default=TRAIN_MAX_SIDE, metavar="N", help=f"largest side in pixels ({TRAIN_MAX_SIDE})"
    )
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        metavar="F",
        help="share held out in DEST/val (whole templates for pairs; default 0.1)",
    )
    parser.add_argument(
        "--min-side", type=int, default=128, metavar="N", help="skip pictures whose short side is below N pixels (128)"
    )
    parser.add_argument("--workers", type=int, default=max(1, min(4, (os.cpu_count() or 1))), help="decoding processes")
    parser.add_argument("--seed", type=int, default=0, help="changes which files are held out")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..data.prepare import REPORT_NAME, prepare
    from ..options import check_float, check_int
    from ..progress import ProgressBar

    check_int("--max-side", args.max_side, 64, 16384)
    check_int("--min-side", args.min_side, 1, args.max_side)
    check_float("--val-fraction", args.val_fraction, 0.0, 0.99)
    check_int("--workers", args.workers, 1, 64)
    check_int("--seed", args.seed, 0, 2**32 - 1)
    bar = ProgressBar()
    report = prepare(
        args.src,
        args.dest,
        max_side=args.max_side,
        val_fraction=args.val_fraction,
        min_side=args.min_side,
        workers=args.workers,
        seed=args.seed,
        progress=lambda fraction, text: bar.update(fraction, text),
    )
    bar.finish()
    print(report.summary())
    print(f"details: {os.path.join(args.dest, REPORT_NAME)}")
    return 0 if report.written else 1
