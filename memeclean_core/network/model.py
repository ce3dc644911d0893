"""MemeClean's network: a caption-mask UNet and a fill UNet that refines a classical fill.

Both branches are small UNets (Ronneberger et al., 2015) that run at half the working resolution after a stride-2
stem and refine at full resolution in a light head; this keeps a 512-pixel clean within the CPU budget while the
five levels below the stem (32× down) see a whole glyph even at the slider's top.

- `predict_mask(image)`: logits of "this pixel belongs to a caption", including its outline and shadow.
- `fill(prefill, mask)`: the picture behind the text. `prefill` is the image with the masked pixels already filled
  by a classical method (OpenCV Telea, see `inference.py`); the network adds a correction inside the mask. The last
  layer starts at zero, so an untrained fill is exactly the classical one, and a mask edited by hand can be filled
  again without the mask branch.

Inputs are float tensors in [0, 1], N×C×H×W, with H and W multiples of `config.multiple`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .model_config import _CONFIG_RANGES, PRESETS, UNetConfig  # noqa: F401 - re-exported


def conv_block(in_channels: int, out_channels: int, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.SiLU(inplace=True),
    )


def conv_of_concat(conv: nn.Conv2d, parts: list[torch.Tensor]) -> torch.Tensor:
    """`conv(torch.cat(parts, dim=1))` without the concatenation: each part meets its slice of the weight and the
    results are summed, which is the same sum in another order. In a CPU training step the concatenation (a copy,
    and its gradient's strided slices copied back) and oneDNN's slow path for odd channel counts (16 + 3) cost more
    than the extra calls: a mask step 0.21 instead of 0.23 s, a fill step 0.41 instead of 0.46 s (docs/MODEL.md)."""
    result, start = None, 0
    for part in parts:
        stop = start + part.shape[1]
        bias = conv.bias if start == 0 else None
        term = F.conv2d(part, conv.weight[:, start:stop], bias, conv.stride, conv.padding, conv.dilation)
        result, start = term if result is None else result + term, stop
    return result


class UNet(nn.Module):
    """Stride-2 stem, `levels` encoder/decoder levels at half resolution, full-resolution head."""

    def __init__(self, in_channels: int, out_channels: int, base: int, levels: int, max_channels: int, head: int):
        super().__init__()
        widths = [min(base * 2**i, max_channels) for i in range(levels)]
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.SiLU(inplace=True),
        )
        self.encoders = nn.ModuleList()
        for i, width in enumerate(widths):
            previous = widths[0] if i == 0 else widths[i - 1]
            stride = 1 if i == 0 else 2
            self.encoders.append(
                nn.Sequential(
                    nn.Conv2d(previous, width, 3, stride=stride, padding=1, bias=False),
                    nn.BatchNorm2d(width),
                    nn.SiLU(inplace=True),
                    conv_block(width, width),
                )
            )
        # Dilated convolutions at the bottom widen the receptive field beyond the largest glyph.
        self.bottleneck = nn.Sequential(conv_block(widths[-1], widths[-1], 2), conv_block(widths[-1], widths[-1], 4))
        self.decoders = nn.ModuleList()
        for i in reversed(range(levels - 1)):
            self.decoders.append(
                nn.Sequential(conv_block(widths[i + 1] + widths[i], widths[i]), conv_block(widths[i], widths[i]))
            )
        self.head = nn.Sequential(
            nn.Conv2d(widths[0] + in_channels, head, 3, padding=1),
            nn.SiLU(inplace=True),
            nn.Conv2d(head, out_channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stem[0].weight.is_contiguous(memory_format=torch.channels_last):
            # A channels-last network (as trained) takes its input channels-last too: an input joined with a
            # one-channel mask comes out NCHW (that channel has no layout of its own), and the head would copy its
            # full-resolution input to channels-last, forward and backward: a tenth of a fill step.
            x = x.contiguous(memory_format=torch.channels_last)
        skips = []
        h = self.stem(x)
        for encoder in self.encoders:
            h = encoder(h)
            skips.append(h)
        h = self.bottleneck(skips.pop())
        for decoder in self.decoders:
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
            joined, norm_and_activation, rest = decoder[0][0], decoder[0][1:], decoder[1:]
            h = rest(norm_and_activation(conv_of_concat(joined, [h, skip])))
        # Each layer that takes [upsampled, skip] (or [upsampled, input]) is applied to the parts, not their
        # concatenation: `conv_of_concat`. Under autocast the convolution casts the fp32 input to bf16 itself.
        h = F.interpolate(h, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.head[1:](conv_of_concat(self.head[0], [h, x]))


class MemeCleanNet(nn.Module):
    def __init__(self, config: UNetConfig | None = None):
        super().__init__()
        self.config = config or UNetConfig()
        c = self.config
        self.mask_net = UNet(3, 1, c.mask_channels, c.mask_levels, c.max_channels, c.head_channels)
        self.fill_net = UNet(4, 3, c.fill_channels, c.fill_levels, c.max_channels, c.head_channels)
        # Start the fill as the identity on the classical fill: training can only move away from a sane floor.
        last = self.fill_net.head[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def predict_mask(self, image: torch.Tensor) -> torch.Tensor:
        """Caption logits, N×1×H×W, for an image N×3×H×W in [0, 1]."""
        return self.mask_net(image * 2 - 1)

    def fill(self, prefill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The picture behind the text: `prefill` (N×3×H×W, classical fill) corrected inside `mask` (N×1×H×W)."""
        correction = self.fill_net(torch.cat([prefill * 2 - 1, mask], dim=1))
        return (prefill + mask * correction).clamp(0, 1)

    def forward(
        self, image: torch.Tensor, prefill: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Training entry point: mask logits from `image`, fill from `prefill` and a given mask."""
        return self.predict_mask(image), self.fill(prefill, mask)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
