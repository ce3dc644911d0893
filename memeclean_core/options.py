"""Checks of option values at the edge, before any work: one line naming the option and what it allows.

    check_int("--batch", 0, 1, 1024)      -> UsageError: --batch must be a whole number from 1 to 1024, got 0
    check_float("--lr", nan, 0, 1, low_open=True)
                                          -> UsageError: --lr must be a number in (0, 1], got nan

Torch-free and Qt-free; the CLI's commands and the trainer's config check use it (the parsers' shared
arguments are `cli.arguments`).
"""

from __future__ import annotations

import math
from typing import Any

from .errors import UsageError

__all__ = [
    "check_int",
    "check_float",
    "check_optional_int",
    "check_optional_float",
]


def check_int(option: str, value: Any, low: int, high: int) -> int:
    """`value` as an int when it is a whole number in [low, high]; else UsageError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise UsageError(f"{option} must be a whole number from {low:,} to {high:,}, got {_shown(value)}")
    return int(value)


def check_float(option: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float:
    """`value` as a float when it is a finite number in [low, high] (or (low, high] with `low_open`)."""
    opening = "(" if low_open else "["
    allowed = f"a number in {opening}{low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{option} must be {allowed}, got {_shown(value)}")
    number = float(value)
    if not math.isfinite(number) or number > high or number < low or (low_open and number == low):
        raise UsageError(f"{option} must be {allowed}, got {_shown(value)}")
    return number


def check_optional_int(option: str, value: Any, low: int, high: int) -> int | None:
    return None if value is None else check_int(option, value, low, high)


def check_optional_float(option: str, value: Any, low: float, high: float, *, low_open: bool = False) -> float | None:
    return None if value is None else check_float(option, value, low, high, low_open=low_open)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
