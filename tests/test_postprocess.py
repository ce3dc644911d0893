"""Post-processing of `clean()`: the PostprocessConfig, and that its defaults reproduce the pipeline as it was."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from memeclean_core.cleaning.inference import clean
from memeclean_core.network.checkpoint import LoadedModel
from memeclean_core.network.model import UNetConfig

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
    return LoadedModel.of_net(StubNet())


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
# (commit adb06d9). The config without the two refinements that are now on by default (the edge refinement and the
# structure fill) must reproduce them bit for bit.
GOLDEN = {"small": "5c26bb2cbe61f961", "large": "968d3cae8b4f7198", "mask": "ddd625b33c8ea546"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_the_config_without_the_refinements_reproduces_the_pipeline_as_it_was(name):
    from memeclean_core.cleaning.pipeline import BEFORE_REFINEMENTS, PostprocessConfig

    case = {case[0]: case for case in golden_cases()}[name]
    _, image, resolution, mask = case
    assert (
        digest(clean(image, resolution, mask=mask, model=stub_model(), postprocess=BEFORE_REFINEMENTS)) == GOLDEN[name]
    )
    explicit = PostprocessConfig(
        mask_threshold=0.5,
        fill_threshold=0.2,
        working_dilation=2,
        telea_radius=3,
        edge_refine="none",
        structure_fill=False,
        classical_fill_limit=None,
    )
    assert digest(clean(image, resolution, mask=mask, model=stub_model(), postprocess=explicit)) == GOLDEN[name]


def test_the_defaults_are_the_shipped_refinements():
    from memeclean_core.cleaning.pipeline import DEFAULT_POSTPROCESS, PostprocessConfig

    assert DEFAULT_POSTPROCESS == PostprocessConfig() == PostprocessConfig(edge_refine="colour", structure_fill=True)
    for _, image, resolution, mask in golden_cases():
        result = clean(image, resolution, mask=mask, model=stub_model())
        np.testing.assert_array_equal(result.image[~result.region], image[~result.region])
        assert result.region[result.mask].all()


def test_the_config_changes_what_is_replaced():
    from memeclean_core.cleaning.pipeline import BEFORE_REFINEMENTS, PostprocessConfig

    _, image, resolution, _ = golden_cases()[1]
    default = clean(image, resolution, model=stub_model(), postprocess=BEFORE_REFINEMENTS)
    narrow = clean(
        image, resolution, model=stub_model(), postprocess=PostprocessConfig(working_dilation=0, edge_refine="none")
    )
    strict = clean(
        image, resolution, model=stub_model(), postprocess=PostprocessConfig(mask_threshold=0.9, edge_refine="none")
    )
    assert narrow.region.sum() < default.region.sum() and (narrow.region <= default.region).all()
    assert strict.mask.sum() < default.mask.sum()
    np.testing.assert_array_equal(narrow.image[~narrow.region], image[~narrow.region])


def test_the_config_is_frozen_and_checks_its_options():
    import dataclasses

    from memeclean_core.cleaning.pipeline import PostprocessConfig

    config = PostprocessConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.fill_threshold = 0.3
    with pytest.raises(ValueError, match="edge_refine"):
        PostprocessConfig(edge_refine="magic")


# ----------------------------------------------------------------------------------------- full-resolution edges


def strokes_case(outline: int, size: int = 240, scale: int = 4):
    """White strokes 5 px wide (with a black outline of `outline` px) on a textured picture, and the blurred,
    slightly wide probability a network working at 1/scale of the size gives for them after upsampling."""
    import cv2

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    image = np.stack([90 + 40 * np.sin(xx / 9), 120 + 30 * np.cos(yy / 7), np.full(xx.shape, 100.0)], -1)
    image = (image + rng.normal(0, 3, image.shape)).clip(0, 255)
    ink = np.zeros((size, size), np.uint8)
    for k, x in enumerate(range(30, size - 30, 30)):
        cv2.line(ink, (x, 40), (x + 10 * (k % 2), size - 40), 1, 5)
    truth = cv2.dilate(ink, np.ones((2 * outline + 1, 2 * outline + 1), np.uint8)).astype(bool)
    image[truth] = 0
    image[ink.astype(bool)] = 255
    small = cv2.resize(truth.astype(np.float32), (size // scale, size // scale), interpolation=cv2.INTER_AREA)
    probability = cv2.resize(cv2.GaussianBlur(small, (5, 5), 1.2), (size, size), interpolation=cv2.INTER_LINEAR)
    return image.astype(np.uint8), truth, np.clip(1.3 * probability, 0, 1).astype(np.float32), 1 / scale


@pytest.mark.parametrize("method,outline", [("guided", 0), ("guided-colour", 0), ("guided-colour", 2), ("colour", 2)])
def test_edge_refinement_follows_the_full_resolution_edges(method, outline):
    from memeclean_core.cleaning import refine
    from memeclean_core.training.evaluate import mask_iou

    image, truth, probability, scale = strokes_case(outline)
    if method == "colour":
        refined = refine.colour_probability(image, probability, scale)
    else:
        refined = refine.guided_probability(image, probability, scale, colour=method == "guided-colour")
    assert refined.shape == probability.shape and refined.dtype == np.float32
    assert refined.min() >= 0.0 and refined.max() <= 1.0
    assert mask_iou(refined > 0.5, truth) > mask_iou(probability > 0.5, truth) + 0.03
    assert not (truth & (refined <= 0.2)).any(), "no caption pixel is left out of what is replaced"
    far = np.zeros_like(truth)
    far[:6], far[-6:] = True, True  # beyond every window: the upsampled probability, untouched
    np.testing.assert_array_equal(refined[far], probability[far])


@pytest.mark.parametrize("method", ["guided", "colour"])
def test_clean_with_edge_refinement_keeps_every_pixel_outside_the_region(method):
    from memeclean_core.cleaning.pipeline import PostprocessConfig

    _, image, resolution, _ = golden_cases()[1]
    result = clean(image, resolution, model=stub_model(), postprocess=PostprocessConfig(edge_refine=method))
    default = clean(image, resolution, model=stub_model(), postprocess=PostprocessConfig(edge_refine="none"))
    assert result.region[result.mask].all()
    np.testing.assert_array_equal(result.image[~result.region], image[~result.region])
    assert not np.array_equal(result.mask, default.mask)
    wider = clean(
        image,
        resolution,
        model=stub_model(),
        postprocess=PostprocessConfig(edge_refine=method, refined_fill_threshold=0.05),
    )
    assert (wider.region >= result.region).all() and wider.region.sum() > result.region.sum()
    np.testing.assert_array_equal(wider.mask, result.mask)
    # A mask given by hand is filled as it is: no refinement.
    _, small, small_resolution, mask = golden_cases()[2]
    given = clean(
        small,
        small_resolution,
        mask=mask,
        model=stub_model(),
        postprocess=PostprocessConfig(edge_refine=method, structure_fill=False),
    )
    assert digest(given) == GOLDEN["mask"]


# ------------------------------------------------------------------------------------------------ structure fill


def two_panels(height: int = 120, width: int = 200, border: int = 6):
    """A red panel and a blue panel, side by side, with a black border between them; a hole across the border."""
    image = np.zeros((height, width, 3), np.uint8)
    middle = width // 2
    image[:, : middle - border // 2] = (200, 40, 40)
    image[:, middle + border - border // 2 :] = (40, 60, 200)
    template = image.copy()
    hole = np.zeros((height, width), bool)
    hole[50:75, 60:140] = True
    image[hole] = 255
    border_mask = np.zeros((height, width), bool)
    border_mask[:, middle - border // 2 : middle + border - border // 2] = True
    return image, template, hole, border_mask


def test_the_structure_fill_continues_a_border_and_keeps_each_side_its_colour():
    from memeclean_core.cleaning.pipeline import telea_fill
    from memeclean_core.cleaning.structure_fill import find_crossing_lines, structure_fill

    image, template, hole, border = two_panels()
    assert len(find_crossing_lines(image, hole)) == 2  # both edges of the border
    telea, kept = telea_fill(image, hole), structure_fill(image, hole)

    def error(out, where):
        return np.abs(out.astype(int) - template)[where].mean()

    assert error(kept, hole) < error(telea, hole) / 3
    assert error(kept, hole & border) < 10, "the border runs on through the hole, black"
    np.testing.assert_array_equal(kept[~hole], image[~hole])


def test_without_a_crossing_edge_the_structure_fill_is_telea():
    from memeclean_core.cleaning.pipeline import telea_fill
    from memeclean_core.cleaning.structure_fill import structure_fill

    meme, _, mask = make_meme(240, 180, seed=5)
    np.testing.assert_array_equal(structure_fill(meme, mask), telea_fill(meme, mask))


def test_clean_with_the_structure_fill_on_keeps_every_pixel_outside_the_region():
    from memeclean_core.cleaning.pipeline import PostprocessConfig

    image, template, hole, _ = two_panels()
    result = clean(image, 128, mask=hole, model=stub_model(), postprocess=PostprocessConfig(structure_fill=True))
    plain = clean(image, 128, mask=hole, model=stub_model(), postprocess=PostprocessConfig(structure_fill=False))
    np.testing.assert_array_equal(result.image[~result.region], image[~result.region])

    def error(out):
        return np.abs(out.astype(int) - template)[hole].mean()

    assert error(result.image) < 0.75 * error(plain.image)  # the stub net nudges both fills towards grey alike


class BlankNet(StubNet):
    """Finds no caption anywhere."""

    def predict_mask(self, image: torch.Tensor) -> torch.Tensor:
        return torch.full_like(image[:, :1], -20.0)


def test_a_picture_without_any_caption_candidate_comes_back_unchanged():
    """Larger than the working size, so the edge refinement runs, on a window that is empty."""
    image, _, _ = make_meme(600, 400, seed=5)
    result = clean(image, resolution=256, model=LoadedModel.of_net(BlankNet()))
    assert not result.mask.any() and not result.region.any()
    np.testing.assert_array_equal(result.image, image)


def test_a_picture_far_above_the_working_size_gets_its_classical_fill_at_the_limit(monkeypatch):
    """`classical_fill_limit`: beyond that many times the working size the full-size Telea runs at that size and is
    upsampled into the hole (a phone photo's caption costs 60 times its working-size hole at full size); outside
    the region every pixel stays the picture's, and the fill is about as close to the template as at full size."""
    from memeclean_core.cleaning import inference, pipeline
    from memeclean_core.cleaning.pipeline import PostprocessConfig
    from memeclean_core.training.evaluate import mse, psnr_from_mse

    widths = []
    real = pipeline.classical_fill

    def spied(rgb, mask, config):
        widths.append(rgb.shape[1])
        return real(rgb, mask, config)

    monkeypatch.setattr(pipeline, "classical_fill", spied)
    monkeypatch.setattr(inference, "classical_fill", spied)
    image, template, _ = make_meme(960, 720, seed=4)
    results = {}
    for limit in (None, 2.0):
        widths.clear()
        config = PostprocessConfig(edge_refine="none", structure_fill=False, classical_fill_limit=limit)
        results[limit] = clean(image, 128, model=stub_model(), postprocess=config)
        largest = max(widths)
        assert (largest > 256) if limit is None else (largest <= 2 * 128)
    full, capped = results[None], results[2.0]
    np.testing.assert_array_equal(full.region, capped.region)
    np.testing.assert_array_equal(capped.image[~capped.region], image[~capped.region])
    assert not np.array_equal(full.image, capped.image)
    psnr = {limit: psnr_from_mse(mse(result.image, template, result.region)) for limit, result in results.items()}
    assert psnr[2.0] > psnr[None] - 1.0


def test_a_picture_twice_the_working_size_is_filled_at_full_size_whatever_the_rounding():
    """A 345-px side at half size works at 172 px (0.4986, not 0.5): still filled at full size, as before the limit."""
    from memeclean_core.cleaning.pipeline import PostprocessConfig

    image, _, _ = make_meme(345, 512, seed=6)
    capped, full = (
        clean(
            image,
            256,
            model=stub_model(),
            postprocess=PostprocessConfig(edge_refine="none", classical_fill_limit=limit),
        )
        for limit in (2.0, None)
    )
    assert capped.working_size[0] / 345 < 0.5
    np.testing.assert_array_equal(capped.image, full.image)
