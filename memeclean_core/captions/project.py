"""Caption projects on disk: `<image stem>.memeclean.json` next to the template, so a meme stays editable.

The template path is stored relative to the project file when it sits in the same folder tree (projects move
with their images), absolute otherwise. Writes go through `safe_write` (complete or not at all).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import MemeCleanError, WriteError
from ..files.file_kinds import NotRegularFile, read_regular_text
from ..files.safe_write import os_reason, write_json
from .boxes import CaptionDoc, CaptionError

PROJECT_SUFFIX = ".memeclean.json"
MAX_PROJECT_BYTES = 16 * 2**20  # a project of many boxes is a few kB; anything this large is not one


class ProjectError(MemeCleanError):
    """A caption project cannot be read or written, or its template image is missing."""


def project_path_for(image: str | os.PathLike[str]) -> Path:
    """Where the project of `image` lives: `photo.png` → `photo.memeclean.json` in the same folder."""
    image = Path(image)
    return image.with_name(image.stem + PROJECT_SUFFIX)


def save_project(
    doc: CaptionDoc,
    path: str | os.PathLike[str] | None = None,
    *,
    overwrite: bool = True,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write `doc` as JSON (default: next to its template) through `safe_write`; returns the path written.

    The template image is never written over; `overwrite=False` refuses an existing file, `protect` names other
    files never written (the command line's inputs)."""
    target = Path(path) if path is not None else project_path_for(doc.template)
    data = doc.to_dict()
    data["template"] = _stored_template(doc.template, target.parent).as_posix()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_json(target, data, overwrite=overwrite, protect=[doc.template, *protect])
    except OSError as error:
        raise ProjectError(f"cannot save caption project {target}: {os_reason(error)}") from None
    except WriteError as error:
        raise ProjectError(f"cannot save caption project: {error}") from None
    return target


def _stored_template(template: Path, folder: Path) -> Path:
    """The template path as written: relative to the project's folder when under it, else absolute."""
    absolute = Path(os.path.abspath(template))
    try:
        return absolute.relative_to(Path(os.path.abspath(folder)))
    except ValueError:
        return absolute


def load_project(path: str | os.PathLike[str], *, require_template: bool = True) -> CaptionDoc:
    """Read a project; the template path comes back absolute. Raises ProjectError (one line) when the file is
    missing or not a caption project, or, with `require_template`, when its template image is gone."""
    path = Path(path)
    try:
        data = json.loads(read_regular_text(path, limit=MAX_PROJECT_BYTES))
    except FileNotFoundError:
        raise ProjectError(f"caption project not found: {path}") from None
    except OSError as error:
        reason = str(error) if isinstance(error, NotRegularFile) else os_reason(error)
        raise ProjectError(f"cannot read caption project {path}: {reason}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectError(f"{path} is not valid JSON: {error}") from None
    except (ValueError, RecursionError) as error:  # too large, nested too deep
        raise ProjectError(f"cannot read caption project {path}: {str(error) or 'nested too deep'}") from None
    try:
        doc = CaptionDoc.from_dict(data)
    except CaptionError as error:
        raise ProjectError(f"{path}: {error}") from None
    if not doc.template.is_absolute():
        doc.template = Path(os.path.abspath(path.parent / doc.template))
    if require_template and not doc.template.is_file():
        raise ProjectError(f"template image of {path.name} not found: {doc.template}")
    return doc


def find_project(image: str | os.PathLike[str]) -> Path | None:
    """The project saved next to `image`, if there is one."""
    candidate = project_path_for(image)
    return candidate if candidate.is_file() else None
