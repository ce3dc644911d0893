"""Full-resolution caption edges: compare the `PostprocessConfig.edge_refine` methods on large pictures (long side
1024–1600, so the working size at 512 is smaller than the picture and the probability is upsampled).

    python bench/bench_refine.py --data ../data/val [--model WEIGHTS] [--count 30] [--seed 2]
                                 [--resolution 512] [--long-side 1024 1280 1600]

Prints, per method (and the thresholds/dilation tried with it): PSNR all, PSNR text, SSIM, mask IoU, collateral
(share of replaced pixels > 4 px from any true caption pixel) and missed (share of true caption pixels not
replaced); the last row checks that the structure-keeping fill does not hurt ordinary memes. Cases are generated
with a seed other than the model card's (0). Speed: bench/bench_speed.py.
"""

from __future__ import annotations

import sys

from _common import arguments

# (label, PostprocessConfig overrides)
CANDIDATES = [
    ("today (none)", {}),
    ("guided", {"edge_refine": "guided"}),
    ("guided-colour", {"edge_refine": "guided-colour"}),
    ("colour", {"edge_refine": "colour"}),
    ("colour, fill 0.1", {"edge_refine": "colour", "fill_threshold": 0.1}),
    ("guided, dilation 2", {"edge_refine": "guided", "refined_dilation": 2}),
    ("guided-colour, refined fill 0.1", {"edge_refine": "guided-colour", "refined_fill_threshold": 0.1}),
    ("colour, refined fill 0.1", {"edge_refine": "colour", "refined_fill_threshold": 0.1}),
    ("structure fill", {"structure_fill": True}),
]


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--long-side", type=int, nargs="+", default=[1024, 1280, 1600])
    parser.add_argument("--only", nargs="+", help="labels of the candidates to run (default: all)")
    args = parser.parse_args(argv)

    from postprocess_scores import HEADER, cached, format_row, load_cases, score

    from memeclean_core.cleaning.pipeline import PostprocessConfig
    from memeclean_core.network.checkpoint import load_model

    cases = load_cases(args.data, args.count, args.seed, args.long_side)
    model = cached(load_model(args.model, runtime="torch"))  # the mask network runs once per case
    print(
        f"{len(cases)} cases (seed {args.seed}, long sides {args.long_side}), resolution {args.resolution}, "
        f"model {model.path}"
    )
    width = max(len(label) for label, _ in CANDIDATES)
    print(f"{'method':<{width}} {HEADER}")
    for label, overrides in CANDIDATES:
        if args.only and label not in args.only:
            continue
        row = score(model, cases, args.resolution, PostprocessConfig(**overrides))
        print(f"{label:<{width}} {format_row(row)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
