"""What the picture queue's workers run: thumbnails, one queued clean, opening a queued picture, Save All.

Plain functions taking `progress(fraction, text)` and `cancel() -> bool` where they are long (no Qt), like `jobs.clean`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from memeclean_core.callbacks import CancelFn, ProgressFn
from memeclean_core.errors import MemeCleanError
from memeclean_core.files.imageio import LoadedImage

from ..model.document import Result
from ..model.queue_state import SaveItem, SaveOutcome, SpilledResult, load_spilled, spill_result
from . import clean as jobs  # the name the job bodies use; `clean` is the module beside this one

THUMBNAIL_SIZE = 64
"""The longest side of a queue thumbnail, in pixels."""


def thumbnail(pixels: np.ndarray, size: int = THUMBNAIL_SIZE) -> np.ndarray:
    """A small copy of an H×W×3 picture (longest side `size`)."""
    picture = Image.fromarray(np.ascontiguousarray(pixels))
    picture.thumbnail((size, size), Image.Resampling.BILINEAR)
    return np.asarray(picture.convert("RGB")).copy()


def file_thumbnail(path: Path, size: int = THUMBNAIL_SIZE) -> np.ndarray | None:
    """The thumbnail of an image file (a JPEG is decoded at a reduced size), or None when it cannot be read: the
    clean will say why."""
    try:
        with Image.open(path) as picture:
            picture.draft("RGB", (size * 2, size * 2))  # JPEG: decode at 1/2..1/8 size, much faster
            picture = ImageOps.exif_transpose(picture)
            picture.thumbnail((size, size), Image.Resampling.BILINEAR)
            return np.asarray(picture.convert("RGB")).copy()
    except Exception:  # noqa: BLE001 - any unreadable file is shown without a thumbnail
        return None


def make_thumbnails(
    paths: list[Path], cancel: CancelFn, size: int = THUMBNAIL_SIZE
) -> list[tuple[Path, np.ndarray | None]]:
    thumbnails = []
    for path in paths:
        if cancel():
            break
        thumbnails.append((path, file_thumbnail(path, size)))
    return thumbnails


@dataclass(frozen=True, eq=False)
class CleanedPicture:
    result: Result
    spilled: SpilledResult
    thumbnail: np.ndarray


def clean_picture(
    path: Path,
    resolution: int,
    models: jobs.ModelCache,
    folder: Path,
    stem: str,
    progress: ProgressFn,
    cancel: CancelFn,
) -> CleanedPicture:
    """Read, clean and spill one queued picture. Raises ImageLoadError (the entry fails with its message) or
    Cancelled."""
    image = jobs.load(path)
    result = jobs.clean_image(image, resolution, models, progress, cancel)
    spilled = spill_result(folder, stem, result)
    return CleanedPicture(result, spilled, thumbnail(result.image.rgb))


def open_picture(path: Path, spilled: SpilledResult | None) -> tuple[LoadedImage, Result | None]:
    """A queued picture and its latest result, to show it. Raises ImageLoadError."""
    image = jobs.load(path)
    if spilled is None:
        return image, None
    try:
        result = load_spilled(spilled)
    except OSError:
        return image, None  # its temporary files went: shown uncleaned, one click cleans it again
    if (result.image.width, result.image.height) != (image.width, image.height):
        return image, None  # the file changed since it was cleaned
    return image, result


def save_pictures(items: list[SaveItem], quality: int, progress: ProgressFn, cancel: CancelFn) -> list[SaveOutcome]:
    """Write every item (atomically, each on its own: one failure does not stop the others). Cancel leaves the
    rest unwritten ("skipped")."""
    from memeclean_core.files.imageio import save_image

    outcomes = []
    for number, item in enumerate(items):
        if cancel():
            outcomes.append(SaveOutcome(item.key, item.target, "skipped", "cancelled"))
            continue
        progress(number / max(1, len(items)), f"Saving {item.target.name}")
        try:
            result = item.result if item.result is not None else load_spilled(item.spilled)
            save_image(item.target, result.image, quality=quality, overwrite=item.overwrite, protect=item.protect)
        except MemeCleanError as error:
            outcomes.append(SaveOutcome(item.key, item.target, "failed", str(error)))
        except OSError as error:
            reason = error.strerror or type(error).__name__
            outcomes.append(
                SaveOutcome(item.key, item.target, "failed", f"cannot read the cleaned picture back ({reason.lower()})")
            )
        else:
            outcomes.append(SaveOutcome(item.key, item.target, "saved"))
    progress(1.0, "Saved")
    return outcomes
