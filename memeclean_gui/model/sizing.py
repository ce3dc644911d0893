"""Working sizes, the resolution slider's steps and the memory estimate shown beside it. Qt-free, torch-free.

`working_size` and `padded_size` come from `memeclean_core.geometry`, the pipeline's own (torch-free) arithmetic.
"""

from __future__ import annotations

from memeclean_core.geometry import padded_size, working_size

DEFAULT_MULTIPLE = 32
"""The default network's input multiple (`UNetConfig().multiple`, 2**5); a loaded model tells its own."""

SLIDER_MIN, SLIDER_MAX, SLIDER_STEP = 256, 2048, 32
"""The resolution slider: longest working side in pixels, in steps of the default network's multiple, so the
longest side is never padded."""

# Memory estimate, measured as the peak resident-memory increase of `clean()` on the CPU (float32) with the default
# UNetConfig, for a 1024×1024 image at resolutions 256, 512, 1024 and a 4096×4096 image at 512 (2026-05, this
# repository's bench machine). The network part grows with the padded working size; the full-size compositing part
# (copies, masks, float bands) with the input's size; the latter is a worst case, measured with an untrained
# network that marks most of the picture as text.
BYTES_PER_WORKING_PIXEL = 460
BYTES_PER_IMAGE_PIXEL = 40
BASE_BYTES = 20 * 2**20


def snap_resolution(value: int) -> int:
    """The nearest slider value: inside [SLIDER_MIN, SLIDER_MAX] and a multiple of SLIDER_STEP."""
    value = max(SLIDER_MIN - SLIDER_STEP, min(SLIDER_MAX + SLIDER_STEP, int(value)))  # a huge int must not overflow
    value = round(value / SLIDER_STEP) * SLIDER_STEP
    return max(SLIDER_MIN, min(SLIDER_MAX, value))


def estimate_memory(width: int, height: int, resolution: int, multiple: int = DEFAULT_MULTIPLE) -> int:
    """Rough peak memory in bytes of cleaning one `width`×`height` frame at `resolution` (see the constants)."""
    padded_w, padded_h = padded_size(*working_size(width, height, resolution), multiple)
    return BASE_BYTES + BYTES_PER_WORKING_PIXEL * padded_w * padded_h + BYTES_PER_IMAGE_PIXEL * width * height


def format_bytes(count: float) -> str:
    """'850 MB', '1.3 GB' (decimal units, as file managers show them)."""
    if count >= 1e9:
        return f"{count / 1e9:.1f} GB"
    if count >= 1e6:
        return f"{count / 1e6:.0f} MB"
    return f"{max(count, 0) / 1e3:.0f} kB"


def describe_resolution(resolution: int, image_size: tuple[int, int] | None, multiple: int = DEFAULT_MULTIPLE) -> str:
    """The text beside the slider: '1024 px' alone, or with the working size and memory for an image."""
    if image_size is None:
        return f"{resolution} px"
    width, height = image_size
    work_w, work_h = working_size(width, height, resolution)
    memory = estimate_memory(width, height, resolution, multiple)
    own = " (its own size)" if (work_w, work_h) == (width, height) else ""
    return f"{resolution} px → {work_w}×{work_h}{own}, ≈ {format_bytes(memory)}"
