"""The app's remembered settings, in one place: one JSON file in the user's config folder, one field per setting.

Every field has a default and a description (`FIELDS`); a value of the wrong type, out of range or from a broken
file falls back to its default, so a hand-edited or half-written file never stops the app. Reads are attributes
(`settings.resolution`); writes go through `update(...)`, which validates and saves at once. A save merges: it
reads the file again and writes back only the fields this object changed, so two running apps do not undo each
other's settings. A file from a newer MemeClean (a higher `schema_version`) is not read (the defaults are used,
with one logged line naming its version) and never written or downgraded. Tests point
`settings_path()` at a temporary folder (see tests/gui/conftest.py); `Settings()` with no path lives in memory.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memeclean_core.errors import MemeCleanError
from memeclean_core.files.file_kinds import read_regular_text
from memeclean_core.files.safe_write import write_json
from memeclean_core.geometry import DEFAULT_RESOLUTION
from memeclean_core.network.runtime import DEFAULT_RUNTIME, RUNTIMES

from .sizing import snap_resolution

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RECENT_LIMIT = 10
MAX_SETTINGS_BYTES = 2**20  # a few kB in practice; a larger file is not ours


@dataclass(frozen=True)
class Field:
    default: Any
    description: str
    check: Callable[[Any], Any] | None = None  # returns the value to keep (clamped), or raises ValueError


def _clamp(low: int, high: int) -> Callable[[int], int]:
    return lambda value: max(low, min(high, value))


def _runtime(value: str) -> str:
    if value not in RUNTIMES:
        raise ValueError(f"the runtime must be one of {', '.join(RUNTIMES)}")
    return value


def _recent(value: list) -> list[str]:
    if not all(isinstance(item, str) for item in value):
        raise ValueError("recent files must be strings")
    return list(dict.fromkeys(value))[:RECENT_LIMIT]


FIELDS: dict[str, Field] = {
    "resolution": Field(
        DEFAULT_RESOLUTION,
        "Working size of the network's longest side in pixels (the slider beside Clean).",
        snap_resolution,
    ),
    "auto_clean": Field(True, "Start cleaning as soon as an image is opened, dropped or pasted."),
    "brush_size": Field(24, "Diameter of the mask brush and eraser, in image pixels.", _clamp(1, 500)),
    "show_mask": Field(True, "Show the text mask as a coloured overlay on the picture."),
    "save_quality": Field(92, "JPEG and WebP quality when saving a template (1-100).", _clamp(1, 100)),
    "last_folder": Field("", "Folder of the last opened or saved file; file dialogs start there."),
    "recent_files": Field([], "Recently opened files, newest first (File ▸ Open Recent).", _recent),
    "window_geometry": Field("", "Main window position and size (Qt's saveGeometry, base64)."),
    "window_state": Field("", "Toolbar layout of the main window (Qt's saveState, base64)."),
    "model_path": Field("", "Weights file the app cleans with (Model menu); empty: the bundled model."),
    "runtime": Field(
        DEFAULT_RUNTIME,
        "What runs the network (Model ▸ Runtime): auto (OpenVINO on the CPU when it works, else torch), "
        "openvino or torch.",
        _runtime,
    ),
    "library_lookup": Field(True, "Look every opened meme up in your template library and offer a matching template."),
    "library_add_saved": Field(True, "Add every template you save (File ▸ Save Template) to your library."),
    "library_add_cleaned": Field(False, "Also add every cleaned template to your library, saved or not."),
    "keep_fixes": Field(
        True,
        "Keep memes whose mask you corrected by hand, with the corrected mask, as training "
        "pairs in your MemeClean data folder (Model ▸ Train… can learn from them; never sent "
        "anywhere).",
    ),
}


def settings_path() -> Path:
    """Where the settings live: <user config dir>/MemeClean/settings.json (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("MemeClean", appauthor=False)) / "settings.json"


def _valid(name: str, value: Any) -> Any:
    """`value` checked against the field's type and range; raises ValueError when it cannot be kept."""
    field = FIELDS[name]
    expected = type(field.default)
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ValueError(f"setting {name!r} must be {expected.__name__}, got {type(value).__name__}")
    return field.check(value) if field.check is not None else value


class Settings:
    """The settings of one user; `path=None` keeps them in memory only (self-test, tests)."""

    def __init__(self, path: Path | None = None, values: dict[str, Any] | None = None):
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "_values", {name: _copy(field.default) for name, field in FIELDS.items()})
        object.__setattr__(self, "_changed", set())  # fields set here since the file was read: what a save writes
        object.__setattr__(self, "newer_format", None)  # the file's format when a newer MemeClean wrote it
        self._take(values or {})

    def _take(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name not in FIELDS:
                continue  # a field of a newer or older version: ignored
            try:
                self._values[name] = _valid(name, value)
            except (ValueError, TypeError, OverflowError, RecursionError) as error:  # a huge number, odd nesting
                log.warning("settings: %s; using the default", str(error)[:200] or type(error).__name__)

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Read the settings file (default: `settings_path()`); a missing or broken file gives the defaults."""
        path = settings_path() if path is None else Path(path)
        values, newer = _read_values(path)
        settings = cls(path, values)
        object.__setattr__(settings, "newer_format", newer)
        return settings

    def __getattr__(self, name: str) -> Any:
        try:
            return _copy(self._values[name])
        except KeyError:
            raise AttributeError(f"no setting named {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("change settings with settings.update(name=value)")

    def update(self, **values: Any) -> None:
        """Validate and set fields, then save. Raises ValueError for an unknown field or a wrong type."""
        for name, value in values.items():
            if name not in FIELDS:
                raise ValueError(f"no setting named {name!r}")
            self._values[name] = _valid(name, value)
            self._changed.add(name)
        self.save()

    def reset(self) -> None:
        """Every field back to its default (and saved)."""
        self._values.update({name: _copy(field.default) for name, field in FIELDS.items()})
        self._changed.update(FIELDS)
        self.save()

    def as_dict(self) -> dict[str, Any]:
        return {name: _copy(value) for name, value in self._values.items()}

    def save(self) -> None:
        """Write the file atomically; a failure is logged, never raised (settings must not stop the app). Fields
        this object did not change are taken from the file as it is now (another app may have changed them)."""
        if self.path is None or self.newer_format is not None:
            return  # a newer MemeClean's file is never written over
        on_disk, newer = _read_values(self.path)
        if newer is not None:
            object.__setattr__(self, "newer_format", newer)
            return
        self._take({name: value for name, value in on_disk.items() if name not in self._changed})
        payload = {"schema_version": SCHEMA_VERSION, "values": self._values}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json(self.path, payload, overwrite=True)  # complete or not at all (memeclean_core.files.safe_write)
        except (OSError, MemeCleanError) as error:
            log.warning("settings: cannot write '%s' (%s)", self.path, error)

    def add_recent_file(self, path: Path) -> None:
        """Put `path` first in the recent files (once), remember its folder."""
        text = str(Path(path).absolute())
        recent = [text] + [item for item in self.recent_files if item != text]
        self.update(recent_files=recent[:RECENT_LIMIT], last_folder=str(Path(text).parent))


def _read_values(path: Path) -> tuple[dict[str, Any], int | None]:
    """(the raw values of the settings file, None), or ({}, its format) for a file of a newer MemeClean; a missing
    or broken file gives no values."""
    try:
        # a pipe there must not hang; an integer of thousands of digits spoils its own field, not the file
        data = json.loads(read_regular_text(path, limit=MAX_SETTINGS_BYTES), parse_int=_parse_int)
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError, RecursionError) as error:  # unreadable, not JSON, huge digits, too deep
        log.warning("settings: cannot read '%s' (%s); using the defaults", path, str(error)[:200])
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    version = data.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        log.warning(
            "settings: '%s' is format %d, from a newer MemeClean (this one writes format %d): using the defaults; "
            "the file is left as it is",
            path,
            version,
            SCHEMA_VERSION,
        )
        return {}, version
    return (data["values"] if isinstance(data.get("values"), dict) else {}), None


class _TooLong(str):
    """An integer literal too long to be any setting (kept as text, so its field falls back to the default)."""


def _parse_int(text: str) -> int | str:
    return int(text) if len(text) <= 40 else _TooLong(text[:12] + "...")


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
