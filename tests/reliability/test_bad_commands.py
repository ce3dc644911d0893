"""clean, prepare, eval and selftest with bad input and unwritable outputs; weights files of the wrong shape; special
files (pipes, devices) are never read. One line each, the right exit status, nothing created or changed."""

from __future__ import annotations

import json
import os

import pytest
import torch

from memeclean_core.errors import ModelLoadError
from memeclean_core.network.checkpoint import load_model
from memeclean_core.network.model import MemeCleanNet, UNetConfig
from memeclean_core.network.weights import FORMAT

from .conftest import assert_refused, make_picture, no_temporaries, run_cli, run_subprocess, snapshot

pipes = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")


def clean(capsys, model, *args):
    return run_cli(capsys, "clean", *args, "--model", model, "--resolution", "64", "--device", "cpu")


# ------------------------------------------------------------------------------------------------------ clean


@pipes
def test_clean_refuses_a_named_pipe_at_once(tmp_path, tiny_model_path):
    """In a child with a timeout: a regression would block forever on the open."""
    os.mkfifo(tmp_path / "pipe.png")
    outcome = run_subprocess("clean", tmp_path / "pipe.png", "--model", tiny_model_path, "--device", "cpu", timeout=120)
    assert_refused(outcome, "named pipe")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.png"]


def test_clean_refuses_a_device(tmp_path, tiny_model_path, capsys):
    outcome = clean(capsys, tiny_model_path, "/dev/zero", "-o", tmp_path / "out.png")
    assert_refused(outcome, "device")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "output, reason",
    [
        ("afile/out.png", "folder"),
        ("meme.png", "input"),
        ("existing.png", "already exists"),
        ("out.tiff", "use one of"),
    ],
)
def test_clean_outputs_that_cannot_be_written(workdir, tiny_model_path, capsys, output, reason):
    (workdir / "afile").write_bytes(b"x")
    make_picture(workdir / "existing.png", seed=5)
    before = snapshot(workdir)
    assert_refused(clean(capsys, tiny_model_path, workdir / "meme.png", "-o", workdir / output), reason)
    assert snapshot(workdir) == before


@pytest.mark.parametrize("resolution", ["0", "-512", "63", "99999"])
def test_clean_resolution_out_of_range(workdir, tiny_model_path, capsys, resolution):
    before = snapshot(workdir)
    outcome = run_cli(capsys, "clean", workdir / "meme.png", "--resolution", resolution, "--model", tiny_model_path)
    assert_refused(outcome, "--resolution")
    assert snapshot(workdir) == before


@pytest.mark.parametrize("content", [b"", b"not an image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_clean_bad_files(workdir, tiny_model_path, capsys, content):
    (workdir / "bad.png").write_bytes(content)
    before = snapshot(workdir)
    outcome = clean(capsys, tiny_model_path, workdir / "bad.png")
    assert_refused(outcome, "bad.png")
    assert snapshot(workdir) == before


# ---------------------------------------------------------------------------------------------------- models


def _weights(path, **changes):
    net = MemeCleanNet(UNetConfig.tiny())
    payload = {"format": FORMAT, "config": net.config.to_dict(), "model": net.state_dict(), "train": None}
    payload.update(changes)
    torch.save(payload, path)
    return path


BAD_WEIGHTS = [
    ({"model": [1, 2]}, "not a dictionary"),
    ({"model": {"stem.weight": 3}}, "not a tensor"),
    ({"model": {}}, "does not match"),
    ({"config": [4, 2]}, "config"),
    ({"config": {"mask_channels": -4}}, "mask_channels"),
    ({"config": {"mask_channels": 2**40}}, "mask_channels"),
    ({"config": {"nonsense": 1}}, "unknown"),
    ({"train": "resume me"}, "training state"),
    ({"format": "v0"}, "not a MemeClean checkpoint"),
]


@pytest.mark.parametrize("changes, reason", BAD_WEIGHTS, ids=[r + str(i) for i, (_, r) in enumerate(BAD_WEIGHTS)])
def test_weights_of_the_wrong_shape_in_clean(workdir, capsys, changes, reason):
    weights = _weights(workdir / "w.pt", **changes)
    before = snapshot(workdir)
    assert_refused(run_cli(capsys, "clean", workdir / "meme.png", "--model", weights), reason)
    assert snapshot(workdir) == before


@pytest.mark.parametrize("changes, reason", BAD_WEIGHTS[:4], ids=[r for _, r in BAD_WEIGHTS[:4]])
def test_weights_of_the_wrong_shape_in_selftest(tmp_path, capsys, changes, reason):
    weights = _weights(tmp_path / "w.pt", **changes)
    outcome = run_cli(capsys, "selftest", "--model", weights, "--no-iou", "--device", "cpu")
    line = assert_refused(outcome, reason)
    assert line.startswith("self-test FAILED")


@pipes
def test_a_model_that_is_a_pipe_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "w.pt")
    with pytest.raises(ModelLoadError, match="named pipe"):
        load_model(tmp_path / "w.pt", device="cpu")


def test_selftest_min_iou_must_be_a_number(capsys):
    assert_refused(run_cli(capsys, "selftest", "--min-iou", "nan"), "--min-iou")


def test_selftest_out_dir_under_a_file(tmp_path, tiny_model_path, capsys):
    (tmp_path / "afile").write_bytes(b"x")
    before = snapshot(tmp_path)
    outcome = run_cli(
        capsys,
        "selftest",
        "--model",
        tiny_model_path,
        "--no-iou",
        "--device",
        "cpu",
        "--out-dir",
        tmp_path / "afile" / "sub",
    )
    assert_refused(outcome, "self-test FAILED")
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------------------------------- prepare


@pytest.fixture
def raw(tmp_path):
    make_picture(tmp_path / "raw" / "a.png", size=(200, 150))
    return tmp_path / "raw"


@pytest.mark.parametrize(
    "options, option",
    [
        (["--max-side", "10"], "--max-side"),
        (["--max-side", "99999999"], "--max-side"),
        (["--min-side", "0"], "--min-side"),
        (["--min-side", "5000"], "--min-side"),
        (["--val-fraction", "nan"], "--val-fraction"),
        (["--val-fraction", "1.5"], "--val-fraction"),
        (["--val-fraction", "-0.1"], "--val-fraction"),
        (["--workers", "0"], "--workers"),
        (["--seed", "-3"], "--seed"),
    ],
)
def test_prepare_options_out_of_range(tmp_path, raw, capsys, options, option):
    before = snapshot(tmp_path)
    assert_refused(run_cli(capsys, "prepare", raw, tmp_path / "dest", *options), option)
    assert snapshot(tmp_path) == before


def test_prepare_into_a_path_under_a_file(tmp_path, raw, capsys):
    (tmp_path / "afile").write_bytes(b"x")
    before = snapshot(tmp_path)
    assert_refused(run_cli(capsys, "prepare", raw, tmp_path / "afile" / "dest"), "destination")
    assert snapshot(tmp_path) == before


def test_prepare_into_a_folder_that_takes_no_files(tmp_path, raw, capsys, monkeypatch):
    """A read-only or full disk (root ignores permission bits, so the writer is patched): found before any work."""
    from memeclean_core.files import safe_write

    def refuse(folder, name, mode=0o666):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(safe_write, "_create_temporary", refuse)
    (tmp_path / "dest").mkdir()
    before = snapshot(tmp_path)
    assert_refused(run_cli(capsys, "prepare", raw, tmp_path / "dest"), "permission denied")
    assert snapshot(tmp_path) == before


@pipes
def test_prepare_skips_a_named_pipe_with_a_picture_name(tmp_path, raw):
    os.mkfifo(raw / "pipe.jpg")
    outcome = run_subprocess("prepare", raw, tmp_path / "dest", "--workers", "1", timeout=120)
    assert outcome.code == 0 and "Traceback" not in outcome.err
    assert "named pipe" in outcome.out and "not a regular file" in outcome.out
    report = json.loads((tmp_path / "dest" / "prepare_report.json").read_text())
    assert any(item["file"].endswith("pipe.jpg") for item in report["skipped"])
    assert no_temporaries(tmp_path / "dest")


def test_prepare_into_its_own_source_is_refused(tmp_path, raw, capsys):
    before = snapshot(tmp_path)
    assert_refused(run_cli(capsys, "prepare", raw, raw), "destination")
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------------------------------ eval


@pytest.mark.parametrize(
    "options, reason",
    [
        (["--count", "0"], "--count"),
        (["--long-side", "5"], "--long-side"),
        (["--seed", "-1"], "--seed"),
        (["--resolution", "8"], "--resolution"),
    ],
)
def test_eval_options_out_of_range(tmp_path, tiny_model_path, capsys, options, reason):
    before = snapshot(tmp_path)
    assert_refused(run_cli(capsys, "eval", "--data", tmp_path, "--model", tiny_model_path, *options), reason)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "target, reason", [("folder", "it is a folder"), ("existing.json", "already exists"), ("afile/out.json", "--json")]
)
def test_eval_json_that_cannot_be_written_is_refused_before_the_evaluation(
    tmp_path, tiny_model_path, capsys, target, reason, monkeypatch
):
    from memeclean_core.training import evaluate

    monkeypatch.setattr(evaluate, "evaluate_model", lambda *a, **k: pytest.fail("evaluated before refusing"))
    (tmp_path / "folder").mkdir()
    (tmp_path / "existing.json").write_text("{}")
    (tmp_path / "afile").write_bytes(b"x")
    before = snapshot(tmp_path)
    outcome = run_cli(capsys, "eval", "--data", tmp_path, "--model", tiny_model_path, "--json", tmp_path / target)
    assert_refused(outcome, reason)
    assert snapshot(tmp_path) == before


def test_eval_examples_folder_that_is_a_file(tmp_path, tiny_model_path, capsys):
    (tmp_path / "afile").write_bytes(b"x")
    before = snapshot(tmp_path)
    outcome = run_cli(
        capsys, "eval", "--data", tmp_path, "--model", tiny_model_path, "--save-examples", tmp_path / "afile"
    )
    assert_refused(outcome, "--save-examples")
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    "args",
    [
        ["clean"],
        ["train", "--data", "d"],
        ["caption", "x.png"],
        ["train", "--data", "d", "--out", "o.pt", "--batch", "many"],
        ["eval", "--data", "d", "--count", "1.5"],
        ["prepare", "a"],
        ["clean", "x.png", "--device", "tpu"],
    ],
)
def test_usage_errors_are_one_line_with_status_2(capsys, args):
    outcome = run_cli(capsys, *args)
    assert_refused(outcome, "error", "--help", code=2)
