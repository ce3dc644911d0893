"""The errors MemeClean's front ends show to people: one line, no traceback."""

from __future__ import annotations

import re


class MemeCleanError(Exception):
    """Base class: the message is meant for the user, as is."""


class ImageLoadError(MemeCleanError):
    """An input file is missing, unreadable, not an image, corrupt or too large."""


class WriteError(MemeCleanError):
    """An output file may not or could not be written (nothing half-written is left behind)."""


class ImageSaveError(WriteError):
    """An output image could not be written (nothing half-written is left behind)."""


class ModelLoadError(MemeCleanError):
    """A weights file is missing, corrupt or does not match the network."""


class Cancelled(MemeCleanError):
    """A long job (cleaning many frames, training) was cancelled by the user."""


class UsageError(MemeCleanError):
    """An option or a field has a value outside what it allows; refused before any work."""


# A line that only names where in a C++ library the error was raised ("Exception from src/inference/src/cpp/
# core.cpp:105:", OpenVINO's messages open with one or two of these).
_SOURCE_LOCATION = re.compile(r"\.(?:c|cc|cpp|cxx|h|hpp):\d+:?$")
_TRACEBACK = "Traceback (most recent call last):"


def first_line(error: BaseException, fallback: str = "") -> str:
    """The one line of an exception's message a person reads: its first line, stripped; `fallback` when it has none.

    Always the first line, never the last: a message states what went wrong first and adds context after it (a
    JSON parser's position, SQLite's statement, a path), so the first line is the one that stands alone. Two kinds
    of message put something else first, and for them the first line of the error they carry is taken: a
    traceback copied into the text (an error re-raised from a data-loading process: the first line of the
    original error, without its type's name) and lines that only name a C++ source location (OpenVINO).
    """
    lines = str(error).strip().splitlines()
    if any(line.strip().endswith(_TRACEBACK) for line in lines):
        start = next(index for index, line in enumerate(lines) if line.strip().endswith(_TRACEBACK))
        # The traceback's frames are indented; the first line back at the margin names the error.
        carried = next((line for line in lines[start + 1 :] if line.strip() and not line[:1].isspace()), "")
        name, colon, message = carried.partition(": ")
        return (message if colon and " " not in name else carried).strip() or fallback
    lines = [line.strip() for line in lines if line.strip()]
    while len(lines) > 1 and _SOURCE_LOCATION.search(lines[0]):
        lines.pop(0)
    return lines[0] if lines else fallback


def describe_unexpected(error: BaseException) -> str:
    """`TypeName: first line` (or just `TypeName`) for an error that is not a MemeCleanError: a bug, a device
    failure, a library refusing its input."""
    detail = first_line(error)
    return f"{type(error).__name__}{': ' + detail if detail else ''}"
