"""Training batches for an accelerator that the CPU cannot feed: captions rendered once, composited on the device.

Rendering a captioned meme costs tens of CPU milliseconds, so a GPU that trains thousands of crops a second waits
for its data workers (v3's 12 H200 minutes ran at 400–470 crops/s with 15 workers). Most of that work is the
same few things done again: drawing glyphs, colouring them, outlining, shadowing, compositing, degrading. Here
the expensive, font-dependent part happens once on the CPU, and the cheap, varied part on the device:

- `build_pack(folder, path, ...)` draws caption *coverage* layers (the glyphs' anti-aliased ink as 0–255, in
  every script and style of the training mix: `data.world_formats`, `data.synth`, at the pixel scale of inference)
  and background crops (photos, clip art, line art, white canvases, fine textures, pictures with distractors) and
  writes them to one compressed file: layers compress to a few kB each (mostly empty), backgrounds are JPEG.
- `DeviceBatches(pack, device)` keeps the pack on the device and composites mask-training batches there: a random
  background crop (flipped, recoloured, now and then inverted), a random layer (or none: a hard negative), a fill
  colour, an outline made by dilating the coverage (max-pooling), now and then a drop shadow or a translucent
  opacity (watermarks), then blur, noise and JPEG-like block quantisation. The true mask is every pixel the
  caption's layer covers at least MASK_ALPHA of, as in `synth.caption_image`.

Fill batches still come from the CPU workers (they need the Telea prefill the shipped pipeline uses), one step in
`fill_every`: `train --gpu-pack` mixes the two. `bench/bench_gpu_data.py` measures both paths.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import MemeCleanError

PACK_FORMAT = "memeclean-glyph-pack-v1"
TILE = 288  # stored tiles: the 256-px training crop plus room to shift it
TILES_PER_MEME = 4  # tiles cut from each rendered meme (rendering is the expensive part)
MASK_ALPHA = 24 / 255  # as formats.MASK_ALPHA
EMPTY_SHARE = 0.15  # batches' share of crops without a caption (hard negatives)
OUTLINE_WIDTHS = (0, 1, 2, 3, 4, 6)


# ------------------------------------------------------------------------------------------------ the pack (CPU)


def _ink_layer(meme: np.ndarray, template: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The caption's coverage (0–255) from a rendered meme: how far each pixel moved from the template towards its
    new colour, inside the caption mask. Outlines and fills both count; the device re-colours them."""
    difference = np.abs(meme.astype(np.int16) - template.astype(np.int16)).max(axis=2)
    coverage = np.clip(difference * 3, 0, 255).astype(np.uint8)
    coverage[~mask] = 0
    coverage[mask] = np.maximum(coverage[mask], 64)  # a caption pixel over its own colour still is caption
    return coverage


def _tile_around(mask: np.ndarray, rng: np.random.Generator) -> tuple[slice, slice] | None:
    """A TILE² window, mostly around a caption pixel where there is one; None when the picture is smaller."""
    height, width = mask.shape
    if height < TILE or width < TILE:
        return None
    ys, xs = np.nonzero(mask)
    if len(ys) and rng.random() < 0.9:
        i = int(rng.integers(len(ys)))
        top = int(np.clip(ys[i] - TILE // 2 + rng.integers(-TILE // 4, TILE // 4 + 1), 0, height - TILE))
        left = int(np.clip(xs[i] - TILE // 2 + rng.integers(-TILE // 4, TILE // 4 + 1), 0, width - TILE))
    else:
        top, left = int(rng.integers(height - TILE + 1)), int(rng.integers(width - TILE + 1))
    return slice(top, top + TILE), slice(left, left + TILE)


def _jpeg_bytes(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def build_pack(
    folder: str | Path,
    path: str | Path,
    layers: int = 4000,
    backgrounds: int = 1500,
    long_side: tuple[int, int] = (256, 1536),
    seed: int = 0,
    progress=None,
) -> dict:
    """Render `layers` caption coverage tiles and `backgrounds` picture tiles (TILE² px) from a prepared data folder
    (images/, fonts/, script_fonts/, clipart/) into one .npz at `path`. Returns counts and sizes."""
    from ..files.safe_write import write_file
    from .source import SynthSource
    from .synth import TRAINING_MIX

    source = SynthSource.from_folder(folder, mix=TRAINING_MIX)
    rng = np.random.default_rng([seed, 7070])
    low, high = math.log(long_side[0]), math.log(long_side[1])
    coverage: list[np.ndarray] = []
    pictures: list[bytes] = []
    tries = 0
    while (len(coverage) < layers or len(pictures) < backgrounds) and tries < 20 * (layers + backgrounds):
        tries += 1
        window = None
        side = max(TILE + 1, int(math.exp(rng.uniform(low, high))))
        meme, template, mask = source.sample(rng, side)
        for _ in range(TILES_PER_MEME):
            window = _tile_around(mask, rng)
            if window is None:
                break
            if len(coverage) < layers and mask[window].any():
                coverage.append(_ink_layer(meme[window], template[window], mask[window]))
        if window is not None and len(pictures) < backgrounds:  # the clean picture is a background
            other = _tile_around(np.zeros_like(mask), rng)
            pictures.append(_jpeg_bytes(np.ascontiguousarray(template[other])))
        if progress is not None and tries % 50 == 0:
            progress((len(coverage) + len(pictures)) / (layers + backgrounds), "rendering the pack")
    if not coverage or not pictures:
        raise MemeCleanError(f"'{folder}' gave no captions or pictures to pack")
    jpegs = np.frombuffer(b"".join(pictures), np.uint8)
    offsets = np.cumsum([0] + [len(b) for b in pictures]).astype(np.int64)

    def encode(buffer) -> None:
        np.savez_compressed(
            buffer,
            format=np.array(PACK_FORMAT),
            coverage=np.stack(coverage),
            jpegs=jpegs,
            offsets=offsets,
        )

    write_file(path, encode, overwrite=True)
    return {"layers": len(coverage), "backgrounds": len(pictures), "bytes": Path(path).stat().st_size}


@dataclass
class GlyphPack:
    coverage: np.ndarray  # N×TILE×TILE uint8
    backgrounds: np.ndarray  # M×TILE×TILE×3 uint8

    @classmethod
    def load(cls, path: str | Path) -> GlyphPack:
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored["format"]) != PACK_FORMAT:
                    raise MemeCleanError(f"'{path}' is a {stored['format']} pack; this MemeClean reads {PACK_FORMAT}")
                coverage, jpegs, offsets = stored["coverage"], stored["jpegs"], stored["offsets"]
        except (OSError, ValueError, KeyError) as error:
            raise MemeCleanError(f"cannot read the glyph pack '{path}': {error}") from None
        pictures = [
            np.asarray(Image.open(io.BytesIO(jpegs[a:b].tobytes())).convert("RGB"))
            for a, b in zip(offsets[:-1], offsets[1:])
        ]
        return cls(coverage, np.stack(pictures))


# ------------------------------------------------------------------------------------------ compositing (device)


def _jpeg_like(images, quality):
    """Blockwise 8×8 DCT quantisation of the luma and chroma (JPEG's loss without its entropy coding): `images`
    N×3×H×W in [0, 1] with H, W multiples of 8, `quality` N floats in 35–95."""
    import torch

    n, _, height, width = images.shape
    device = images.device
    k = torch.arange(8, device=device, dtype=torch.float32)
    basis = torch.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    basis[0] /= math.sqrt(2)
    to_ycc = torch.tensor([[0.299, 0.587, 0.114], [-0.1687, -0.3313, 0.5], [0.5, -0.4187, -0.0813]], device=device)
    ycc = torch.einsum("ij,njhw->nihw", to_ycc, images * 255)
    blocks = ycc.reshape(n, 3, height // 8, 8, width // 8, 8).permute(0, 1, 2, 4, 3, 5)
    coefficients = basis @ blocks @ basis.T
    frequency = k[:, None] + k[None, :]
    scale = torch.where(quality < 50, 50 / quality, 2 - quality / 50)[:, None, None, None, None, None]
    step = (1 + frequency * torch.tensor([1.5, 2.5, 2.5], device=device)[:, None, None]) * 4  # 3×8×8
    step = (step[None, :, None, None] * scale).clamp(min=1)
    coefficients = torch.round(coefficients / step) * step
    blocks = basis.T @ coefficients @ basis
    ycc = blocks.permute(0, 1, 2, 4, 3, 5).reshape(n, 3, height, width)
    to_rgb = torch.linalg.inv(to_ycc)
    return (torch.einsum("ij,njhw->nihw", to_rgb, ycc) / 255).clamp(0, 1)


class DeviceBatches:
    """Mask-training batches composited on `device` from a `GlyphPack`: dicts like `train.to_device` makes
    ("meme" N×3×S×S float in [0, 1], "mask" and "valid" N×1×S×S float), channels-last."""

    def __init__(self, pack: GlyphPack, device, crop: int = 256, seed: int = 0):
        import torch

        if crop > TILE:
            raise MemeCleanError(f"the glyph pack's tiles are {TILE} px; a crop of {crop} does not fit")
        self.device = torch.device(device)
        self.coverage = torch.from_numpy(pack.coverage).to(self.device)
        self.backgrounds = torch.from_numpy(pack.backgrounds).to(self.device).permute(0, 3, 1, 2).contiguous()
        self.crop = crop
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def _uniform(self, n: int, low: float = 0.0, high: float = 1.0):
        import torch

        return low + (high - low) * torch.rand(n, generator=self.generator, device=self.device)

    def _crops(self, tiles, n: int):
        import torch

        index = torch.randint(len(tiles), (n,), generator=self.generator, device=self.device)
        shift = torch.randint(TILE - self.crop + 1, (2,), generator=self.generator).tolist()
        return tiles[index][..., shift[0] : shift[0] + self.crop, shift[1] : shift[1] + self.crop]

    def batch(self, n: int) -> dict:
        import torch
        import torch.nn.functional as F

        u = self._uniform
        background = self._crops(self.backgrounds, n).float() / 255
        flip = u(n) < 0.5
        background = torch.where(flip[:, None, None, None], background.flip(-1), background)
        order = torch.stack([torch.randperm(3, generator=self.generator, device=self.device) for _ in range(n)])
        background = torch.gather(background, 1, order[:, :, None, None].expand_as(background))
        invert = (u(n) < 0.15)[:, None, None, None]
        background = torch.where(invert, 1 - background, background)

        ink = self._crops(self.coverage[:, None], n).float() / 255
        ink = ink * (u(n) >= EMPTY_SHARE)[:, None, None, None]
        width = torch.tensor(OUTLINE_WIDTHS, device=self.device)[
            torch.randint(len(OUTLINE_WIDTHS), (n,), generator=self.generator, device=self.device)
        ]
        outline, grown = ink, ink
        for w in range(1, max(OUTLINE_WIDTHS) + 1):  # one pixel more each time: a 3×3 max-pool per width
            grown = F.max_pool2d(grown, 3, stride=1, padding=1)
            outline = torch.where((width == w)[:, None, None, None], grown, outline)
        shadow_on = (u(n) < 0.15)[:, None, None, None]
        shift = int(torch.randint(2, 9, (1,), generator=self.generator))
        shadow = F.avg_pool2d(torch.roll(outline, (shift, shift), (2, 3)), 5, stride=1, padding=2) * 0.85 * shadow_on
        opacity = torch.where(u(n) < 0.1, u(n, 0.3, 0.8), torch.ones(n, device=self.device))[:, None, None, None]

        light = u(n) < 0.55
        grey = torch.where(light, u(n, 0.93, 1.0), u(n, 0.0, 0.06))[:, None].expand(n, 3)
        colour = torch.where(
            (u(n) < 0.3)[:, None], torch.rand(n, 3, generator=self.generator, device=self.device), grey
        )
        rim = torch.where(light[:, None], torch.zeros(n, 3, device=self.device), torch.ones(n, 3, device=self.device))
        meme = background * (1 - shadow)
        meme = meme * (1 - outline * opacity) + rim[:, :, None, None] * outline * opacity
        meme = meme * (1 - ink * opacity) + colour[:, :, None, None] * ink * opacity
        mask = (torch.maximum(torch.maximum(outline, ink) * opacity, shadow) >= MASK_ALPHA).float()

        blur = (u(n) < 0.25)[:, None, None, None]
        meme = torch.where(blur, F.avg_pool2d(meme, 3, stride=1, padding=1, count_include_pad=False), meme)
        meme = (
            meme
            + torch.randn(meme.shape, generator=self.generator, device=self.device)
            * u(n, 0, 0.015)[:, None, None, None]
        ).clamp(0, 1)
        degrade = u(n) < 0.6
        if degrade.any() and self.crop % 8 == 0:
            meme[degrade] = _jpeg_like(meme[degrade], u(int(degrade.sum()), 35, 95))
        channels_last = torch.channels_last
        return {
            "meme": meme.contiguous(memory_format=channels_last),
            "mask": mask.contiguous(memory_format=channels_last),
            "valid": torch.ones_like(mask).contiguous(memory_format=channels_last),
        }
