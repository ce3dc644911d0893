"""Caption projects on disk: `<image stem>.memeclean.json` next to the template, so a meme stays editable.

The template path is stored relative to the project file when it sits in the same folder tree (projects move
with their images), absolute otherwise. Writes are atomic: a temporary file in the same folder, then a rename.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ..errors import MemeCleanError
from .model import CaptionDoc, CaptionError

PROJECT_SUFFIX = ".memeclean.json"


class ProjectError(MemeCleanError):
    """A caption project cannot be read or written, or its template image is missing."""


def project_path_for(image: str | os.PathLike[str]) -> Path:
    """Where the project of `image` lives: `photo.png` → `photo.memeclean.json` in the same folder."""
    image = Path(image)
    return image.with_name(image.stem + PROJECT_SUFFIX)


def save_project(doc: CaptionDoc, path: str | os.PathLike[str] | None = None) -> Path:
    """Write `doc` as JSON (default: next to its template) atomically; returns the path written."""
    target = Path(path) if path is not None else project_path_for(doc.template)
    data = doc.to_dict()
    data["template"] = _stored_template(doc.template, target.parent).as_posix()
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        # 0o666 with O_CREAT lets the umask decide the permissions, as for any file the user saves
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise ProjectError(f"cannot save caption project {target}: {error.strerror or error}") from None
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
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"caption project not found: {path}") from None
    except OSError as error:
        raise ProjectError(f"cannot read caption project {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProjectError(f"{path} is not valid JSON: {error}") from None
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
