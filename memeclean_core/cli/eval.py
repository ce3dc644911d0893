"""`memeclean eval`: MemeClean against classical baselines on a validation set, as a table (and JSON).

    memeclean eval --data DIR [--formats all | FORMAT ...] [--count N] [--seed S] [--long-side L]
                   [--resolution N ...] [--model WEIGHTS] [--device auto|cpu|cuda|mps] [--no-text-left]
                   [--ocr-cache DIR] [--json FILE] [--save-examples DIR] [--markdown]

`--data` is either a saved validation set (memes/, templates/, masks/, see `evaluate.save_validation_set`) or a
prepared data folder (images/, fonts/, clipart/) from which `--count` cases per format are generated with
`--seed`. Every number is printed per format group ("aggregate" is the model card's set). Metrics, baselines and
how they are averaged: see `memeclean_core/training/evaluate.py`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..progress import ProgressBar
from .arguments import add_command, add_model_arguments

SUMMARY = "measure cleaning quality against baselines on a validation set"
DESCRIPTION = (
    "Compare MemeClean at several working resolutions with baselines (input unchanged, OCR boxes + "
    "Telea, Telea with the true mask) on synthetic memes: PSNR (whole image and text region), SSIM, mask IoU, "
    "time per image."
)

DEFAULT_COUNT = 40
DEFAULT_EXAMPLES = 4
# evaluate.EVAL_FORMATS, spelled out so `memeclean --help` does not import OpenCV (a test keeps them equal)
FORMAT_NAMES = (
    "aggregate",
    "classic",
    "labels",
    "caption_bar",
    "watermark",
    "small",
    "multi_panel",
    "distractors",
    "white_canvas",
    "line_art",
    "line_art_clean",
    "fine_texture",
    "script_latin",
    "script_cyrillic",
    "script_greek",
    "script_chinese",
    "script_japanese",
    "script_korean",
    "script_arabic",
    "script_hebrew",
    "script_devanagari",
    "script_thai",
    "round_trip",
)
MAX_COUNT = 100_000
MAX_LONG_SIDE = 8192


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "eval", SUMMARY, DESCRIPTION)
    parser.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="a saved validation set (memes/ templates/ masks/) or a prepared data folder (images/)",
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        default=["all"],
        choices=["all", *FORMAT_NAMES],
        metavar="FORMAT",
        help="format groups to evaluate: all (default), or some of "
        + ", ".join(FORMAT_NAMES)
        + " (aggregate: the model card's mix; round_trip: `memeclean caption` text on the folder's "
        "pictures, one case per picture, at most --count)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=DEFAULT_COUNT,
        metavar="N",
        help=f"cases per format to generate from a prepared folder (default {DEFAULT_COUNT})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated cases (default 0)")
    parser.add_argument(
        "--long-side",
        type=int,
        default=1024,
        metavar="PX",
        help="long side of the generated cases in pixels (default 1024)",
    )
    parser.add_argument(
        "--resolution",
        type=int,
        nargs="+",
        default=[256, 512, 1024],
        metavar="N",
        help="working resolutions to evaluate MemeClean at (default 256 512 1024)",
    )
    add_model_arguments(parser)
    parser.add_argument("--no-baselines", action="store_true", help="evaluate MemeClean only")
    parser.add_argument(
        "--no-text-left", action="store_true", help="skip the OCR detector on the outputs (text left); faster"
    )
    parser.add_argument(
        "--ocr-cache", metavar="DIR", help="keep the OCR detector's answers in DIR, by image content, across runs"
    )
    parser.add_argument("--json", metavar="FILE", help="also write every number (and per-image scores) to FILE")
    parser.add_argument(
        "--save-examples",
        metavar="DIR",
        help=f"write before | after | mask triptychs of the first {DEFAULT_EXAMPLES} cases of each format to DIR",
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the model card)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file and examples")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..errors import MemeCleanError
    from ..files.safe_write import check_target, make_folder, write_json
    from ..geometry import MAX_RESOLUTION, MIN_RESOLUTION
    from ..network.checkpoint import load_model
    from ..options import check_int
    from ..training.evaluate import (
        DEFAULT_FORMATS,
        MODEL,
        evaluate_model,
        format_table,
        jsonable,
        load_cases,
        triptych,
        write_png,
    )

    check_int("--count", args.count, 1, MAX_COUNT)
    for resolution in args.resolution:
        if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
            raise MemeCleanError(
                f"--resolution must be between {MIN_RESOLUTION} and {MAX_RESOLUTION}, got {resolution}"
            )
    check_int("--long-side", args.long_side, 16, MAX_LONG_SIDE)
    check_int("--seed", args.seed, 0, 2**32 - 1)
    # The outputs are checked before the (long) evaluation: a folder, an existing file unasked, a missing folder.
    json_path = Path(args.json) if args.json else None
    if json_path is not None:
        make_folder(json_path.parent, "the --json folder")
        check_target(json_path, overwrite=args.overwrite)
    examples_dir = Path(args.save_examples) if args.save_examples else None
    if examples_dir is not None:
        if examples_dir.exists() and not examples_dir.is_dir():
            raise MemeCleanError(f"--save-examples '{examples_dir}' is a file, not a folder")
        make_folder(examples_dir, "the --save-examples folder")
    formats = DEFAULT_FORMATS if "all" in args.formats else args.formats
    model = load_model(args.model, device=args.device, runtime=args.runtime)
    cases, source = load_cases(args.data, count=args.count, seed=args.seed, long_side=args.long_side, formats=formats)
    print(f"{source}; model {model.path} on {model.device_name}", flush=True)

    per_group: dict[str, list[str]] = {}
    for case in cases:
        per_group.setdefault(case.format, []).append(case.name)
    example_names = {name for names in per_group.values() for name in names[:DEFAULT_EXAMPLES]}

    def save_example(method, resolution, case, image, mask) -> None:
        if examples_dir is None or method != MODEL or case.name not in example_names:
            return
        strip = triptych(case.meme, image, mask if mask is not None else np.zeros(case.mask.shape, bool))
        write_png(examples_dir / f"{case.name}_r{resolution}.png", strip, overwrite=args.overwrite)

    bar = ProgressBar()
    result = evaluate_model(
        model,
        cases,
        args.resolution,
        baselines=not args.no_baselines,
        text_left=not args.no_text_left,
        ocr_cache=args.ocr_cache,
        progress=lambda fraction, message: bar.update(fraction, message),
        on_output=save_example,
    )
    bar.finish()
    result["data"] = source
    print(format_table(result, markdown=args.markdown))
    if json_path is not None:
        write_json(json_path, jsonable(result), overwrite=args.overwrite)
        print(f"wrote {json_path}")
    if examples_dir is not None:
        print(f"examples in {examples_dir}")
    return 0
