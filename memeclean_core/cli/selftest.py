"""`memeclean selftest`: clean the bundled sample with the bundled model and check the result.

    memeclean selftest [--model WEIGHTS] [--out-dir DIR] [--min-iou X | --no-iou] [--device auto|cpu|cuda]

Exit status 0 when every check passes, 1 otherwise; the one-paragraph report names the reason, the timings and the
device. Works the same from source and from the PyInstaller bundle (it is what CI runs on the frozen app).
"""

from __future__ import annotations

import argparse
import sys

SUMMARY = "check the installation: clean the bundled sample and verify the result"
DESCRIPTION = (
    "Clean the bundled sample meme with the bundled model (or --model), write the result, read it back "
    "and check it: same size, every pixel outside the replaced region unchanged, the caption removed, "
    "the mask close to the true one. Exits 0 when all checks pass."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    from ..selftest import DEFAULT_MIN_IOU
    from .arguments import add_command, add_model_arguments

    parser = add_command(subparsers, "selftest", SUMMARY, DESCRIPTION)
    add_model_arguments(parser)
    parser.add_argument("--out-dir", metavar="DIR", help="keep the cleaned sample in DIR (default: a temporary folder)")
    iou = parser.add_mutually_exclusive_group()
    iou.add_argument(
        "--min-iou",
        type=float,
        default=DEFAULT_MIN_IOU,
        metavar="X",
        help=f"smallest acceptable mask IoU against the true mask (default {DEFAULT_MIN_IOU})",
    )
    iou.add_argument("--no-iou", action="store_true", help="skip the mask IoU check (an untrained model)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..options import check_float
    from ..selftest import run_self_test

    if not args.no_iou:  # NaN would pass every check silently; above 1 is a check that must fail (allowed)
        check_float("--min-iou", args.min_iou, 0.0, float("inf"))
    ok, message = run_self_test(
        out_dir=args.out_dir,
        model_path=args.model,
        min_iou=None if args.no_iou else args.min_iou,
        device=args.device,
        runtime=args.runtime,
    )
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
