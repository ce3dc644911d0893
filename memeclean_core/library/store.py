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
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageLoadError, MemeCleanError
from ..filenames import IMAGE_SUFFIXES
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
from .fingerprint import GRID_BYTES, KEY_BYTES, fingerprint, global_key, grid_distances, hamming, orb_features

SCHEMA_VERSION = 1
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
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0);
"""

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


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
    """One library folder (default: `library_dir()`). Nothing is created until the first template is added."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else library_dir()
        self._index: _Index | None = None
        self._lock = threading.Lock()

    # -- the database -----------------------------------------------------------------------------------------

    @property
    def database(self) -> Path:
        return self.folder / DATABASE_NAME

    @property
    def exists(self) -> bool:
        return self.database.is_file()

    @contextlib.contextmanager
    def _connect(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        if create:
            try:
                for sub in ("", "pictures", "thumbs"):
                    (self.folder / sub).mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise MemeCleanError(
                    f"cannot create the library folder '{self.folder}': {(error.strerror or str(error)).lower()}"
                ) from None
        try:
            connection = sqlite3.connect(self.database, timeout=10.0)
        except sqlite3.Error as error:
            raise MemeCleanError(f"cannot open the template library '{self.database}': {error}") from None
        try:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise MemeCleanError(f"the template library '{self.database}' was written by a newer MemeClean")
            if version < SCHEMA_VERSION:
                connection.execute("PRAGMA journal_mode=WAL")
                with connection:
                    connection.executescript(_SCHEMA)
                    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            yield connection
        except sqlite3.DatabaseError as error:
            raise MemeCleanError(f"the template library '{self.database}' cannot be read: {error}") from None
        finally:
            connection.close()

    def _rows(self, query: str, parameters: Sequence = ()) -> list[tuple]:
        if not self.exists:
            return []
        with self._connect() as db:
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
        from ..imageio import load_image

        return np.ascontiguousarray(load_image(entry.picture).rgb)

    def revision(self) -> int:
        rows = self._rows("SELECT value FROM meta WHERE key = 'revision'")
        return int(rows[0][0]) if rows else 0

    # -- changing ---------------------------------------------------------------------------------------------

    def add(
        self, image: np.ndarray, name: str, tags: Sequence[str] | str = (), source: str | Path = ""
    ) -> LibraryEntry:
        """Add a clean picture (H×W×3 uint8 RGB; an alpha channel is dropped). The files are in place before the
        row is committed."""
        from ..imageio import save_image

        image = _rgb(image)
        name = " ".join(str(name).split()) or "template"
        features = fingerprint(image)
        key = uuid.uuid4().hex
        with self._connect(create=True) as db:
            picture = self.folder / "pictures" / f"{key}.png"
            thumbnail = self.folder / "thumbs" / f"{key}.jpg"
            save_image(picture, image)
            try:
                save_image(thumbnail, make_thumbnail(image), quality=85)
                with db:
                    cursor = db.execute(
                        "INSERT INTO entries (file, name, tags, created, width, height, source, hashes, grid, "
                        "keypoints, descriptors, feature_scale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            key,
                            name,
                            ",".join(normalise_tags(tags)),
                            time.time(),
                            image.shape[1],
                            image.shape[0],
                            str(source),
                            features.hashes.tobytes(),
                            features.grid.tobytes(),
                            features.keypoints.astype(np.float32).tobytes(),
                            features.descriptors.tobytes(),
                            float(features.feature_scale),
                        ),
                    )
                    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")
            except BaseException:
                for path in (picture, thumbnail):
                    path.unlink(missing_ok=True)
                raise
            entry_id = cursor.lastrowid
        return self.get(entry_id)

    def add_file(self, path: str | Path, name: str | None = None, tags: Sequence[str] | str = ()) -> LibraryEntry:
        """Add a picture file; the name defaults to the file name without its extension."""
        from ..imageio import load_image

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
        with self._connect() as db, db:
            db.execute(f"UPDATE entries SET {column} = ? WHERE id = ?", (value, int(entry_id)))

    def remove(self, entry_id: int) -> LibraryEntry:
        """Delete an entry: the row first (committed), then its files."""
        entry = self.get(entry_id)
        with self._connect() as db, db:
            db.execute("DELETE FROM entries WHERE id = ?", (int(entry_id),))
            db.execute("UPDATE meta SET value = value + 1 WHERE key = 'revision'")
        for path in (entry.picture, entry.thumbnail):
            with contextlib.suppress(OSError):
                path.unlink()
        return entry

    def export(self, entry_id: int, path: str | Path, overwrite: bool = False) -> Path:
        """Write the entry's picture to `path` (any format MemeClean saves; never over a file without
        `overwrite`)."""
        from ..imageio import save_image

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
