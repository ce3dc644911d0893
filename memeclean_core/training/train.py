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
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..callbacks import CancelFn
from ..data.dataset import TrainingBatches
from ..errors import MemeCleanError, ModelLoadError, UsageError
from ..geometry import TRAIN_MAX_SIDE, TRAIN_MIN_SIDE
from ..network.device import pick_device
from ..network.model import MemeCleanNet, UNetConfig
from ..network.weights import build_net, save_checkpoint
from .checks import CheckedTrain, check_train_config


class ParallelRun(Protocol):
    """What `training_run` asks of a data-parallel run (`ddp.DataParallel`): this process's place in it, its data
    stream, the losses wrapped to average gradients over the processes, and one budget fraction for all."""

    @property
    def is_main(self) -> bool: ...

    def data_seed(self, seed: int) -> int: ...

    def wrap(self, net: MemeCleanNet, config: TrainConfig) -> Callable: ...

    def agree(self, fraction: float) -> float: ...


@dataclass
class TrainConfig:
    data: list[str]  # prepared data folders: images/ (+ fonts/, clipart/) and/or pairs/
    out: str  # checkpoint path, rewritten periodically and at the end
    steps: int | None = None  # stop after this many steps ...
    minutes: float | None = None  # ... or after this much wall time (the first reached)
    batch: int = 8
    crop: int = 256  # training crop size, pixels
    min_side: int = TRAIN_MIN_SIDE  # pictures are scaled to a long side in [min_side, max_side]: the slider's range
    max_side: int = TRAIN_MAX_SIDE
    lr: float = 2e-3
    warmup_steps: int = 200  # linear learning-rate warm-up
    weight_decay: float = 1e-4
    fill_weight: float = 1.0
    fill_every: int = 3  # train the fill branch every n-th step (the mask is where scarce CPU time pays most)
    device: str = "auto"
    precision: str = "auto"  # "bf16" autocast, "fp32", or "auto": bf16 on CUDA and on CPUs with native bf16
    workers: int = 1  # data-loading processes
    reuse: float = 8.0  # crops drawn from each rendered meme (see data/dataset.py)
    # A glyph pack (data/glyph_pack.py): the mask steps' batches are composited on the training device from it, and
    # the data workers make only the fill steps' batches (for a GPU the CPU cannot feed).
    gpu_pack: str | None = None
    # Keep the mask where these weights (a teacher, usually the model being fine-tuned) are right: on the pixels where
    # the teacher's answer agrees with the truth, the mask also learns the teacher's probability (`anchor_loss`), so
    # a fine-tune on new kinds of memes does not forget what the teacher did well. None: off.
    anchor: str | None = None
    anchor_weight: float = 1.0
    seed: int = 0
    checkpoint_minutes: float = 5.0
    progress_every: int = 10  # yield progress every n steps
    preview_every: int = 100  # attach sample images to the progress every n steps (0 = never)
    resume: str | None = None  # continue this checkpoint: step, optimiser and schedule
    init: str | None = None  # start from this checkpoint's weights (and network size) with a fresh schedule
    model: dict = field(default_factory=dict)  # UNetConfig fields (ignored when resuming)
    overwrite: bool = False  # replace an existing `out` (the checkpoint being resumed is always continued)

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
    from ..data.source import SynthSource
    from ..data.synth import TRAINING_MIX

    sources = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise MemeCleanError(f"training data folder not found: '{root}'")
        if (root / ".memeclean-fixes").is_file():  # your hand fixes (memeclean_core.training.fixes)
            from .fixes import FixSource

            fixes = FixSource(root)
            sources += [fixes, fixes.synthetic()]  # mixed with synthetic memes: what was learnt is kept
            continue
        if (root / "pairs").is_dir():
            from ..data.pairs import PairSource

            sources.append(PairSource(root / "pairs"))
        if (root / "images").is_dir() or not (root / "pairs").is_dir():
            sources.append(SynthSource.from_folder(root, mix=TRAINING_MIX))
    return sources


def dice_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    probability = torch.sigmoid(logits) * valid
    intersection = (probability * target).sum(dim=(1, 2, 3))
    total = probability.sum(dim=(1, 2, 3)) + (target * valid).sum(dim=(1, 2, 3))
    return (1 - (2 * intersection + 1) / (total + 1)).mean()


def anchor_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, mask: torch.Tensor, valid: torch.Tensor):
    """Cross-entropy of the mask against the teacher's probability, on the valid pixels where the teacher is right
    (its probability on the same side of 0.5 as the truth): where it is wrong the truth alone teaches."""
    teacher = torch.sigmoid(teacher_logits.float())
    right = ((teacher > 0.5) == (mask > 0.5)).float() * valid
    cross_entropy = F.binary_cross_entropy_with_logits(logits.float(), teacher, reduction="none")
    return (cross_entropy * right).sum() / right.sum().clamp(min=1)


def compute_losses(
    net: MemeCleanNet,
    batch: dict[str, torch.Tensor],
    with_fill: bool,
    fill_weight: float,
    teacher: MemeCleanNet | None = None,
    anchor_weight: float = 1.0,
):
    meme, mask, valid = batch["meme"], batch["mask"], batch["valid"]
    logits = net.predict_mask(meme)
    bce = (F.binary_cross_entropy_with_logits(logits, mask, reduction="none") * valid).sum() / valid.sum().clamp(min=1)
    mask_loss = bce + dice_loss(logits, mask, valid)
    if teacher is not None:
        with torch.no_grad():
            teacher_logits = teacher.predict_mask(meme)
        mask_loss = mask_loss + anchor_weight * anchor_loss(logits, teacher_logits, mask, valid)
    fill_loss = torch.zeros((), device=meme.device)
    filled = None
    if with_fill:
        hole, template = batch["hole"], batch["template"]  # these come only with the batches that train the fill
        filled = net.fill(batch["prefill"], hole)
        fill_loss = ((filled - template).abs() * hole).sum() / (3 * hole.sum()).clamp(min=1)
    return mask_loss + fill_weight * fill_loss, mask_loss, fill_loss, logits, filled


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in batch.items():
        value = value.to(device, non_blocking=True)
        value = value.float() / 255.0 if value.dtype == torch.uint8 else value.float()
        out[key] = value.contiguous(memory_format=torch.channels_last)
    return out


def cpu_has_native_bf16() -> bool:
    """True on x86 CPUs with AVX512-BF16 or AMX (Linux), where oneDNN runs bf16 convolutions ~2x faster."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(flag in flags for flag in (" avx512_bf16", " amx_bf16"))


def use_bf16(precision: str, device: torch.device) -> bool:
    """Whether to train under bf16 autocast (the weights and the optimiser stay fp32)."""
    if precision not in ("auto", "bf16", "fp32"):
        raise MemeCleanError(f"precision must be auto, bf16 or fp32, not '{precision}'")
    if precision != "auto":
        return precision == "bf16" and device.type in ("cuda", "cpu")
    return device.type == "cuda" or (device.type == "cpu" and cpu_has_native_bf16())


def preview_images(
    batch: dict[str, torch.Tensor], logits: torch.Tensor, filled: torch.Tensor | None
) -> dict[str, np.ndarray]:
    as_uint8 = lambda t: (t.detach().float().clamp(0, 1) * 255).round().byte().cpu().numpy()  # noqa: E731
    meme = as_uint8(batch["meme"][0]).transpose(1, 2, 0)
    preview = {"meme": meme, "mask": as_uint8(torch.sigmoid(logits[0, 0]))}
    if filled is not None:
        hole = batch["hole"][0]
        preview["result"] = as_uint8(filled[0] * hole + batch["meme"][0] * (1 - hole)).transpose(1, 2, 0)
    return preview


def starting_point(config: TrainConfig, checked: CheckedTrain) -> tuple[MemeCleanNet, int, float, dict | None]:
    """(network, step, seconds trained before, optimiser state or None): a resumed checkpoint's, initial weights
    (`--init`), or a new network of the configured size."""
    if config.resume:
        payload = checked.resume_payload
        state = payload.get("train") or {}
        net = build_net(payload, config.resume)
        return net, state.get("step", 0), state.get("elapsed", 0.0), state.get("optimiser")
    if config.init:
        return build_net(checked.init_payload, config.init), 0, 0.0, None
    return MemeCleanNet(UNetConfig.from_dict(config.model)), 0, 0.0, None


def learning_rate(config: TrainConfig, step: int, fraction: float) -> float:
    """A short warm-up, then cosine decay over the budget (in steps or in time, whichever leads)."""
    warmup = min(1.0, (step + 1) / max(1, config.warmup_steps))
    return config.lr * warmup * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * fraction)))


def leave_stop_signals_to_the_main_process(worker_id: int) -> None:
    """A data worker ignores Ctrl+C and SIGTERM. A terminal's Ctrl+C, `kill` of the process group and a service
    manager's stop reach every process of the run at once; a worker that died of it would make the main process
    fail with a traceback instead of finishing its step and saving the checkpoint (`StopSignals`). The loader
    stops the workers itself, and a worker whose main process is gone exits on its own."""
    import signal

    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def make_losses(
    config: TrainConfig, checked: CheckedTrain, net: MemeCleanNet, device: torch.device, parallel: ParallelRun | None
) -> Callable:
    """`losses(batch, with_fill)`: through the data-parallel wrapper, or this process's, anchored to a teacher."""
    if parallel is not None:
        if config.anchor:
            raise UsageError("--anchor trains in one process: it does not go with --distributed")
        return parallel.wrap(net, config)
    teacher = None
    if config.anchor:
        teacher = build_net(checked.anchor_payload, config.anchor).to(device).eval()
        teacher = teacher.to(memory_format=torch.channels_last).requires_grad_(False)
    return partial(
        compute_losses, net, fill_weight=config.fill_weight, teacher=teacher, anchor_weight=config.anchor_weight
    )


def training_run(
    config: TrainConfig, *, stop: CancelFn | None = None, parallel: ParallelRun | None = None
) -> Iterator[TrainProgress]:
    """Train as configured, yielding progress; close() the generator, or make `stop()` true (checked every step:
    a signal handler's flag), to stop; a checkpoint is written either way. Every option, the data folders and the
    output are checked first (`checks`), so a bad run fails in one line before any work.

    `parallel` (see `ddp`) makes this one process of a data-parallel run: it wraps the losses, offsets the
    data seed by rank, keeps the budget in step across processes, and only its main process writes checkpoints.
    """
    is_main = parallel is None or parallel.is_main
    checked = check_train_config(config)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    net, step, elapsed_before, optimiser_state = starting_point(config, checked)
    cuda = device.type == "cuda"
    bf16 = use_bf16(config.precision, device)
    # channels-last is the layout oneDNN (CPU) and cuDNN run convolutions fastest in
    net = net.to(device).train().to(memory_format=torch.channels_last)
    # The fused AdamW updates all 2.6 M parameters in one kernel: 1.6 instead of 7.8 ms a step on 2 CPU cores (a
    # resumed run keeps the settings its optimiser was saved with).
    fused = device.type in ("cpu", "cuda")
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=fused)
    if optimiser_state is not None:
        try:
            optimiser.load_state_dict(optimiser_state)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as error:
            raise ModelLoadError(
                f"--resume '{config.resume}': its optimiser state does not fit the network ({type(error).__name__})"
            ) from None

    data_seed = parallel.data_seed(config.seed) if parallel else config.seed
    device_batches = None
    if config.gpu_pack:
        from ..data.glyph_pack import DeviceBatches, GlyphPack

        device_batches = DeviceBatches(GlyphPack.load(config.gpu_pack), device, crop=config.crop, seed=data_seed + step)
    dataset = TrainingBatches(
        build_sources(config.data),
        batch=config.batch,
        crop=config.crop,
        long_side=(config.min_side, config.max_side),
        fill_every=1 if device_batches else config.fill_every,  # with a pack the workers make only fill batches
        first_step=step,
        reuse=config.reuse,
        seed=data_seed,
    )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        num_workers=config.workers,
        pin_memory=cuda,
        persistent_workers=config.workers > 0,
        worker_init_fn=leave_stop_signals_to_the_main_process,
    )
    losses = make_losses(config, checked, net, device, parallel)

    def train_state():
        return {
            "step": step,
            "elapsed": elapsed_before + (time.perf_counter() - started),
            "optimiser": optimiser.state_dict(),
            "config": asdict(config),
        }

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
            if fraction >= 1.0 or (stop is not None and stop()):
                break
            for group in optimiser.param_groups:
                group["lr"] = learning_rate(config, step, fraction)
            if device_batches is not None and step % max(1, config.fill_every) != 0:
                batch, with_fill = device_batches.batch(config.batch), False
            else:
                batch = next(batches)
                with_fill = bool(batch.pop("with_fill"))
                batch = to_device(batch, device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
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
                yield TrainProgress(
                    step,
                    fraction,
                    loss.item(),
                    mask_loss.item(),
                    fill_loss.item(),
                    rate,
                    elapsed,
                    eta,
                    checkpoint_path,
                    preview,
                )
    finally:
        if is_main and (step > saved_step or not Path(config.out).exists()):
            save_checkpoint(config.out, net, train_state())
    yield TrainProgress(
        step,
        1.0,
        float("nan"),
        float("nan"),
        float("nan"),
        0.0,
        elapsed_before + time.perf_counter() - started,
        0.0,
        config.out,
        None,
        done=True,
    )


def train(
    config: TrainConfig,
    progress: Callable[[TrainProgress], None] | None = None,
    cancel: CancelFn | None = None,
) -> Path:
    """Run `training_run` to the end (or until `cancel()`), calling `progress` on each report."""
    run = training_run(config, stop=cancel)
    try:
        for report in run:
            if progress is not None:
                progress(report)
            if cancel is not None and cancel():
                break
    finally:
        run.close()
    return Path(config.out)
