"""A self-test of an installation or a frozen bundle: clean the bundled sample with the bundled model and check it.

`memeclean selftest` and `memeclean-gui --self-test` call `run_self_test()`. It loads the model, cleans
`resources/samples/sample-meme.jpg` at the default working resolution, writes the result as PNG, reads the file
back and checks that it is the input's size, that every pixel outside the replaced region is the input's, that the
caption pixels changed, and (for a trained model) that the predicted mask overlaps the stored true mask. It never
raises: anything wrong comes back as `(False, reason)`, so a front end only prints the message and sets the exit
status. No Qt here.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from .errors import MemeCleanError, describe_unexpected
from .resources import resource_path

SAMPLE_NAME = "sample-meme.jpg"
SAMPLE_MASK_NAME = "sample-meme.mask.png"
RESOLUTION = 512
DEFAULT_MIN_IOU = 0.3
# Mean absolute change (grey levels, 0..255) over the true caption pixels below which the caption was not removed.
MIN_CAPTION_CHANGE = 10.0


def sample_paths() -> tuple[Path, Path]:
    """(the bundled sample meme, its true caption mask)."""
    return resource_path("samples", SAMPLE_NAME), resource_path("samples", SAMPLE_MASK_NAME)


def run_self_test(
    out_dir: str | Path | None = None,
    model_path: str | Path | None = None,
    min_iou: float | None = DEFAULT_MIN_IOU,
    device: str = "auto",
    runtime: str = "auto",
) -> tuple[bool, str]:
    """Clean the bundled sample and check the result; returns (ok, a one-paragraph message with timings).

    `out_dir` keeps the cleaned file (a temporary folder, removed afterwards, when None); `model_path` defaults to
    the bundled weights; `min_iou=None` skips the mask-overlap check (an untrained test model); `runtime` is what
    runs the network (`runtime.RUNTIMES`; the message names the one used).
    """
    try:
        if out_dir is not None:
            folder = Path(out_dir)
            folder.mkdir(parents=True, exist_ok=True)
            return _run(folder, model_path, min_iou, device, runtime, keep=True)
        with tempfile.TemporaryDirectory(prefix="memeclean-selftest-") as temporary:
            return _run(Path(temporary), model_path, min_iou, device, runtime, keep=False)
    except MemeCleanError as error:
        return False, f"self-test FAILED: {error}"
    except OSError as error:  # --out-dir cannot be made (a file in the way, read-only, full)
        from .files.safe_write import os_reason

        where = f" '{error.filename}'" if getattr(error, "filename", None) else ""
        return False, f"self-test FAILED: cannot write{where}: {os_reason(error)}"
    except Exception as error:  # noqa: BLE001 - a missing library in a bundle, a device failure, a bug: report, never raise
        return False, f"self-test FAILED: unexpected {describe_unexpected(error)}"


def _run(
    folder: Path, model_path: str | Path | None, min_iou: float | None, device: str, runtime: str, keep: bool
) -> tuple[bool, str]:
    started = time.perf_counter()
    from .files.imageio import load_image, save_image  # after the clock starts: import time is part of what we measure

    sample_path, mask_path = sample_paths()
    sample = load_image(sample_path)
    truth = load_image(mask_path).rgb[..., 0] >= 128
    if truth.shape != sample.rgb.shape[:2] or not truth.any():
        return False, f"self-test FAILED: the stored mask '{mask_path}' does not fit the sample '{sample_path}'"

    from .cleaning.inference import clean
    from .network.checkpoint import load_model
    from .training.evaluate import mask_iou

    load_started = time.perf_counter()
    model = load_model(model_path, device=device, runtime=runtime)
    load_seconds = time.perf_counter() - load_started
    result = clean(sample.rgb, resolution=RESOLUTION, model=model)

    output_path = save_image(folder / f"{sample_path.stem}.clean.png", result.image, overwrite=True)
    written = load_image(output_path).rgb
    original = sample.rgb

    problems: list[str] = []
    if written.shape != original.shape:
        problems.append(
            f"the result is {written.shape[1]}×{written.shape[0]}, the input {original.shape[1]}×{original.shape[0]}"
        )
        iou = change = float("nan")
        outside_changed = 0
    else:
        outside = ~result.region
        outside_changed = int(np.any(written[outside] != original[outside], axis=-1).sum())
        if outside_changed:
            problems.append(f"{outside_changed} pixels outside the replaced region differ from the input")
        change = float(np.abs(written[truth].astype(np.int16) - original[truth].astype(np.int16)).mean())
        if change < MIN_CAPTION_CHANGE:
            problems.append(
                f"the caption was not removed (mean change {change:.1f} in the caption pixels, "
                f"expected at least {MIN_CAPTION_CHANGE:.0f})"
            )
        iou = mask_iou(result.mask, truth)
        if min_iou is not None and iou < min_iou:
            problems.append(f"mask IoU {iou:.2f} is below {min_iou:.2f}")

    total = time.perf_counter() - started
    stages = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.timings.items() if name != "total")
    model_name = model.path.name if model.path is not None else "the bundled model"
    iou_text = f"mask IoU {iou:.2f} vs the true mask" + (
        f" (threshold {min_iou:.2f})" if min_iou is not None else " (not checked)"
    )
    where = f"wrote {output_path}" if keep else "written to and re-read from a temporary folder"
    used = f"the {model.runtime} runtime, {_threads(model)} threads" + (f"; note: {model.note}" if model.note else "")
    details = (
        f"cleaned '{sample_path.name}' ({original.shape[1]}×{original.shape[0]}) at {RESOLUTION} on "
        f"{result.device} ({used}) with {model_name}; {iou_text}; "
        f"{result.region.mean():.1%} of the pixels replaced, {outside_changed} changed outside them; "
        f"mean change in the caption {change:.0f}; {where}. Times: model load {load_seconds:.2f} s, "
        f"clean {result.timings.get('total', 0.0):.2f} s ({stages}), self-test total {total:.2f} s."
    )
    if problems:
        return False, f"self-test FAILED: {'; '.join(problems)}. Details: {details}"
    return True, f"self-test passed: {details}"


def _threads(model) -> int:
    """The CPU threads the network ran on: OpenVINO's own count, else torch's."""
    if model.runtime == "openvino":
        return model.runner.threads
    import torch

    return torch.get_num_threads()
