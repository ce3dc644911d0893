"""Long runs stay flat: the short version of bench/bench_soak.py (the app's queue over 100 pictures with a tiny
network: memory and open files after the first tenth and at the end), and the worker tasks that a long session
runs by the thousand are freed once finished."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest

from .conftest import ROOT


def test_the_queue_over_100_pictures_keeps_memory_and_open_files_flat():
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_soak.py"),
            "queue",
            "--count",
            "100",
            "--side",
            "96",
            "--tiny",
            "--check",
            "memory,files",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", OMP_NUM_THREADS="1"),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "target memory  met" in done.stdout and "target files   met" in done.stdout
    assert done.stdout.count("\n       ") >= 10  # a sample after each of the ten rounds


@pytest.mark.parametrize("how", ["runner", "serial-runner", "side-task"])
def test_finished_worker_tasks_are_freed(qtbot, how):
    """PySide keeps every QRunnable that is not auto-deleted alive with its pool: the tasks (and whatever their
    closures hold) of a long session would pile up."""
    from PySide6.QtCore import QThreadPool

    from memeclean_gui.workers.runner import JobRunner, Task, run_in_pool

    pool = QThreadPool()
    runner = JobRunner(pool, serial=how == "serial-runner")
    freed = []
    for number in range(5):
        task = Task(lambda progress, cancel, number=number: number, "clean")
        freed.append(weakref.ref(task))
        # the task's finished signal, sent from the pool's thread, has been delivered: nothing of it is queued
        with qtbot.waitSignal(task.signals.finished if how == "side-task" else runner.finished, timeout=10_000):
            if how == "side-task":
                run_in_pool(pool, task)
            else:
                runner.start(task)
        del task
    assert pool.waitForDone(10_000)
    gc.collect()
    assert [ref() for ref in freed] == [None] * 5
