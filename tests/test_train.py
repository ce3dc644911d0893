import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from memeclean_core.errors import ModelLoadError
from memeclean_core.network.checkpoint import load_model
from memeclean_core.network.model import UNetConfig
from memeclean_core.network.weights import read_checkpoint
from memeclean_core.training.train import TrainConfig, training_run

from .conftest import FAST_TRAIN_ARGS, TINY_CONFIG

TINY = UNetConfig.tiny().to_dict()


def tiny_config(tmp_path: Path, **overrides) -> TrainConfig:
    """Procedural pictures and the bundled font (an empty data folder), small crops, no worker processes."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    values = dict(
        data=[str(data)],
        out=str(tmp_path / "model.pt"),
        batch=4,
        crop=64,
        min_side=96,
        max_side=160,
        workers=0,
        model=TINY,
        progress_every=1,
        preview_every=0,
        lr=5e-3,
        device="cpu",
    )
    values.update(overrides)
    return TrainConfig(**values)


def test_a_few_steps_lower_the_loss(tmp_path):
    torch.set_num_threads(1)
    reports = [r for r in training_run(tiny_config(tmp_path, steps=60, warmup_steps=0)) if not r.done]
    first = np.mean([r.mask_loss for r in reports[:5]])
    last = np.mean([r.mask_loss for r in reports[-5:]])
    assert len(reports) == 60
    assert last < 0.8 * first, (first, last)


def test_resume_continues_from_the_saved_step_and_optimiser(tmp_path):
    list(training_run(tiny_config(tmp_path, steps=5)))
    saved = read_checkpoint(tmp_path / "model.pt")
    assert saved["train"]["step"] == 5
    adam_steps = {float(s["step"]) for s in saved["train"]["optimiser"]["state"].values()}
    assert adam_steps == {5.0} or adam_steps == {5.0, 2.0}  # fill parameters train on every step here

    reports = list(training_run(tiny_config(tmp_path, steps=8, resume=str(tmp_path / "model.pt"))))
    assert [r.step for r in reports if not r.done] == [6, 7, 8]
    resumed = read_checkpoint(tmp_path / "model.pt")
    assert resumed["train"]["step"] == 8
    assert max(float(s["step"]) for s in resumed["train"]["optimiser"]["state"].values()) == 8.0


def test_closing_the_run_saves_a_loadable_checkpoint(tmp_path):
    run = training_run(tiny_config(tmp_path, steps=1000))
    next(run), next(run), next(run)
    run.close()  # what the GUI's Cancel and the CLI's Ctrl+C do
    assert read_checkpoint(tmp_path / "model.pt")["train"]["step"] == 3
    load_model(tmp_path / "model.pt", device="cpu")


def test_ctrl_c_on_the_cli_leaves_a_loadable_checkpoint(tmp_path):
    (tmp_path / "data").mkdir()
    out = tmp_path / "cli.pt"
    command = [
        sys.executable,
        "-u",
        "-m",
        "memeclean_core",
        "train",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--steps",
        "100000",
        *FAST_TRAIN_ARGS,
        "--model-config",
        TINY_CONFIG,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    for line in process.stderr:  # progress lines: wait until training has taken steps
        if "step 10" in line:
            break
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "checkpoint saved" in stdout
    assert read_checkpoint(out)["train"]["step"] >= 10
    load_model(out, device="cpu")


def test_fill_trains_only_on_every_nth_step_and_still_learns(tmp_path):
    """With fill_every > 1 the batches without the fill carry no prefill; the run trains and reports both losses."""
    reports = [
        r
        for r in training_run(tiny_config(tmp_path, steps=6, fill_every=3, warmup_steps=0, progress_every=1))
        if not r.done
    ]
    fill_losses = [r.fill_loss for r in reports]
    assert [loss > 0 for loss in fill_losses] == [True, False, False, True, False, False]
    assert (tmp_path / "model.pt").exists()


def test_the_train_command_defaults_to_what_train_config_and_the_batch_stream_do():
    """The CLI spells its defaults out (it imports torch only when it runs), so they are checked against the config's
    here: a default changed in one place only would train differently from the command line than from the app."""
    import dataclasses
    import inspect

    from memeclean_core.cli import build_parser
    from memeclean_core.data.dataset import TrainingBatches

    args = build_parser().parse_args(["train", "--data", "d", "--out", "o.pt"])
    config = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for name in ("batch", "crop", "lr", "fill_every", "device", "workers", "seed", "precision", "reuse"):
        assert getattr(args, name) == config[name], name
    stream = inspect.signature(TrainingBatches).parameters
    for name in ("batch", "crop", "fill_every", "reuse", "seed"):
        assert stream[name].default == config[name], name


def test_the_anchor_loss_teaches_the_teachers_probability_only_where_the_teacher_is_right():
    from memeclean_core.training.train import anchor_loss

    truth = torch.tensor([[[[1.0, 1.0, 0.0, 0.0]]]])
    valid = torch.ones_like(truth)
    teacher = torch.tensor([[[[2.0, -3.0, -2.0, 4.0]]]])  # right, wrong, right, wrong
    student = torch.zeros_like(teacher, requires_grad=True)
    anchor_loss(student, teacher, truth, valid).backward()
    grad = student.grad.flatten()
    assert grad[1] == 0 and grad[3] == 0  # where the teacher is wrong the truth alone teaches
    assert grad[0] < 0 and grad[2] > 0  # elsewhere towards the teacher: up where it says caption, down where not
    at_teacher = teacher.clone().requires_grad_(True)
    anchor_loss(at_teacher, teacher, truth, valid).backward()
    assert torch.allclose(at_teacher.grad, torch.zeros(4).view(1, 1, 1, 4), atol=1e-7)  # its minimum: the teacher


def test_an_anchored_fine_tune_keeps_the_mask_closer_to_its_teacher(tmp_path):
    torch.set_num_threads(1)
    teacher_path = tmp_path / "teacher.pt"
    list(training_run(tiny_config(tmp_path, steps=20, out=str(teacher_path), seed=1)))
    tuned = {}
    for name, anchor in (("free", None), ("anchored", str(teacher_path))):
        out = tmp_path / f"{name}.pt"
        config = tiny_config(tmp_path, steps=20, out=str(out), init=str(teacher_path), seed=2, lr=2e-2)
        config.anchor, config.anchor_weight = anchor, 20.0
        list(training_run(config))
        tuned[name] = load_model(out, device="cpu", runtime="torch").net.eval()
    teacher = load_model(teacher_path, device="cpu", runtime="torch").net.eval()
    torch.manual_seed(3)
    pictures = torch.rand(4, 3, 64, 64)
    with torch.inference_mode():
        reference = torch.sigmoid(teacher.predict_mask(pictures))
        drift = {
            k: (torch.sigmoid(net.predict_mask(pictures)) - reference).abs().mean().item() for k, net in tuned.items()
        }
    assert drift["anchored"] < 0.7 * drift["free"], drift


def test_an_anchor_that_is_not_a_model_fails_in_one_line_before_training(tmp_path):
    bad = tmp_path / "teacher.pt"
    bad.write_bytes(b"not weights")
    config = tiny_config(tmp_path, steps=5)
    config.anchor = str(bad)
    with pytest.raises(ModelLoadError, match="teacher.pt"):
        list(training_run(config))
    assert not (tmp_path / "model.pt").exists()
