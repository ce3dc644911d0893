"""What the library's workers run: plain functions over `memeclean_core.library` and
`memeclean_core.training.fixes` (no Qt).

A match becomes a document `Result` here (the aligned template as the clean picture, the caption as its mask), so
using it is one ordinary undo step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from memeclean_core.files.imageio import Frame, LoadedImage
from memeclean_core.library import LibraryEntry, TemplateLibrary, TemplateMatch
from memeclean_core.training.fixes import Fix, save_fix

from ..model.document import Result
from ..model.document import frozen as _frozen  # the one read-only helper (model.document), as the bodies name it

DUPLICATE_COVERAGE = 0.97  # a saved template that covers an entry this well at about its size is that entry


@dataclass(frozen=True)
class LibraryOffer:
    """A library template found in the opened meme, ready to be used as the document's result."""

    match: TemplateMatch
    result: Result


def look_up(library: TemplateLibrary, image: LoadedImage) -> LibraryOffer | None:
    """The library template the (still) image shows, as a Result at the image's size; None when none matches."""
    if image.is_animated or len(library) == 0:
        return None
    frame = image.frames[0]
    found = library.match(frame.pixels)
    if found is None:
        return None
    result = Result(
        image=image.with_frames([Frame(_frozen(found.clean), frame.alpha, frame.duration_ms)]),
        mask=_frozen(found.mask.astype(bool)),
        region=_frozen(found.covered.copy()),  # every pixel the template covers is the template's
        resolution=0,
        working_size=(image.width, image.height),
        device="template library",
        seconds=found.seconds,
    )
    return LibraryOffer(found, result)


def add_template(
    library: TemplateLibrary, pixels: np.ndarray, name: str, source: str | Path = ""
) -> tuple[LibraryEntry, bool]:
    """Add a clean template unless the library holds it already: (the entry, whether it was added)."""
    found = library.match(pixels)
    if (
        found is not None
        and found.coverage >= DUPLICATE_COVERAGE
        and abs(np.sqrt(abs(np.linalg.det(found.matrix[:, :2]))) - 1.0) < 0.05
    ):
        return found.entry, False
    return library.add(pixels, name, source=source), True


def load_entry_image(library: TemplateLibrary, entry: LibraryEntry) -> LoadedImage:
    """The entry's picture, to open in the window."""
    from memeclean_core.files.imageio import load_image

    return load_image(entry.picture)


def keep_fix(
    meme: np.ndarray, mask: np.ndarray, template: np.ndarray | None, name: str, folder: Path | None = None
) -> Fix:
    return save_fix(meme, mask, template, name=name, folder=folder)
