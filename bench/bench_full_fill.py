"""The full-size classical fill of large pictures: at full size or capped at a multiple of the working size
(`PostprocessConfig.classical_fill_limit`), on validation memes with long sides of phone photos.

    python bench/bench_full_fill.py --data ../data/val [--model WEIGHTS] [--count 8] [--seed 3]
                                    [--long-side 2048 4032] [--resolution 512] [--limit none 2 3 4]
                                    [--formats aggregate caption_bar watermark]

For each long side and limit: PSNR of the text region (the true mask dilated) and of the whole picture against
the template, and the median ms of the whole clean and of its composite stage. The mask network's output is the
same for every limit (it does not depend on the fill), so the limits differ only in the fill.
"""

from __future__ import annotations

import statistics
import sys

from _common import arguments


def parse_limit(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model")
    parser.add_argument("--count", type=int, default=8, help="cases per format and long side")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--long-side", type=int, nargs="+", default=[2048, 4032])
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--limit", type=parse_limit, nargs="+", default=[None, 2.0, 3.0, 4.0])
    parser.add_argument("--formats", nargs="+", default=["aggregate", "caption_bar", "watermark"])
    args = parser.parse_args(argv)

    from memeclean_core.cleaning.inference import clean
    from memeclean_core.cleaning.pipeline import PostprocessConfig
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.evaluate import load_cases, mean_psnr, mse, text_region

    model = load_model(args.model)
    print(f"model {model.path} ({model.runtime}), resolution {args.resolution}, formats {' '.join(args.formats)}")
    print(
        f"{'long side':>9} {'limit':>6} {'cases':>5} {'PSNR text':>9} {'PSNR all':>9} "
        f"{'clean ms':>9} {'composite ms':>12}"
    )
    for long_side in args.long_side:
        cases, _ = load_cases(args.data, args.count, seed=args.seed, long_side=long_side, formats=args.formats)
        for limit in args.limit:
            config = PostprocessConfig(classical_fill_limit=limit)
            text, whole, total, composite = [], [], [], []
            for case in cases:
                result = clean(case.meme, args.resolution, model=model, postprocess=config)
                text.append(mse(result.image, case.template, text_region(case.mask)))
                whole.append(mse(result.image, case.template))
                total.append(1000 * result.timings["total"])
                composite.append(1000 * result.timings["composite"])
            print(
                f"{long_side:>9} {'full' if limit is None else f'{limit:g}x':>6} {len(cases):>5} "
                f"{mean_psnr(text):>9.2f} {mean_psnr(whole):>9.2f} {statistics.median(total):>9.0f} "
                f"{statistics.median(composite):>12.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
