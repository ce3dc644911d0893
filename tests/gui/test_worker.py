"""The worker: a plain function in the pool, reported through signals, cancelled between steps."""

from __future__ import annotations

from PySide6.QtCore import QThreadPool

from memeclean_core.errors import Cancelled, ImageLoadError
from memeclean_gui.worker import Task


def run(qtbot, task: Task) -> list:
    events = []
    task.signals.progress.connect(lambda t, fraction, text: events.append(("progress", fraction, text)))
    task.signals.result.connect(lambda t, value: events.append(("result", value)))
    task.signals.error.connect(lambda t, message: events.append(("error", message)))
    task.signals.cancelled.connect(lambda t: events.append(("cancelled",)))
    task.signals.finished.connect(lambda t: events.append(("finished",)))
    pool = QThreadPool()
    with qtbot.waitSignal(task.signals.finished, timeout=10_000):
        pool.start(task)
    assert pool.waitForDone(10_000)
    return events


def test_result_after_progress_then_finished(qtbot):
    def job(progress, cancel):
        progress(0.5, "half")
        return 42

    assert run(qtbot, Task(job, "test")) == [("progress", 0.5, "half"), ("result", 42), ("finished",)]


def test_errors_become_one_line_messages(qtbot):
    def user_error(progress, cancel):
        raise ImageLoadError("cannot read 'x.png': the file is empty")

    def bug(progress, cancel):
        return 1 / 0

    assert run(qtbot, Task(user_error, "test"))[0] == ("error", "cannot read 'x.png': the file is empty")
    events = run(qtbot, Task(bug, "test"))
    assert events == [("error", "Unexpected error (ZeroDivisionError: division by zero)."), ("finished",)]


def test_cancel_is_seen_between_steps(qtbot):
    def job(progress, cancel):
        for step in range(1000):
            if cancel():
                raise Cancelled("stopped")
            if step == 3:
                task.cancel()  # as the Cancel button would, from another thread
        return "ran to the end"

    task = Task(job, "test")
    assert run(qtbot, task) == [("cancelled",), ("finished",)] and task.outcome == "cancelled"
    early = Task(lambda progress, cancel: "never", "test")
    early.cancel()
    assert run(qtbot, early) == [("cancelled",), ("finished",)]
