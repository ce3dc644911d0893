"""A Qt-free signal for the document model: widgets connect to it, tests connect plain functions.

Callbacks run synchronously in the emitting thread; the document is only changed on the UI thread (workers hand
their results over through Qt signals first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Signal:
    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []
        self._blocked = 0

    def connect(self, slot: Callable[..., Any]) -> Callable[..., Any]:
        self._slots.append(slot)
        return slot

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        for slot in list(self._slots):
            slot(*args)

    @contextmanager
    def blocked(self) -> Iterator[None]:
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1
