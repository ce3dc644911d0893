"""The one way MemeClean writes a file: complete or not at all, never over an input, never over a file unasked.

Every file MemeClean writes (images, masks, caption projects, checkpoints, settings, reports, prepared data) goes
through `write_file`:

1. refuse at once what must never be written: a path in `protect` (the inputs), a folder, an existing file without
   `overwrite=True`, a folder that does not exist;
2. encode the whole content in memory first (`bytes`, or an `encode(buffer)` callback that writes into a BytesIO):
   an encoder that fails, or ignores a short write (Pillow's JPEG encoder does, on a real file), never touches disk;
3. write it to a temporary file in the target's folder (`.NAME.PID-RANDOM.memeclean-tmp`) with `os.write` in a
   loop that checks every byte count (a full disk or a file-size limit is an error, not a short file), fsync;
4. check the temporary file: its size is the size encoded, and `verify(path)` passes (an image re-opens and
   decodes every frame; a checkpoint loads; JSON parses);
5. move it into place atomically (without `overwrite`, through a hard link, so a file that appeared meanwhile is
   still not replaced), fsync the folder.

Temporary files left by a write that was killed (SIGKILL, power loss) carry the writer's process id; the first
write into a folder removes those whose process is gone (or that are a day old). Torch-free and Qt-free: the app
uses it too. Every failure raises `error` (default `WriteError`) with one line that names the file.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import WriteError, first_line
from .filenames import same_file

__all__ = [
    "TEMP_SUFFIX",
    "write_file",
    "write_json",
    "check_target",
    "check_writable_folder",
    "remove_stale_temporaries",
    "os_reason",
    "process_alive",
    "fsync_folder",
]

TEMP_SUFFIX = ".memeclean-tmp"
"""Every temporary file MemeClean writes ends with this; `remove_stale_temporaries` removes only such files."""

STALE_AGE_SECONDS = 24 * 3600
"""A temporary file this old is stale even when its writer's process id is in use again."""

_TEMP_NAME = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + r"$")
_swept: set[str] = set()  # folders whose stale temporaries this process has already removed
_swept_lock = threading.Lock()

Encode = Callable[[io.BytesIO], None]


def os_reason(error: OSError) -> str:
    """A short, lower-case reason for an OSError, the same words for the same cause everywhere."""
    code = error.errno
    if isinstance(error, FileNotFoundError) or code == errno.ENOENT:
        return "no such file or folder"
    if isinstance(error, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(error, NotADirectoryError) or code == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if isinstance(error, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENOSPC:
        return "the disk is full"
    if code == getattr(errno, "EDQUOT", -1):
        return "the disk quota is exceeded"
    if code == errno.EFBIG:
        return "the file is larger than the system allows (a file-size limit)"
    if code == errno.EROFS:
        return "the disk is read-only"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long"
    return (error.strerror or str(error) or type(error).__name__).rstrip(".").lower()


def make_folder(folder: str | os.PathLike[str], what: str = "the folder", error: type[WriteError] = WriteError) -> None:
    """Create `folder` and its parents unless it is a folder already; a failure raises `error` saying
    "cannot create <what> '<folder>': <reason>" (e.g. what = "the --output-dir folder")."""
    folder = Path(folder)
    if folder.is_dir():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as failure:
        reason = "a file is in the way" if isinstance(failure, FileExistsError) else os_reason(failure)
        raise error(f"cannot create {what} '{folder}': {reason}") from None


def check_target(
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike[str]] = (),
    error: type[WriteError] = WriteError,
) -> None:
    """Raise `error` now if `path` may not or cannot be written: a protected input, a folder, an existing file
    without `overwrite`, a missing folder. Lets a front end refuse before long work."""
    path = Path(path)
    for protected in protect:
        if same_file(path, Path(protected)):
            raise error(f"cannot write '{path}': it is an input file, which MemeClean never overwrites")
    try:
        if path.is_dir():
            raise error(f"cannot write '{path}': it is a folder")
        if path.exists() or path.is_symlink():
            if not overwrite:
                raise error(f"cannot write '{path}': the file already exists")
            if not path.is_file():
                raise error(f"cannot write '{path}': it is not a regular file")
        folder = path.parent
        if not folder.is_dir():
            if folder.exists() or any(parent.is_file() for parent in folder.parents):
                raise error(f"cannot write '{path}': a part of the path is a file, not a folder")
            raise error(f"cannot write '{path}': the folder '{folder}' does not exist")
    except OSError as failure:  # a name too long, a loop of links: the same one line
        raise error(f"cannot write '{path}': {os_reason(failure)}") from None


def check_writable_folder(
    folder: str | os.PathLike[str], *, error: type[WriteError] = WriteError, what: str | None = None
) -> None:
    """Prove that files can be created in `folder` (create and remove a small temporary file), before long work.

    Root ignores permission bits, and a read-only mount or a full disk only shows when one writes: so write."""
    folder = Path(folder)
    name = what or str(folder)
    try:
        fd, temp = _create_temporary(folder, "write-check")
    except OSError as failure:
        raise error(f"cannot write in '{name}': {os_reason(failure)}") from None
    try:
        _write_all(fd, b"memeclean write check\n")
    except OSError as failure:
        raise error(f"cannot write in '{name}': {os_reason(failure)}") from None
    finally:
        os.close(fd)
        _unlink_quietly(temp)


def write_file(
    path: str | os.PathLike[str],
    content: bytes | Encode,
    *,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike[str]] = (),
    verify: Callable[[Path], None] | None = None,
    error: type[WriteError] = WriteError,
    mode: int = 0o666,
) -> Path:
    """Write `content` (bytes, or `encode(buffer)` that writes into a BytesIO) to `path`, completely or not at all.

    `verify(temp_path)` is called on the complete temporary file before it is moved into place; it raises (anything)
    when the file is not what was meant. `mode` with the umask gives the permissions (0o666: like any document).
    Returns the path; raises `error` with one line naming the file.
    """
    path = Path(path)
    protect = list(protect)
    check_target(path, overwrite=overwrite, protect=protect, error=error)
    try:
        if callable(content):
            buffer = io.BytesIO()
            content(buffer)
            data = buffer.getvalue()
        else:
            data = bytes(content)
    except WriteError:
        raise
    except MemoryError:
        raise error(f"cannot write '{path}': not enough memory") from None
    except OSError as failure:
        raise error(f"cannot write '{path}': {os_reason(failure)}") from None
    except Exception as failure:  # noqa: BLE001 - an encoder refusing the data (Pillow raises ValueError, KeyError, ...)
        detail = first_line(failure, type(failure).__name__)
        raise error(f"cannot write '{path}': the content could not be encoded ({detail})") from None

    folder = path.parent
    remove_stale_temporaries(folder)
    temp: Path | None = None
    try:
        fd, temp = _create_temporary(folder, path.name, mode)
        try:
            _write_all(fd, data)
            os.fsync(fd)
            written = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if written != len(data):
            raise error(f"cannot write '{path}': only {written} of {len(data)} bytes reached the disk")
        if verify is not None:
            try:
                verify(temp)
            except Exception as failure:  # noqa: BLE001 - whatever the check raises, the file is not published
                detail = first_line(failure, type(failure).__name__)
                raise error(f"cannot write '{path}': the written file does not read back ({detail})") from None
        _move_into_place(temp, path, overwrite, error)
        temp = None
        fsync_folder(folder)
    except WriteError:
        raise
    except OSError as failure:
        raise error(f"cannot write '{path}': {os_reason(failure)}") from None
    finally:
        if temp is not None:
            _unlink_quietly(temp)
    return path


def write_json(
    path: str | os.PathLike[str],
    value: Any,
    *,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike[str]] = (),
    error: type[WriteError] = WriteError,
    indent: int | None = 2,
) -> Path:
    """`value` as UTF-8 JSON (one trailing newline) through `write_file`; the written file must parse again."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False) + "\n"

    def parses(temp: Path) -> None:
        json.loads(temp.read_text(encoding="utf-8"))

    return write_file(path, text.encode("utf-8"), overwrite=overwrite, protect=protect, verify=parses, error=error)


def remove_stale_temporaries(folder: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Remove MemeClean temporary files in `folder` whose writer is gone (once per folder and process, unless
    `force`); returns what was removed. Other files, and temporaries of live writers, are never touched."""
    folder = Path(folder)
    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept and not force:
            return []
        _swept.add(key)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AGE_SECONDS
        except OSError:
            continue
        if (old or not process_alive(int(match.group(1)))) and _unlink_quietly(Path(entry.path)):
            removed.append(Path(entry.path))
    return removed


# ----------------------------------------------------------------------------------------------------- helpers


def _create_temporary(folder: Path, name: str, mode: int = 0o666) -> tuple[int, Path]:
    """A new, empty temporary file in `folder`, opened for writing (O_EXCL: never someone else's file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        candidate = folder / f".{name[:150]}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            return os.open(candidate, flags, mode), candidate
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written; a write that makes no progress is a full disk, not a success."""
    view = memoryview(data)
    while view:
        count = os.write(fd, view)
        if count <= 0:
            raise OSError(errno.ENOSPC, "no space left on device")
        view = view[count:]


def _move_into_place(temp: Path, path: Path, overwrite: bool, error: type[WriteError]) -> None:
    if overwrite:
        os.replace(temp, path)
        return
    # Without overwrite a hard link creates the target only if it still does not exist (no race with another
    # writer); file systems without hard links fall back to a replace after the check made before writing.
    try:
        os.link(temp, path)
    except FileExistsError:
        raise error(f"cannot write '{path}': the file already exists") from None
    except OSError:
        if path.exists():
            raise error(f"cannot write '{path}': the file already exists") from None
        os.replace(temp, path)
        return
    _unlink_quietly(temp)


def fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); where folders cannot be opened (Windows) there is nothing to do."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def process_alive(pid: int) -> bool:
    """Whether process `pid` may still run (this one, another live one; where it cannot tell: yes)."""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # os.kill would end the process there: leave it to the age rule
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process (or a platform that cannot tell): keep its file
    return True


def _unlink_quietly(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:
        return False
