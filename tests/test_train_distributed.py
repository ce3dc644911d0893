"""Data-parallel training (`memeclean_core.training.ddp`): two CPU processes on gloo, launched by torchrun."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from memeclean_core.cli import main as cli_main
from memeclean_core.network.checkpoint import load_model
from memeclean_core.network.weights import read_checkpoint

from .conftest import make_meme

ROOT = Path(__file__).resolve().parent.parent
TINY_JSON = (
    '{"mask_channels": 4, "mask_levels": 2, "fill_channels": 4, "fill_levels": 2, "max_channels": 8, '
    '"head_channels": 4}'
)


def torchrun(processes: int, *arguments: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={processes}",
        *arguments,
    ]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=180)


def test_distributed_training_on_two_cpu_processes_keeps_ranks_equal_and_resumes_with_one(tmp_path):
    data = tmp_path / "data"
    data.mkdir()  # procedural pictures and the bundled font
    result = torchrun(2, str(ROOT / "tests" / "distributed_worker.py"), str(data), str(tmp_path), "40")
    assert result.returncode == 0, result.stderr[-3000:]

    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for rank in ranks:
        losses = rank["mask_losses"]
        assert len(losses) == 40 and rank["world_size"] == 2
        # It learns: the last quarter of the steps 10 % below the first, at least (batches of 4 tiny crops are noisy)
        assert np.mean(losses[-10:]) < 0.9 * np.mean(losses[:10]), losses
    assert ranks[0]["mask_losses"][0] != ranks[1]["mask_losses"][0]  # each rank learns from its own crops ...
    for name, value in ranks[0]["state"].items():  # ... and yet they hold one network
        assert torch.equal(value, ranks[1]["state"][name]), name
    checkpoint = read_checkpoint(tmp_path / "model.pt")  # written by rank 0 only, in the ordinary format
    assert checkpoint["train"]["step"] == 40
    for name, value in checkpoint["model"].items():
        assert torch.equal(value, ranks[0]["state"][name]), name

    # Resume the two-process run with one process, through the command line
    result = torchrun(
        1,
        "-m",
        "memeclean_core",
        "train",
        "--distributed",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "model.pt"),
        "--resume",
        str(tmp_path / "model.pt"),
        "--steps",
        "43",
        "--batch",
        "4",
        "--crop",
        "64",
        "--resolution",
        "256",
        "--workers",
        "0",
        "--device",
        "cpu",
        "--model-config",
        TINY_JSON,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = read_checkpoint(tmp_path / "model.pt")
    assert resumed["train"]["step"] == 43
    assert max(float(s["step"]) for s in resumed["train"]["optimiser"]["state"].values()) == 43.0
    load_model(tmp_path / "model.pt", device="cpu")

    meme, _, _ = make_meme()
    Image.fromarray(meme).save(tmp_path / "meme.png")
    assert (
        cli_main(
            [
                "clean",
                str(tmp_path / "meme.png"),
                "--model",
                str(tmp_path / "model.pt"),
                "--output",
                str(tmp_path / "clean.png"),
            ]
        )
        == 0
    )
    assert Image.open(tmp_path / "clean.png").size == (meme.shape[1], meme.shape[0])


def test_distributed_training_outside_torchrun_says_how_to_launch(tmp_path, capsys, monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "data").mkdir()
    code = cli_main(
        ["train", "--distributed", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "m.pt"), "--steps", "2"]
    )
    assert code == 1
    error = capsys.readouterr().err
    assert "torchrun --nproc-per-node" in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "m.pt").exists()
