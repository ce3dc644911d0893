"""Training samples: crops of synthetic memes (and meme/template pairs) at the pixel scale of inference.

Each picture is scaled so its long side falls anywhere on the resolution slider (log-uniform), captioned, then
cropped — mostly around the text, where the learning is — into fixed-size training crops. The fill branch's
input (a Telea fill of the dilated true mask) is made here too, in the data-loading worker.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import torch

from ..inference import dilate, telea_fill


class MemeSource(Protocol):
    def sample(self, rng: np.random.Generator, long_side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(meme, template, mask) H×W at the given long side; template None: no clean picture (mask only)."""


def crop_window(mask: np.ndarray, size: int, rng: np.random.Generator, text_bias: float) -> tuple[int, int]:
    """Top-left corner of a size×size crop, centred on a random text pixel with probability `text_bias`."""
    height, width = mask.shape
    if rng.random() < text_bias and mask.any():
        ys, xs = np.nonzero(mask)
        i = rng.integers(len(ys))
        cy, cx = ys[i] + rng.integers(-size // 4, size // 4 + 1), xs[i] + rng.integers(-size // 4, size // 4 + 1)
    else:
        cy, cx = rng.integers(0, height), rng.integers(0, width)
    top = int(np.clip(cy - size // 2, 0, max(0, height - size)))
    left = int(np.clip(cx - size // 2, 0, max(0, width - size)))
    return top, left


def fit_crop(array: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad a crop smaller than size×size (pictures shorter than the crop)."""
    pad = [(0, size - array.shape[0]), (0, size - array.shape[1])] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, pad) if pad[0][1] or pad[1][1] else array


def make_sample(meme: np.ndarray, template: np.ndarray | None, mask: np.ndarray, top: int, left: int, size: int,
                rng: np.random.Generator) -> dict[str, torch.Tensor]:
    window = np.s_[top : top + size, left : left + size]
    dilation = int(rng.integers(1, 4))  # the inference dilation, with some slack either way
    if template is None:  # a mask without its clean picture (a hand fix): nothing to fill, the mask trains alone
        meme, mask = meme[window], mask[window]
        template, hole, prefill = meme, np.zeros(mask.shape, bool), meme
    else:
        meme, template, mask = meme[window], template[window], mask[window]
        hole = dilate(mask, dilation)
        prefill = telea_fill(meme, hole)
    valid = np.ones(mask.shape, np.float32)
    # a copy: crops of read-only decoded pictures must not be shared with (writable) tensors
    as_image = lambda a: torch.from_numpy(np.array(fit_crop(a, size))).permute(2, 0, 1)  # noqa: E731
    as_plane = lambda a: torch.from_numpy(fit_crop(a.astype(np.float32), size))[None]  # noqa: E731
    return {
        "meme": as_image(meme),  # uint8, converted on the training device
        "template": as_image(template),
        "prefill": as_image(prefill),
        "mask": as_plane(mask),
        "hole": as_plane(hole),
        "valid": as_plane(valid),
    }


class TrainingSamples(torch.utils.data.IterableDataset):
    """An endless stream of training crops drawn from several sources."""

    def __init__(self, sources: Sequence[MemeSource], weights: Sequence[float] | None = None, crop: int = 256,
                 long_side: tuple[int, int] = (256, 1536), text_bias: float = 0.85, crops_per_image: int = 2,
                 seed: int = 0):
        super().__init__()
        self.sources = list(sources)
        weights = np.asarray(weights if weights is not None else [1.0] * len(self.sources), np.float64)
        self.weights = weights / weights.sum()
        self.crop, self.long_side, self.text_bias = crop, long_side, text_bias
        self.crops_per_image, self.seed = crops_per_image, seed

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, info.id if info else 0])
        low, high = np.log(self.long_side[0]), np.log(self.long_side[1])
        while True:
            source = self.sources[rng.choice(len(self.sources), p=self.weights)]
            meme, template, mask = source.sample(rng, int(np.exp(rng.uniform(low, high))))
            for _ in range(self.crops_per_image):
                top, left = crop_window(mask, self.crop, rng, self.text_bias)
                yield make_sample(meme, template, mask, top, left, self.crop, rng)
