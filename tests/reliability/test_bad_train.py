"""`memeclean train` with bad options, bad data, bad resume files and unwritable outputs: refused in one line that
names the option, before any training, with nothing written; signals end a run with a checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from memeclean_core.network.model import MemeCleanNet, UNetConfig
from memeclean_core.network.weights import FORMAT, read_checkpoint

from ..conftest import FAST_TRAIN_ARGS
from .conftest import ROOT, TINY_CONFIG, assert_refused, make_picture, no_temporaries, run_cli, snapshot

FAST = [*FAST_TRAIN_ARGS, "--model-config", TINY_CONFIG]


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    make_picture(folder / "images" / "a.jpg", size=(96, 80))
    return folder


def train(capsys, data, out, *options):
    """train with FAST defaults; later options win (argparse keeps the last value)."""
    return run_cli(capsys, "train", "--data", data, "--out", out, "--steps", "1", *FAST, *options)


BAD_OPTIONS = [
    (["--minutes", "-1"], "--minutes"),
    (["--minutes", "0"], "--minutes"),
    (["--minutes", "nan"], "--minutes"),
    (["--minutes", "inf"], "--minutes"),
    (["--steps", "-5"], "--steps"),
    (["--steps", "0"], "--steps"),
    (["--batch", "0"], "--batch"),
    (["--batch", "-3"], "--batch"),
    (["--batch", "100000"], "--batch"),
    (["--crop", "0"], "--crop"),
    (["--crop", "31"], "--crop"),
    (["--crop", "100000"], "--crop"),
    (["--crop", "66"], "--crop"),
    (["--workers", "-1"], "--workers"),
    (["--workers", "1000"], "--workers"),
    (["--fill-every", "0"], "--fill-every"),
    (["--fill-every", "-2"], "--fill-every"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--lr", "5"], "--lr"),
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**40)], "--seed"),
    (["--resolution", "100"], "--resolution"),
    (["--resolution", "100000"], "--resolution"),
    (["--model-config", "[1, 2]"], "--model-config"),
    (["--model-config", "not json"], "--model-config"),
    (["--model-config", '{"bogus": 1}'], "bogus"),
    (["--model-config", '{"mask_channels": "wide"}'], "mask_channels"),
    (["--model-config", '{"mask_channels": 4.5}'], "mask_channels"),
    (["--model-config", '{"mask_channels": 100000000}'], "mask_channels"),
    (["--model-config", '{"mask_levels": 0}'], "mask_levels"),
    (["--model-config", '{"fill_levels": true}'], "fill_levels"),
]


@pytest.mark.parametrize("options, option", BAD_OPTIONS, ids=[" ".join(o) for o, _ in BAD_OPTIONS])
def test_bad_options_are_refused_before_any_work(tmp_path, data, capsys, options, option):
    before = snapshot(tmp_path)
    outcome = train(capsys, data, tmp_path / "model.pt", *options)
    assert_refused(outcome, option)
    assert snapshot(tmp_path) == before


def test_no_budget_is_refused(tmp_path, data, capsys):
    outcome = run_cli(capsys, "train", "--data", data, "--out", tmp_path / "m.pt", *FAST)
    assert_refused(outcome, "--minutes", "--steps")
    assert not (tmp_path / "m.pt").exists()


def test_an_existing_checkpoint_is_not_overwritten_unasked(tmp_path, data, capsys):
    out = tmp_path / "model.pt"
    out.write_bytes(b"someone's file")
    before = snapshot(tmp_path)
    assert_refused(train(capsys, data, out), "already exists")
    assert snapshot(tmp_path) == before


def test_a_photo_is_never_taken_for_a_checkpoint(tmp_path, data, capsys):
    photo = make_picture(tmp_path / "holiday.jpg")
    before = snapshot(tmp_path)
    assert_refused(train(capsys, data, photo, "--overwrite"), "--out", ".jpg")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "where, reason",
    [
        ("afile/model.pt", "a part of the path is a file"),
        ("folder", "it is a folder"),
        ("data/model.pt", "inside the data folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_found_before_training(tmp_path, data, capsys, where, reason):
    (tmp_path / "afile").write_bytes(b"x")
    (tmp_path / "folder").mkdir()
    before = snapshot(tmp_path)
    assert_refused(train(capsys, data, tmp_path / where), reason)
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------------------- resume files


def _checkpoint(path, **changes):
    net = MemeCleanNet(UNetConfig.tiny())
    payload = {
        "format": FORMAT,
        "config": net.config.to_dict(),
        "model": net.state_dict(),
        "train": {"step": 3, "elapsed": 1.0, "optimiser": None, "config": {}},
    }
    for key, value in changes.items():
        if key.startswith("train_"):
            payload["train"][key[6:]] = value
        else:
            payload[key] = value
    torch.save(payload, path)
    return path


BAD_RESUMES = [
    ({"model": [1, 2, 3]}, "not a dictionary"),
    ({"model": {"weight": "not a tensor"}}, "not a tensor"),
    ({"config": "tiny"}, "config"),
    ({"config": {"mask_channels": 4, "unknown_field": 1}}, "unknown"),
    ({"config": {"mask_channels": 10**9}}, "mask_channels"),
    ({"train": [3, 1.0]}, "training state"),
    ({"train_step": "3"}, "training step"),
    ({"train_step": -1}, "training step"),
    ({"train_elapsed": float("nan")}, "elapsed"),
    ({"train_optimiser": 5}, "optimiser"),
    ({"format": "something-else"}, "not a MemeClean checkpoint"),
]


@pytest.mark.parametrize("changes, reason", BAD_RESUMES, ids=[str(c)[:40] for c, _ in BAD_RESUMES])
def test_bad_resume_files_are_refused_in_one_line(tmp_path, data, capsys, changes, reason):
    resume = _checkpoint(tmp_path / "resume.pt", **changes)
    before = snapshot(tmp_path)
    outcome = train(capsys, data, tmp_path / "new.pt", "--resume", resume, "--steps", "10")
    assert_refused(outcome, reason)
    assert snapshot(tmp_path) == before


def test_a_resume_file_that_is_not_a_checkpoint(tmp_path, data, capsys):
    resume = tmp_path / "resume.pt"
    resume.write_bytes(os.urandom(3000))
    before = snapshot(tmp_path)
    assert_refused(train(capsys, data, tmp_path / "new.pt", "--resume", resume), "resume.pt")
    assert snapshot(tmp_path) == before


def test_an_optimiser_state_of_another_network_is_refused(tmp_path, data, capsys):
    other = torch.optim.AdamW(torch.nn.Linear(3, 3).parameters())
    other.step()
    resume = _checkpoint(tmp_path / "resume.pt", train_optimiser=other.state_dict())
    before = snapshot(tmp_path)
    assert_refused(train(capsys, data, tmp_path / "new.pt", "--resume", resume, "--steps", "10"), "optimiser")
    assert snapshot(tmp_path) == before


# -------------------------------------------------------------------------------------------- data folders


def test_a_folder_of_loose_pictures_is_refused(tmp_path, capsys):
    make_picture(tmp_path / "raw" / "holiday.jpg")
    before = snapshot(tmp_path)
    assert_refused(train(capsys, tmp_path / "raw", tmp_path / "m.pt"), "not a prepared data folder", "prepare")
    assert snapshot(tmp_path) == before


def test_an_images_folder_without_pictures_is_refused(tmp_path, capsys):
    (tmp_path / "data" / "images").mkdir(parents=True)
    (tmp_path / "data" / "images" / "notes.txt").write_text("no pictures here")
    assert_refused(train(capsys, tmp_path / "data", tmp_path / "m.pt"), "holds no pictures")
    assert not (tmp_path / "m.pt").exists()


def test_a_missing_data_folder_is_refused(tmp_path, capsys):
    assert_refused(train(capsys, tmp_path / "nowhere", tmp_path / "m.pt"), "not found", "nowhere")
    assert not (tmp_path / "m.pt").exists()


def test_an_empty_folder_says_it_trains_on_generated_pictures(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    outcome = train(capsys, tmp_path / "empty", tmp_path / "m.pt")
    assert outcome.code == 0, outcome.err
    assert "generated pictures only" in outcome.err
    read_checkpoint(tmp_path / "m.pt")


def test_a_corrupt_picture_is_skipped_and_training_goes_on(tmp_path, data, capsys):
    (data / "images" / "broken.jpg").write_bytes((data / "images" / "a.jpg").read_bytes()[:100])
    outcome = train(capsys, data, tmp_path / "m.pt", "--steps", "3")
    assert outcome.code == 0 and "Traceback" not in outcome.err
    assert read_checkpoint(tmp_path / "m.pt")["train"]["step"] == 3


def test_only_corrupt_pictures_is_one_line(tmp_path, capsys):
    folder = tmp_path / "data" / "images"
    folder.mkdir(parents=True)
    for name in ("a.jpg", "b.png"):
        (folder / name).write_bytes(b"\xff\xd8\xff\xe0 not really a picture")
    outcome = train(capsys, tmp_path / "data", tmp_path / "m.pt", "--steps", "50")
    assert_refused(outcome, "can be read")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_among_the_pictures_is_not_read(tmp_path, data, capsys):
    os.mkfifo(data / "images" / "pipe.jpg")  # reading it would block the data loader forever
    outcome = train(capsys, data, tmp_path / "m.pt", "--steps", "2")
    assert outcome.code == 0, outcome.err
    assert read_checkpoint(tmp_path / "m.pt")["train"]["step"] == 2


# ----------------------------------------------------------------------------------------- full disk, signals


def _train_process(tmp_path, data, out, *extra, preexec=None):
    command = [
        sys.executable,
        "-u",
        "-m",
        "memeclean_core",
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        *FAST,
        *map(str, extra),
    ]
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=preexec
    )


def test_a_full_disk_at_the_checkpoint_is_one_line_and_no_half_file(tmp_path, data):
    import resource

    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # noqa: E731 - the checkpoint is larger
    process = _train_process(tmp_path, data, tmp_path / "out" / "m.pt", "--steps", "2", preexec=limit)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1 and "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("memeclean:")]
    assert len(errors) == 1 and "file-size limit" in errors[0]
    assert list((tmp_path / "out").iterdir()) == []


def _wait_for_steps(process, step: int = 2) -> None:
    for line in process.stderr:  # progress lines: wait until training has taken steps
        if f"step {step}" in line:
            return
    raise AssertionError("training printed no progress")


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_training_with_a_checkpoint(tmp_path, data, signum, status):
    out = tmp_path / "m.pt"
    process = _train_process(tmp_path, data, out, "--steps", "100000")
    _wait_for_steps(process)
    process.send_signal(signum)
    stdout, _ = process.communicate(timeout=120)
    assert process.returncode == status
    assert "checkpoint saved" in stdout
    assert read_checkpoint(out)["train"]["step"] >= 2
    assert no_temporaries(tmp_path)


def test_a_stop_sent_to_the_whole_process_group_still_saves_the_checkpoint(tmp_path, data):
    """`kill` of the process group, a service manager's stop or a terminal's Ctrl+C reach the data workers too:
    the run must still finish its step and save, not die with the workers."""
    out = tmp_path / "m.pt"
    # its own session (process group), and one data worker process: the last --workers wins
    process = _train_process(tmp_path, data, out, "--steps", "100000", "--workers", "1", preexec=os.setsid)
    _wait_for_steps(process, 10)
    os.killpg(process.pid, signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr and "checkpoint saved" in stdout
    assert read_checkpoint(out)["train"]["step"] >= 10


def test_a_second_signal_ends_training_at_once(tmp_path, data, monkeypatch):
    out = tmp_path / "m.pt"
    process = _train_process(tmp_path, data, out, "--steps", "100000")
    _wait_for_steps(process)
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    process.communicate(timeout=120)
    assert process.returncode == 143
    assert time.monotonic() - started < 60
    if out.exists():  # whatever is there is whole
        read_checkpoint(out)
