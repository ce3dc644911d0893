"""Working-size arithmetic shared by the pipeline and the app's resolution slider (no torch here)."""

from __future__ import annotations

import math


def working_size(width: int, height: int, resolution: int) -> tuple[int, int]:
    """The size the network sees: the longest side scaled to `resolution`, aspect ratio kept."""
    scale = resolution / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def padded_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    """The working size padded up to the network's multiple."""
    return math.ceil(width / multiple) * multiple, math.ceil(height / multiple) * multiple
