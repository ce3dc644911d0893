#!/usr/bin/env python3
"""Blend two checkpoints of one network into shipped weights: (1 - weight) * FIRST + weight * SECOND, in fp16.

    python3 scripts/blend_models.py resources/models/memeclean-v3.pt runs/memeclean-v4b.pt --weight 0.3 --out blend.pt

The usual use: a network fine-tuned on new kinds of pictures blended with the one it started from, which it had
partly forgotten (memeclean_core.network.weights.blend_weights; docs/MODEL.md measures the line above).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from memeclean_core.errors import MemeCleanError
from memeclean_core.network.weights import blend_weights, build_net, read_checkpoint, save_checkpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path, help="checkpoint or weights file (weight 0 gives it back)")
    parser.add_argument("second", type=Path, help="the same network's other weights (weight 1 gives it back)")
    parser.add_argument("--weight", type=float, required=True, help="the second's share, 0 to 1")
    parser.add_argument("--out", required=True, type=Path, help="fp16 weights file to write (never overwritten)")
    args = parser.parse_args(argv)
    try:
        first, second = read_checkpoint(args.first), read_checkpoint(args.second)
        blended = blend_weights(first, second, args.weight)
        net = build_net(blended, args.out)
        note = {"blend": {"first": args.first.name, "second": args.second.name, "weight": args.weight}}
        save_checkpoint(args.out, net, note, half=True, overwrite=False, protect=[args.first, args.second])
    except (MemeCleanError, ValueError) as error:
        print(f"blend_models: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {1 - args.weight:g} x {args.first.name} + {args.weight:g} x {args.second.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
