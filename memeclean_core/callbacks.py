"""The two callbacks every long job of the core takes, named once: `progress(fraction, text)` (fraction in [0, 1],
the step in words) and `cancel() -> bool` (checked between steps; a cancelled job raises `errors.Cancelled`). The
command line, the folder runner and the app's worker threads all pass these."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["CancelFn", "ProgressFn"]

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
