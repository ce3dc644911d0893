"""The structure-keeping fill (`PostprocessConfig.structure_fill`) against plain Telea, on multi-panel memes with a
caption across a panel border (`bench/panel_cases.py`).

    python bench/bench_structure_fill.py --data ../data/val [--model WEIGHTS] [--count 24] [--seed 7]
                                         [--resolution 512]

For each fill, two masks: the model's (what a user gets) and the true caption mask (the fill alone). Prints PSNR
all, PSNR text (true mask dilated 2 px), PSNR border (the panel-border pixels inside that text region: is the
border continued under the caption?) and the median ms per image.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import arguments


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--resolution", type=int, default=512)
    args = parser.parse_args(argv)

    from panel_cases import make_panel_cases

    from memeclean_core.cleaning.inference import clean
    from memeclean_core.cleaning.pipeline import PostprocessConfig
    from memeclean_core.network.checkpoint import load_model
    from memeclean_core.training.evaluate import mean_psnr, mse, text_region

    cases = make_panel_cases(args.data, args.count, seed=args.seed)
    model = load_model(args.model)
    print(f"{len(cases)} multi-panel cases (seed {args.seed}), resolution {args.resolution}, model {model.path}")
    print(f"{'fill':<16} {'mask':<6} {'PSNR all':>9} {'PSNR text':>9} {'PSNR border':>11} {'ms':>6}")
    for label, config in [
        ("Telea (today)", PostprocessConfig()),
        ("structure fill", PostprocessConfig(structure_fill=True)),
    ]:
        for mask_kind in ("model", "true"):
            all_, text, border, seconds = [], [], [], []
            for case in cases:
                started = time.perf_counter()
                result = clean(
                    case.meme,
                    args.resolution,
                    mask=case.mask if mask_kind == "true" else None,
                    model=model,
                    postprocess=config,
                )
                seconds.append(time.perf_counter() - started)
                region = text_region(case.mask)
                all_.append(mse(result.image, case.template))
                text.append(mse(result.image, case.template, region))
                border.append(mse(result.image, case.template, region & case.border))
            print(
                f"{label:<16} {mask_kind:<6} {mean_psnr(all_):>9.2f} {mean_psnr(text):>9.2f} "
                f"{mean_psnr(border):>11.2f} {1000 * float(np.median(seconds)):>6.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
