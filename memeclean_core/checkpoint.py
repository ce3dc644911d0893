"""Checkpoints: plain dictionaries that record their config, loaded with `weights_only=True` and `strict=True`.

Layout: {"format": FORMAT, "config": UNetConfig as dict, "model": state dict, "train": dict or None}.
"train" holds what resuming needs (step, optimiser state, training config); shipped weights drop it and are
stored in fp16.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .device import describe, pick_device
from .errors import ModelLoadError
from .model import MemeCleanNet, UNetConfig
from .resources import bundled_model_path

FORMAT = "memeclean-checkpoint-v1"


@dataclass
class LoadedModel:
    """A network ready for inference, with where it came from and where it runs."""

    net: MemeCleanNet
    device: torch.device
    path: Path | None
    half: bool  # run in fp16 (CUDA only)

    @property
    def config(self) -> UNetConfig:
        return self.net.config

    @property
    def device_name(self) -> str:
        return describe(self.device)


def save_checkpoint(path: str | Path, net: MemeCleanNet, train_state: dict | None = None, half: bool = False) -> Path:
    """Write a checkpoint atomically (temporary file, then rename): a crash never leaves half a file."""
    path = Path(path)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu() for k, v in net.state_dict().items()}
    payload = {"format": FORMAT, "config": net.config.to_dict(), "model": state, "train": train_state}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a model is an ordinary document
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_checkpoint(path: str | Path) -> dict:
    """Load and validate a checkpoint dictionary; every failure is a ModelLoadError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(f"model file not found: '{path}'")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file (pickle, zip, EOF, ...)
        raise ModelLoadError(f"cannot read model file '{path}': not a MemeClean checkpoint or corrupt ({type(error).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelLoadError(f"'{path}' is not a MemeClean checkpoint (expected format {FORMAT})")
    return payload


def build_net(payload: dict, path: str | Path) -> MemeCleanNet:
    """Rebuild the network from a checkpoint's own config and load its weights strictly."""
    try:
        net = MemeCleanNet(UNetConfig.from_dict(payload["config"]))
        state = {k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()}
        net.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelLoadError(f"model file '{path}' does not match the network: {first_line}") from None
    return net


def load_model(path: str | Path | None = None, device: str = "auto") -> LoadedModel:
    """Load weights (the bundled model when `path` is None) for inference on `device` ("auto" picks one)."""
    if path is None:
        path = bundled_model_path()
        if not path.is_file():
            raise ModelLoadError(
                f"the bundled model is missing ('{path}'); train one with `memeclean train` and pass it with --model"
            )
    path = Path(path)
    net = build_net(read_checkpoint(path), path)
    torch_device = pick_device(device)
    half = torch_device.type == "cuda"  # fp16 is safe for these convolutions on CUDA; CPU fp16 is slow
    net = net.to(torch_device).eval()
    if half:
        net = net.half()
    return LoadedModel(net=net, device=torch_device, path=path, half=half)
