"""The model loads in the background as soon as the window is shown, so the first clean does not wait for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import memeclean_core.network.checkpoint as checkpoint

from .conftest import wait_job

ROOT = Path(__file__).resolve().parents[2]


def counting_loads(monkeypatch) -> list:
    calls = []
    real = checkpoint.load_model

    def load_model(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "load_model", load_model)
    return calls


def test_preloading_loads_the_model_once_and_the_clean_uses_it(qtbot, make_window, meme_path, monkeypatch):
    loads = counting_loads(monkeypatch)
    window = make_window()
    controller = window.controller
    assert not controller.models.loaded
    assert wait_job(qtbot, controller, "preload", controller.preload_model) == "ok"
    assert controller.models.loaded and len(loads) == 1
    assert controller.models.device_name.startswith("CPU")  # "CPU (OpenVINO)" where OpenVINO runs it
    assert window.device_label.text() == f"Device: {controller.models.device_name}"  # known before any clean
    controller.preload_model()  # already loaded: nothing to do
    assert wait_job(qtbot, controller, "load", lambda: window.open_path(meme_path)) == "ok"
    assert wait_job(qtbot, controller, "clean", window.clean) == "ok"
    assert len(loads) == 1 and window.document.result is not None


def test_a_clean_asked_for_while_the_model_loads_waits_for_that_load(qtbot, make_window, meme_path, monkeypatch):
    loads = counting_loads(monkeypatch)
    window = make_window()
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path)) == "ok"
    with qtbot.waitSignals([window.controller.finished] * 2, timeout=60_000):
        window.controller.preload_model()
        window.clean()  # while the preload is (most likely) still loading
    qtbot.waitUntil(lambda: window.document.result is not None, timeout=60_000)
    assert len(loads) == 1  # one load, shared


def test_a_model_that_does_not_load_is_reported_by_the_clean_not_at_start(
    qtbot, make_window, meme_path, tmp_path, message_boxes
):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    window = make_window(model_path=broken)
    assert wait_job(qtbot, window.controller, "preload", window.controller.preload_model) == "ok"
    assert message_boxes == []  # nothing shown at start: the person has not asked for anything yet
    assert wait_job(qtbot, window.controller, "load", lambda: window.open_path(meme_path)) == "ok"
    assert wait_job(qtbot, window.controller, "clean", window.clean) == "error"
    assert len(message_boxes) == 1 and "broken.pt" in message_boxes[0][1]


def test_the_app_cleans_a_file_named_at_launch(tmp_path, tiny_model_path, meme_path):
    """`memeclean-gui FILE` end to end (bench/bench_gui.py times it): window, preload, open, automatic clean."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(ROOT),
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "memeclean_gui",
            "--quit-after-clean",
            "--model",
            str(tiny_model_path),
            "--device",
            "cpu",
            str(meme_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "first clean: ok after" in done.stdout and "Cleaned 240×180" in done.stdout
