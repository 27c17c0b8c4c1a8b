"""The worker contract: one ending signal, once; finished jobs leave their list; shutdown stops
and waits. Real threads, real Qt signals."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from app.core._util.cancel import CancelToken
from app.core.errors import DownloadCancelledError, ImportCancelledError
from app.ui.workers.job import Job, Jobs
from app.ui.workers.task import TaskWorker


def test_a_finished_job_emits_finished_only_and_leaves_its_list(qtbot: QtBot) -> None:
    jobs = Jobs()
    job = TaskWorker(lambda: threading.current_thread().name, name="answer")
    with (
        qtbot.assertNotEmitted(job.failed, wait=100),
        qtbot.assertNotEmitted(job.cancelled, wait=100),
        qtbot.waitSignal(job.finished, timeout=10_000) as finished,
    ):
        jobs.start(job)
    assert finished.args[0] != threading.main_thread().name  # it ran on its own thread
    assert job.done
    qtbot.waitUntil(lambda: len(jobs) == 0, timeout=5_000)  # pruned: no list that only grows


def test_a_failing_job_emits_failed_with_the_error(qtbot: QtBot) -> None:
    jobs = Jobs()

    def broken() -> None:
        raise OSError("disk on fire")

    job = TaskWorker(broken)
    with (
        qtbot.assertNotEmitted(job.finished, wait=100),
        qtbot.waitSignal(job.failed, timeout=10_000) as failed,
    ):
        jobs.start(job)
    assert isinstance(failed.args[0], OSError) and "disk on fire" in str(failed.args[0])
    qtbot.waitUntil(lambda: len(jobs) == 0, timeout=5_000)


class _Cancelling(Job):
    """Ends by the error a download raises when the person cancels it."""

    cancel_errors = (DownloadCancelledError,)

    def run(self) -> object:
        raise DownloadCancelledError("cancelled")


def test_a_cancelled_job_emits_cancelled_not_failed(qtbot: QtBot) -> None:
    jobs = Jobs()
    job = _Cancelling("cancelling")
    with (
        qtbot.assertNotEmitted(job.failed, wait=100),
        qtbot.assertNotEmitted(job.finished, wait=100),
        qtbot.waitSignal(job.cancelled, timeout=10_000),
    ):
        jobs.start(job)


def test_many_jobs_leave_no_threads_behind(qtbot: QtBot) -> None:
    jobs = Jobs()
    started = [jobs.start(TaskWorker(lambda n=n: n, name=f"job {n}")) for n in range(6)]
    qtbot.waitUntil(lambda: all(job.done for job in started), timeout=20_000)
    qtbot.waitUntil(lambda: len(jobs) == 0 and not jobs.findChildren(QThread), timeout=5_000)


def test_shutdown_stops_running_jobs_and_waits_for_their_threads(qtbot: QtBot) -> None:
    jobs = Jobs()
    cancel = CancelToken()

    def copy_until_stopped() -> None:
        while not cancel.cancelled:
            time.sleep(0.01)
        raise ImportCancelledError("stopped")

    job = jobs.start(TaskWorker(copy_until_stopped, name="copy", stop=cancel.cancel))
    qtbot.waitUntil(lambda: job.is_running, timeout=5_000)
    jobs.shutdown()
    assert cancel.cancelled
    assert not job.is_running
    assert len(jobs) == 0


@pytest.mark.parametrize("ending", ["finished", "failed"])
def test_the_ending_signal_fires_once_even_if_the_work_ends_twice(
    qtbot: QtBot, ending: str
) -> None:
    """A job whose work reports its own end (say a callback) before returning still emits one
    ending signal: the guard drops the second."""

    class EndsTwice(Job):
        def run(self) -> object:
            if ending == "finished":
                self._end(self.finished, "early")
                return "late"
            self._end(self.failed, RuntimeError("early"))
            raise RuntimeError("late")

    jobs = Jobs()
    job = EndsTwice("twice")
    seen: list[object] = []
    job.finished.connect(seen.append)
    job.failed.connect(seen.append)
    jobs.start(job)
    qtbot.waitUntil(lambda: len(jobs) == 0, timeout=5_000)
    qtbot.wait(50)
    assert len(seen) == 1 and "early" in str(seen[0])
