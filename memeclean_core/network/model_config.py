"""The network's size: `UNetConfig` and its named presets, without torch.

A converted network (`openvino_runner`) is described by the same config as the torch one, and the command line
reads the presets, so this module imports neither torch nor numpy; `model` re-exports everything here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class UNetConfig:
    mask_channels: int = 16  # width of the mask UNet's first (half-resolution) level; doubles per level
    mask_levels: int = 5  # resolution levels of the mask UNet below the stem
    fill_channels: int = 16  # same for the fill UNet
    fill_levels: int = 4
    max_channels: int = 160  # width cap of the deepest levels
    head_channels: int = 16  # width of the full-resolution refinement head

    @property
    def multiple(self) -> int:
        """Height and width of the input must be multiples of this (stem ×2, then ×2 per level)."""
        return 2 ** max(self.mask_levels, self.fill_levels)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> UNetConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config fields {sorted(unknown)}; known: {', '.join(sorted(known))}")
        for name, value in values.items():
            low, high = _CONFIG_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"config field {name} must be a whole number from {low} to {high}, got {value!r}")
        return cls(**values)

    @classmethod
    def tiny(cls) -> UNetConfig:
        """A few thousand parameters, for tests."""
        return cls(**PRESETS["tiny"])

    @classmethod
    def preset(cls, name: str) -> UNetConfig:
        """A named size from `PRESETS` (ValueError for an unknown name)."""
        if name not in PRESETS:
            raise ValueError(f"unknown model preset '{name}' (known: {', '.join(PRESETS)})")
        return cls(**PRESETS[name])


# Named network sizes (`memeclean train --model-preset NAME`); the dataclass defaults stay the shipped model's.
PRESETS: dict[str, dict[str, int]] = {
    "tiny": {
        "mask_channels": 4,
        "mask_levels": 2,
        "fill_channels": 4,
        "fill_levels": 2,
        "max_channels": 8,
        "head_channels": 4,
    },
    "default": {},  # 2.6 M parameters: what a CPU trains in hours and cleans a 512-px meme with in ~170 ms
    # 6.2 M parameters, 12.4 MB in fp16: for a GPU, where the data workers, not the network, set the pace
    "large": {"mask_channels": 24, "fill_channels": 24, "max_channels": 256, "head_channels": 24},
}


# Allowed values of each field (checked by `from_dict`: a checkpoint's config and `--model-config` come from files
# and command lines; a huge width would exhaust memory before any message could be shown).
_CONFIG_RANGES = {
    "mask_channels": (1, 512),
    "mask_levels": (1, 8),
    "fill_channels": (1, 512),
    "fill_levels": (1, 8),
    "max_channels": (1, 2048),
    "head_channels": (1, 512),
}
