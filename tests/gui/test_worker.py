"""The one job runner: a plain function or a generator in the pool, reported through signals, cancelled between
steps or yields; JobRunner keeps tasks until they finish and drops results nobody wants any more."""

from __future__ import annotations

import enum
import threading

from PySide6.QtCore import QThreadPool

from memeclean_core.errors import Cancelled, ImageLoadError
from memeclean_gui.workers.runner import JobRunner, Outcome, Task, Workers


class Kind(enum.StrEnum):
    """A test owner's job kinds: the runner knows none of its own."""

    CLEAN = "clean"
    LOAD = "load"
    PREVIEW = "preview"
    TRAIN = "train"


def run(qtbot, task: Task) -> list:
    events = []
    task.signals.progress.connect(lambda t, fraction, text: events.append(("progress", fraction, text)))
    task.signals.result.connect(lambda t, value: events.append(("result", value)))
    task.signals.error.connect(lambda t, message: events.append(("error", message)))
    task.signals.yielded.connect(lambda t, item: events.append(("yielded", item)))
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

    assert run(qtbot, Task(job, Kind.CLEAN)) == [("progress", 0.5, "half"), ("result", 42), ("finished",)]


def test_errors_become_one_line_messages(qtbot):
    def user_error(progress, cancel):
        raise ImageLoadError("cannot read 'x.png': the file is empty")

    def bug(progress, cancel):
        return 1 / 0

    assert run(qtbot, Task(user_error, Kind.CLEAN))[0] == ("error", "cannot read 'x.png': the file is empty")
    events = run(qtbot, Task(bug, Kind.CLEAN))
    assert events == [("error", "Unexpected error (ZeroDivisionError: division by zero)."), ("finished",)]


def test_cancel_is_seen_between_steps(qtbot):
    def job(progress, cancel):
        for step in range(1000):
            if cancel():
                raise Cancelled("stopped")
            if step == 3:
                task.cancel()  # as the Cancel button would, from another thread
        return "ran to the end"

    task = Task(job, Kind.CLEAN)
    assert run(qtbot, task) == [("cancelled",), ("finished",)] and task.outcome == Outcome.CANCELLED
    early = Task(lambda progress, cancel: "never", Kind.CLEAN)
    early.cancel()
    assert run(qtbot, early) == [("cancelled",), ("finished",)]


def test_a_generator_job_yields_reports_in_order_then_its_return_value_is_the_result(qtbot):
    def job(progress, cancel):
        progress(0.0, "starting")
        for step in range(3):
            yield ("step", step)
        return "trained"

    task = Task(job, Kind.TRAIN)
    assert run(qtbot, task) == [
        ("progress", 0.0, "starting"),
        ("yielded", ("step", 0)),
        ("yielded", ("step", 1)),
        ("yielded", ("step", 2)),
        ("result", "trained"),
        ("finished",),
    ]
    assert task.outcome == Outcome.OK


def test_cancel_is_seen_between_yields_and_closes_the_generator(qtbot):
    closed = []

    def job(progress, cancel):
        try:
            for step in range(1000):
                if step == 2:
                    task.cancel()  # as the Cancel button would; the job itself does not look
                yield step
        finally:
            closed.append("finally ran")  # the trainer writes its checkpoint here

    task = Task(job, Kind.TRAIN)
    assert run(qtbot, task) == [("yielded", 0), ("yielded", 1), ("yielded", 2), ("cancelled",), ("finished",)]
    assert closed == ["finally ran"] and task.outcome == Outcome.CANCELLED


def test_an_error_inside_a_generator_job_is_a_one_line_message(qtbot):
    def job(progress, cancel):
        yield "first"
        raise ImageLoadError("cannot read 'y.png'")

    assert run(qtbot, Task(job, Kind.TRAIN)) == [
        ("yielded", "first"),
        ("error", "cannot read 'y.png'"),
        ("finished",),
    ]


def test_each_owner_declares_its_job_kinds_and_they_read_as_before():
    from memeclean_gui.controller import DocumentJob
    from memeclean_gui.modes.caption import CaptionJob
    from memeclean_gui.modes.library import LibraryJob
    from memeclean_gui.modes.queue_work import QueueJob

    assert DocumentJob.CLEAN == "clean" and CaptionJob.EXPORT == "caption-export" and LibraryJob.LOOKUP == "lookup"
    assert QueueJob.CLEAN == "queue-clean" and Outcome.DROPPED == "dropped"
    assert Task(lambda p, c: None, DocumentJob.SAVE).kind == "save"


def test_the_runner_hands_on_only_wanted_results_and_runs_serial_tasks_one_at_a_time(qtbot):
    pool = QThreadPool()
    wanted = {"yes"}
    runner = JobRunner(pool, serial=True, wanted=lambda task: task.fn(None, None) in wanted)
    got, order, finished = [], [], []
    runner.finished.connect(lambda task: finished.append((task.fn(None, None), task.outcome)))
    keep = Task(lambda progress, cancel: "yes", Kind.PREVIEW, on_result=got.append)
    drop = Task(lambda progress, cancel: "no", Kind.PREVIEW, on_result=got.append)
    with qtbot.waitSignals([runner.finished, runner.finished], timeout=10_000):
        runner.start(keep)
        runner.start(drop)
        order.append(runner.running)
    assert pool.waitForDone(10_000)
    assert got == ["yes"] and order == [2] and runner.running == 0
    assert finished == [("yes", Outcome.OK), ("no", Outcome.DROPPED)]


def test_the_runner_sends_errors_without_a_handler_to_its_error_signal_and_cancels_on_shutdown(qtbot):
    pool = QThreadPool()
    runner = JobRunner(pool)
    messages = []
    runner.error.connect(messages.append)

    def fails(progress, cancel):
        raise ImageLoadError("the file is empty")

    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.start(Task(fails, Kind.LOAD))
    assert messages == ["the file is empty"]

    def waits(progress, cancel):
        while not cancel():
            yield None
        return "never"

    task = runner.start(Task(waits, Kind.TRAIN))
    assert runner.shutdown(10_000) and task.outcome == Outcome.CANCELLED


def test_a_result_nobody_wants_goes_to_the_tasks_on_dropped(qtbot):
    runner = JobRunner(QThreadPool(), wanted=lambda task: False)
    got, dropped = [], []
    task = Task(lambda progress, cancel: "spilled file", Kind.CLEAN, on_result=got.append, on_dropped=dropped.append)
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.start(task)
    assert got == [] and dropped == ["spilled file"] and task.outcome == Outcome.DROPPED


def test_workers_shut_every_runner_down_at_once_each_as_its_owner_chose(qtbot):
    """One shutdown for the window: the shared pool's runners and those with a pool of their own; a runner that
    keeps its running task lets it finish, one that cancels stops it; tasks waiting in a serial runner never start."""
    workers = Workers(threads=2)
    cancelling = workers.runner()
    finishing = workers.runner(serial=True, cancel_on_quit=lambda task: False)
    own_pool = workers.runner(threads=1)
    release = threading.Event()

    def until_cancelled(progress, cancel):
        while not cancel():
            yield None
        return "never"

    def until_released(progress, cancel):
        assert release.wait(10)
        return "written"

    started = []
    stopped = cancelling.start(Task(until_cancelled, Kind.CLEAN))
    trained = own_pool.start(Task(until_cancelled, Kind.TRAIN))
    kept = finishing.start(Task(until_released, Kind.PREVIEW))
    never = finishing.start(Task(lambda progress, cancel: started.append(1), Kind.PREVIEW))
    threading.Timer(0.2, release.set).start()
    assert workers.shutdown(10_000)
    assert stopped.outcome == Outcome.CANCELLED and trained.outcome == Outcome.CANCELLED
    assert kept.outcome == Outcome.OK and never.outcome == Outcome.PENDING and started == []
    assert cancelling.closed and finishing.closed and own_pool.closed
    assert workers.runner().closed  # a runner made after the shutdown starts nothing either
