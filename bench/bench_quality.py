"""The model card's quality tables: `memeclean eval` on a validation set, all three resolutions, all baselines,
one table per format group.

    python bench/bench_quality.py [--data DIR] [--model WEIGHTS] [any other `memeclean eval` option]

`--data` defaults to the fixed set committed in tests/data/valset (6 memes of the aggregate group, long side 384).
A prepared data folder (images/, fonts/, clipart/; the `val/` split of scripts/build_dataset.py) gives every
format group: the aggregate set, classic, labels, caption bar, watermark, small, multi-panel, distractors and the
round trip, 40 cases each (`--formats` picks some, `--count` sets how many). For the per-format table at one
resolution in a few minutes: `--resolution 512`.

Every number comes from `memeclean_core.training.evaluate` through `memeclean eval` (metrics, baselines and
averaging are documented there); this script only picks the defaults, asks for the Markdown tables the model card
carries and keeps the OCR detector's answers in the user cache folder (`--ocr-cache`), so a second run (another
model) only runs the detector on the new outputs. Options given after the defaults win (e.g. `--resolution 512`,
`--json FILE`, `--save-examples DIR`, `--no-text-left`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import ROOT, arguments

DEFAULT_DATA = ROOT / "tests" / "data" / "valset"


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__, add_help=False)
    parser.add_argument("--data", default=str(DEFAULT_DATA), metavar="DIR")
    parser.add_argument("-h", "--help", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if args.help:
        print(__doc__)
        return 0
    from memeclean_core.cli import main as memeclean

    return memeclean(
        [
            "eval",
            "--data",
            args.data,
            "--resolution",
            "256",
            "512",
            "1024",
            "--markdown",
            "--ocr-cache",
            str(ocr_cache_dir()),
            *rest,
        ]
    )


def ocr_cache_dir() -> Path:
    """<user cache dir>/MemeClean/ocr (platformdirs): the detector's answers, by image content."""
    import platformdirs

    return platformdirs.user_cache_path("MemeClean", appauthor=False) / "ocr"


if __name__ == "__main__":
    sys.exit(main())
