"""Checkpoints: plain dictionaries that record their config, loaded with `weights_only=True` and `strict=True`.

Layout: {"format": FORMAT, "config": UNetConfig as dict, "model": state dict, "train": dict or None}.
"train" holds what resuming needs (step, optimiser state, training config); shipped weights drop it and are
stored in fp16.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ModelLoadError, WriteError, first_line
from .file_kinds import special_kind
from .model_config import UNetConfig
from .resources import bundled_model_path
from .runtime import DEFAULT_RUNTIME, NetworkRunner, check_runtime, wants_openvino
from .safe_write import os_reason, write_file

if TYPE_CHECKING:
    import torch

    from .model import MemeCleanNet

FORMAT = "memeclean-checkpoint-v1"
FORMAT_NUMBER = 1  # the number in FORMAT; a checkpoint with a higher one is refused, naming it


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


class LazyModel:
    """A model loaded on first use and kept: `holder.get()`. Pickling drops a loaded model, so each worker process
    or Ray actor given a copy loads its own, once (the folder runner's `ItemCleaner`, the batch `MemeCleaner`).
    `threads`, when given, also sets that process's torch and OpenCV threads before the load."""

    def __init__(
        self,
        path: str | Path | None = None,
        device: str = "auto",
        runtime: str = DEFAULT_RUNTIME,
        threads: int | None = None,
        model: LoadedModel | None = None,
    ):
        self.path = None if path is None else str(path)
        self.device, self.runtime, self.threads = device, runtime, threads
        self._model = model
        self._threads_set = False  # the threads are set once per process, a given model or not
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Every process or actor loads its own model and sets its own threads.
        return {**self.__dict__, "_model": None, "_threads_set": False, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> LoadedModel:
        """The model, loaded on the first call (ModelLoadError for a bad weights file)."""
        with self._lock:
            if not self._threads_set and self.threads is not None:
                import cv2
                import torch

                torch.set_num_threads(self.threads)
                cv2.setNumThreads(self.threads)
            self._threads_set = True
            if self._model is None:
                self._model = load_model(self.path, self.device, self.runtime, threads=self.threads)
            return self._model


def save_checkpoint(
    path: str | Path,
    net: MemeCleanNet,
    train_state: dict | None = None,
    half: bool = False,
    *,
    overwrite: bool = True,
    protect: Iterable[str | Path] = (),
) -> Path:
    """Write a checkpoint through `safe_write` (complete, re-loaded, then renamed): a crash or a full disk never
    leaves half a file. `overwrite=False` refuses an existing file; `protect` names files never written.
    Raises WriteError (one line)."""
    import io

    import torch

    path = Path(path)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu() for k, v in net.state_dict().items()}
    payload = {"format": FORMAT, "config": net.config.to_dict(), "model": state, "train": train_state}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteError(f"cannot write '{path}': {os_reason(error)}") from None

    def loads(temp: Path) -> None:
        with open(temp, "rb") as file:
            again = torch.load(io.BytesIO(file.read()), map_location="cpu", weights_only=True)
        if not isinstance(again, dict) or again.get("format") != FORMAT:
            raise ValueError("not a MemeClean checkpoint")

    return write_file(
        path, lambda buffer: torch.save(payload, buffer), overwrite=overwrite, protect=protect, verify=loads
    )


def read_checkpoint(path: str | Path) -> dict:
    """Load and validate a checkpoint dictionary; every failure is a ModelLoadError naming the file."""
    import torch

    path = Path(path)
    check_model_file(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a bad file (pickle, zip, EOF, ...)
        raise ModelLoadError(
            f"cannot read model file '{path}': not a MemeClean checkpoint or corrupt ({type(error).__name__})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        newer = _newer_format(payload)
        if newer is not None:
            raise ModelLoadError(
                f"model file '{path}' is checkpoint format {newer}, from a newer MemeClean (this one reads format "
                f"{FORMAT_NUMBER}): it was left as it is"
            )
        raise ModelLoadError(f"'{path}' is not a MemeClean checkpoint (expected format {FORMAT})")
    problem = _payload_problem(payload)
    if problem is not None:
        raise ModelLoadError(f"model file '{path}' is damaged: {problem}")
    return payload


def _newer_format(payload: object) -> int | None:
    """The format number of a checkpoint written by a newer MemeClean ("memeclean-checkpoint-vN", N > ours)."""
    import re

    found = re.fullmatch(
        r"memeclean-checkpoint-v(\d{1,6})", str(payload.get("format")) if isinstance(payload, dict) else ""
    )
    number = int(found.group(1)) if found else 0
    return number if number > FORMAT_NUMBER else None


def check_model_file(path: Path) -> None:
    """ModelLoadError when `path` is missing or not a regular file (a pipe, a folder): before any runtime reads it."""
    kind = special_kind(path)
    if kind is not None:
        raise ModelLoadError(f"cannot read model file '{path}': it is {kind}, not a regular file")
    if not path.is_file():
        raise ModelLoadError(f"model file not found: '{path}'")


def _payload_problem(payload: dict) -> str | None:
    """What is wrong with the parts of a checkpoint (types only; the network checks the shapes), or None."""
    import torch

    if not isinstance(payload.get("config"), dict):
        return "its network config is not a dictionary"
    state = payload.get("model")
    if not isinstance(state, dict):
        return "its weights (state dict) are not a dictionary"
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            return f"its weights hold {type(value).__name__} under {key!r}, not a tensor"
    train = payload.get("train")
    if train is not None and not isinstance(train, dict):
        return f"its training state is {type(train).__name__}, not a dictionary"
    return None


def build_net(payload: dict, path: str | Path) -> MemeCleanNet:
    """Rebuild the network from a checkpoint's own config and load its weights strictly."""
    from .model import MemeCleanNet

    try:
        net = MemeCleanNet(UNetConfig.from_dict(payload["config"]))
        state = {k: v.float() if v.is_floating_point() else v for k, v in payload["model"].items()}
        net.load_state_dict(state, strict=True)
    except MemoryError:
        raise ModelLoadError(f"model file '{path}' describes a network too large to build") from None
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise ModelLoadError(
            f"model file '{path}' does not match the network: {first_line(error, type(error).__name__)}"
        ) from None
    return net


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
