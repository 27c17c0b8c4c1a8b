"""The engine worker: the one thread that owns the llama.cpp model."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core._util.cancel import CancelToken
from app.core._util.priority import lower_this_threads_priority
from app.core.chat.history import ChatStore, MessageState
from app.core.chat.prompting import PreparedReply, ReplyRequest
from app.core.chat.reasoning import REASONING
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.engine.engine import Engine, FinishReason, GenerationStats, Reply
from app.core.errors import ChatTemplateError, HistoryError, QuantdeskError

if TYPE_CHECKING:
    from app.core.api.owner import EngineJob
    from app.core.engine.engine import LoadedModel
    from app.core.fit.loading import LoadResult
    from app.core.fit.measured import LoadTable
    from app.core.machine.hardware import HardwareProfile

log = logging.getLogger(__name__)

# Reply text is sent to the GUI at most this often (about 30 updates a second), so painting
# never competes with generation.
TEXT_BATCH_SECONDS = 1 / 30


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model: context length, CPU threads (None: physical cores), GPU layers
    (None: automatic, from the memory estimate for `hardware`; -1 all)."""

    context_length: int = DEFAULT_CONTEXT
    threads: int | None = None
    gpu_layers: int | None = 0
    hardware: HardwareProfile | None = None
    # Other computers to place layers on ("host:port", Settings → Other computers).
    workers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SpeedTest:
    """A speed test of the loaded model: where to keep the result, and the machine it runs on
    (None: detected on the engine thread)."""

    data_dir: Path
    cache_dir: Path
    hardware: HardwareProfile | None = None
    cancel: CancelToken | None = None  # the asker's Stop (set before the test starts: skipped)


@dataclass(frozen=True)
class ReplyStarted:
    """A reply began: its stored message (if recorded), prompt and context use."""

    message_id: int | None
    prompt: str
    prompt_tokens: int
    context_length: int
    dropped_turns: int


@dataclass(frozen=True)
class StreamUpdate:
    """New reply text since the last update, with the running figures for the status line."""

    reasoning: str
    answer: str
    tokens: int
    context_used: int
    seconds: float
    in_reasoning: bool


@dataclass(frozen=True)
class ReplyFinished:
    """The end of a reply (also a stopped one)."""

    message_id: int | None
    stats: GenerationStats
    reasoning: str
    answer: str
    reasoning_seconds: float | None


class EngineWorker(QObject):
    """Loads models and generates replies on its own thread; the GUI talks to it by signals.

    Requests (connect to them, or emit them; they run on the worker thread):
        load_requested(str, object): path of a GGUF to load (unloads the previous model) and
            a `LoadOptions`.
        reply_requested(object): a `ReplyRequest`.
        speed_test_requested(object): a `SpeedTest` of the loaded model (about ten seconds).
        api_job_requested(object): an `EngineJob` of the local API server: it runs here,
            between the person's own requests (the worker is the API's `EngineSession`).
        shutdown_requested(): unload, then end the worker's thread.

    Signals:
        loaded(object): the `LoadedModel` after a successful load.
        fell_back(object): a `GpuFallback`, just before `loaded`, when the GPU had no room for
            the layers asked and the model was loaded with fewer there.
        workers_left_out(object): the `RemoteWorkerError`s of other computers that couldn't be
            used for this load (gone, refused), just before `loaded`; the load went without.
        load_failed(object): the `QuantdeskError` (or unexpected exception) of a failed load
            (a `LoadMemoryError` carries a shorter context to offer, when one fits).
        started(object): a `ReplyStarted`, once the prompt is rendered and fits.
        streamed(object): a `StreamUpdate`, about 30 times a second while the reply streams.
        finished(object): a `ReplyFinished` (also when stopped).
        failed(object): the exception of a reply that could not be generated (a
            `ContextOverflowError` when the conversation no longer fits).
        speed_test_progress(float): how far the speed test is, 0 to 1.
        speed_tested(object): the stored `SpeedMeasurement`.
        speed_test_failed(object): the error of a speed test that did not end (stopped, or no
            model).

    When the request names a chat database, every update is written there before it is sent
    to the GUI: whatever the person has seen survives the app being killed.

    `stop()` may be called from any thread: generation ends before the next token.
    """

    load_requested = Signal(str, object)
    reply_requested = Signal(object)
    speed_test_requested = Signal(object)
    api_job_requested = Signal(object)
    shutdown_requested = Signal()

    loaded = Signal(object)
    fell_back = Signal(object)
    workers_left_out = Signal(object)
    load_failed = Signal(object)
    started = Signal(object)
    streamed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    speed_test_progress = Signal(float)
    speed_tested = Signal(object)
    speed_test_failed = Signal(object)

    def __init__(self, engine: Engine | None = None, loads: LoadTable | None = None) -> None:
        """`loads`: the table of measured loads (default: in the data folder, found per load)."""
        super().__init__()
        self._engine = engine or Engine()
        self._loads = loads
        # The loaded model's measured load, raised after each reply (`loading.remeasure`).
        self._measured: LoadResult | None = None
        self._cancel = CancelToken()
        # Set when the app closes: a load or reply still queued then starts cancelled.
        self._closing = threading.Event()
        self._stores: dict[Path, ChatStore] = {}
        self.priority_lowered = False  # set on the engine thread as it starts
        self.load_requested.connect(self._load)
        self.reply_requested.connect(self._reply)
        self.speed_test_requested.connect(self._speed_test)
        self.api_job_requested.connect(self._api_job)
        self.shutdown_requested.connect(self._shutdown)
        # How the API loads a model it is asked for (set by the GUI before the server starts).
        self.api_load_options = LoadOptions(gpu_layers=None)
        self._api_cancel: CancelToken | None = None

    @property
    def has_model(self) -> bool:
        """A model is loaded. Read it from another thread only when this one is idle or ended
        (e.g. after `EngineThread.shutdown`): the engine thread changes it."""
        return self._engine.model is not None

    @Slot()
    def yield_to_the_window(self) -> None:
        """On the engine thread, first thing: give it (and the threads llama.cpp starts from it)
        a lower priority than the GUI thread's."""
        self.priority_lowered = lower_this_threads_priority()

    def stop(self) -> None:
        """Ask the running generation to end; thread-safe, returns at once."""
        self._cancel.cancel()

    def begin_shutdown(self) -> None:
        """The app closes: end what runs (a reply, a render, a load's child check) and what is
        still queued; thread-safe, returns at once."""
        self._closing.set()
        self.stop()
        api_cancel = self._api_cancel
        if api_cancel is not None:
            api_cancel.cancel()

    def _new_cancel(self, given: CancelToken | None = None) -> CancelToken:
        self._cancel = given or CancelToken()
        if self._closing.is_set():
            self._cancel.cancel()
        return self._cancel

    @Slot(str, object)
    def _load(self, path: str, options: LoadOptions) -> None:
        context = options.context_length or DEFAULT_CONTEXT
        self._new_cancel()  # Close during the load's child check ends it at once
        self._measured = None
        try:
            if options.workers and self._load_split(path, options):
                return
            # The fit arithmetic, imported here (on the engine thread) when first needed.
            from app.core.fit.loading import load_measured

            result = load_measured(
                self._engine,
                Path(path),
                self._loads_table(),
                context=context,
                threads=options.threads,
                gpu_layers=options.gpu_layers,  # None: automatic, from the estimate
                hardware=options.hardware,
                cancel=self._cancel,
            )
        except Exception as exc:  # every failure must reach the GUI, not kill the thread
            if not isinstance(exc, QuantdeskError):
                log.exception("unexpected error loading model path=%s", path)
            self.load_failed.emit(exc)
            return
        self._measured = result
        if result.fallback is not None:
            self.fell_back.emit(result.fallback)
        self.loaded.emit(result.model)

    def _load_split(self, path: str, options: LoadOptions) -> bool:
        """Load across this computer and the workers that answer; False when none does (the
        caller then loads on this computer alone). A split load is not this machine's alone,
        so it isn't measured into the table that corrects its estimates."""
        from app.core.fit.recommend import kept_here_bytes
        from app.core.remote.workers import plan_split

        # A worker serves one computer at a time: the model loaded now may hold the very
        # workers about to be probed, and would keep them from answering.
        self._engine.unload()
        context = options.context_length or DEFAULT_CONTEXT
        remote, left_out = plan_split(
            options.workers,
            Path(path),
            kept_here_bytes=kept_here_bytes(Path(path), context=context),
            cancel=self._cancel,
        )
        if left_out:
            self.workers_left_out.emit(left_out)
        if not remote:
            return False
        model = self._engine.load(
            path,
            context_length=options.context_length or DEFAULT_CONTEXT,
            threads=options.threads,
            cancel=self._cancel,
            remote=remote,
        )
        self.loaded.emit(model)
        return True

    def _remeasure(self) -> None:
        """After a reply (on this thread): the load's figures raised to its peak so far."""
        result = self._measured
        if result is None or result.baseline is None:
            return
        from app.core.fit.loading import remeasure

        try:
            row = remeasure(self._loads_table(), result.row, result.baseline)
        except Exception:  # a figure not updated must never fail a reply
            log.exception("couldn't measure the load again")
            return
        self._measured = replace(result, row=row)

    def _loads_table(self) -> LoadTable:
        if self._loads is not None:
            return self._loads
        from app.core.fit.measured import LoadTable
        from app.core.paths import app_paths

        return LoadTable.in_folder(app_paths().data)

    @Slot(object)
    def _reply(self, request: ReplyRequest) -> None:
        self._new_cancel(request.cancel)
        recorder: _Recorder | None = None
        try:
            try:
                prepared, reply = self._engine.start_reply(request, cancel=self._cancel)
            except ChatTemplateError:
                if not self._cancel.cancelled:
                    raise
                # Stopped while the template rendered: a stopped reply with no text, not an error.
                self.finished.emit(_stopped_before_start())
                return
            recorder = self._recorder(request, prepared)
            self.started.emit(
                ReplyStarted(
                    message_id=recorder.message_id if recorder else None,
                    prompt=reply.prompt,
                    prompt_tokens=prepared.prompt_tokens,
                    context_length=self._context_length(),
                    dropped_turns=prepared.dropped_turns,
                )
            )
            self._stream(reply, recorder)
            stats = reply.stats
            assert stats is not None
            if recorder:
                recorder.finish(stats, reply.reasoning_seconds)
        except Exception as exc:  # reported to the GUI, which keeps running
            if not isinstance(exc, QuantdeskError):
                log.exception("unexpected error during generation")
            if recorder:
                recorder.fail()
            self.failed.emit(exc)
            return
        self._remeasure()  # before `finished`: whoever reads the table then sees the peak
        self.finished.emit(
            ReplyFinished(
                message_id=recorder.message_id if recorder else None,
                stats=stats,
                reasoning=reply.reasoning,
                answer=reply.answer,
                reasoning_seconds=reply.reasoning_seconds,
            )
        )

    @Slot(object)
    def _speed_test(self, request: SpeedTest) -> None:
        self._new_cancel(request.cancel)  # Stop (and closing the app) end it between steps
        try:
            from app.core.fit.speed import record_benchmark
            from app.core.machine.hardware import detect

            result = self._engine.benchmark(
                cancel=self._cancel, progress=self.speed_test_progress.emit
            )
            model = self._engine.model
            assert model is not None, "benchmark() needs a loaded model"
            measurement = record_benchmark(
                model,
                result,
                request.hardware or detect(),
                data_dir=request.data_dir,
                cache_dir=request.cache_dir,
            )
        except Exception as exc:  # reported to the GUI, which keeps running
            if not isinstance(exc, QuantdeskError):
                log.exception("unexpected error during the speed test")
            self.speed_test_failed.emit(exc)
            return
        self.speed_tested.emit(measurement)

    # --- the local API server's jobs (the worker is their `EngineSession`) ----------------------

    @property
    def engine(self) -> Engine:
        """The engine, for an API job running on this thread (never touch it from another)."""
        return self._engine

    def loaded_path(self) -> Path | None:
        """The loaded model's file: a snapshot, safe to read from any thread."""
        model = self._engine.model
        return model.path if model else None

    def use_model(self, path: Path, cancel: CancelToken) -> LoadedModel:
        """On this thread, for an API job: the loaded model if it is `path`, else `path` loaded
        as the app loads (the fit decides the GPU layers); the window hears of it (`loaded`)."""
        model = self._engine.model
        if model is not None and model.path == Path(path):
            return model
        from app.core.fit.loading import load_measured

        options = self.api_load_options
        result = load_measured(
            self._engine,
            Path(path),
            self._loads_table(),
            context=options.context_length or DEFAULT_CONTEXT,
            threads=options.threads,
            gpu_layers=options.gpu_layers,
            hardware=options.hardware,
            cancel=cancel,
        )
        self._measured = result
        self.loaded.emit(result.model)
        return result.model

    @Slot(object)
    def _api_job(self, job: EngineJob) -> None:
        self._api_cancel = job.cancel
        if self._closing.is_set():
            job.cancel.cancel()  # the app closes: the job ends before it starts
        try:
            job.run(self)
        except Exception:  # an API job reports its own failures; this is a bug in one
            log.exception("an API job failed")
        finally:
            self._api_cancel = None
        self._remeasure()

    def _stream(self, reply: Reply, recorder: _Recorder | None) -> None:
        reasoning: list[str] = []
        answer: list[str] = []
        started = last_emit = time.monotonic()
        try:
            for kind, piece in reply:
                (reasoning if kind == REASONING else answer).append(piece)
                now = time.monotonic()
                if now - last_emit >= TEXT_BATCH_SECONDS:
                    self._send(reply, reasoning, answer, recorder, now - started)
                    last_emit = now
        finally:  # a reply that fails mid-way (a worker gone) keeps every piece it wrote
            self._send(reply, reasoning, answer, recorder, time.monotonic() - started)

    def _send(
        self,
        reply: Reply,
        reasoning: list[str],
        answer: list[str],
        recorder: _Recorder | None,
        seconds: float,
    ) -> None:
        update = StreamUpdate(
            reasoning="".join(reasoning),
            answer="".join(answer),
            tokens=reply.tokens,
            context_used=reply.context_used,
            seconds=seconds,
            in_reasoning=not reply.answer and bool(reply.reasoning),
        )
        reasoning.clear()
        answer.clear()
        if recorder and (update.reasoning or update.answer):
            recorder.append(update.answer, update.reasoning)  # stored before it is shown
        self.streamed.emit(update)

    def _recorder(self, request: ReplyRequest, prepared: PreparedReply) -> _Recorder | None:
        record = request.record
        if record is None:
            return None
        store = self._stores.get(record.store_path)
        if store is None:
            # The GUI opened (and recovered) the store; a reply streaming now is not an orphan.
            store = ChatStore(record.store_path, recover=False)
            self._stores[record.store_path] = store
        model = self._engine.model
        profile = model.thinking if model else None
        settings = {
            **prepared.sampling.as_dict(),
            "thinking": profile.mode_name(request.thinking_on, request.effort) if profile else None,
            "reasoning_budget": request.reasoning_budget,
            "context_length": model.context_length if model else None,
            "dropped_turns": prepared.dropped_turns,
        }
        message = store.start_reply(
            record.conversation_id,
            model_path=record.model_path or (str(model.path) if model else None),
            settings=settings,
            version_of=record.version_of,
        )
        return _Recorder(store, message.id)

    def _context_length(self) -> int:
        model = self._engine.model
        return model.context_length if model else 0

    @Slot()
    def _shutdown(self) -> None:
        # Runs after every request queued before it: the model is freed on the thread that owns
        # it, then this thread's event loop ends.
        self._engine.unload()
        for store in self._stores.values():
            store.close()
        self._stores.clear()
        QThread.currentThread().quit()


def _stopped_before_start() -> ReplyFinished:
    stats = GenerationStats(
        prompt_tokens=0,
        completion_tokens=0,
        seconds=0.0,
        time_to_first_token=None,
        tokens_per_second=0.0,
        finish_reason=FinishReason.CANCELLED,
    )
    return ReplyFinished(None, stats, reasoning="", answer="", reasoning_seconds=None)


@dataclass
class _Recorder:
    """Writes one streaming reply into the chat database (on the engine thread)."""

    store: ChatStore
    message_id: int

    def append(self, answer: str, reasoning: str) -> None:
        self.store.append_reply(self.message_id, content=answer, reasoning=reasoning)

    def finish(self, stats: GenerationStats, reasoning_seconds: float | None) -> None:
        self.store.finish_reply(
            self.message_id,
            state=stats.finish_reason.message_state,
            stats=asdict(stats),
            reasoning_seconds=reasoning_seconds,
        )
        # After each reply, not each token: the file alone then holds every chat (a copy or
        # backup of it misses nothing), and the WAL starts over instead of growing.
        self.store.checkpoint()

    def fail(self) -> None:
        try:
            self.store.finish_reply(self.message_id, state=MessageState.FAILED)
        except HistoryError as error:
            # Most often the same full disk or lock that failed the reply: that one is reported.
            log.warning("could not mark a failed reply message_id=%s: %s", self.message_id, error)
        except Exception:  # the original error is the one to report
            log.exception("could not mark a failed reply message_id=%s", self.message_id)


class EngineThread:
    """Starts an `EngineWorker` on its own QThread and shuts both down cleanly."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.thread = QThread()
        self.thread.setObjectName("engine")
        self.worker = EngineWorker(engine)
        self.worker.moveToThread(self.thread)
        # The GUI thread goes first when both want a core (`_util/priority.py`); `started` runs
        # on the new thread, before any load, so llama.cpp's threads inherit the lower priority.
        self.thread.started.connect(self.worker.yield_to_the_window)
        self.thread.start(QThread.Priority.LowPriority)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop any reply, unload on the worker thread, and end the thread (never terminate())."""
        self.worker.begin_shutdown()
        self.worker.shutdown_requested.emit()
        # The one wait on the engine thread, at close: the model is freed on its own thread
        # first, and a QThread must not be destroyed while it runs.
        if not self.thread.wait(timeout_ms):
            log.error("engine thread did not end within %d ms", timeout_ms)
