"""The model card's quality table: `memeclean eval` on a validation set, all three resolutions, all baselines.

    python bench/bench_quality.py [--data DIR] [--model WEIGHTS] [any other `memeclean eval` option]

`--data` defaults to the fixed set committed in tests/data/valset (6 memes, long side 384). Every number comes from
`memeclean_core.evaluate` through `memeclean eval` (metrics, baselines and averaging are documented there); this
script only picks the defaults and asks for the Markdown table the model card carries. Options given after the
defaults win (e.g. `--resolution 512`, `--json FILE`, `--save-examples DIR`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT / "tests" / "data" / "valset"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--data", default=str(DEFAULT_DATA), metavar="DIR")
    parser.add_argument("-h", "--help", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if args.help:
        print(__doc__)
        return 0
    from memeclean_core.cli import main as memeclean

    return memeclean(["eval", "--data", args.data, "--resolution", "256", "512", "1024", "--markdown", *rest])


if __name__ == "__main__":
    sys.exit(main())
