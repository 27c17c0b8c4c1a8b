"""Who runs the API's work on the model: the one thread that owns the engine, behind a queue.

There is never a second model in memory. The server never calls the `Engine` itself: it hands
an `EngineJob` to an `EngineHost`, whose one engine thread runs it between its other work.
Two hosts satisfy the interface:

- `EngineOwner` (here): a plain thread that owns an `Engine`, for `quantdesk serve`.
- the GUI's `EngineWorker` (`app/ui/workers/engine.py`): the app's engine thread runs API jobs
  between the person's replies, so an API request waits while the person's reply streams, and
  the other way round.

`RequestQueue` bounds how many jobs may wait: past that a request is refused at once (HTTP 429)
instead of piling up behind a long reply.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.core._util.cancel import CancelToken
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.errors import ApiBusyError

if TYPE_CHECKING:
    from app.core.engine.engine import Engine, LoadedModel
    from app.core.fit.measured import LoadTable
    from app.core.machine.hardware import HardwareProfile

log = logging.getLogger(__name__)


class EngineSession(Protocol):
    """What an `EngineJob` may use while it runs on the engine thread."""

    @property
    def engine(self) -> Engine: ...

    def use_model(self, path: Path, cancel: CancelToken) -> LoadedModel:
        """The loaded model if it is `path`, else `path` loaded the way the app loads (the fit
        decides the GPU layers); on the engine thread."""
        ...


@dataclass(frozen=True)
class EngineJob:
    """Work for the engine thread: `run` gets the session; `cancel` ends it (also before it
    starts: a job whose client went away while it waited does nothing)."""

    run: Callable[[EngineSession], None]
    cancel: CancelToken = field(default_factory=CancelToken)


class EngineHost(Protocol):
    """The owner of the one engine thread, as the API server sees it."""

    def submit(self, job: EngineJob) -> None:
        """Queue `job` for the engine thread; returns at once, from any thread."""
        ...

    def loaded_model(self) -> Path | None:
        """The loaded model's file, if any (read from any thread: a snapshot)."""
        ...


class RequestQueue:
    """Counts the API's jobs in the host's queue and refuses one past `max_waiting`.

    `max_waiting` is how many may wait behind the one running: with 1, a second client waits
    and a third is told to come back (`ApiBusyError`, HTTP 429 with Retry-After).
    """

    def __init__(self, host: EngineHost, *, max_waiting: int = 4) -> None:
        self._host = host
        self._max_waiting = max_waiting
        self._lock = threading.Lock()
        self._pending = 0  # submitted and not yet ended: waiting, plus the one running

    @property
    def pending(self) -> int:
        with self._lock:
            return self._pending

    def submit(self, job: EngineJob) -> int:
        """Queue `job`; returns how many of the API's jobs are ahead of it.

        Raises:
            ApiBusyError: `max_waiting` jobs are already waiting.
        """
        with self._lock:
            waiting = max(0, self._pending - 1)
            if self._pending and waiting >= self._max_waiting:
                raise ApiBusyError(waiting, retry_after=_retry_after(waiting))
            ahead = self._pending
            self._pending += 1

        def counted(session: EngineSession) -> None:
            try:
                job.run(session)
            finally:
                with self._lock:
                    self._pending -= 1

        try:
            self._host.submit(EngineJob(counted, job.cancel))
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        return ahead


def _retry_after(waiting: int) -> int:
    # A reply from a small local model takes seconds: ask to come back after about one per
    # waiting request, never sooner than a second.
    return max(1, 2 * waiting)


class EngineOwner:
    """A plain thread that owns an `Engine` and runs `EngineJob`s in order (`quantdesk serve`).

    Models are loaded as the app loads them (`fit.loading.load_measured`): measured, remembered,
    the GPU layers decided by the memory estimate for `hardware` (None: detected here once).
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        context: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        hardware: HardwareProfile | None = None,
        loads: LoadTable | None = None,
    ) -> None:
        """`threads`: llama.cpp's CPU threads (None: the engine's default, physical cores)."""
        from app.core.engine.engine import Engine

        self._engine = engine or Engine()
        self._context = context
        self._threads = threads
        self._hardware = hardware
        self._loads = loads
        self._jobs: queue.SimpleQueue[EngineJob | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="engine", daemon=True)
        self._current: CancelToken | None = None

    @property
    def engine(self) -> Engine:
        return self._engine

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: EngineJob) -> None:
        self._jobs.put(job)

    def loaded_model(self) -> Path | None:
        model = self._engine.model
        return model.path if model else None

    def call(self, work: Callable[[EngineSession], object], timeout: float | None = None) -> object:
        """Run `work` on the engine thread and wait for its result (or its exception)."""
        done = threading.Event()
        outcome: dict[str, object] = {}

        def job(session: EngineSession) -> None:
            try:
                outcome["result"] = work(session)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, who raises it
                outcome["error"] = exc
            finally:
                done.set()

        self.submit(EngineJob(job))
        if not done.wait(timeout):
            raise TimeoutError("the engine thread did not answer in time")
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome.get("result")

    def close(self, timeout: float = 30.0) -> None:
        """Stop the running job, unload on the engine thread, and end it."""
        current = self._current
        if current is not None:
            current.cancel()
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout)
        else:
            self._engine.unload()

    def use_model(self, path: Path, cancel: CancelToken) -> LoadedModel:
        model = self._engine.model
        if model is not None and model.path == Path(path):
            return model
        from app.core.fit.loading import load_measured

        if self._hardware is None:
            from app.core.machine.hardware import detect

            self._hardware = detect()
        result = load_measured(
            self._engine,
            Path(path),
            self._load_table(),
            context=self._context,
            threads=self._threads,
            gpu_layers=None,  # automatic: the fit decides, as in the app
            hardware=self._hardware,
            cancel=cancel,
        )
        return result.model

    def _load_table(self) -> LoadTable:
        if self._loads is None:
            from app.core.fit.measured import LoadTable
            from app.core.paths import app_paths

            self._loads = LoadTable.in_folder(app_paths().data)
        return self._loads

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            self._current = job.cancel
            try:
                job.run(self)
            except Exception:  # a job reports its own failures; this one is a bug in it
                log.exception("an engine job failed")
            finally:
                self._current = None
        self._engine.unload()
