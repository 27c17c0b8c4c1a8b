"""The local API server inside the app: the core's server over the GUI's own engine thread.

There is one model in memory: the server hands its jobs to the app's `EngineWorker`
(`_EngineWorkerHost`), which runs them between the person's replies. So an API request waits
while the person's reply streams, and the person's reply waits while a request runs. uvicorn
runs on its own thread; starting and stopping it (a bind, a join) run on task threads, never on
the GUI thread.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from app.core.api.server import ApiServer, ApiService, RequestRecord, ServerSettings
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

if TYPE_CHECKING:
    from app.core.api.owner import EngineJob
    from app.core.paths import AppPaths
    from app.ui.workers.engine import EngineWorker, LoadOptions

log = logging.getLogger(__name__)


class _EngineWorkerHost:
    """The app's engine thread as the API server's `EngineHost`."""

    def __init__(self, worker: EngineWorker) -> None:
        self._worker = worker

    def submit(self, job: EngineJob) -> None:
        # A queued signal: the job runs on the engine thread after what is already queued there.
        self._worker.api_job_requested.emit(job)

    def loaded_model(self) -> Path | None:
        return self._worker.loaded_path()


class LocalApi(QObject):
    """Starts and stops the local API server; tells the GUI what it does.

    Signals (on the GUI thread):
        started(str): the server answers at this URL.
        stopped(): it stopped (also after `failed`).
        failed(object): it could not start (an `ApiBindError`: the port is taken, ...).
        request_changed(object): a `RequestRecord` (a copy) whenever a request changes: queued,
            running (about twice a second while it streams), done, refused.
    """

    started = Signal(str)
    stopped = Signal()
    failed = Signal(object)
    request_changed = Signal(object)

    def __init__(self, worker: EngineWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._host = _EngineWorkerHost(worker)
        self._jobs = Jobs(self)
        self._server: ApiServer | None = None
        self._starting = False
        self._stop_asked = False  # `stop()` came while the server was still starting
        self._launching: ApiServer | None = None  # the server being started, until it answers

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str | None:
        return self._server.url if self._server is not None else None

    @property
    def waiting(self) -> int:
        """API requests queued or running now."""
        return self._server.service.queue.pending if self._server is not None else 0

    def start(self, settings: ServerSettings, paths: AppPaths, load: LoadOptions) -> None:
        """Start serving (on a task thread); `started` or `failed` follows."""
        if self._server is not None or self._starting:
            return
        self._starting = True
        self._stop_asked = False
        self._worker.api_load_options = load
        service = ApiService(self._host, settings, paths, listener=self._relay)
        server = ApiServer(service)
        self._launching = server

        def start() -> ApiServer:
            server.start()
            return server

        job = TaskWorker(start, name="api-start")
        job.finished.connect(self._on_started)
        job.failed.connect(self._on_failed)
        self._jobs.start(job)

    def stop(self) -> None:
        """Stop serving (open streams end, their generations are cancelled); `stopped` follows."""
        server, self._server = self._server, None
        if server is None:
            self._stop_asked = self._starting  # stopped as soon as it has started
            return
        self._stop_in_background(server)

    def _stop_in_background(self, server: ApiServer) -> None:
        job = TaskWorker(server.stop, name="api-stop")
        job.finished.connect(lambda _result: self.stopped.emit())
        job.failed.connect(lambda _error: self.stopped.emit())
        self._jobs.start(job)

    def shutdown(self) -> None:
        """The app closes: stop the server now and wait for its thread."""
        server, self._server = self._server, None
        self._jobs.shutdown()  # a start under way ends first; its server is `_launching`
        for running in (server, self._launching):
            if running is not None:
                running.stop()
        self._launching = None

    def _relay(self, record: RequestRecord) -> None:
        # On the server's thread: a copy crosses to the GUI thread (queued signal).
        self.request_changed.emit(dataclasses.replace(record))

    @Slot(object)
    def _on_started(self, server: ApiServer) -> None:
        self._starting = False
        self._launching = None
        if self._stop_asked:
            self._stop_in_background(server)
            return
        self._server = server
        self.started.emit(server.url)

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self._starting = False
        self._launching = None
        log.warning("the local API server did not start: %s", error)
        self.failed.emit(error)
        self.stopped.emit()
