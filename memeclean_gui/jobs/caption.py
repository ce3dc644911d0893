"""What the caption workers run: plain functions (no Qt) over the core's caption renderer, projects and proposals.

The preview and the export call the same function, `captioned`, on the same template: the preview is the first
frame of what Export writes, pixel for pixel ("export equals preview"). These functions use Pillow's FreeType
fonts, which must not be used from two threads at once, so the caption mode runs them one at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from memeclean_core.captions import CaptionDoc, TextBox, project_path_for, save_project
from memeclean_core.captions.project import PROJECT_SUFFIX
from memeclean_core.cleaning import whole_image
from memeclean_core.errors import MemeCleanError
from memeclean_core.files.imageio import LoadedImage

TextReader = Callable[[np.ndarray], list]


class CaptionJobError(MemeCleanError):
    """A caption job cannot do what was asked (one line for the person)."""


def captioned(image: LoadedImage, boxes: Sequence[TextBox], *, first_frame_only: bool = False) -> LoadedImage:
    """`image` with `boxes` drawn on every frame (or only the first, for the preview), at full resolution, as
    `memeclean caption` draws them (`memeclean_core.cleaning.whole_image.captioned`)."""
    return whole_image.captioned(image, boxes, first_frame_only=first_frame_only)


def preview(image: LoadedImage, boxes: Sequence[TextBox]) -> tuple[np.ndarray, np.ndarray | None]:
    """The first frame as Export will write it: (H×W×3 RGB, H×W alpha or None)."""
    frame = captioned(image, boxes, first_frame_only=True).frames[0]
    return frame.pixels, frame.alpha


def export(
    path: Path, image: LoadedImage, boxes: Sequence[TextBox], *, quality: int, overwrite: bool, protect: Sequence[Path]
) -> Path:
    """Render the captions at full resolution and write the meme atomically; `protect` is never written."""
    from memeclean_core.files.imageio import save_image

    if not any(box.text.strip() for box in boxes):
        raise CaptionJobError("nothing to export: write some text first")
    return save_image(path, captioned(image, boxes), quality=quality, overwrite=overwrite, protect=protect)


def propose(mask: np.ndarray, meme: np.ndarray, reader: TextReader | None) -> list[TextBox]:
    """One box per caption block of a clean's text mask, with the old words when `reader` can read them."""
    from memeclean_core.captions import propose_boxes

    if not np.asarray(mask).any():
        raise CaptionJobError("the clean found no text to replace")
    return propose_boxes(mask, meme, reader=reader, ocr=False)


def font_names() -> list[str]:
    """Installed font names for the font box (the scan is slow the first time: run it in a worker)."""
    from memeclean_core.captions import system_fonts

    return sorted(system_fonts(), key=str.casefold)


def _same_pixels(path: Path, image: LoadedImage) -> bool:
    from memeclean_core.files.imageio import load_image

    try:
        other = load_image(path)
    except MemeCleanError:
        return False
    return len(other.frames) == len(image.frames) and all(
        np.array_equal(a.pixels, b.pixels) for a, b in zip(other.frames, image.frames)
    )


def template_for_project(project: Path) -> Path:
    """Where the template of a project written at `project` goes when it is not on disk yet: `name.png`."""
    name = project.name
    stem = name[: -len(PROJECT_SUFFIX)] if name.endswith(PROJECT_SUFFIX) else project.stem
    return project.with_name(stem + ".png")


def save_caption_project(
    path: Path, image: LoadedImage, boxes: Sequence[TextBox], known: Sequence[Path] = ()
) -> tuple[Path, Path]:
    """Save an editable project at `path`; returns (project, template).

    A project points at its template image, so the template must be a file: the first of `known` (the opened
    file, the saved template) that holds exactly these pixels, else a PNG written next to the project
    (`template_for_project`). An existing different file is never replaced.
    """
    template = next((candidate for candidate in known if candidate.is_file() and _same_pixels(candidate, image)), None)
    if template is None:
        from memeclean_core.files.imageio import save_image

        template = template_for_project(path)
        if template.exists():
            if not _same_pixels(template, image):
                raise CaptionJobError(
                    f"'{template.name}' already exists and is another picture: choose another project name"
                )
        else:
            save_image(template, image, overwrite=False)
    written = save_project(CaptionDoc(template=template, boxes=list(boxes)), path)
    return written, template


def suggested_project_path(source: Path | None, cleaned: bool, folder: Path) -> Path:
    """Where Save Caption Project proposes to write: next to the opened file (`meme.memeclean.json`), or for a
    cleaned picture next to where Save Template puts it (`meme.clean.memeclean.json`, template `meme.clean.png`)."""
    if source is None:
        return folder / f"{'template' if cleaned else 'meme'}{PROJECT_SUFFIX}"
    return project_path_for(source.with_name(source.stem + ".clean.png") if cleaned else source)
