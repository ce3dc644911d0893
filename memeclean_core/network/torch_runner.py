"""The torch network runner: `MemeCleanNet` itself, on the CPU, CUDA or MPS (see `runtime`).

`MaskProbability` and `FillCorrection` are the two computations a clean asks of the network, written once: the
torch runner calls them and `openvino_runner` converts exactly them, so both runtimes compute the same thing.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch
from torch import nn

from ..threads import threads_for, torch_threads
from .device import describe


class MaskProbability(nn.Module):
    """image (N×3×H×W in [0, 1]) -> the caption probability (N×1×H×W, float32)."""

    def __init__(self, net: Any):
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net.predict_mask(image).float())


class FillCorrection(nn.Module):
    """(prefill N×3×H×W in [0, 1], hole N×1×H×W) -> what the fill network adds to the prefill (float32, [-1, 1])."""

    def __init__(self, net: Any):
        super().__init__()
        self.net = net

    def forward(self, prefill: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        return (self.net.fill(prefill, hole) - prefill).float()


class TorchRunner:
    """Runs `net` (a MemeCleanNet, or anything with its `predict_mask`/`fill`) on `device`, fp16 where `half`."""

    runtime = "torch"

    def __init__(self, net: Any, device: torch.device | None = None, half: bool = False):
        self.net = net
        self.device = torch.device("cpu") if device is None else device
        self.half = half
        self.device_name = describe(self.device)
        self._mask, self._fill = MaskProbability(net), FillCorrection(net)
        # One network call at a time: each already uses every core, and torch's thread count is process-wide
        # (`torch_threads` sets and restores it), so two at once from two threads (the folder mode's pictures in
        # flight) could leave it wrong.
        self._lock = threading.Lock()

    def to_tensor(self, array: np.ndarray) -> torch.Tensor:
        """H×W×C (or H×W) array -> 1×C×H×W on the device, in [0, 1] for uint8 input."""
        tensor = torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
        tensor = tensor.permute(2, 0, 1)[None] if array.ndim == 3 else tensor[None, None]
        tensor = tensor.half() if self.half else tensor.float()
        return tensor / 255.0 if array.dtype == np.uint8 else tensor

    def mask_probability(self, image: np.ndarray) -> np.ndarray:
        # small work (animation frames) on few threads: barriers between threads cost more than they save there
        with self._lock, torch.inference_mode(), torch_threads(threads_for(image.shape[0] * image.shape[1])):
            return self._mask(self.to_tensor(image))[0, 0].cpu().numpy()

    def fill_correction(self, prefill: np.ndarray, hole: np.ndarray) -> np.ndarray:
        with self._lock, torch.inference_mode(), torch_threads(threads_for(prefill.shape[0] * prefill.shape[1])):
            correction = self._fill(self.to_tensor(prefill), self.to_tensor(hole[..., None]))
            return correction[0].permute(1, 2, 0).cpu().numpy() * 255.0
