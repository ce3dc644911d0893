"""Template library: how long finding a meme's template takes among N entries (default 5,000), on the CPU.

    python bench/bench_library.py [--entries 5000] [--queries 20] [--threads 2] [--keep DIR]

Fills a temporary library with generated templates (distinct textured pictures, 320×240; adding costs a few
seconds per hundred), then times `TemplateLibrary.match` on:
- hits: captioned copies of library templates, resized (0.7–1.6×), cropped (≤ 4 % per side), JPEG re-compressed;
- misses: captioned memes of pictures that are not in the library (every candidate is checked and rejected).
Per query: the prefilter over all entries, the verification of the nearest candidates, and the alignment at the
meme's full size (clean picture + caption mask). Medians and maxima in milliseconds, after one warm-up query that
loads the index. OpenCV's thread count is set to --threads (2: the target machine). Beside the wall time, the
process CPU time per query: on a machine shared with other jobs the wall time is inflated, the CPU time much less
(with 2 threads the wall time on an idle machine lies between CPU/2 and CPU).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from _common import arguments


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__)
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", metavar="DIR", help="fill (or reuse) the library in DIR instead of a temp folder")
    args = parser.parse_args(argv)
    cv2.setNumThreads(args.threads)

    from memeclean_core.library import TemplateLibrary
    from memeclean_core.library.synthetic import meme_from, textured_picture

    with tempfile.TemporaryDirectory() as temp:
        library = TemplateLibrary(Path(args.keep) if args.keep else Path(temp) / "library")
        started = time.perf_counter()
        for seed in range(len(library), args.entries):
            library.add(textured_picture(seed, 320, 240), f"t{seed}")
            if seed % 500 == 499:
                print(f"  added {seed + 1} entries ({time.perf_counter() - started:.0f} s)", flush=True)
        fill_seconds = time.perf_counter() - started
        rng = np.random.default_rng(0)
        hits, misses = [], []
        for number in range(args.queries):
            seed = int(rng.integers(args.entries))
            scale = float(rng.uniform(0.7, 1.6))
            crop = tuple(float(v) for v in rng.uniform(0, 0.04, 4))
            hits.append((seed, meme_from(textured_picture(seed, 320, 240), number, scale, crop, 75)[0]))
            misses.append(meme_from(textured_picture(10_000_000 + number, 320, 240), number, scale, crop, 75)[0])

        started = time.perf_counter()
        library.match(hits[0][1])  # warm-up: loads the packed index of all entries
        index_seconds = time.perf_counter() - started
        rows = []
        for label, queries in (("hit", [meme for _, meme in hits]), ("miss", misses)):
            totals, cpu, stages, found = [], [], {"prefilter": [], "verify": [], "align": []}, 0
            for number, meme in enumerate(queries):
                started, cpu_started = time.perf_counter(), time.process_time()
                result = library.match(meme)
                totals.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
                if result is not None:
                    found += 1 if label == "miss" or result.entry.name == f"t{hits[number][0]}" else 0
                    for stage, seconds in result.timings.items():
                        stages[stage].append(seconds)
            rows.append((label, totals, cpu, stages, found, len(queries)))

    print(
        f"\nlibrary: {args.entries} entries (filled in {fill_seconds:.0f} s), "
        f"index load {index_seconds * 1000:.0f} ms, "
        f"OpenCV threads {args.threads}"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} CPUs)")
    print(f"{'queries':<8} {'found':>7} {'median ms':>10} {'max ms':>8} {'CPU ms':>8}   wall per stage (median ms)")
    for label, totals, cpu, stages, found, count in rows:
        parts = ", ".join(
            f"{stage} {statistics.median(values) * 1000:.1f}" for stage, values in stages.items() if values
        )
        print(
            f"{label:<8} {found:>3}/{count:<3} {statistics.median(totals) * 1000:>10.1f} "
            f"{max(totals) * 1000:>8.1f} {statistics.median(cpu) * 1000:>8.1f}   {parts or '-'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
