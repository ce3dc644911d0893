"""Post-processing of `clean()`: the PostprocessConfig, and that its defaults reproduce the pipeline as it was."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from memeclean_core.checkpoint import LoadedModel
from memeclean_core.inference import clean
from memeclean_core.model import UNetConfig

from .conftest import make_meme


class StubNet(torch.nn.Module):
    """A deterministic stand-in for the networks: very light or very dark pixels are "caption"; the fill nudges the
    prefill towards grey. Elementwise float operations only, so the result does not depend on the CPU's kernels
    and a digest of clean()'s output checks the post-processing alone."""

    def __init__(self):
        super().__init__()
        self.config = UNetConfig.tiny()

    def predict_mask(self, image: torch.Tensor) -> torch.Tensor:
        luma = image.mean(dim=1, keepdim=True)
        return 24.0 * torch.maximum(luma - 0.8, 0.2 - luma)

    def fill(self, prefill: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return (prefill + mask * 0.1 * (0.5 - prefill)).clamp(0, 1)


def stub_model() -> LoadedModel:
    return LoadedModel(net=StubNet(), device=torch.device("cpu"), path=None, half=False)


def golden_cases() -> list[tuple[str, np.ndarray, int, np.ndarray | None]]:
    """(name, image, resolution, mask): a picture smaller than the working size, one four times larger (the
    upsampled probability and the full-size dilation), and a mask given by hand."""
    small, _, mask = make_meme(240, 180, seed=3)
    large, _, _ = make_meme(960, 720, seed=4)
    return [("small", small, 512, None), ("large", large, 256, None), ("mask", small, 128, mask)]


def digest(result) -> str:
    hasher = hashlib.sha256()
    for array in (result.image, result.mask, result.region):
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()[:16]


# Digests of clean()'s image, mask and region with the stub networks, taken before PostprocessConfig existed
# (commit adb06d9). The default config must reproduce them bit for bit.
GOLDEN = {"small": "5c26bb2cbe61f961", "large": "968d3cae8b4f7198", "mask": "ddd625b33c8ea546"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_default_config_reproduces_the_pipeline_as_it_was(name):
    from memeclean_core.inference import PostprocessConfig

    case = {case[0]: case for case in golden_cases()}[name]
    _, image, resolution, mask = case
    assert digest(clean(image, resolution, mask=mask, model=stub_model())) == GOLDEN[name]
    explicit = clean(image, resolution, mask=mask, model=stub_model(), postprocess=PostprocessConfig())
    assert digest(explicit) == GOLDEN[name]


def test_the_config_changes_what_is_replaced():
    from memeclean_core.inference import PostprocessConfig

    _, image, resolution, _ = golden_cases()[1]
    default = clean(image, resolution, model=stub_model())
    narrow = clean(image, resolution, model=stub_model(), postprocess=PostprocessConfig(working_dilation=0))
    strict = clean(image, resolution, model=stub_model(), postprocess=PostprocessConfig(mask_threshold=0.9))
    assert narrow.region.sum() < default.region.sum() and (narrow.region <= default.region).all()
    assert strict.mask.sum() < default.mask.sum()
    np.testing.assert_array_equal(narrow.image[~narrow.region], image[~narrow.region])


def test_the_config_is_frozen_and_checks_its_options():
    import dataclasses

    from memeclean_core.inference import PostprocessConfig

    config = PostprocessConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.fill_threshold = 0.3
    with pytest.raises(ValueError, match="edge_refine"):
        PostprocessConfig(edge_refine="magic")
