"""The app from source on real display platforms (packaging/check_display.py): under Xvfb with Qt's xcb platform and
under weston's headless backend with its Wayland platform, it opens a meme, cleans it and shows it (screenshot)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHECK = Path(__file__).resolve().parents[1] / "packaging" / "check_display.py"
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 and Wayland servers")


@pytest.fixture(scope="module")
def check_display():
    spec = importlib.util.spec_from_file_location("check_display", CHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("platform, server", [("xcb", "Xvfb"), ("wayland", "weston")])
def test_the_source_app_shows_a_cleaned_meme(platform, server, tmp_path):
    if shutil.which(server) is None:
        pytest.skip(f"{server} is not installed (scripts/setup.sh installs it)")
    shot = tmp_path / "shot.png"
    command = [sys.executable, str(CHECK), platform, "--keep", str(shot), "--", sys.executable, "-m", "memeclean_gui"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"check_display: {platform}: window shown, meme cleaned" in done.stdout
    with Image.open(shot) as image:
        assert image.width >= 640 and image.height >= 480


def test_a_blank_or_wrongly_sized_screenshot_fails(check_display, tmp_path):
    report = "screenshot: 800x600, window 800x600, platform 'xcb', saved True"
    blank = tmp_path / "blank.png"
    Image.new("RGB", (800, 600), (239, 239, 239)).save(blank)
    with pytest.raises(AssertionError, match="blank"):
        check_display.check_screenshot(blank, report)
    noisy = np.random.default_rng(0).integers(0, 256, (600, 800, 3), dtype=np.uint8)
    Image.fromarray(noisy).save(tmp_path / "drawn.png")
    assert check_display.check_screenshot(tmp_path / "drawn.png", report).startswith("800x600")
    Image.fromarray(noisy[:500]).save(tmp_path / "short.png")
    with pytest.raises(AssertionError, match="800x500"):
        check_display.check_screenshot(tmp_path / "short.png", report)
