"""Shared fixtures: a tiny random model, small generated memes, and settings kept away from the user's files."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import numpy as np
import pytest

from memeclean_core.network.model import UNetConfig

# The token of every local Ray the tests start: Ray keeps the first token it used in a process, so a second module
# with a token of its own could not start its Ray ("Failed to start GCS").
RAY_TEST_TOKEN = secrets.token_hex(32)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# The smallest training run the CLI takes (tiny crops and pictures, data in the process, the CPU), and the tiny
# network's size as `--model-config` takes it: shared by the training tests.
FAST_TRAIN_ARGS = ["--batch", "2", "--crop", "64", "--resolution", "256", "--workers", "0", "--device", "cpu"]
TINY_CONFIG = json.dumps(UNetConfig.tiny().to_dict())


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Settings, user models and caches go to a temporary home: tests never touch the user's files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    return home


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    import torch

    from memeclean_core.network.model import MemeCleanNet, UNetConfig
    from memeclean_core.network.weights import save_checkpoint

    torch.manual_seed(0)
    return save_checkpoint(tmp_path_factory.mktemp("models") / "tiny.pt", MemeCleanNet(UNetConfig.tiny()))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_path):
    from memeclean_core.network.checkpoint import load_model

    return load_model(tiny_model_path, device="cpu")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def make_meme(width: int = 240, height: int = 180, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(meme, template, mask): a smooth picture with a white outlined caption drawn by the bundled font."""
    from PIL import Image

    from memeclean_core.data.font_pool import load_boldest_font
    from memeclean_core.data.synth import CaptionStyle, draw_block
    from memeclean_core.resources import resource_path

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    template = np.stack([xx / width * 200, yy / height * 180, np.full_like(xx, 90)], -1)
    template = (template + rng.normal(0, 3, template.shape)).clip(0, 255).astype(np.uint8)
    font = load_boldest_font(str(resource_path("fonts", "Anton-Regular.ttf")), max(10, height // 6))
    block = draw_block(["HELLO MEME"], font, CaptionStyle((255, 255, 255), (0, 0, 0), 0.08, None, True), "center")
    base = Image.fromarray(template).convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    layer.alpha_composite(
        block.crop((0, 0, min(block.width, width), min(block.height, height))), (max(0, (width - block.width) // 2), 2)
    )
    meme = np.asarray(Image.alpha_composite(base, layer).convert("RGB"))
    mask = np.asarray(layer.getchannel("A")) >= 24
    return meme, template, mask
