"""Stop a long command cleanly on SIGINT (Ctrl+C) or SIGTERM (`kill`, a service manager, a closing terminal).

    with StopSignals() as stop:
        for report in training_run(config, stop=stop):   # the loop checks stop() every step
            ...
    if stop.signum is not None: ...                      # it was stopped: say so, exit 128 + signum

The first signal only sets a flag: the loop ends after the current step and writes its checkpoint. A second signal
ends the process at once (exit status 128 + signal number), for when even that takes too long; a write cut short
that way leaves only a temporary file, which the next write into that folder removes (safe_write). Handlers can
only be set from the main thread; elsewhere (a GUI worker) the context manager does nothing and the caller's own
cancel is what stops the loop.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

__all__ = ["StopSignals"]


class StopSignals:
    def __init__(self, signals: tuple[int, ...] | None = None, what: str = "stopping after this step") -> None:
        if signals is None:
            signals = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s)
        self.signals = signals
        self.what = what
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        """Whether a stop was asked for (the loop's `stop` / `cancel` callback)."""
        return self.signum is not None

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number (130 for Ctrl+C)."""
        return 128 + (self.signum or 0)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            name = signal.Signals(signum).name
            print(f"\nmemeclean: {name}: {self.what} (send it again to stop at once)", file=sys.stderr, flush=True)
            return
        print(f"\nmemeclean: {signal.Signals(signum).name} again: stopping at once", file=sys.stderr, flush=True)
        os._exit(128 + signum)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
