"""The self-test behind `memeclean selftest` / `memeclean-gui --self-test`: passes on a good install, and names
the reason (never raises) when anything is wrong."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from PIL import Image

from memeclean_core import selftest
from memeclean_core.cleaning import inference
from memeclean_core.cli import selftest as cli_selftest


def test_the_bundled_sample_and_its_mask_fit_together():
    sample, mask = selftest.sample_paths()
    assert sample.stat().st_size < 150_000
    with Image.open(sample) as image, Image.open(mask) as truth:
        assert image.format == "JPEG" and 500 <= max(image.size) <= 700
        assert truth.size == image.size
        coverage = (np.asarray(truth.convert("L")) >= 128).mean()
    assert 0.03 < coverage < 0.3


def test_a_good_install_passes_and_reports_timings_and_device(tmp_path):
    ok, message = selftest.run_self_test(out_dir=tmp_path)  # the shipped model, every check on
    assert ok, message
    assert message.startswith("self-test passed") and "\n" not in message
    assert "on CPU" in message and "mask IoU" in message and "clean " in message
    written = tmp_path / "sample-meme.clean.png"
    with Image.open(written) as image, Image.open(selftest.sample_paths()[0]) as sample:
        assert image.size == sample.size


def test_the_iou_threshold_is_checked(tiny_model_path):
    ok, message = selftest.run_self_test(model_path=tiny_model_path, min_iou=1.01)
    assert not ok
    assert "mask IoU" in message and "below 1.01" in message


def test_a_missing_model_fails_with_the_reason(tmp_path):
    ok, message = selftest.run_self_test(model_path=tmp_path / "nope.pt")
    assert not ok
    assert "model file not found" in message and "nope.pt" in message


def test_a_clean_that_leaves_the_caption_fails(tiny_model_path, monkeypatch):
    def no_op(image, resolution=512, mask=None, model=None, **kwargs):
        empty = np.zeros(image.shape[:2], bool)
        return inference.CleanResult(image=image.copy(), mask=empty, region=empty)

    monkeypatch.setattr(inference, "clean", no_op)
    ok, message = selftest.run_self_test(model_path=tiny_model_path, min_iou=None)
    assert not ok
    assert "caption was not removed" in message


def test_an_unexpected_error_is_reported_not_raised(tiny_model_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("libsomething.so: cannot open shared object file\nmore")

    monkeypatch.setattr(inference, "clean", broken)
    ok, message = selftest.run_self_test(model_path=tiny_model_path)
    assert not ok
    assert message == "self-test FAILED: unexpected RuntimeError: libsomething.so: cannot open shared object file"


def test_a_missing_sample_fails_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(selftest, "sample_paths", lambda: (tmp_path / "gone.jpg", tmp_path / "gone.png"))
    ok, message = selftest.run_self_test()
    assert not ok
    assert "gone.jpg" in message


@pytest.mark.parametrize("extra, status", [([], 0), (["--min-iou", "1.01"], 1)])
def test_the_cli_command_exits_with_the_result(extra, status, capsys):
    parser = argparse.ArgumentParser(prog="memeclean")
    cli_selftest.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["selftest", *extra])  # the shipped model
    assert args.run(args) == status
    out, err = capsys.readouterr()
    assert ("self-test passed" in out) == (status == 0)
    assert ("self-test FAILED" in err) == (status == 1)
