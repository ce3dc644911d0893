"""How a template library heals: operations finished or undone after a kill, an unreadable index rebuilt.

Every change that touches files and a row is bracketed by a marker file, `pending/<key>.<add|remove>.<pid>`,
created (and made durable) before the first file is touched and removed after the last:

    add     marker -> picture and thumbnail (each written whole, then renamed) -> row committed -> marker removed
    remove  marker -> row deleted (committed) -> picture and thumbnail deleted -> marker removed

A marker whose process is gone (or that is a day old) is an interrupted operation, settled when the library is
next opened: an add whose row was committed is kept, one whose row was not has its files removed; a remove is
finished. So a kill at any moment leaves picture and row both or neither. A picture without a row and without a
marker is therefore never half of an operation: it is a template whose row was lost with the database, and the
rebuild (or `memeclean library check --repair`) indexes it again.

A database that SQLite cannot read is moved aside (`library-unreadable-<time>.sqlite3`, kept: nothing is
deleted) and a new one is built from the pictures folder; names, tags, dates and sources come back from the
moved-aside file wherever it still yields them: through SQLite when its pages still parse, else by reading the
rows' records straight from its bytes (a damaged header or page does not hide the rows in the other pages).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..files.safe_write import STALE_AGE_SECONDS, fsync_folder, process_alive

log = logging.getLogger(__name__)

PENDING_FOLDER = "pending"
ASIDE_PREFIX = "library-unreadable-"
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
_MARKER = re.compile(r"^([0-9a-f]{32})\.(add|remove)\.(\d+)$")
_KEY_BYTES = re.compile(rb"[0-9a-f]{32}")
SALVAGE_GAP = 2000  # ids read one by one from a damaged database: give up after this many in a row yield none


@dataclass(frozen=True)
class Salvaged:
    """What a moved-aside database still tells about one picture."""

    name: str
    tags: str
    created: float | None
    source: str


@dataclass
class LibraryReport:
    """What `check` found (and `repair` did): one line per finding."""

    folder: Path
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems


# -- markers of operations in progress -------------------------------------------------------------------------


@contextlib.contextmanager
def marked(folder: Path, key: str, operation: str) -> Iterator[None]:
    """Bracket one add or remove of `key`: the marker is on disk (fsynced) before the body runs and removed when
    the body returns or raises (a body that raises has undone its own files); only a killed process leaves it."""
    pending = folder / PENDING_FOLDER
    pending.mkdir(parents=True, exist_ok=True)
    marker = pending / f"{key}.{operation}.{os.getpid()}"
    fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    os.close(fd)
    fsync_folder(pending)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            marker.unlink()


def interrupted(folder: Path) -> list[tuple[str, str, Path]]:
    """(key, operation, marker) of every operation whose process is gone (or whose marker is a day old)."""
    try:
        names = os.listdir(folder / PENDING_FOLDER)
    except OSError:
        return []
    found = []
    now = time.time()
    for name in sorted(names):
        match = _MARKER.match(name)
        if match is None:
            continue
        marker = folder / PENDING_FOLDER / name
        try:
            old = now - marker.stat().st_mtime > STALE_AGE_SECONDS
        except OSError:
            continue
        if old or not process_alive(int(match.group(3))):
            found.append((match.group(1), match.group(2), marker))
    return found


def live_operations(folder: Path) -> list[tuple[str, str]]:
    """(key, operation) of every operation whose process still runs."""
    stale = {marker for _, _, marker in interrupted(folder)}
    try:
        names = os.listdir(folder / PENDING_FOLDER)
    except OSError:
        return []
    return [
        (match.group(1), match.group(2))
        for name in names
        if (match := _MARKER.match(name)) is not None and folder / PENDING_FOLDER / name not in stale
    ]


def settle(connection: sqlite3.Connection, folder: Path, key: str, operation: str, marker: Path) -> str:
    """Finish or undo one interrupted operation; returns what was done, in words."""
    has_row = connection.execute("SELECT 1 FROM entries WHERE file = ?", (key,)).fetchone() is not None
    if operation == "remove" and has_row:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DELETE FROM entries WHERE file = ?", (key,))
        connection.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")
        connection.execute("COMMIT")
    if operation == "remove" or not has_row:
        for path in picture_files(folder, key):
            with contextlib.suppress(OSError):
                path.unlink()
    with contextlib.suppress(OSError):
        marker.unlink()
    if operation == "remove":
        return f"finished removing template {key[:8]} (the removal was interrupted)"
    if has_row:
        return f"kept template {key[:8]} (its add was interrupted after it was stored)"
    return f"undid an interrupted add ({key[:8]}: its picture had no entry yet)"


def picture_files(folder: Path, key: str) -> tuple[Path, Path]:
    return folder / "pictures" / f"{key}.png", folder / "thumbs" / f"{key}.jpg"


def picture_keys(folder: Path) -> list[str]:
    """The keys of the pictures in `folder/pictures` (the files MemeClean names `<32 hex digits>.png`)."""
    try:
        names = os.listdir(folder / "pictures")
    except OSError:
        return []
    return sorted(name[:-4] for name in names if name.endswith(".png") and KEY_PATTERN.match(name[:-4]))


def set_aside_picture(folder: Path, key: str) -> str:
    """Move a picture that does not decode (and its thumbnail) into `damaged/`, kept; returns its key."""
    damaged = folder / "damaged"
    damaged.mkdir(exist_ok=True)
    for path in picture_files(folder, key):
        with contextlib.suppress(OSError):
            os.replace(path, damaged / path.name)
    return key


def remove_stale_rebuilds(folder: Path) -> None:
    """Databases half-built by a rebuild whose process is gone."""
    for path in folder.glob(".rebuild-*.sqlite3*"):
        match = re.match(r"^\.rebuild-(\d+)\.sqlite3", path.name)
        if match and not process_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                path.unlink()


# -- an unreadable database ------------------------------------------------------------------------------------


def is_damage(error: sqlite3.Error) -> bool:
    """An error that says the database file itself is bad (not busy, locked or read-only)."""
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return "malformed" in text or "no such table" in text or "no such column" in text
    return isinstance(error, sqlite3.DatabaseError)


def move_aside(database: Path) -> Path:
    """Rename the database (and its WAL file, kept beside it under the matching name) out of the way."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = database.with_name(f"{ASIDE_PREFIX}{stamp}.sqlite3")
    number = 1
    while aside.exists():
        number += 1
        aside = database.with_name(f"{ASIDE_PREFIX}{stamp}-{number}.sqlite3")
    os.replace(database, aside)
    wal = database.with_name(database.name + "-wal")
    with contextlib.suppress(OSError):
        if wal.exists():  # the rows committed last may live only there
            os.replace(wal, aside.with_name(aside.name + "-wal"))
    with contextlib.suppress(OSError):
        database.with_name(database.name + "-shm").unlink()  # an index of the WAL, rebuilt from it when needed
    return aside


def salvage_all(folder: Path, database: Path | None) -> dict[str, Salvaged]:
    """What `database` (when given) and every database moved aside before yield, the newer winning."""
    asides = sorted(folder.glob(f"{ASIDE_PREFIX}*.sqlite3"), key=lambda path: path.stat().st_mtime, reverse=True)
    found: dict[str, Salvaged] = {}
    for source in ([database] if database is not None else []) + asides:
        for key, value in salvage(source).items():
            found.setdefault(key, value)
    return found


def salvage(database: Path | None) -> dict[str, Salvaged]:
    """Name, tags, date and source of each picture key that `database` (a damaged file) still yields."""
    if database is None or not database.is_file():
        return {}
    found = _salvage_with_sqlite(database)
    try:
        raw = database.read_bytes()
    except OSError:
        return found
    for key, value in _salvage_from_bytes(raw).items():
        found.setdefault(key, value)
    return found


def _salvage_with_sqlite(database: Path) -> dict[str, Salvaged]:
    found: dict[str, Salvaged] = {}
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return found
    query = "SELECT file, name, tags, created, source FROM entries"
    try:
        try:
            rows = connection.execute(query).fetchall()
        except sqlite3.Error:  # damaged pages: row by row, taking what reads
            rows, entry_id, misses = [], 0, 0
            while misses < SALVAGE_GAP:  # ids are handed out in order: stop after a long run without a row
                entry_id += 1
                try:
                    row = connection.execute(f"{query} WHERE id = ?", (entry_id,)).fetchall()
                except sqlite3.Error:
                    row = []
                misses = 0 if row else misses + 1
                rows.extend(row)
        for file, name, tags, created, source in rows:
            if isinstance(file, str) and KEY_PATTERN.match(file) and isinstance(name, str):
                found[file] = Salvaged(name, str(tags or ""), _number(created), str(source or ""))
    except sqlite3.Error:
        pass
    finally:
        connection.close()
    return found


def _salvage_from_bytes(raw: bytes) -> dict[str, Salvaged]:
    """Rows of `entries` read from the file's bytes: each record is a header of serial types (the first, the
    id, NULL; the second a 32-character text) followed by the values, and the file key is the first value."""
    found: dict[str, Salvaged] = {}
    for match in _KEY_BYTES.finditer(raw):
        start = match.start()
        for header_size in range(9, 64):
            head = start - header_size
            if head < 0 or raw[head] != header_size or raw[head + 1] != 0 or raw[head + 2] != 32 * 2 + 13:
                continue
            parsed = _parse_record(raw, head + 3, head + header_size, start)
            if parsed is not None:
                found.setdefault(match.group().decode(), parsed)
                break
    return found


def _parse_record(raw: bytes, types_at: int, types_end: int, values_at: int) -> Salvaged | None:
    types = []
    position = types_at
    while position < types_end and len(types) < 6:
        value, position = _varint(raw, position)
        types.append(value)
    # name, tags (text), created (real), width, height (integers), source (text)
    text_type = [t >= 13 and t % 2 == 1 for t in types]
    if len(types) < 6 or not (text_type[0] and text_type[1]) or types[2] not in _INTEGER_SIZES:
        return None
    values = values_at + 32
    texts = []
    sizes = [(t - 13) // 2 if t >= 13 else _INTEGER_SIZES.get(t, 0) for t in types]
    for index, size in enumerate(sizes):
        chunk = raw[values : values + size]
        if len(chunk) < size:
            return None
        texts.append(chunk)
        values += size
        if index == 5:
            break
    try:
        name = texts[0].decode("utf-8")
        tags = texts[1].decode("utf-8")
        source = texts[5].decode("utf-8") if text_type[5] else ""
    except UnicodeDecodeError:
        return None
    if types[2] == 7:
        (created,) = struct.unpack(">d", texts[2])
    else:  # SQLite stores a whole-numbered REAL as an integer
        created = int.from_bytes(texts[2], "big", signed=True)
    return Salvaged(name, tags, _number(created), source)


_INTEGER_SIZES = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 7: 8, 8: 0, 9: 0}


def _varint(raw: bytes, position: int) -> tuple[int, int]:
    value = 0
    for index in range(9):
        if position >= len(raw):
            return value, position
        byte = raw[position]
        position += 1
        if index == 8:
            return (value << 8) | byte, position
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, position
    return value, position


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and 0 < value < 1e11 else None


@contextlib.contextmanager
def healing_lock(folder: Path) -> Iterator[None]:
    """One process at a time rebuilds or settles a library (others wait, then find it healed)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; a rebuild is still whole (built apart, then renamed)
        yield
        return
    with open(folder / ".heal.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# -- check and repair ------------------------------------------------------------------------------------------


def check(library, repair: bool = False) -> LibraryReport:
    """Problems of `library` (a TemplateLibrary), one line each; with `repair`, each fixed as it is found.

    Opening the library already rebuilds an unreadable database and settles interrupted operations (said in
    `library.notes`, which the report repeats); this goes on to compare the rows with the picture files: a row
    whose picture is gone or does not decode, a picture without a row, a missing or broken thumbnail, and runs
    SQLite's integrity check.
    """
    from ..errors import ImageLoadError
    from ..files.imageio import load_image

    report = LibraryReport(library.folder)
    if repair:
        library._require_writable()
    rows = library._rows("SELECT id, file, name FROM entries")
    report.repaired.extend(library.notes)
    verdict = library._rows("PRAGMA integrity_check(5)")
    if verdict and verdict[0][0] != "ok":
        report.problems.append(f"the database fails SQLite's integrity check: {verdict[0][0]}")
    indexed = set()
    for entry_id, key, name in rows:
        indexed.add(key)
        picture, thumbnail = picture_files(library.folder, key)
        try:
            load_image(picture)
        except ImageLoadError as error:
            report.problems.append(f"template #{entry_id} '{name}': its picture {_why(picture, error)}")
            if repair:
                if picture.exists():
                    set_aside_picture(library.folder, key)
                library.remove(entry_id)
                report.repaired.append(f"removed template #{entry_id} '{name}' (its picture was kept in damaged/)")
            continue
        try:
            load_image(thumbnail)
        except ImageLoadError as error:
            report.problems.append(f"template #{entry_id} '{name}': its thumbnail {_why(thumbnail, error)}")
            if repair:
                library._restore_picture(key)
                report.repaired.append(f"made the thumbnail of template #{entry_id} '{name}' again")
    busy = {key for key, _ in live_operations(library.folder)}
    known = salvage_all(library.folder, None) if repair else {}
    for key in picture_keys(library.folder):
        if key in indexed or key in busy:
            continue
        report.problems.append(f"picture pictures/{key}.png has no entry")
        if repair:
            salvaged = known.get(key)
            try:
                library.index_picture(
                    key,
                    salvaged.name if salvaged else f"recovered {key[:8]}",
                    salvaged.tags if salvaged else "",
                    salvaged.created if salvaged else None,
                )
                report.repaired.append(f"added pictures/{key}.png back to the library")
            except ImageLoadError:
                set_aside_picture(library.folder, key)
                report.repaired.append(f"pictures/{key}.png does not decode: moved to damaged/")
    report.entries = len(library)
    return report


def _why(path: Path, error: Exception) -> str:
    return "is missing" if not path.exists() else f"is damaged ({error})"
