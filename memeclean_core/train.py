"""The one training loop, used by `memeclean train` and the app's Train dialog.

`training_run(config)` is a generator: it yields a `TrainProgress` every few steps, and whoever drives it (the CLI's
progress bar, a GUI worker) cancels by closing it. Whatever ends the run — the budget, `close()`, Ctrl+C, an
error — a checkpoint of the last step is written first, so a run can always be resumed with `resume=`.

Losses: BCE + Dice on the caption mask, and L1 of the fill inside the (dilated) text region, where the metric is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import build_net, read_checkpoint, save_checkpoint
from .data.dataset import TrainingSamples
from .device import pick_device
from .errors import MemeCleanError
from .model import MemeCleanNet, UNetConfig

if TYPE_CHECKING:
    from .train_ddp import DataParallel


@dataclass
class TrainConfig:
    data: list[str]  # prepared data folders: images/ (+ fonts/, clipart/) and/or pairs/
    out: str  # checkpoint path, rewritten periodically and at the end
    steps: int | None = None  # stop after this many steps ...
    minutes: float | None = None  # ... or after this much wall time (the first reached)
    batch: int = 8
    crop: int = 256  # training crop size, pixels
    min_side: int = 256  # pictures are scaled to a long side in [min_side, max_side]: the slider's range
    max_side: int = 1536
    lr: float = 2e-3
    warmup_steps: int = 200  # linear learning-rate warm-up
    weight_decay: float = 1e-4
    fill_weight: float = 1.0
    fill_every: int = 1  # train the fill branch every n-th step (the mask is where scarce CPU time pays most)
    device: str = "auto"
    workers: int = 1  # data-loading processes
    seed: int = 0
    checkpoint_minutes: float = 5.0
    progress_every: int = 10  # yield progress every n steps
    preview_every: int = 100  # attach sample images to the progress every n steps (0 = never)
    resume: str | None = None  # continue this checkpoint: step, optimiser and schedule
    model: dict = field(default_factory=dict)  # UNetConfig fields (ignored when resuming)

    def budget_fraction(self, step: int, elapsed: float) -> float:
        fractions = []
        if self.steps:
            fractions.append(step / self.steps)
        if self.minutes:
            fractions.append(elapsed / (60 * self.minutes))
        return min(1.0, max(fractions)) if fractions else 0.0


@dataclass
class TrainProgress:
    step: int
    fraction: float  # of the budget, 0..1
    loss: float
    mask_loss: float
    fill_loss: float
    samples_per_second: float
    elapsed: float  # seconds, this run and the runs it resumed
    eta: float | None  # seconds left
    checkpoint: str | None = None  # set when a checkpoint was just written
    preview: dict[str, np.ndarray] | None = None  # "meme", "mask", "result" H×W(×3) uint8, now and then
    done: bool = False


def build_sources(folders: list[str]) -> list:
    from .data.synth import SynthSource

    sources = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise MemeCleanError(f"training data folder not found: '{root}'")
        if (root / "pairs").is_dir():
            from .data.pairs import PairSource

            sources.append(PairSource(root / "pairs"))
        if (root / "images").is_dir() or not (root / "pairs").is_dir():
            sources.append(SynthSource.from_folder(root))
    return sources


def dice_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    probability = torch.sigmoid(logits) * valid
    intersection = (probability * target).sum(dim=(1, 2, 3))
    total = probability.sum(dim=(1, 2, 3)) + (target * valid).sum(dim=(1, 2, 3))
    return (1 - (2 * intersection + 1) / (total + 1)).mean()


def compute_losses(net: MemeCleanNet, batch: dict[str, torch.Tensor], with_fill: bool, fill_weight: float):
    meme, template, prefill = batch["meme"], batch["template"], batch["prefill"]
    mask, hole, valid = batch["mask"], batch["hole"], batch["valid"]
    logits = net.predict_mask(meme)
    bce = (F.binary_cross_entropy_with_logits(logits, mask, reduction="none") * valid).sum() / valid.sum().clamp(min=1)
    mask_loss = bce + dice_loss(logits, mask, valid)
    fill_loss = torch.zeros((), device=meme.device)
    filled = None
    if with_fill:
        filled = net.fill(prefill, hole)
        fill_loss = ((filled - template).abs() * hole).sum() / (3 * hole.sum()).clamp(min=1)
    return mask_loss + fill_weight * fill_loss, mask_loss, fill_loss, logits, filled


def to_device(batch: dict[str, torch.Tensor], device: torch.device, channels_last: bool) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in batch.items():
        value = value.to(device, non_blocking=True)
        value = value.float() / 255.0 if value.dtype == torch.uint8 else value.float()
        out[key] = value.contiguous(memory_format=torch.channels_last) if channels_last else value
    return out


def preview_images(batch: dict[str, torch.Tensor], logits: torch.Tensor, filled: torch.Tensor | None) -> dict[str, np.ndarray]:
    as_uint8 = lambda t: (t.detach().float().clamp(0, 1) * 255).round().byte().cpu().numpy()  # noqa: E731
    meme = as_uint8(batch["meme"][0]).transpose(1, 2, 0)
    preview = {"meme": meme, "mask": as_uint8(torch.sigmoid(logits[0, 0]))}
    if filled is not None:
        hole = batch["hole"][0]
        preview["result"] = as_uint8(filled[0] * hole + batch["meme"][0] * (1 - hole)).transpose(1, 2, 0)
    return preview


def training_run(config: TrainConfig, parallel: DataParallel | None = None) -> Iterator[TrainProgress]:
    """Train as configured, yielding progress; close() the generator to stop (a checkpoint is written).

    `parallel` (see `train_ddp`) makes this one process of a data-parallel run: it wraps the losses, offsets the
    data seed by rank, keeps the budget in step across processes, and only its main process writes checkpoints.
    """
    is_main = parallel is None or parallel.is_main
    if not config.steps and not config.minutes:
        raise MemeCleanError("give a training budget: steps or minutes")
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    step, elapsed_before, optimiser_state = 0, 0.0, None
    if config.resume:
        payload = read_checkpoint(config.resume)
        net = build_net(payload, config.resume)
        state = payload.get("train") or {}
        step, elapsed_before, optimiser_state = state.get("step", 0), state.get("elapsed", 0.0), state.get("optimiser")
    else:
        net = MemeCleanNet(UNetConfig(**config.model))
    cuda = device.type == "cuda"
    net = net.to(device).train()
    if cuda:
        net = net.to(memory_format=torch.channels_last)
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if optimiser_state is not None:
        optimiser.load_state_dict(optimiser_state)

    dataset = TrainingSamples(build_sources(config.data), crop=config.crop,
                              long_side=(config.min_side, config.max_side),
                              seed=parallel.data_seed(config.seed + step) if parallel else config.seed + step)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch, num_workers=config.workers,
                                         pin_memory=cuda, persistent_workers=config.workers > 0)
    losses = parallel.wrap(net, config) if parallel else partial(compute_losses, net, fill_weight=config.fill_weight)
    train_state = lambda: {"step": step, "elapsed": elapsed_before + (time.perf_counter() - started),  # noqa: E731
                           "optimiser": optimiser.state_dict(), "config": asdict(config)}

    started = time.perf_counter()
    start_fraction = config.budget_fraction(step, elapsed_before)
    last_checkpoint, saved_step = started, step
    window_start, window_samples = started, 0
    batches = iter(loader)
    try:
        while True:
            elapsed = elapsed_before + time.perf_counter() - started
            fraction = config.budget_fraction(step, elapsed)
            if parallel is not None:
                fraction = parallel.agree(fraction)  # the same learning rate and the same last step everywhere
            if fraction >= 1.0:
                break
            # Short warm-up, then cosine decay over the budget (in steps or in time, whichever leads).
            lr = config.lr * min(1.0, (step + 1) / max(1, config.warmup_steps)) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * fraction)))
            for group in optimiser.param_groups:
                group["lr"] = lr
            batch = to_device(next(batches), device, cuda)
            with_fill = step % config.fill_every == 0
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                loss, mask_loss, fill_loss, logits, filled = losses(batch, with_fill)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            step += 1
            window_samples += config.batch

            checkpoint_path = None
            if is_main and time.perf_counter() - last_checkpoint > 60 * config.checkpoint_minutes:
                checkpoint_path = str(save_checkpoint(config.out, net, train_state()))
                last_checkpoint, saved_step = time.perf_counter(), step
            if step % config.progress_every == 0 or checkpoint_path:
                now = time.perf_counter()
                rate = window_samples / max(now - window_start, 1e-9)
                window_start, window_samples = now, 0
                elapsed = elapsed_before + now - started
                fraction = config.budget_fraction(step, elapsed)
                done_here = fraction - start_fraction  # the part of the budget this run has used
                eta = (now - started) * (1 - fraction) / done_here if done_here > 0 else None
                preview = None
                if config.preview_every and step % config.preview_every == 0:
                    preview = preview_images(batch, logits, filled)
                yield TrainProgress(step, fraction, loss.item(), mask_loss.item(), fill_loss.item(), rate, elapsed,
                                    eta, checkpoint_path, preview)
    finally:
        if is_main and (step > saved_step or not Path(config.out).exists()):
            save_checkpoint(config.out, net, train_state())
    yield TrainProgress(step, 1.0, float("nan"), float("nan"), float("nan"), 0.0,
                        elapsed_before + time.perf_counter() - started, 0.0, config.out, None, done=True)


def train(config: TrainConfig, progress: Callable[[TrainProgress], None] | None = None,
          cancel: Callable[[], bool] | None = None) -> Path:
    """Run `training_run` to the end (or until `cancel()`), calling `progress` on each report."""
    run = training_run(config)
    try:
        for report in run:
            if progress is not None:
                progress(report)
            if cancel is not None and cancel():
                break
    finally:
        run.close()
    return Path(config.out)
