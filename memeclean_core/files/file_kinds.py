"""Only regular files are read as images or data: a named pipe would block a read forever, a device never ends.

`special_kind(path)` names what a path is when it is not a regular file (without opening it: opening a FIFO for
reading blocks until someone writes); `open_regular(path)` opens without blocking and refuses anything else.
Torch-free and Qt-free.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

__all__ = ["NotRegularFile", "special_kind", "is_regular_file", "open_regular", "read_regular_text"]


class NotRegularFile(OSError):
    """The path is a pipe, device, socket or folder; `kind` says which ("a named pipe")."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(f"it is {kind}, not a regular file")
        self.path, self.kind = str(path), kind


def _kind_of(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def special_kind(path: str | os.PathLike[str]) -> str | None:
    """None for a regular file (or a link to one); else what it is ("a named pipe", "a device", ...). A path that
    cannot be looked at (missing, no permission) gives None: opening it reports the real reason."""
    try:
        return _kind_of(os.stat(path).st_mode)
    except OSError:
        return None


def is_regular_file(path: str | os.PathLike[str]) -> bool:
    """A regular file (following links) that exists; never blocks."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading in binary; raises NotRegularFile (an OSError) for anything else, at once.

    O_NONBLOCK makes opening a FIFO return instead of waiting for a writer; on a regular file it changes nothing."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        kind = _kind_of(os.fstat(fd).st_mode)
        if kind is not None:
            raise NotRegularFile(path, kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_text(path: str | os.PathLike[str], limit: int = 16 * 2**20) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes; OSError (NotRegularFile) or ValueError else."""
    with open_regular(path) as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"the file is larger than {limit // 2**20} MB")
    return data.decode("utf-8")
