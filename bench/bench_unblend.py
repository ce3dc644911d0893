"""Does un-blending translucent marks beat filling them? (`PostprocessConfig.unblend`, `cleaning/unblend.py`)

    python bench/bench_unblend.py --data ../data/val [--model WEIGHTS] [--count 24] [--seed 1]
                                  [--resolution 512] [--formats watermark aggregate classic ...]

Cleans the same cases with the un-blend off and on, per format group, and prints the scores of
`bench/postprocess_scores.py` (PSNR whole image and text region, SSIM, mask IoU, collateral, missed). Cases use a
seed other than the model card's (seed 0), so the un-blend's constants are not tuned on the card's numbers. Opaque
captions should not move: a format whose text is opaque is a check that the fit rejects it.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from _common import arguments


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--long-side", type=int, default=1024)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument(
        "--formats", nargs="+", default=["watermark", "aggregate", "classic", "labels", "small", "caption_bar"]
    )
    args = parser.parse_args(argv)

    from postprocess_scores import HEADER, cached, format_row, score

    from memeclean_core.cleaning.pipeline import DEFAULT_POSTPROCESS
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.evaluate import load_cases

    model = cached(load_model(args.model, runtime="torch"))  # the mask network runs once per case
    print(f"model {model.path}, resolution {args.resolution}, {args.count} cases per format, seed {args.seed}")
    print(f"{'format':<14} {'un-blend':>8} {HEADER}")
    for name in args.formats:
        cases, _ = load_cases(args.data, count=args.count, seed=args.seed, long_side=args.long_side, formats=[name])
        for on in (False, True):
            row = score(model, cases, args.resolution, replace(DEFAULT_POSTPROCESS, unblend=on))
            print(f"{name:<14} {'on' if on else 'off':>8} {format_row(row)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
