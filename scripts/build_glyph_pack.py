#!/usr/bin/env python3
"""Build a glyph pack for `memeclean train --gpu-pack` (see memeclean_core/data/glyph_pack.py): caption coverage
layers in every script and style of the training mix, and background tiles, rendered on this machine's CPU into one
compressed file to carry to a GPU machine beside the data pack.

    python3 scripts/build_glyph_pack.py --data ../data/train --out glyph-pack.npz --layers 4000 --backgrounds 1500
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from memeclean_core.data.glyph_pack import build_pack
from memeclean_core.errors import MemeCleanError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="prepared training folder (images/, fonts/, ...)")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--layers", type=int, default=4000, help="caption coverage tiles (default 4000)")
    parser.add_argument("--backgrounds", type=int, default=1500, help="background tiles (default 1500)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        info = build_pack(args.data, args.out, args.layers, args.backgrounds, seed=args.seed)
    except MemeCleanError as error:
        print(f"build_glyph_pack: {error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(
        f"wrote {args.out}: {info['layers']} layers, {info['backgrounds']} backgrounds, "
        f"{info['bytes'] / 1e6:.1f} MB in {seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
