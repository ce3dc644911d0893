"""The CLI's one progress bar (stderr): redrawn in place on a terminal, a line now and then in a log."""

from __future__ import annotations

import os
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
    """`[#####.....]  42.0% text` on one line.

    On a terminal the line is redrawn in place (at most every `min_interval` seconds) and cut to the terminal's
    width, so it never wraps. Elsewhere (a log, a pipe) a new line is written every `log_interval` seconds or when
    the caller forces one, so a log stays readable. `message()` prints a line of its own without mangling the bar.
    A disabled bar prints only messages.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 28, min_interval: float = 0.2,
                 log_interval: float = 10.0, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.width, self.min_interval, self.log_interval = width, min_interval, log_interval
        self.enabled = enabled
        self.interactive = is_terminal(self.stream)
        self._last_draw = float("-inf")
        self._shown = False  # a bar is on the terminal's current line

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < (self.min_interval if self.interactive else self.log_interval):
            return
        self._last_draw = now
        fraction = max(0.0, min(1.0, fraction))
        filled = round(self.width * fraction)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {100 * fraction:5.1f}% {text}".rstrip()
        if self.interactive:
            columns = terminal_columns(self.stream)
            if len(line) >= columns:
                line = line[: max(10, columns - 2)] + "…"
            self.stream.write("\r" + line + "\x1b[K")
            self._shown = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Print `text` on a line of its own; the bar is drawn again by the next update."""
        self.clear()
        print(text, file=self.stream, flush=True)

    def clear(self) -> None:
        if self.interactive and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
        self._last_draw = float("-inf")  # the next update redraws at once

    def finish(self) -> None:
        """Leave the last state of the bar on its line."""
        if self.interactive and self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def terminal_columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80  # 0 on a pseudo-terminal with no size set
    except (AttributeError, OSError, ValueError):
        return 80
