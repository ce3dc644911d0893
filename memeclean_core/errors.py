"""The errors MemeClean's front ends show to people: one line, no traceback."""


class MemeCleanError(Exception):
    """Base class: the message is meant for the user, as is."""


class ImageLoadError(MemeCleanError):
    """An input file is missing, unreadable, not an image, corrupt or too large."""


class ImageSaveError(MemeCleanError):
    """An output file could not be written (nothing half-written is left behind)."""


class ModelLoadError(MemeCleanError):
    """A weights file is missing, corrupt or does not match the network."""


class Cancelled(MemeCleanError):
    """A long job (cleaning many frames, training) was cancelled by the user."""
