"""Pick the torch device: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """Return the device for `name` ("auto", "cpu", "cuda", "mps"); auto prefers an accelerator."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from ..errors import MemeCleanError

        raise MemeCleanError("CUDA was requested but no CUDA GPU is available; use --device cpu or auto")
    return torch.device(name)


def describe(device: torch.device) -> str:
    """A short human name for the status bar: 'CPU', 'GPU (NVIDIA H100)', 'Apple GPU'."""
    if device.type == "cuda":
        return f"GPU ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple GPU"
    return "CPU"
