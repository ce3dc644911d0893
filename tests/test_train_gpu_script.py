"""The GPU training path on the CPU: the data pack (`build_dataset.py --pack`), `scripts/train_gpu.sh` with a tiny
preset and a few steps, its fp16 snapshots, and the network presets."""

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from memeclean_core.network.checkpoint import load_model
from memeclean_core.network.model import PRESETS, MemeCleanNet, UNetConfig
from memeclean_core.network.weights import read_checkpoint, save_checkpoint
from memeclean_core.resources import resource_path

ROOT = Path(__file__).resolve().parent.parent


def make_data_folder(root: Path) -> Path:
    """A built data folder in miniature: noisy pictures (which JPEG cannot shrink much), clip-art, a font."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("val", 1)):
        for i in range(count):
            picture = rng.integers(0, 256, (600, 900, 3), dtype=np.uint8)
            (root / split / "images").mkdir(parents=True, exist_ok=True)
            Image.fromarray(picture).save(root / split / "images" / f"pic{i}.jpg", quality=92)
        (root / split / "fonts").mkdir(parents=True)
        shutil.copy(resource_path("fonts", "Anton-Regular.ttf"), root / split / "fonts")
        (root / split / "fonts" / "fonts.json").write_text('[{"file": "Anton-Regular.ttf"}]\n')
    art = np.zeros((500, 400, 4), np.uint8)
    art[100:400, 100:300] = (200, 40, 40, 255)
    (root / "train" / "clipart").mkdir()
    Image.fromarray(art).save(root / "train" / "clipart" / "shape.png")
    (root / "SOURCES.md").write_text("# Sources\n")
    (root / ".build_state.json").write_text("{}")  # the builder's own state: not packed
    return root


def build_pack(data: Path, pack: Path, megabytes: float) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        str(ROOT / "scripts" / "build_dataset.py"),
        "--out",
        str(data),
        "--pack",
        str(pack),
        "--pack-mb",
        str(megabytes),
        "--workers",
        "1",
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)


def test_the_data_pack_downsizes_pictures_to_fit_and_keeps_everything_else(tmp_path):
    data = make_data_folder(tmp_path / "data")
    pictures_bytes = sum(p.stat().st_size for p in data.rglob("*.jpg"))
    limit_mb = 0.6 * pictures_bytes / 1e6  # the pictures as built do not fit
    result = build_pack(data, tmp_path / "pack.tar", limit_mb)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pack.tar").stat().st_size <= limit_mb * 1e6
    with tarfile.open(tmp_path / "pack.tar") as tar:
        names = set(tar.getnames())
        info = json.load(tar.extractfile("pack.json"))
        font = tar.extractfile("train/fonts/Anton-Regular.ttf").read()
        picture = Image.open(io.BytesIO(tar.extractfile("train/images/pic0.jpg").read()))
        art = Image.open(io.BytesIO(tar.extractfile("train/clipart/shape.png").read()))
    assert names == {
        "pack.json",
        "SOURCES.md",
        "train/images/pic0.jpg",
        "train/images/pic1.jpg",
        "train/images/pic2.jpg",
        "val/images/pic0.jpg",
        "train/fonts/Anton-Regular.ttf",
        "train/fonts/fonts.json",
        "val/fonts/Anton-Regular.ttf",
        "val/fonts/fonts.json",
        "train/clipart/shape.png",
    }
    assert font == resource_path("fonts", "Anton-Regular.ttf").read_bytes()
    assert max(picture.size) == info["picture_long_side"] < 900
    assert art.mode == "RGBA" and max(art.size) <= info["picture_long_side"]

    assert build_pack(data, tmp_path / "roomy.tar", 60).returncode == 0  # what fits is packed as it is
    with tarfile.open(tmp_path / "roomy.tar") as tar:
        assert tar.extractfile("train/images/pic0.jpg").read() == (data / "train/images/pic0.jpg").read_bytes()

    result = build_pack(data, tmp_path / "small.tar", 0.01)  # not even the font fits
    assert result.returncode != 0 and "over the pack limit" in result.stderr
    assert not (tmp_path / "small.tar").exists()


def test_train_gpu_script_runs_its_whole_path_on_the_cpu_with_a_tiny_preset(tmp_path):
    data = make_data_folder(tmp_path / "data")
    assert build_pack(data, tmp_path / "pack.tar", 60).returncode == 0
    env = dict(os.environ, MEMECLEAN_WORK=str(tmp_path / "work"), CUDA_VISIBLE_DEVICES="")
    command = [
        "bash",
        str(ROOT / "scripts" / "train_gpu.sh"),
        str(tmp_path / "pack.tar"),
        str(tmp_path / "out"),
        "--preset",
        "tiny",
        "--steps",
        "3",
        "--batch",
        "2",
        "--crop",
        "64",
        "--resolution",
        "256",
        "--workers",
        "2",
        "--snapshot-minutes",
        "0",
        "--eval-count",
        "1",
        "--eval-resolution",
        "256",
        "--eval-formats",
        "aggregate",
        "classic",
        "script_thai",
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    out = tmp_path / "out"
    full = read_checkpoint(tmp_path / "work" / "run.pt")
    assert full["train"]["step"] == 3 and full["train"]["optimiser"]
    snapshot = read_checkpoint(out / "model-fp16.pt")
    assert snapshot["train"]["step"] == 3 and "optimiser" not in snapshot["train"]
    assert {v.dtype for v in snapshot["model"].values() if v.is_floating_point()} == {torch.float16}
    assert snapshot["config"] == UNetConfig.tiny().to_dict()
    load_model(out / "model-fp16.pt", device="cpu")
    log = [json.loads(line) for line in (out / "train-log.jsonl").read_text().splitlines()]
    assert [entry["step"] for entry in log] == [1, 2, 3]  # with --snapshot-minutes 0 a snapshot after each step
    assert result.stdout.count("fp16 snapshot") >= 3
    assert json.loads((out / "summary.json").read_text())["steps"] == 3
    new, bundled = (json.loads((out / f"eval-{name}.json").read_text()) for name in ("new", "bundled"))
    # one case of each format asked for, for each model
    assert new["cases"] == bundled["cases"] == 3 and new["names"] == bundled["names"]
    assert new["groups"] == ["aggregate", "classic", "script_thai"]
    assert new["model"].endswith("model-fp16.pt") and new["model"] != bundled["model"]
    log_text = (out / "train.log").read_text()
    assert "unpacked" in log_text and "trained to step 3" in log_text

    # Continued (as on a GPU lease, a second command on the same machine) and started from those weights: the
    # network is the checkpoint's, whatever --preset says.
    follow_up = ["--steps", "4", "--eval-count", "0", "--preset", "large", "--seed", "1"]
    for start, work in ((["--resume"], "work"), (["--init", str(out / "model-fp16.pt")], "fresh-work")):
        run = [*command[:4], *command[8:18], *start, *follow_up]  # without --preset tiny and --steps 3
        run_env = dict(env, MEMECLEAN_WORK=str(tmp_path / work))  # a new run never replaces a kept checkpoint
        result = subprocess.run(run, check=False, capture_output=True, text=True, env=run_env, timeout=240)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        summary = json.loads((out / "summary.json").read_text())
        assert summary["config"] == UNetConfig.tiny().to_dict() and summary["preset"] is None
        assert read_checkpoint(out / "model-fp16.pt")["config"] == UNetConfig.tiny().to_dict()
    assert summary["steps"] == 4 and summary["steps_this_run"] == 4 and summary["init"].endswith("model-fp16.pt")


def test_presets_leave_the_default_alone_and_the_large_one_fits_in_16_mb_as_fp16(tmp_path):
    assert UNetConfig.preset("default") == UNetConfig()
    assert UNetConfig.preset("tiny") == UNetConfig.tiny()
    large = MemeCleanNet(UNetConfig.preset("large"))
    assert large.num_parameters() > 2 * MemeCleanNet().num_parameters()
    path = save_checkpoint(tmp_path / "large.pt", large, {"step": 0}, half=True)
    assert path.stat().st_size <= 16e6
    assert set(PRESETS) >= {"tiny", "default", "large"}
