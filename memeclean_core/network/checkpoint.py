"""Weights loaded for a clean: `load_model` picks the runtime (OpenVINO on a CPU, torch otherwise; `runtime`) and
returns a `LoadedModel` (`lazy.LazyModel` loads one on first use, once per process). The weights file itself (format,
writing, reading) is `weights`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ModelLoadError, first_line
from ..resources import bundled_model_path
from .model_config import UNetConfig
from .runtime import DEFAULT_RUNTIME, NetworkRunner, check_runtime, wants_openvino
from .weights import build_net, check_model_file, read_checkpoint

if TYPE_CHECKING:
    import torch

    from .model import MemeCleanNet


@dataclass
class LoadedModel:
    """Weights ready for inference: the runner that runs them (`runtime`), where they came from, their config, and
    the note to show when the runtime asked for was not the one used (an OpenVINO failure, torch instead)."""

    runner: NetworkRunner
    path: Path | None
    config: UNetConfig
    note: str | None = None

    @classmethod
    def of_net(
        cls, net: Any, device: torch.device | None = None, path: Path | None = None, half: bool = False
    ) -> LoadedModel:
        """A torch network (MemeCleanNet, or a stand-in with its `predict_mask`, `fill` and `config`) as a model."""
        from .torch_runner import TorchRunner

        return cls(runner=TorchRunner(net, device, half), path=path, config=net.config)

    @property
    def runtime(self) -> str:
        """ "torch" or "openvino"."""
        return self.runner.runtime

    @property
    def net(self) -> MemeCleanNet | None:
        """The torch network (None when another runtime runs converted weights)."""
        return getattr(self.runner, "net", None)

    @property
    def device(self) -> torch.device | None:
        """The torch device (None for another runtime)."""
        return getattr(self.runner, "device", None)

    @property
    def half(self) -> bool:
        return bool(getattr(self.runner, "half", False))

    @property
    def device_name(self) -> str:
        return self.runner.device_name


def load_model(
    path: str | Path | None = None, device: str = "auto", runtime: str = DEFAULT_RUNTIME, threads: int | None = None
) -> LoadedModel:
    """Load weights (the bundled model when `path` is None) for inference on `device` ("auto" picks one) with
    `runtime` ("auto", "openvino", "torch"; see `runtime`). `threads` caps OpenVINO's CPU threads (torch's are
    set with torch.set_num_threads). Raises ModelLoadError, or MemeCleanError for an impossible runtime/device."""
    check_runtime(runtime, device)
    if path is None:
        path = bundled_model_path()
        if not path.is_file():
            raise ModelLoadError(
                f"the bundled model is missing ('{path}'); train one with `memeclean train` and pass it with --model"
            )
    path = Path(path)
    check_model_file(path)
    note = None
    if wants_openvino(runtime, device):
        try:
            from .openvino_runner import load_openvino

            runner, config = load_openvino(path, threads)
            return LoadedModel(runner=runner, path=path, config=config)
        except ModelLoadError:
            raise  # the file itself is bad: torch would refuse it too
        except Exception as error:  # noqa: BLE001 - not installed, a conversion or compile failure: torch runs it
            reason = first_line(error, type(error).__name__)[:300]  # OpenVINO names a source location first
            if runtime == "openvino":
                raise ModelLoadError(f"the OpenVINO runtime cannot run '{path}': {reason}") from None
            note = f"OpenVINO is not usable here ({reason}); cleaning with torch"
    return _load_torch(path, device, note)


def _load_torch(path: Path, device: str, note: str | None) -> LoadedModel:
    from .device import pick_device
    from .torch_runner import TorchRunner

    net = build_net(read_checkpoint(path), path)
    torch_device = pick_device(device)
    half = torch_device.type == "cuda"  # fp16 is safe for these convolutions on CUDA; CPU fp16 is slow
    net = net.to(torch_device).eval()
    if half:
        net = net.half()
    return LoadedModel(runner=TorchRunner(net, torch_device, half), path=path, config=net.config, note=note)
