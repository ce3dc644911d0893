"""The distributed paths under faults: a Ray address where nothing answers, a Ray worker killed mid-run (once, and
on every try), a data-parallel training process killed or hung. Each ends in one line or finishes, keeps every
output whole, and leaves a run that `--resume` completes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from memeclean_core.batches import folder as batch_folder
from memeclean_core.errors import MemeCleanError
from memeclean_core.network.weights import read_checkpoint

from ..conftest import RAY_TEST_TOKEN
from .conftest import ROOT, assert_refused, make_picture, run_cli, run_subprocess

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:ray"), pytest.mark.timeout(600)]

TINY_JSON = (
    '{"mask_channels": 4, "mask_levels": 2, "fill_channels": 4, "fill_levels": 2, "max_channels": 8, '
    '"head_channels": 4}'
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- a Ray address where nothing answers -----------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_ray_address_where_nothing_listens_is_one_line_within_30_seconds(tmp_path, scheme):
    pytest.importorskip("ray.data", reason="the 'cluster' extra (ray[data]) is not installed")
    make_picture(tmp_path / "in" / "a.png")
    started = time.monotonic()
    outcome = run_subprocess(
        "clean",
        "--input-dir",
        tmp_path / "in",
        "--output-dir",
        tmp_path / "out",
        "--engine",
        "ray",
        "--address",
        f"{scheme}127.0.0.1:{free_port()}",
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert_refused(outcome, "cannot reach the Ray cluster", "connection refused")
    assert not (tmp_path / "out").exists()


def test_an_address_that_never_answers_times_out_in_one_line():
    from memeclean_core.batches.ray import check_address

    # A listening socket whose backlog is full: the kernel drops further connection requests, so they hang.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(MemeCleanError, match="nothing answered within 1 s"):
            check_address(f"127.0.0.1:{port}", timeout=1.0)
        assert time.monotonic() - started < 5
        for filler in fillers:
            filler.close()


def test_an_address_whose_host_does_not_resolve_is_one_line(tmp_path, capsys):
    pytest.importorskip("ray.data", reason="the 'cluster' extra (ray[data]) is not installed")
    make_picture(tmp_path / "in" / "a.png")
    outcome = run_cli(
        capsys,
        "clean",
        "--input-dir",
        tmp_path / "in",
        "--output-dir",
        tmp_path / "out",
        "--engine",
        "ray",
        "--address",
        "no-such-host.invalid:6379",
    )
    assert_refused(outcome, "cannot reach the Ray cluster at 'no-such-host.invalid:6379'")


# -- a Ray worker killed mid-run ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="the 'cluster' extra (ray[data]) is not installed")
    pytest.importorskip("ray.data", reason="the 'cluster' extra (ray[data]) is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_TOKEN", RAY_TEST_TOKEN)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield ray
        ray.shutdown()


def killing_cleaner(victim: str, flag: Path, every_time: bool) -> type:
    """An ItemCleaner whose worker process SIGKILLs itself on `victim` (once, or on every try). Made inside a
    function so that Ray ships the class by value to its workers."""

    class Killing(batch_folder.ItemCleaner):
        def __call__(self, item):
            row = item if isinstance(item, dict) else item.to_row()
            if row["relative"] == victim and (every_time or not flag.exists()):
                flag.touch()
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__call__(item)

    return Killing


def pictures_folder(root: Path, count: int = 6) -> Path:
    for number in range(count):
        make_picture(root / f"m{number}.png", size=(96, 72), seed=number)
    return root


def all_whole(folder: Path) -> list[str]:
    names = []
    for path in sorted(folder.iterdir()):
        assert not path.name.startswith("."), f"a temporary file is left: {path.name}"
        with Image.open(path) as image:
            image.load()  # decodes: the file is whole
        names.append(path.name)
    return names


def ray_clean(capsys, source: Path, tmp_path: Path, model: Path, *extra: str):
    return run_cli(
        capsys,
        "clean",
        "--input-dir",
        source,
        "--output-dir",
        tmp_path / "out",
        "--manifest",
        tmp_path / "run.jsonl",
        "--engine",
        "ray",
        "--jobs",
        "2",
        "--model",
        model,
        *extra,
    )


def test_a_ray_worker_killed_once_mid_run_is_retried_and_the_run_finishes(
    tmp_path, capsys, monkeypatch, tiny_model_path, local_ray
):
    source = pictures_folder(tmp_path / "in")
    flag = tmp_path / "killed"
    monkeypatch.setattr(batch_folder, "ItemCleaner", killing_cleaner("m3.png", flag, every_time=False))
    outcome = ray_clean(capsys, source, tmp_path, tiny_model_path)
    assert flag.exists()  # the worker was killed
    assert outcome.code == 0 and "Traceback" not in outcome.err, outcome.err
    assert all_whole(tmp_path / "out") == [f"m{n}.png" for n in range(6)]
    records = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert sorted(Path(r["input"]).name for r in records if r["status"] == "done") == [f"m{n}.png" for n in range(6)]


def test_a_picture_that_kills_every_worker_stops_the_run_in_one_line_and_resume_completes_it(
    tmp_path, capsys, monkeypatch, tiny_model_path, local_ray
):
    source = pictures_folder(tmp_path / "in")
    monkeypatch.setattr(batch_folder, "ItemCleaner", killing_cleaner("m3.png", tmp_path / "killed", every_time=True))
    started = time.monotonic()
    outcome = ray_clean(capsys, source, tmp_path, tiny_model_path)
    assert time.monotonic() - started < 240  # retried a few times, never forever
    assert "Traceback" not in outcome.err and outcome.code == 1
    (line,) = [line for line in outcome.err_lines if line.startswith("memeclean:")]
    assert "a worker died 3 times" in line and "--resume" in line
    kept = all_whole(tmp_path / "out") if (tmp_path / "out").exists() else []
    assert "m3.png" not in kept

    monkeypatch.undo()  # the picture no longer kills its worker (a bigger machine, a fixed bug)
    resumed = ray_clean(capsys, source, tmp_path, tiny_model_path, "--resume")
    assert resumed.code == 0, resumed.err
    assert all_whole(tmp_path / "out") == [f"m{n}.png" for n in range(6)]


# -- a data-parallel training process killed or hung ----------------------------------------------------------------


def start_ranks(tmp_path: Path, out: Path) -> list[subprocess.Popen]:
    """Two processes of one gloo run, started as torchrun would (RANK, WORLD_SIZE, MASTER_*), without torchrun's
    agent: so the survivors meet the lost peer themselves, as on a cluster where another machine fails."""
    port = free_port()
    (tmp_path / "data").mkdir(exist_ok=True)
    processes = []
    for rank in (0, 1):
        environment = dict(
            os.environ,
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            OMP_NUM_THREADS="1",
            PYTHONPATH=str(ROOT),
        )
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "memeclean_core",
                    "train",
                    "--distributed",
                    "--data",
                    str(tmp_path / "data"),
                    "--out",
                    str(out),
                    "--steps",
                    "100000",
                    "--batch",
                    "2",
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
                ],
                env=environment,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return processes


def wait_for_steps(process: subprocess.Popen, lines: list[str]) -> None:
    """Read rank 0's stderr in a thread (kept in `lines`); return once it reports training steps."""
    started = threading.Event()

    def read() -> None:
        for line in process.stderr:
            lines.append(line)
            if " step " in line:
                started.set()

    threading.Thread(target=read, daemon=True).start()
    assert started.wait(timeout=180), "".join(lines)


LOST = [("kill", 1, signal.SIGKILL), ("kill", 0, signal.SIGKILL), ("hang", 1, signal.SIGSTOP)]


@pytest.mark.parametrize(("what", "victim", "how"), LOST, ids=["rank1-killed", "rank0-killed", "rank1-hangs"])
def test_a_lost_training_process_stops_the_others_within_60_seconds_with_a_resumable_checkpoint(
    tmp_path, capsys, what, victim, how
):
    out = tmp_path / "model.pt"
    processes = start_ranks(tmp_path, out)
    survivor = processes[1 - victim]
    lines: list[str] = []
    try:
        wait_for_steps(processes[0], lines)
        if victim == 1:
            survivor_lines = lines
        else:
            survivor_lines = []
            threading.Thread(target=lambda: survivor_lines.extend(processes[1].stderr), daemon=True).start()
        lost_at = time.monotonic()
        os.kill(processes[victim].pid, how)
        survivor.wait(timeout=90)
        assert time.monotonic() - lost_at < 60
        time.sleep(0.5)  # the reader thread takes the last lines
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
    said = "".join(survivor_lines)
    assert survivor.returncode == 1 and "Traceback" not in said, said[-2000:]
    (line,) = [line for line in said.splitlines() if line.startswith("memeclean:")]
    assert f"rank {1 - victim}: another process of the distributed run stopped" in line
    if victim == 0:
        assert not out.exists()  # rank 1 never writes it; rank 0 was killed before its first one
        return
    assert "checkpoint of the last whole step saved" in line
    step = read_checkpoint(out)["train"]["step"]
    assert step >= 1
    resumed = run_cli(
        capsys,
        "train",
        "--data",
        tmp_path / "data",
        "--out",
        out,
        "--resume",
        out,
        "--steps",
        step + 2,
        "--batch",
        "2",
        "--crop",
        "64",
        "--resolution",
        "256",
        "--workers",
        "0",
        "--device",
        "cpu",
    )
    assert resumed.code == 0, resumed.err
    assert read_checkpoint(out)["train"]["step"] == step + 2
    assert np.isfinite(float(read_checkpoint(out)["train"]["elapsed"]))
