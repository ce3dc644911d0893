"""How many CPU threads torch may use for one piece of work: few for small work, all for large.

Torch splits every operation over its intra-op threads, which meet at a barrier after each one. On a small
picture (the frames of an animation are mostly small) an operation lasts microseconds, so the barriers are what
costs; and on a busy machine a thread that the scheduler has parked holds every barrier up for a whole time
slice. A 300-frame GIF on a loaded 2-core machine took over a minute with torch's default threads and 4 s with
one (bench/bench_threads.py measures it). Large work splits well and keeps every thread.

`threads_for(pixels)` is the policy, `torch_threads(n)` applies it for a block and restores the previous number.
It never raises the count above what torch already uses, so OMP_NUM_THREADS or an explicit
`torch.set_num_threads` stay the upper limit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["PIXELS_PER_THREAD", "threads_for", "torch_threads", "usable_cores"]

PIXELS_PER_THREAD = 256 * 256
"""Working-size pixels one more thread must have to be worth its barriers (measured: bench/bench_threads.py)."""


def threads_for(work_pixels: int, available: int | None = None) -> int:
    """Threads for a network pass over `work_pixels` (padded working size), at most `available` (default: what
    torch uses now) and at least 1."""
    if available is None:
        import torch

        available = torch.get_num_threads()
    return max(1, min(int(available), int(work_pixels) // PIXELS_PER_THREAD))


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity where the system tells it, else all of them)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def torch_threads(count: int) -> Iterator[int]:
    """Run the block with `count` torch intra-op threads (never more than now), then put the number back."""
    import torch

    before = torch.get_num_threads()
    count = max(1, min(int(count), before))
    if count != before:
        torch.set_num_threads(count)
    try:
        yield count
    finally:
        if count != before:
            torch.set_num_threads(before)
