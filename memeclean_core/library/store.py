"""The template library: clean pictures the user saved, in an SQLite database beside the picture files.

    <user data>/library/library.sqlite3      one row per template: name, tags, date, size, fingerprint
    <user data>/library/pictures/<key>.png   the clean picture, as saved
    <user data>/library/thumbs/<key>.jpg     a small thumbnail for browsing

Safe against a kill at any moment: a picture and its thumbnail are written atomically (a temporary file moved into
place) before the row that names them is committed, and the database runs in WAL mode, so a half-done change is
simply not there when the library is opened again (at worst a picture file without a row, which nothing reads).
Every call opens its own short connection, so one library can be used from worker threads and other processes
(the CLI while the app runs); the match index is reloaded when the library's revision number changes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..callbacks import CancelFn, ProgressFn
from ..errors import ImageLoadError, MemeCleanError
from ..files.filenames import IMAGE_SUFFIXES
from . import recovery
from .align import (
    CLOSE_DIFFERENCE,
    FEW_FEATURES,
    MIN_AGREEMENT,
    MIN_CLOSE_AGREEMENT,
    MIN_COVERAGE,
    agreement,
    caption_mask,
    fit_alignment,
    resize_alignment,
    warp_template,
)
from .fingerprint import (
    GRID_BYTES,
    KEY_BYTES,
    Fingerprint,
    fingerprint,
    global_key,
    grid_distances,
    hamming,
    orb_features,
)

SCHEMA_VERSION = 1  # PRAGMA user_version of the database; a higher one is refused, never written
BUSY_SECONDS = 30.0  # how long a change waits for another process's change (two apps and the CLI at once)
DATABASE_NAME = "library.sqlite3"
THUMBNAIL_SIDE = 160
CHECK_SIDE = 384  # long side of the photometric check
CANDIDATES = 6  # entries the geometric check looks at, nearest by the global keys first ...
HASH_CANDIDATES = 2  # ... of which this many are the nearest by the hashes (the rest by the colour grid)
MAX_KEY_DISTANCE = 30  # of 64 bits: an entry whose both hashes are farther is not looked at

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL UNIQUE,          -- <key>: pictures/<key>.png, thumbs/<key>.jpg
    name TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',      -- comma-separated
    created REAL NOT NULL,              -- seconds since the epoch
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    source TEXT NOT NULL DEFAULT '',    -- the file it was added from, when there was one
    hashes BLOB NOT NULL,               -- fingerprint: two 64-bit pHashes
    grid BLOB NOT NULL,                 -- fingerprint: uint8 colour grid
    keypoints BLOB NOT NULL,            -- fingerprint: float32 N×2 ORB keypoints at feature_scale
    descriptors BLOB NOT NULL,          -- fingerprint: uint8 N×32 ORB descriptors
    feature_scale REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0)
"""

log = logging.getLogger(__name__)


def library_dir() -> Path:
    """<user data>/library (platformdirs, beside the user's models)."""
    from ..resources import user_data_dir

    return user_data_dir() / "library"


def normalise_tags(tags: Sequence[str] | str) -> tuple[str, ...]:
    """Tags as stored: trimmed, no commas, no empties or repeats (case-insensitively), in the order given."""
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: dict[str, str] = {}
    for tag in tags:
        text = " ".join(str(tag).replace(",", " ").split())
        if text and text.lower() not in seen:
            seen[text.lower()] = text
    return tuple(seen.values())


@dataclass(frozen=True)
class LibraryEntry:
    id: int
    name: str
    tags: tuple[str, ...]
    created: float
    width: int
    height: int
    picture: Path
    thumbnail: Path
    source: str = ""

    def matches_search(self, text: str) -> bool:
        """Case-insensitive: every word of `text` is in the name or a tag."""
        haystack = " ".join((self.name,) + self.tags).lower()
        return all(word in haystack for word in text.lower().split())

    def describe(self) -> str:
        tags = f" [{', '.join(self.tags)}]" if self.tags else ""
        return f"#{self.id} {self.name}{tags} ({self.width}×{self.height})"


@dataclass(frozen=True)
class TemplateMatch:
    """A library template found in a meme, aligned to it."""

    entry: LibraryEntry
    clean: np.ndarray  # H×W×3 uint8: the meme with the aligned template wherever the template covers it
    mask: np.ndarray  # H×W bool: the caption, where meme and aligned template differ
    covered: np.ndarray  # H×W bool: the meme pixels the template covers
    matrix: np.ndarray  # 2×3: template pixel -> meme pixel
    inliers: int  # feature matches the alignment explains
    coverage: float  # share of the meme the template covers
    agreement: float  # share of the covered pixels that agree with the template
    seconds: float = 0.0  # time the look-up took
    timings: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        scale = float(np.sqrt(abs(np.linalg.det(self.matrix[:, :2]))))
        return (
            f"{self.entry.describe()}: {self.inliers} matching features, scale {scale:.2f}, "
            f"covers {self.coverage:.0%}, caption {self.mask.mean():.0%} of the picture"
        )


@dataclass
class _Index:
    revision: int
    ids: np.ndarray  # (N,) int64
    keys: np.ndarray  # (N, KEY_BYTES) uint8
    grids: np.ndarray  # (N, GRID_BYTES) uint8


class TemplateLibrary:
    """One library folder (default: `library_dir()`). Nothing is created until the first template is added.

    The first call that opens the database checks it once: a database from a newer MemeClean is refused (never
    written); one that cannot be read is moved aside and rebuilt from the pictures (`recovery`); operations a
    killed process left half-done are finished or undone. What healing did is in `notes` (one line each). A
    library whose folder cannot be written is opened read-only: it lists and matches, and a change is refused in
    one line.
    """

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else library_dir()
        self._index: _Index | None = None
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._checked = False  # the once-per-object check of the database (above) is done
        self.read_only = False  # set when the database could only be opened read-only
        self.notes: list[str] = []

    # -- the database -----------------------------------------------------------------------------------------

    @property
    def database(self) -> Path:
        return self.folder / DATABASE_NAME

    @property
    def exists(self) -> bool:
        return self.database.is_file()

    @property
    def writable(self) -> bool:
        """Whether the library's folder takes changes (a read-only mount or folder does not)."""
        folder = self.folder
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the nearest folder that exists is where the library would be made
        return os.access(folder, os.W_OK) and not self.read_only_database()

    def read_only_database(self) -> bool:
        return self.exists and not os.access(self.database, os.W_OK)

    @contextlib.contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A short connection in autocommit mode (changes go through `_writing`). `create`: a change is coming,
        so the folders and the schema are made first."""
        self._check_once()
        if create:
            self._require_writable()
            self._make_folders()
        connection = self._open(write=create)
        try:
            yield connection
        except sqlite3.Error as error:
            raise self._as_library_error(error) from None
        finally:
            connection.close()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock at once (waiting up to BUSY_SECONDS for
        another process's), so two writers never interleave and none fails half-way; committed on success."""
        with self._connect(create=True) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _open(self, write: bool) -> sqlite3.Connection:
        if not write and self.read_only:
            return self._open_read_only()
        try:
            connection = sqlite3.connect(self.database, timeout=BUSY_SECONDS, isolation_level=None)
            version = connection.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.OperationalError as error:
            if write or recovery.is_damage(error):
                raise self._as_library_error(error) from None
            # A read-only folder or mount: SQLite cannot make the WAL's index file beside the database.
            self.read_only = True
            return self._open_read_only()
        except sqlite3.Error as error:
            raise self._as_library_error(error) from None
        try:
            _refuse_newer(self.database, version)
            if write and version < SCHEMA_VERSION:
                _create_schema(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        """mode=ro reads a database that is not ours to write; immutable=1 where even the WAL's index cannot be
        made (a read-only mount), which is safe because nothing can write there either."""
        uri = self.database.resolve().as_uri()
        error: sqlite3.Error | None = None
        for options in ("mode=ro", "mode=ro&immutable=1"):
            try:
                connection = sqlite3.connect(f"{uri}?{options}", uri=True, timeout=BUSY_SECONDS)
                version = connection.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.Error as failed:
                error = failed
                continue
            try:
                _refuse_newer(self.database, version)
            except BaseException:
                connection.close()
                raise
            return connection
        raise self._as_library_error(error) from None

    def _as_library_error(self, error: sqlite3.Error) -> MemeCleanError:
        text = str(error)
        if recovery.is_damage(error):
            self._checked = False  # the next call checks again, and rebuilds
            return MemeCleanError(
                f"the template library '{self.database}' cannot be read ({text}): it will be rebuilt from its "
                f"pictures when next opened (or run 'memeclean library check --repair')"
            )
        if "locked" in text or "busy" in text:
            return MemeCleanError(
                f"the template library '{self.database}' is busy: another MemeClean kept it locked for "
                f"{BUSY_SECONDS:.0f} s; try again"
            )
        if "readonly" in text or "read-only" in text:
            return self._read_only_error()
        return MemeCleanError(f"cannot open the template library '{self.database}': {text}")

    def _read_only_error(self) -> MemeCleanError:
        return MemeCleanError(
            f"the template library '{self.folder}' is read-only: its templates can be listed and matched, not changed"
        )

    def _require_writable(self) -> None:
        if self.read_only or not self.writable:
            raise self._read_only_error()

    def _make_folders(self) -> None:
        try:
            for sub in ("", "pictures", "thumbs", recovery.PENDING_FOLDER):
                (self.folder / sub).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise MemeCleanError(
                f"cannot create the library folder '{self.folder}': {(error.strerror or str(error)).lower()}"
            ) from None

    def _note(self, line: str) -> None:
        self.notes.append(line)
        log.info("%s", line)

    # -- healing ----------------------------------------------------------------------------------------------

    def open_checked(self) -> list[str]:
        """Check the database now (the first read or write does it anyway); returns what healing did."""
        self._check_once()
        return list(self.notes)

    def _check_once(self) -> None:
        if self._checked:
            return
        with self._open_lock:
            if not self._checked:
                self._check_database()
                self._checked = True

    def _check_database(self) -> None:
        """Refuse a newer database; rebuild one that cannot be read (or was lost, or emptied, while its pictures
        are still there); settle operations that killed processes left."""
        trouble = self._trouble()
        if trouble is None and not (self.writable and recovery.interrupted(self.folder)):
            return
        if not self.writable:
            if trouble is not None and self.exists:
                raise MemeCleanError(
                    f"the template library '{self.database}' cannot be read ({trouble}), and its folder is "
                    f"read-only: nothing was changed"
                )
            return
        with recovery.healing_lock(self.folder):
            trouble = self._trouble()  # another process may have healed it while this one waited
            if trouble is not None:
                self._rebuild(trouble)
            self._settle_interrupted()

    def _trouble(self) -> str | None:
        """None when the database reads (or there is nothing to read); else why it needs a rebuild. A database
        from a newer MemeClean raises instead: it is never touched."""
        pictures = recovery.picture_keys(self.folder)
        if not self.exists:
            return "the database is missing" if pictures else None
        try:
            connection = self._open(write=False)
        except MemeCleanError as error:
            if "newer" in str(error) or "busy" in str(error):
                raise
            return "it is not a database"
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                return "the database is empty" if pictures else None
            verdict = connection.execute("PRAGMA quick_check(1)").fetchone()[0]
            if verdict != "ok":
                return f"the database is damaged: {' '.join(str(verdict).split())}"
            connection.execute("SELECT COUNT(*), MAX(id) FROM entries").fetchone()
            return None
        except sqlite3.Error as error:
            if recovery.is_damage(error):
                return f"the database is damaged: {error}"
            raise self._as_library_error(error) from None
        finally:
            connection.close()

    def _rebuild(self, trouble: str) -> None:
        """A new database from the pictures folder, built apart and renamed into place; the old file kept."""
        recovery.remove_stale_rebuilds(self.folder)
        known = recovery.salvage_all(self.folder, self.database if self.exists else None)
        busy = {key for key, _ in recovery.live_operations(self.folder)}
        temp = self.folder / f".rebuild-{os.getpid()}.sqlite3"
        temp.unlink(missing_ok=True)
        connection = sqlite3.connect(temp, isolation_level=None)
        indexed = named = 0
        damaged: list[str] = []
        try:
            _create_schema(connection)
            connection.execute("BEGIN")
            for key in _oldest_first(self.folder, recovery.picture_keys(self.folder), known):
                if key in busy:
                    continue  # another process is adding or removing it right now; its marker settles it
                try:
                    image = self._restore_picture(key)
                except ImageLoadError:
                    damaged.append(recovery.set_aside_picture(self.folder, key))
                    continue
                salvaged = known.get(key)
                named += salvaged is not None
                picture = self.folder / "pictures" / f"{key}.png"
                _insert_row(
                    connection,
                    key,
                    salvaged.name if salvaged else f"recovered {key[:8]}",
                    salvaged.tags if salvaged else "",
                    (salvaged.created if salvaged and salvaged.created else picture.stat().st_mtime),
                    image,
                    salvaged.source if salvaged else "",
                )
                indexed += 1
            connection.execute("COMMIT")
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()
        aside = recovery.move_aside(self.database) if self.exists else None
        os.replace(temp, self.database)
        kept = f"; the old database was moved to '{aside}'" if aside else ""
        set_aside = f"; {len(damaged)} damaged picture(s) set aside in '{self.folder / 'damaged'}'"
        damaged_note = set_aside if damaged else ""
        self._note(
            f"the template library '{self.folder}' was rebuilt from its pictures folder ({trouble}): "
            f"{indexed} template(s), {named} with their names and tags recovered{kept}{damaged_note}"
        )

    def _restore_picture(self, key: str) -> np.ndarray:
        """The picture of `key` (its thumbnail made again when missing or unreadable)."""
        from ..files.imageio import load_image, save_image

        picture, thumbnail = recovery.picture_files(self.folder, key)
        image = _rgb(load_image(picture).rgb)
        try:
            load_image(thumbnail)
        except ImageLoadError:
            save_image(thumbnail, make_thumbnail(image), quality=85, overwrite=True)
        return image

    def _settle_interrupted(self) -> None:
        operations = recovery.interrupted(self.folder)
        if not operations:
            return
        connection = self._open(write=True)
        try:
            for key, operation, marker in operations:
                self._note(recovery.settle(connection, self.folder, key, operation, marker))
        finally:
            connection.close()

    def check(self, repair: bool = False) -> recovery.LibraryReport:
        """Every problem of the library, one line each (`memeclean library check`); with `repair`, fixed."""
        return recovery.check(self, repair)

    def index_picture(self, key: str, name: str, tags: str = "", created: float | None = None) -> None:
        """Give a picture already in the pictures folder its row (a repair: a template whose row was lost)."""
        image = self._restore_picture(key)
        picture = self.folder / "pictures" / f"{key}.png"
        with self._writing() as db:
            _insert_row(db, key, name, tags, created or picture.stat().st_mtime, image, "")
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")

    def _rows(self, query: str, parameters: Sequence = ()) -> list[tuple]:
        self._check_once()
        if not self.exists:
            return []
        with self._connect() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] == 0:
                return []  # a new database: its schema comes with the first change
            return db.execute(query, parameters).fetchall()

    def _entry(self, row: tuple) -> LibraryEntry:
        entry_id, file, name, tags, created, width, height, source = row
        return LibraryEntry(
            int(entry_id),
            name,
            normalise_tags(tags),
            float(created),
            int(width),
            int(height),
            self.folder / "pictures" / f"{file}.png",
            self.folder / "thumbs" / f"{file}.jpg",
            source,
        )

    _ENTRY_COLUMNS = "id, file, name, tags, created, width, height, source"

    # -- reading ----------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM entries")
        return int(rows[0][0]) if rows else 0

    def entries(self, search: str = "", tag: str | None = None) -> list[LibraryEntry]:
        """Every entry, newest first; `search` keeps those whose name and tags hold every word of it, `tag`
        those with that tag (case-insensitive)."""
        found = [
            self._entry(row)
            for row in self._rows(f"SELECT {self._ENTRY_COLUMNS} FROM entries ORDER BY created DESC, id DESC")
        ]
        if search.strip():
            found = [entry for entry in found if entry.matches_search(search)]
        if tag:
            wanted = tag.strip().lower()
            found = [entry for entry in found if wanted in (t.lower() for t in entry.tags)]
        return found

    def get(self, entry_id: int) -> LibraryEntry:
        rows = self._rows(f"SELECT {self._ENTRY_COLUMNS} FROM entries WHERE id = ?", (int(entry_id),))
        if not rows:
            raise MemeCleanError(f"no template #{entry_id} in the library")
        return self._entry(rows[0])

    def tags(self) -> list[str]:
        """Every tag in use, sorted."""
        found: dict[str, str] = {}
        for (tags,) in self._rows("SELECT tags FROM entries"):
            for tag in normalise_tags(tags):
                found.setdefault(tag.lower(), tag)
        return sorted(found.values(), key=str.lower)

    def load_picture(self, entry: LibraryEntry) -> np.ndarray:
        """The entry's clean picture, RGB uint8. Raises ImageLoadError when its file is gone or damaged."""
        from ..files.imageio import load_image

        return np.ascontiguousarray(load_image(entry.picture).rgb)

    def revision(self) -> int:
        rows = self._rows("SELECT value FROM meta WHERE key = 'revision'")
        return int(rows[0][0]) if rows else 0

    # -- changing ---------------------------------------------------------------------------------------------

    def add(
        self, image: np.ndarray, name: str, tags: Sequence[str] | str = (), source: str | Path = ""
    ) -> LibraryEntry:
        """Add a clean picture (H×W×3 uint8 RGB; an alpha channel is dropped). A marker, then the files (each
        written whole), then the row: a kill anywhere leaves both or, once the library is opened again, neither
        (see `recovery`)."""
        from ..files.imageio import save_image

        image = _rgb(image)
        name = " ".join(str(name).split()) or "template"
        key = uuid.uuid4().hex
        features = fingerprint(image)  # before the write lock is taken: other writers wait less
        self._check_once()
        self._require_writable()
        self._make_folders()
        picture, thumbnail = recovery.picture_files(self.folder, key)
        with recovery.marked(self.folder, key, "add"):
            try:
                save_image(picture, image)
                save_image(thumbnail, make_thumbnail(image), quality=85)
                with self._writing() as db:
                    cursor = _insert_row(
                        db, key, name, ",".join(normalise_tags(tags)), time.time(), image, str(source), features
                    )
                    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")
            except BaseException:
                for path in (picture, thumbnail):
                    path.unlink(missing_ok=True)
                raise
        return self.get(cursor.lastrowid)

    def add_file(self, path: str | Path, name: str | None = None, tags: Sequence[str] | str = ()) -> LibraryEntry:
        """Add a picture file; the name defaults to the file name without its extension."""
        from ..files.imageio import load_image

        path = Path(path)
        image = load_image(path)
        return self.add(image.rgb, name if name else path.stem, tags, source=str(path.resolve()))

    def rename(self, entry_id: int, name: str) -> LibraryEntry:
        name = " ".join(str(name).split())
        if not name:
            raise MemeCleanError("a template needs a name")
        self._update(entry_id, "name", name)
        return self.get(entry_id)

    def set_tags(self, entry_id: int, tags: Sequence[str] | str) -> LibraryEntry:
        self._update(entry_id, "tags", ",".join(normalise_tags(tags)))
        return self.get(entry_id)

    def _update(self, entry_id: int, column: str, value: str) -> None:
        self.get(entry_id)  # a clear error for an unknown id
        with self._writing() as db:
            changed = db.execute(f"UPDATE entries SET {column} = ? WHERE id = ?", (value, int(entry_id))).rowcount
        if not changed:
            raise MemeCleanError(f"no template #{entry_id} in the library")

    def remove(self, entry_id: int) -> LibraryEntry:
        """Delete an entry: a marker, the row (committed), its files; a kill anywhere is finished on the next
        open."""
        entry = self.get(entry_id)
        self._require_writable()
        key = entry.picture.stem
        with recovery.marked(self.folder, key, "remove"):
            with self._writing() as db:
                db.execute("DELETE FROM entries WHERE id = ?", (int(entry_id),))
                db.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")
            for path in (entry.picture, entry.thumbnail):
                with contextlib.suppress(OSError):
                    path.unlink()
        return entry

    def export(self, entry_id: int, path: str | Path, overwrite: bool = False) -> Path:
        """Write the entry's picture to `path` (any format MemeClean saves; never over a file without
        `overwrite`)."""
        from ..files.imageio import save_image

        entry = self.get(entry_id)
        return save_image(Path(path), self.load_picture(entry), overwrite=overwrite)

    def import_folder(
        self,
        folder: str | Path,
        tags: Sequence[str] | str = (),
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> tuple[list[LibraryEntry], list[tuple[Path, str]]]:
        """Add every picture in `folder` (not its sub-folders). Returns (added, [(file, why it was skipped)])."""
        from ..errors import Cancelled

        folder = Path(folder)
        if not folder.is_dir():
            raise MemeCleanError(f"folder not found: '{folder}'")
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        added, skipped = [], []
        for number, path in enumerate(files):
            if cancel is not None and cancel():
                raise Cancelled(f"import stopped after {len(added)} template(s)")
            if progress is not None:
                progress(number / max(1, len(files)), f"Adding {path.name}")
            try:
                added.append(self.add_file(path, tags=tags))
            except ImageLoadError as error:
                skipped.append((path, str(error)))
        return added, skipped

    # -- matching ---------------------------------------------------------------------------------------------

    def _current_index(self) -> _Index:
        revision = self.revision()
        with self._lock:
            if self._index is not None and self._index.revision == revision:
                return self._index
            rows = self._rows("SELECT id, hashes, grid FROM entries ORDER BY id")
            count = len(rows)
            ids = np.array([row[0] for row in rows], np.int64)
            keys = np.frombuffer(b"".join(row[1] for row in rows), np.uint8).reshape(count, KEY_BYTES)
            grids = np.frombuffer(b"".join(row[2] for row in rows), np.uint8).reshape(count, GRID_BYTES)
            self._index = _Index(revision, ids, keys, grids)
            return self._index

    def candidates(self, image: np.ndarray, limit: int = CANDIDATES) -> list[int]:
        """Ids of the entries nearest to `image` by the global keys (the prefilter), nearest first: the nearest
        by the colour grid (robust to a caption anywhere), then the nearest by the hashes that are not among
        them yet."""
        index = self._current_index()
        if len(index.ids) == 0:
            return []
        hashes, grid = global_key(_rgb(image))
        by_grid = np.argsort(grid_distances(index.grids, grid), kind="stable")[: limit - HASH_CANDIDATES]
        distances = hamming(index.keys, hashes)  # (N, 2): whole picture, middle band
        near = np.flatnonzero(distances.min(axis=1) <= MAX_KEY_DISTANCE)
        by_hash = near[np.argsort(distances[near].sum(axis=1), kind="stable")]
        chosen = [int(i) for i in by_grid]
        for i in by_hash:
            if len(chosen) >= limit:
                break
            if int(i) not in chosen:
                chosen.append(int(i))
        return [int(index.ids[i]) for i in chosen]

    def match(self, image: np.ndarray, limit: int = CANDIDATES) -> TemplateMatch | None:
        """The library template `image` (a meme: RGB uint8) shows, aligned to it, or None.

        Prefilter over every entry by the global key; then, nearest first, the geometric check (ORB features +
        RANSAC) and the photometric check on a small copy of the aligned picture; the first entry that passes
        both is aligned at the meme's full size, which gives the clean picture and the caption mask.
        """
        started = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(stage: str) -> None:
            timings[stage] = time.perf_counter() - started - sum(timings.values())

        image = _rgb(image)
        ids = self.candidates(image, limit)
        lap("prefilter")
        if not ids:
            return None
        found = self._verify(image, ids)
        lap("verify")
        if found is None:
            return None
        entry, template, alignment, coverage, agreeing = found
        height, width = image.shape[:2]
        aligned, covered = warp_template(template, alignment.matrix, (width, height))
        mask = caption_mask(image, aligned, covered)
        clean = np.where(covered[..., None], aligned, image)
        lap("align")
        return TemplateMatch(
            entry,
            clean,
            mask,
            covered,
            alignment.matrix,
            alignment.inliers,
            coverage,
            agreeing,
            time.perf_counter() - started,
            timings,
        )

    def _verify(self, image: np.ndarray, ids: list[int]):
        """(entry, its picture, alignment, coverage, agreement) of the first candidate that passes both checks."""
        points, descriptors, scale = orb_features(image)
        placeholders = ",".join("?" * len(ids))
        rows = {
            int(row[0]): row[1:]
            for row in self._rows(
                f"SELECT id, keypoints, descriptors, feature_scale FROM entries WHERE id IN ({placeholders})", ids
            )
        }
        height, width = image.shape[:2]
        check_scale = min(1.0, CHECK_SIDE / max(height, width))
        small = (
            cv2.resize(
                image,
                (max(1, round(width * check_scale)), max(1, round(height * check_scale))),
                interpolation=cv2.INTER_AREA,
            )
            if check_scale < 1
            else image
        )
        to_small = np.diag([check_scale, check_scale])
        for entry_id in ids:
            if entry_id not in rows:
                continue  # removed meanwhile
            keypoint_blob, descriptor_blob, feature_scale = rows[entry_id]
            template_points = np.frombuffer(keypoint_blob, np.float32).reshape(-1, 2)
            featureless = len(template_points) < FEW_FEATURES
            if featureless:
                # Too plain for features (a gradient, a flat backdrop): only a resize of the whole picture is
                # tried, and it must agree closely (below), not just mostly.
                alignment = None
                entry_row = self._rows("SELECT width, height FROM entries WHERE id = ?", (entry_id,))
                if entry_row:
                    alignment = resize_alignment(entry_row[0], (width, height))
            else:
                alignment = fit_alignment(
                    points,
                    descriptors,
                    scale,
                    template_points,
                    np.frombuffer(descriptor_blob, np.uint8).reshape(-1, 32),
                    feature_scale,
                )
            if alignment is None:
                continue
            try:
                entry = self.get(entry_id)
                template = self.load_picture(entry)
            except MemeCleanError:
                continue  # removed meanwhile, or its picture file is damaged: not a match
            aligned, covered = warp_template(template, to_small @ alignment.matrix, (small.shape[1], small.shape[0]))
            coverage = float(covered.mean())
            if coverage < MIN_COVERAGE:
                continue
            if featureless:
                agreeing = agreement(small, aligned, covered, CLOSE_DIFFERENCE)
                passed = agreeing >= MIN_CLOSE_AGREEMENT
            else:
                agreeing = agreement(small, aligned, covered)
                passed = agreeing >= MIN_AGREEMENT
            if passed:
                return entry, template, alignment, coverage, agreeing
        return None


def _refuse_newer(database: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise MemeCleanError(
            f"the template library '{database}' is format {version}, from a newer MemeClean (this one reads "
            f"format {SCHEMA_VERSION}): it was left as it is"
        )


def _create_schema(connection: sqlite3.Connection) -> None:
    """The tables, in WAL mode (readers never wait for a writer); once, whoever comes first."""
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("BEGIN IMMEDIATE")
    try:
        if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            for statement in _SCHEMA.split(";"):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _insert_row(
    connection: sqlite3.Connection,
    key: str,
    name: str,
    tags: str,
    created: float,
    image: np.ndarray,
    source: str,
    features: Fingerprint | None = None,
) -> sqlite3.Cursor:
    features = features if features is not None else fingerprint(image)
    return connection.execute(
        "INSERT INTO entries (file, name, tags, created, width, height, source, hashes, grid, "
        "keypoints, descriptors, feature_scale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            name,
            tags,
            created,
            image.shape[1],
            image.shape[0],
            source,
            features.hashes.tobytes(),
            features.grid.tobytes(),
            features.keypoints.astype(np.float32).tobytes(),
            features.descriptors.tobytes(),
            float(features.feature_scale),
        ),
    )


def _oldest_first(folder: Path, keys: list[str], known: dict[str, recovery.Salvaged]) -> list[str]:
    def created(key: str) -> float:
        salvaged = known.get(key)
        if salvaged is not None and salvaged.created:
            return salvaged.created
        return (folder / "pictures" / f"{key}.png").stat().st_mtime

    return sorted(keys, key=created)


def make_thumbnail(image: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image.copy()


def _rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (3, 4):
        raise MemeCleanError("expected an H×W×3 (RGB) uint8 picture")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise MemeCleanError("the picture is too small for the template library (at least 8×8 pixels)")
    return np.ascontiguousarray(image[..., :3])
