"""One worker contract: a `Job` runs on its own thread and ends with exactly one signal.

A `Job` is the work (its `run()` runs on a worker thread); a `Jobs` list is its owner on the GUI
thread: it starts each job on a QThread it parents, drops the job when its thread has ended (so
no list only grows), and at close `shutdown()` stops every job and waits for its thread. That is
the only `wait()` a job ever gets: the GUI thread never waits on a running job otherwise.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.errors import QuantdeskError

log = logging.getLogger(__name__)


class Job(QObject):
    """Work for a worker thread.

    Signals (queued to the receivers' threads):
        progress(object): how far the work got (what it means is the job's to say).
        finished(object): `run()`'s result.
        failed(object): the exception `run()` raised (a `QuantdeskError` carries a sentence).
        cancelled(): `run()` ended by one of `cancel_errors` (the person cancelled).

    Exactly one of finished, failed and cancelled is emitted, once: a guard like qutebrowser's
    `_die` drops any later attempt.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    # Exceptions that mean "cancelled" rather than "failed".
    cancel_errors: tuple[type[BaseException], ...] = ()

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self._done = False
        self._thread: QThread | None = None

    def run(self) -> object:
        """The work, on the job's thread. Subclasses override it."""
        raise NotImplementedError

    def stop(self) -> None:
        """Ask the work to end soon (the app is closing); thread-safe. Nothing by default."""

    def abandon(self) -> None:
        """Its owner is gone (a closed dialog): stop it, and let no ending signal fire any more
        (its receivers may be deleted by the time the work ends)."""
        self._done = True
        self.stop()

    @property
    def done(self) -> bool:
        """One of the ending signals was emitted."""
        return self._done

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @Slot()
    def _run(self) -> None:
        try:
            result = self.run()
        except Exception as exc:  # every failure must reach the GUI
            if isinstance(exc, self.cancel_errors):
                self._end(self.cancelled)
            else:
                if not isinstance(exc, QuantdeskError):
                    log.exception("unexpected failure in job %s", self.name)
                self._end(self.failed, exc)
        else:
            self._end(self.finished, result)
        finally:
            QThread.currentThread().quit()

    def _end(self, signal: Any, *args: object) -> None:
        if self._done:
            return
        self._done = True
        signal.emit(*args)


class Jobs(QObject):
    """The running jobs of one owner (a page, the session), on the GUI thread.

    Signals:
        changed(): a job started or ended (for owners that show whether anything runs).
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[QThread, Job] = {}

    def start(self, job: Job) -> Job:
        """Run `job` on a new thread, parented here so it outlives any caller's reference."""
        thread = QThread(self)
        thread.setObjectName(job.name)
        job._thread = thread
        job.moveToThread(thread)
        thread.started.connect(job._run)
        # A bound slot of this (GUI-thread) object: Qt queues it here once the thread has ended.
        thread.finished.connect(self._on_thread_finished)
        self._running[thread] = job
        thread.start()
        self.changed.emit()
        return job

    @property
    def running(self) -> list[Job]:
        return list(self._running.values())

    def __len__(self) -> int:
        return len(self._running)

    @Slot()
    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread) and self._running.pop(thread, None) is not None:
            # Qt's destructor waits for a thread that is still inside its finish step.
            thread.deleteLater()
            self.changed.emit()

    def hand_over(self, heir: Jobs) -> None:
        """Give every running job to `heir` without waiting: a dialog that closes while a job
        still talks to the network must not freeze the window. The jobs are abandoned (their
        results go nowhere) and `heir` (the session) waits for their threads at shutdown."""
        for thread, job in list(self._running.items()):
            job.abandon()
            thread.finished.disconnect(self._on_thread_finished)
            del self._running[thread]
            heir.adopt(thread, job)
        self.changed.emit()

    def adopt(self, thread: QThread, job: Job) -> None:
        thread.setParent(self)
        thread.finished.connect(self._on_thread_finished)
        self._running[thread] = job
        if not thread.isRunning():  # it ended while changing hands: its finished was missed
            self._running.pop(thread)
            thread.deleteLater()
        self.changed.emit()

    def shutdown(self) -> None:
        """Stop every job and wait for its thread (the window closes). The one wait: a QThread
        must never be destroyed while it runs, so there is no time limit."""
        jobs = list(self._running.items())
        for _thread, job in jobs:
            job.stop()
        for thread, job in jobs:
            while not thread.wait(5000):
                log.warning("still waiting for job %s to end", job.name)
            self._running.pop(thread, None)
