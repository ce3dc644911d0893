"""Your fixes: memes whose caption mask you corrected by hand, kept as training pairs (never sent anywhere).

    <user data>/fixes/.memeclean-fixes          marks the folder (the trainer recognises it)
    <user data>/fixes/<date>-<id>/meme.png      the meme as opened (first frame)
    <user data>/fixes/<date>-<id>/mask.png      the corrected caption mask (white = text)
    <user data>/fixes/<date>-<id>/template.png  the clean template, when one was saved filled with that mask
    <user data>/fixes/<date>-<id>/info.json     name, date, size

A fix is written into a hidden temporary folder and renamed into place when complete, so a kill never leaves half
a fix. `FixSource` serves fixes to the trainer as (meme, template or None, mask) samples; a fix without a template
trains the mask only (the dataset gives it an empty fill region). A fixed share of the fixes, chosen by their
names, is held out of training to measure a fine-tuned model on (`split_fixes`, `score_fixes`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageLoadError, MemeCleanError
from ..geometry import DEFAULT_RESOLUTION

MARKER = ".memeclean-fixes"
HELD_OUT_FRACTION = 0.2


def fixes_dir() -> Path:
    """<user data>/fixes (platformdirs, beside the library and the user's models). Not created here."""
    from ..resources import user_data_dir

    return user_data_dir() / "fixes"


def is_fixes_folder(path: str | Path) -> bool:
    return (Path(path) / MARKER).is_file()


@dataclass(frozen=True)
class Fix:
    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def has_template(self) -> bool:
        return (self.folder / "template.png").is_file()

    def load(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(meme RGB uint8, template RGB uint8 or None, mask bool), all at the meme's size."""
        from ..files.imageio import load_image

        meme = load_image(self.folder / "meme.png").rgb
        mask = load_image(self.folder / "mask.png").rgb[..., 0] > 127
        template = load_image(self.folder / "template.png").rgb if self.has_template else None
        if mask.shape != meme.shape[:2] or (template is not None and template.shape != meme.shape):
            raise ImageLoadError(f"fix '{self.folder}': meme, mask and template differ in size")
        return meme, template, mask


def save_fix(
    meme: np.ndarray,
    mask: np.ndarray,
    template: np.ndarray | None = None,
    name: str = "",
    folder: str | Path | None = None,
) -> Fix:
    """Keep a corrected mask (and the template filled with it, when there is one) as a training pair."""
    from ..files.imageio import save_image, save_mask
    from ..files.safe_write import os_reason, write_json

    meme = np.ascontiguousarray(np.asarray(meme)[..., :3])
    mask = np.asarray(mask).astype(bool)
    if meme.dtype != np.uint8 or meme.ndim != 3 or mask.shape != meme.shape[:2]:
        raise MemeCleanError("a fix needs an RGB meme and a mask of its size")
    if template is not None:
        template = np.ascontiguousarray(np.asarray(template)[..., :3])
        if template.shape != meme.shape:
            raise MemeCleanError("a fix's template must have the meme's size")
    root = Path(folder) if folder is not None else fixes_dir()
    key = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    temporary = root / f".{key}.tmp"
    try:
        temporary.mkdir(parents=True)
        (root / MARKER).touch()
        save_image(temporary / "meme.png", meme)
        save_mask(temporary / "mask.png", mask)
        if template is not None:
            save_image(temporary / "template.png", template)
        info = {
            "name": name,
            "created": time.time(),
            "width": meme.shape[1],
            "height": meme.shape[0],
            "template": template is not None,
        }
        write_json(temporary / "info.json", info, indent=None)
        os.replace(temporary, root / key)
    except OSError as error:
        raise MemeCleanError(f"cannot keep the fix in '{root}': {os_reason(error)}") from None
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    return Fix(root / key)


def list_fixes(folder: str | Path | None = None) -> list[Fix]:
    """The complete fixes in `folder` (default: `fixes_dir()`), oldest first."""
    root = Path(folder) if folder is not None else fixes_dir()
    try:
        children = sorted(root.iterdir())
    except OSError:
        return []
    return [
        Fix(child)
        for child in children
        if child.is_dir()
        and not child.name.startswith(".")
        and (child / "meme.png").is_file()
        and (child / "mask.png").is_file()
    ]


def is_held_out(name: str, fraction: float = HELD_OUT_FRACTION) -> bool:
    digest = hashlib.sha1(f"fix:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split_fixes(fixes: Sequence[Fix], fraction: float = HELD_OUT_FRACTION) -> tuple[list[Fix], list[Fix]]:
    """(training, held out): each fix always falls on the same side (by its name); with two fixes or more at
    least one is held out and at least one trains."""
    fixes = sorted(fixes, key=lambda fix: fix.name)
    train = [fix for fix in fixes if not is_held_out(fix.name, fraction)]
    held = [fix for fix in fixes if is_held_out(fix.name, fraction)]
    if len(fixes) >= 2 and not held:
        held = [train.pop()]
    if len(fixes) >= 2 and not train:
        train = [held.pop(0)]
    return train, held


def _resize_long_side(array: np.ndarray, long_side: int, nearest: bool = False) -> np.ndarray:
    height, width = array.shape[:2]
    scale = long_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size == (width, height):
        return array
    interpolation = cv2.INTER_NEAREST if nearest else (cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return cv2.resize(array, size, interpolation=interpolation)


class FixSource:
    """Training samples from a fixes folder: (meme, template or None, mask) at the asked long side. Only the
    training part of the fixes is served (`split_fixes`)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.fixes, self.held_out = split_fixes(list_fixes(self.folder))
        if not self.fixes:
            raise MemeCleanError(f"no fixes to train on in '{self.folder}' (correct a mask by hand and save first)")
        self._cache: dict[int, tuple[np.ndarray, np.ndarray | None, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.fixes)

    def synthetic(self):
        """Synthetic memes to mix with the fixes: captions drawn on the clean templates among the training fixes
        (and on procedural pictures), with the bundled font."""
        from ..data.backgrounds import BackgroundSource
        from ..data.font_pool import FontPool
        from ..data.source import SynthSource

        templates = [fix.folder / "template.png" for fix in self.fixes if fix.has_template]
        return SynthSource(BackgroundSource(templates, procedural_fraction=0.3), FontPool.from_folder(self.folder))

    def sample(self, rng: np.random.Generator, long_side: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        index = int(rng.integers(len(self.fixes)))
        if index not in self._cache:
            self._cache[index] = self.fixes[index].load()
        meme, template, mask = self._cache[index]
        meme_out = _resize_long_side(meme, long_side)
        size = (meme_out.shape[1], meme_out.shape[0])
        mask_out = cv2.resize(mask.astype(np.uint8) * 255, size, interpolation=cv2.INTER_LINEAR) >= 128
        template_out = (
            None
            if template is None
            else cv2.resize(
                template, size, interpolation=cv2.INTER_AREA if size[0] < template.shape[1] else cv2.INTER_CUBIC
            )
        )
        return meme_out, template_out, mask_out


def score_fixes(
    model, fixes: Sequence[Fix], resolution: int = DEFAULT_RESOLUTION, progress=None, cancel=None
) -> float | None:
    """Mean mask IoU of `model` (a LoadedModel) on `fixes`: how well it finds the captions you corrected."""
    from ..cleaning.inference import clean
    from ..errors import Cancelled
    from .evaluate import mask_iou

    scores = []
    for number, fix in enumerate(fixes):
        if cancel is not None and cancel():
            raise Cancelled("measuring cancelled")
        meme, _, mask = fix.load()
        scores.append(mask_iou(clean(meme, resolution=resolution, model=model).mask, mask))
        if progress is not None:
            progress((number + 1) / len(fixes), f"fix {number + 1} of {len(fixes)}")
    return float(np.mean(scores)) if scores else None
