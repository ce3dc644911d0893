"""Training batches: crops of synthetic memes (and meme/template pairs) at the pixel scale of inference.

Each picture is scaled so its long side falls anywhere on the resolution slider (log-uniform), captioned, then
cropped — mostly around the text, where the learning is — into fixed-size training crops.

Where the CPU time goes, and what this module does about it (`bench/bench_train.py` measures it):
- Rendering a captioned picture costs tens of milliseconds, so every rendered meme stays in a small per-worker pool
  and gives several crops (`reuse`), each with a free augmentation applied to meme and template alike: a channel
  permutation (new caption and picture colours) and, now and then, inversion (white text with a black outline
  becomes black text with a white outline, another real meme style).
- The fill branch's input (a Telea fill of the dilated true mask, ~8 ms a crop) is made only for the batches that
  train the fill (`fill_every`); each batch carries the flag, so the training loop needs no step bookkeeping.
- Each fill crop serves twice (`mirror_fill`): as drawn, and mirrored left-right with new channel colours in the
  next fill batch. Telea's fill of a mirrored hole is its fill mirrored (its weights depend on the hole's geometry,
  not on colours; only the order of equal arrival times differs: 1 grey level in the hole on average), so the second
  use costs no Telea, and a fill step makes half as many.
- Batches are assembled here, in the data-loading worker, not collated per sample in the main process.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from ..cleaning.pipeline import dilate, telea_fill
from ..geometry import TRAIN_MAX_SIDE, TRAIN_MIN_SIDE


class MemeSource(Protocol):
    def sample(self, rng: np.random.Generator, long_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(meme, template, mask) H×W at the given long side; template None: no clean picture (mask only)."""


@dataclass
class RenderedMeme:
    """One rendered meme in the pool, with its caption pixels listed once for crop centring."""

    meme: np.ndarray
    template: np.ndarray
    mask: np.ndarray
    text_pixels: np.ndarray  # flat indices of the mask's pixels

    @classmethod
    def of(cls, meme: np.ndarray, template: np.ndarray, mask: np.ndarray) -> RenderedMeme:
        return cls(meme, template, mask, np.flatnonzero(mask))


def crop_window(
    shape: tuple[int, int], text_pixels: np.ndarray, size: int, rng: np.random.Generator, text_bias: float
) -> tuple[int, int]:
    """Top-left corner of a size×size crop, centred near a random text pixel with probability `text_bias`."""
    height, width = shape
    if rng.random() < text_bias and len(text_pixels):
        cy, cx = divmod(int(text_pixels[rng.integers(len(text_pixels))]), width)
        cy += int(rng.integers(-size // 4, size // 4 + 1))
        cx += int(rng.integers(-size // 4, size // 4 + 1))
    else:
        cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
    top = int(np.clip(cy - size // 2, 0, max(0, height - size)))
    left = int(np.clip(cx - size // 2, 0, max(0, width - size)))
    return top, left


def fit_crop(array: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad a crop smaller than size×size (pictures shorter than the crop)."""
    pad = [(0, size - array.shape[0]), (0, size - array.shape[1])] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad) if pad[0][1] or pad[1][1] else array


def recolour(
    meme: np.ndarray, template: np.ndarray | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None]:
    """The same random channel permutation (and, 1 in 8, inversion) of meme and template (None: the meme alone)."""
    order = rng.permutation(3)
    invert = rng.random() < 0.125

    def apply(image: np.ndarray) -> np.ndarray:
        image = image[..., order]  # a new array, so the inversion may overwrite it
        return np.subtract(255, image, out=image) if invert else image

    return apply(meme), None if template is None else apply(template)


def make_crop(
    rendered: RenderedMeme, size: int, rng: np.random.Generator, text_bias: float, with_fill: bool
) -> dict[str, np.ndarray]:
    """One training crop as arrays: meme, mask, valid (+ template, hole and prefill when the fill trains: the mask
    loss needs no clean picture, so the other steps neither recolour nor ship one)."""
    top, left = crop_window(rendered.mask.shape, rendered.text_pixels, size, rng, text_bias)
    window = np.s_[top : top + size, left : left + size]
    has_template = rendered.template is not None  # a hand fix may come without its clean picture
    template = None
    if with_fill:
        template = (rendered.template if has_template else rendered.meme)[window]
    meme, template = recolour(rendered.meme[window], template, rng)
    mask = rendered.mask[window]
    crop = {
        "meme": fit_crop(meme, size),
        "mask": fit_crop(mask.astype(bool), size),
        "valid": fit_crop(np.ones(mask.shape, bool), size),
    }
    if with_fill:
        crop["template"] = fit_crop(template, size)
        hole = dilate(mask, int(rng.integers(1, 4)))  # the inference dilation, with some slack either way
        if not has_template:
            hole = np.zeros_like(hole)  # no clean picture: nothing for the fill loss to weigh, the mask trains alone
        crop["hole"] = fit_crop(hole, size)
        crop["prefill"] = fit_crop(telea_fill(np.ascontiguousarray(meme), hole), size)
    return crop


def mirrored(crop: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A crop mirrored left-right, its pictures (meme, template, prefill) given one new channel permutation."""
    order = rng.permutation(3)
    return {key: array[:, ::-1, order] if array.ndim == 3 else array[:, ::-1] for key, array in crop.items()}


def stack_crops(crops: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """N crops → a batch: images N×3×H×W uint8, planes N×1×H×W bool (a quarter of float32's bytes to pass from the
    data worker; both are converted on the training device, `train.to_device`)."""
    batch = {}
    for key in crops[0]:
        stacked = torch.from_numpy(np.stack([crop[key] for crop in crops]))
        batch[key] = stacked.permute(0, 3, 1, 2) if stacked.ndim == 4 else stacked[:, None]
    return batch


class MemePool:
    """A few rendered memes per worker, each giving about `reuse` crops before it is replaced by a new one."""

    def __init__(
        self, sources: Sequence[MemeSource], weights: np.ndarray, long_side: tuple[int, int], size: int, reuse: float
    ):
        self.sources, self.weights = list(sources), weights
        self.log_low, self.log_high = np.log(long_side[0]), np.log(long_side[1])
        self.size, self.reuse = size, max(1.0, reuse)
        self.memes: list[RenderedMeme] = []

    def render(self, rng: np.random.Generator) -> RenderedMeme:
        source = self.sources[rng.choice(len(self.sources), p=self.weights)]
        long_side = int(np.exp(rng.uniform(self.log_low, self.log_high)))
        return RenderedMeme.of(*source.sample(rng, long_side))

    def draw(self, rng: np.random.Generator) -> RenderedMeme:
        if len(self.memes) < self.size:
            self.memes.append(self.render(rng))
            return self.memes[-1]
        slot = int(rng.integers(self.size))
        if rng.random() < 1.0 / self.reuse:
            self.memes[slot] = self.render(rng)
        return self.memes[slot]


class TrainingBatches(torch.utils.data.IterableDataset):
    """An endless stream of training batches drawn from several sources; use with `DataLoader(batch_size=None)`.

    Batch k of the stream is the batch of training step `first_step + k` (also with several workers, which the
    DataLoader reads in turn), so `with_fill` follows `fill_every` exactly and a resumed run draws new data.
    """

    def __init__(
        self,
        sources: Sequence[MemeSource],
        weights: Sequence[float] | None = None,
        batch: int = 8,
        crop: int = 256,
        long_side: tuple[int, int] = (TRAIN_MIN_SIDE, TRAIN_MAX_SIDE),
        text_bias: float = 0.85,
        fill_every: int = 3,
        first_step: int = 0,
        pool_size: int = 12,
        reuse: float = 8.0,
        mirror_fill: bool = True,
        seed: int = 0,
    ):
        super().__init__()
        self.sources = list(sources)
        weights = np.asarray(weights if weights is not None else [1.0] * len(self.sources), np.float64)
        self.weights = weights / weights.sum()
        self.batch, self.crop, self.long_side, self.text_bias = batch, crop, long_side, text_bias
        self.fill_every, self.first_step = max(1, fill_every), first_step
        self.pool_size, self.reuse, self.mirror_fill, self.seed = pool_size, reuse, mirror_fill, seed

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        rng = np.random.default_rng([self.seed, self.first_step, worker])
        pool = MemePool(self.sources, self.weights, self.long_side, self.pool_size, self.reuse)
        spare: list[dict[str, np.ndarray]] = []  # the last fill batch's new crops, to serve once more, mirrored
        for local in itertools.count():
            step = self.first_step + worker + workers * local
            with_fill = step % self.fill_every == 0
            again = [mirrored(crop, rng) for crop in spare[: self.batch // 2]] if with_fill else []
            new = [
                make_crop(pool.draw(rng), self.crop, rng, self.text_bias, with_fill)
                for _ in range(self.batch - len(again))
            ]
            if with_fill and self.mirror_fill:
                spare = new
            batch = stack_crops(new + again)
            batch["with_fill"] = torch.tensor(with_fill)
            yield batch
