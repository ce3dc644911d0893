"""`CleanOptions`: everything a clean of one picture is asked to do, in one frozen value.

The command line (one file or a whole folder), the folder runner's worker processes, the Ray engine and the app
build one from their own settings and hand it to `whole_image.clean_image` and `whole_image.refill`, so an option
means the same whichever front end sets it. It pickles (a folder run ships it to every worker) and imports neither
torch nor Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..geometry import DEFAULT_RESOLUTION
from .pipeline import DEFAULT_POSTPROCESS, PostprocessConfig

__all__ = ["CleanOptions", "DEFAULT_OPTIONS"]


@dataclass(frozen=True)
class CleanOptions:
    """How to clean: the working size, the post-processing, the caption bars and the frames."""

    # Working size of the network's longest side (the app's slider, --resolution); a smaller picture is worked on
    # at its own size (`geometry.working_size`). `inference.clean` refuses one outside the range in one line.
    resolution: int = DEFAULT_RESOLUTION
    postprocess: PostprocessConfig = DEFAULT_POSTPROCESS  # thresholds, dilation, edge refinement, structure fill
    # Crop the caption bars found on the first frame (`bars.detect_caption_bars`) off every frame instead of
    # filling them (--crop-bars); the mask and region returned are then the cropped picture's.
    crop_bars: bool = False
    first_frame_only: bool = False  # clean and keep only the first frame (an output format that holds one)


DEFAULT_OPTIONS = CleanOptions()
