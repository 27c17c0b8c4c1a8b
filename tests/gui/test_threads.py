"""The thread-leak check that every GUI test runs under (`conftest.no_dangling_qthreads`)."""

from __future__ import annotations

import inspect
import time

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker
from tests.gui.threads import ThreadWatch


def test_a_thread_left_running_is_named_with_the_line_that_started_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    watch = ThreadWatch()
    thread = QThread()
    thread.setObjectName("left running")
    with watch.watching(monkeypatch):
        line = inspect.stack()[0].lineno + 1
        thread.start()
    try:
        assert watch.still_running(grace_seconds=0.2) == [
            f"'left running' started at tests/gui/test_threads.py:{line}"
        ]
    finally:
        assert watch.quit_running() == [thread]
        assert thread.wait(5_000)
    assert watch.still_running(grace_seconds=0) == []


def test_a_job_that_has_finished_gets_time_to_end_its_thread(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = ThreadWatch()
    with watch.watching(monkeypatch):
        jobs = Jobs()
        task = TaskWorker(lambda: time.sleep(0.3), name="short task")
        with qtbot.waitSignal(task.finished, timeout=10_000):
            jobs.start(task)
    # The thread quits right after `finished`; it may still be leaving its loop here.
    assert watch.still_running() == []
