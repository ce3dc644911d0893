"""Data-parallel training on several processes (GPUs, or CPU cores), with the one training loop of `train.py`.

    torchrun --nproc-per-node 4 -m memeclean_core train --distributed --data DIR --out run.pt --minutes 30

The options are those of `memeclean train`. Every process runs `training_run` with a `DataParallel` hook: the
losses run through torch's DistributedDataParallel (gradients are averaged across processes at every step), each
process draws its own data (the seed is offset by its rank), the budget's fraction, which sets the learning rate
and the end, is agreed on by all processes at every step so they stay in lock-step, and only rank 0 writes the
checkpoint. That checkpoint is the ordinary one: it loads with `memeclean clean --model`, and `--resume` continues
it with any number of processes, or with plain `memeclean train`. `--batch` is per process: each step learns from
batch × processes crops. Backend: NCCL on CUDA GPUs, gloo on the CPU.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from ..errors import MemeCleanError
from ..network.device import pick_device
from ..network.model import MemeCleanNet
from .train import TrainConfig, compute_losses

LAUNCH_HINT = "torchrun --nproc-per-node N -m memeclean_core train --distributed --data DIR --out CKPT ..."
PEER_TIMEOUT_SECONDS = 30  # a collective that waits longer for a peer (hung, or its machine lost) fails: the others
# stop with a checkpoint instead of waiting for torch's default of 30 minutes


class _Losses(nn.Module):
    """The training losses as a module's forward, so one DistributedDataParallel call covers both branches."""

    def __init__(self, net: MemeCleanNet, fill_weight: float):
        super().__init__()
        self.net, self.fill_weight = net, fill_weight

    def forward(self, batch: dict[str, torch.Tensor], with_fill: bool):
        return compute_losses(self.net, batch, with_fill, self.fill_weight)


class DataParallel:
    """One process's place in a data-parallel run: the hook `training_run(config, parallel=...)` takes."""

    def __init__(self, rank: int, world_size: int, local_rank: int, device: torch.device):
        self.rank, self.world_size, self.local_rank, self.device = rank, world_size, local_rank, device
        self.net: MemeCleanNet | None = None  # the network this process trains, once `wrap` has been called
        self._timed = False
        # Agreeing on a float each step goes over gloo on the CPU, so a GPU run does not stall its stream for it.
        self._cpu_group = dist.new_group(backend="gloo") if dist.get_backend() != "gloo" else None

    @classmethod
    def from_environment(cls, device: str = "auto") -> DataParallel:
        """Join the process group torchrun describes in the environment (RANK, WORLD_SIZE, LOCAL_RANK, ...)."""
        if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
            raise MemeCleanError(f"distributed training runs under torchrun: {LAUNCH_HINT}")
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device in ("auto", "cuda") and torch.cuda.is_available():
            torch.cuda.set_device(local_rank)  # "cuda" is now this process's own GPU
        torch_device = pick_device(device)
        if torch_device.type == "mps":
            raise MemeCleanError("distributed training needs CUDA GPUs or the CPU; use --device cpu")
        if not dist.is_initialized():
            dist.init_process_group(
                "nccl" if torch_device.type == "cuda" else "gloo", timeout=timedelta(seconds=PEER_TIMEOUT_SECONDS)
            )
        return cls(dist.get_rank(), dist.get_world_size(), local_rank, torch_device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def data_seed(self, seed: int) -> int:
        """Rank 0 draws the single-process stream; every other rank a stream of its own."""
        return seed + self.rank * 2**32

    def wrap(self, net: MemeCleanNet, config: TrainConfig) -> Callable:
        """`losses(batch, with_fill)` through DistributedDataParallel (which also makes every rank start from
        rank 0's weights)."""
        self.net, self._timed = net, config.minutes is not None
        device_ids = [self.local_rank] if self.device.type == "cuda" else None
        # When the fill trains only every n-th step its weights get no gradient in between: DDP must look for them.
        return nn.parallel.DistributedDataParallel(
            _Losses(net, config.fill_weight), device_ids=device_ids, find_unused_parameters=config.fill_every > 1
        )

    def agree(self, fraction: float) -> float:
        """The largest budget fraction of all processes: a step budget is the same everywhere, a time budget not."""
        if not self._timed:
            return fraction
        value = torch.tensor([fraction], dtype=torch.float64)
        if self._cpu_group is None and self.device.type == "cuda":
            value = value.to(self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX, group=self._cpu_group)
        return float(value.item())

    def share_buffers(self) -> None:
        """Give every rank rank 0's BatchNorm statistics (each rank's last step moved its own), i.e. exactly the
        checkpoint's state."""
        if self.net is not None:
            for buffer in self.net.buffers():
                dist.broadcast(buffer.data, src=0)

    def close(self, wait_for_all: bool = True) -> None:
        """Leave the process group. After a normal end every process first waits for the others: a process that
        tears its connections down while a peer still uses them can abort that peer (gloo, seen under load). After an
        error, `wait_for_all=False`: the peers may never arrive."""
        if dist.is_initialized():
            if wait_for_all:
                dist.barrier()
            dist.destroy_process_group()


def peer_lost(parallel: DataParallel, out: str, error: BaseException) -> str:
    """The one line a process says when another process of the run is gone. The step that failed changed no
    weights (it failed in a collective, before the optimiser step), so rank 0's checkpoint is the last whole step."""
    import re

    from ..errors import first_line

    detail = re.sub(r"^\[[^\]]*\]\s*", "", first_line(error, type(error).__name__))  # gloo's source location
    kept = (
        f"checkpoint of the last whole step saved to {out}"
        if parallel.is_main
        else f"rank 0 saves the checkpoint ({out}) if it is still running"
    )
    return (
        f"rank {parallel.rank}: another process of the distributed run stopped or stopped answering "
        f"({detail[:120]}); {kept} (continue with --resume {out})"
    )
