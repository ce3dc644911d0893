"""The CLI's one progress bar (stderr): redrawn in place on a terminal, a line now and then in a log."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from tqdm import tqdm


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:  # None or NaN
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


# `[#####.....]  42.0% text`: the bar, the percentage, what is being done.
_LINE = "[{bar:%d}] {percentage:5.1f}%% {desc}"
_CHARSET = ".#"  # ASCII: the same in every terminal, log file and Windows console


class _Bar(tqdm):
    monitor_interval = 0  # no monitor thread: this bar is redrawn only when `ProgressBar.update` asks


class ProgressBar:
    """`[#####.....]  42.0% text` on one line, drawn by tqdm.

    On a terminal the line is redrawn in place (at most every `min_interval` seconds) and cut to the terminal's
    width, so it never wraps. Elsewhere (a log, a pipe) a new line is written every `log_interval` seconds or when
    the caller forces one, so a log stays readable (tqdm alone would fill it with carriage returns). `message()`
    prints a line of its own without mangling the bar. A disabled bar prints only messages.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        width: int = 28,
        min_interval: float = 0.2,
        log_interval: float = 10.0,
        enabled: bool = True,
    ):
        self.stream = stream or sys.stderr
        self.width, self.min_interval, self.log_interval = width, min_interval, log_interval
        self.enabled = enabled
        self.interactive = is_terminal(self.stream)
        self._last_draw = float("-inf")
        self._bar: _Bar | None = None  # the live bar on the terminal's current line

    def update(self, fraction: float, text: str = "", force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < (self.min_interval if self.interactive else self.log_interval):
            return
        self._last_draw = now
        fraction = max(0.0, min(1.0, fraction))
        if not self.interactive:
            line = tqdm.format_meter(fraction, 1, 0, prefix=text, ascii=_CHARSET, bar_format=self._format())
            self.stream.write(line.rstrip() + "\n")
            self.stream.flush()
            return
        if self._bar is None:
            # Drawn only when asked (refresh below): the throttling above decides, not tqdm's own.
            self._bar = _Bar(
                total=1,
                initial=fraction,
                desc=text,
                file=self.stream,
                bar_format=self._format(),
                ascii=_CHARSET,
                ncols=terminal_columns(self.stream),
                mininterval=float("inf"),
                leave=False,
                dynamic_ncols=False,
            )
        else:
            self._bar.n = fraction
            self._bar.set_description_str(text, refresh=False)
            self._bar.ncols = terminal_columns(self.stream)  # the window may have been resized
            self._bar.refresh()

    def message(self, text: str) -> None:
        """Print `text` on a line of its own; the bar is drawn again by the next update."""
        self.clear()
        print(text, file=self.stream, flush=True)

    def clear(self) -> None:
        """Erase the bar from the terminal; the next update draws it again at once."""
        if self._bar is not None:
            self._bar.close()  # leave=False: the line is erased
            self._bar = None
        self._last_draw = float("-inf")

    def finish(self) -> None:
        """Leave the last state of the bar on its line."""
        if self._bar is not None:
            self._bar.leave = True
            self._bar.close()
            self._bar = None

    def _format(self) -> str:
        return _LINE % self.width


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
