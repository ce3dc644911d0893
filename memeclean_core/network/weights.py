"""Weights files (checkpoints): plain dictionaries that record their config, loaded with `weights_only=True` and
`strict=True`.

Layout: {"format": FORMAT, "config": UNetConfig as dict, "model": state dict, "train": dict or None}.
"train" holds what resuming needs (step, optimiser state, training config); shipped weights drop it and are
stored in fp16. Writing, reading, checking and rebuilding the network live here; `checkpoint` loads weights for a
clean on a runtime, and the runtimes (`openvino_runner`) read the file through this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelLoadError, WriteError, first_line
from ..files.file_kinds import special_kind
from ..files.safe_write import os_reason, write_file
from .model_config import UNetConfig

if TYPE_CHECKING:
    from .model import MemeCleanNet

FORMAT = "memeclean-checkpoint-v1"
FORMAT_NUMBER = 1  # the number in FORMAT; a checkpoint with a higher one is refused, naming it


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
    except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file (pickle, zip, EOF, ...)
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


def blend_weights(first: dict, second: dict, weight: float) -> dict:
    """The weights (1 - weight) * first + weight * second, tensor by tensor, of two checkpoints of one network.

    Averaging a fine-tuned network with the one it was tuned from keeps much of what each is good at (Wortsman et
    al., "Robust fine-tuning of zero-shot models", 2022): the tuned weights stay in the same basin, so the points
    between them are networks too (docs/MODEL.md measures v3 blended with its v4b fine-tune). Integer buffers
    (BatchNorm's batch counters) are taken from the nearer end. Raises ValueError when the two differ in config
    or in their tensors' names or shapes."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the blend's weight must be between 0 and 1, got {weight}")
    if first["config"] != second["config"]:
        raise ValueError("the two checkpoints are different networks (their configs differ)")
    ours, theirs = first["model"], second["model"]
    if ours.keys() != theirs.keys() or any(ours[k].shape != theirs[k].shape for k in ours):
        raise ValueError("the two checkpoints' weights do not match tensor for tensor")
    blended = {}
    for key, value in ours.items():
        other = theirs[key]
        if value.is_floating_point():
            blended[key] = (1.0 - weight) * value.float() + weight * other.float()
        else:
            blended[key] = other if weight >= 0.5 else value
    return {"format": FORMAT, "config": first["config"], "model": blended, "train": None}
