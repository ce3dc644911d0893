"""The errors MemeClean's front ends show to people: one line, no traceback."""


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


def first_line(error: BaseException, fallback: str = "") -> str:
    """The first line of an exception's message, stripped; `fallback` when it has none. Messages of library
    errors can run over many lines (a traceback from a worker, a JSON parser's context); people see one."""
    text = str(error).strip()
    return text.splitlines()[0] if text else fallback


def describe_unexpected(error: BaseException) -> str:
    """`TypeName: first line` (or just `TypeName`) for an error that is not a MemeCleanError: a bug, a device
    failure, a library refusing its input."""
    detail = first_line(error)
    return f"{type(error).__name__}{': ' + detail if detail else ''}"
