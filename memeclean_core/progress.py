"""A one-line text progress bar for the CLI (stderr; redrawn in place on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:  # None or NaN
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, width: int = 28, min_interval: float = 0.2):
        self.stream = stream or sys.stderr
        self.width, self.min_interval = width, min_interval
        self.interactive = self.stream.isatty()
        self._last_draw = 0.0

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < (self.min_interval if self.interactive else 10.0):
            return
        self._last_draw = now
        filled = round(self.width * max(0.0, min(1.0, fraction)))
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {100 * fraction:5.1f}% {text}"
        self.stream.write(("\r" + line + "\x1b[K") if self.interactive else line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
