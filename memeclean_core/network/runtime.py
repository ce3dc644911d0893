"""Which runtime runs the two networks of a clean, and what a runtime must offer (torch-free to import).

A clean (`inference.clean`) hands its arrays to a *network runner* (`NetworkRunner`): the caption probability of
a padded picture, the fill network's correction of a padded prefill. Two runners exist:

- `torch_runner.TorchRunner`: the torch network itself, on the CPU, CUDA or Apple's MPS (training's runtime);
- `openvino_runner.OpenVINORunner`: the same weights converted for OpenVINO's CPU runtime (cached per weights
  and OpenVINO version in the user cache folder), about twice as fast on a CPU (docs/MODEL.md, "Speed").

`--runtime auto` (the default everywhere) takes OpenVINO when the network runs on the CPU and OpenVINO is
installed and works, and torch on a GPU; any failure of OpenVINO falls back to torch with a one-line note
(`LoadedModel.note`). `--runtime openvino` insists: a failure is an error. `--runtime torch` never tries it.
"""

from __future__ import annotations

import os
import platform
import sys
from typing import Protocol

import numpy as np

RUNTIMES = ("auto", "openvino", "torch")
DEFAULT_RUNTIME = "auto"


class NetworkRunner(Protocol):
    """Runs the mask network and the fill network on numpy arrays whose sides are multiples of the network's."""

    runtime: str  # "torch" or "openvino"
    device_name: str  # for people: "CPU", "CPU (OpenVINO)", "GPU (NVIDIA ...)"

    def mask_probability(self, image: np.ndarray) -> np.ndarray:
        """The caption probability (H×W float32 in [0, 1]) of an H×W×3 uint8 picture."""
        ...

    def fill_correction(self, prefill: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """What the fill network adds to `prefill` (H×W×3 uint8) inside `hole` (H×W float32, 1 = hole), in grey
        levels: H×W×3 float32."""
        ...


def check_runtime(runtime: str, device: str) -> None:
    """A runtime/device pair that cannot work, refused in one line (MemeCleanError) before anything loads."""
    from ..errors import MemeCleanError

    if runtime not in RUNTIMES:
        raise MemeCleanError(f"the runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "openvino" and device not in ("auto", "cpu"):
        raise MemeCleanError(f"the OpenVINO runtime runs on the CPU; use --device cpu or --runtime torch for {device}")


def accelerator_possible() -> bool:
    """Whether torch might find a GPU here, decided without importing torch (1 s): an NVIDIA driver's device
    files or library, or an Apple-silicon Mac. False means the network runs on the CPU whatever torch says."""
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    if sys.platform.startswith("linux"):
        return os.path.exists("/dev/nvidiactl") or os.path.exists("/proc/driver/nvidia")
    if sys.platform == "win32":
        system = os.environ.get("SYSTEMROOT", r"C:\Windows")  # names are case-insensitive on Windows
        return os.path.exists(os.path.join(system, "System32", "nvcuda.dll"))
    return True  # unknown systems: ask torch


def wants_openvino(runtime: str, device: str) -> bool:
    """Try OpenVINO for this request? Explicitly asked, or `auto` on the CPU (a GPU keeps torch). `device="auto"`
    asks torch for its pick only where a GPU is possible, so a CPU-only machine never imports torch here."""
    if runtime == "torch" or device not in ("auto", "cpu"):
        return False
    if runtime == "openvino" or device == "cpu":
        return True
    if not accelerator_possible():
        return True
    from .device import pick_device

    return pick_device("auto").type == "cpu"
