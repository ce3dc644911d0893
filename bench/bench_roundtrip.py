"""Round trip: captions written by MemeClean itself, then cleaned again, per picture.

    python bench/bench_roundtrip.py --data DIR [--count N] [--long-side 1024] [--resolution 512] [--seed 0]
                                    [--model WEIGHTS] [--no-text-left]

Each of the first `--count` pictures of `DIR/images` (a prepared data folder the model never trained on, e.g. the
`val/` split of scripts/build_dataset.py), whole, at the long side, gets upper-case top and bottom text from the
captions renderer that `memeclean caption` uses (`captions.classic`, the bundled font); the true mask is every
pixel the renderer touched (`evaluate.make_round_trip_cases`). MemeClean cleans it at the working resolution, and
OpenCV Telea fills it given the true mask (the oracle). Printed per picture: whole-image PSNR of both against the
picture and their difference (the issue's target: MemeClean ≥ oracle − 1.5 dB on every picture), PSNR in the text
region, the share of MemeClean's replaced pixels more than 4 px from every letter (collateral) and the caption lines
an OCR detector still finds (the `eval` extra; cached under the user cache folder as in bench_quality.py).
"""

from __future__ import annotations

import math
import sys

from _common import arguments

TARGET_DB = -1.5  # MemeClean minus the oracle, whole-image PSNR, on every picture


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True, metavar="DIR", help="a prepared data folder (images/)")
    parser.add_argument("--count", type=int, default=40, help="pictures at most (default 40)")
    parser.add_argument("--long-side", type=int, default=1024)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", metavar="WEIGHTS")
    parser.add_argument("--no-text-left", action="store_true", help="skip the OCR detector")
    args = parser.parse_args(argv)

    from bench.bench_quality import ocr_cache_dir
    from memeclean_core.errors import MemeCleanError
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.evaluate import MODEL, ORACLE, evaluate_model, make_round_trip_cases

    try:
        cases = make_round_trip_cases(args.data, args.count, seed=args.seed, long_side=args.long_side)
        model = load_model(args.model)
        result = evaluate_model(
            model, cases, [args.resolution], text_left=not args.no_text_left, ocr_cache=ocr_cache_dir()
        )
    except MemeCleanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    rows = {row["method"]: row for row in result["rows"]}
    if not rows[MODEL]["available"]:
        print("MemeClean did not run", file=sys.stderr)
        return 1
    ours = {s["name"]: s for s in rows[MODEL]["per_image"]}
    oracle = {s["name"]: s for s in rows[ORACLE]["per_image"]}
    print(
        f"Round trip: `memeclean caption` top/bottom text on {len(cases)} pictures of {args.data} (long side "
        f"{args.long_side}), cleaned at {args.resolution}; model {model.path}\n"
    )
    print(
        "| picture | PSNR MemeClean | PSNR oracle | difference | PSNR text MemeClean | PSNR text oracle "
        "| collateral % | lines left |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    differences = []
    for case in cases:
        mine, best = ours[case.name], oracle[case.name]
        difference = mine["psnr_all"] - best["psnr_all"]
        differences.append(difference)
        collateral = 100.0 * mine["collateral_px"] / mine["replaced_px"] if mine["replaced_px"] else math.nan
        left = "-" if mine["text_boxes_meme"] is None else f"{mine['text_boxes_left']}/{mine['text_boxes_meme']}"
        print(
            f"| {case.name} | {mine['psnr_all']:.2f} | {best['psnr_all']:.2f} | {difference:+.2f} "
            f"| {mine['psnr_text']:.2f} | {best['psnr_text']:.2f} | {collateral:.1f} | {left} |"
        )
    met = sum(d >= TARGET_DB for d in differences)
    print(
        f"\nMemeClean vs oracle, whole-image PSNR: worst {min(differences):+.2f} dB, median "
        f"{sorted(differences)[len(differences) // 2]:+.2f} dB; {met}/{len(differences)} pictures within "
        f"{TARGET_DB} dB (the target: all). Set: MemeClean {rows[MODEL]['psnr_all']:.2f} dB, oracle "
        f"{rows[ORACLE]['psnr_all']:.2f} dB (PSNR of the mean MSE); text left {_percent(rows[MODEL]['text_left'])}, "
        f"collateral {_percent(rows[MODEL]['collateral'])}."
    )
    return 0


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} %"


if __name__ == "__main__":
    sys.exit(main())
