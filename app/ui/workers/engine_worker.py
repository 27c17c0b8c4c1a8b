"""The engine worker: the one thread that owns the llama.cpp model."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.cancel import CancelToken
from app.core.chat_template import Message
from app.core.engine import Engine, SamplingSettings
from app.core.errors import QuantdeskError

log = logging.getLogger(__name__)

# Reply text is sent to the GUI at most this often (about 30 updates a second), so painting
# never competes with generation.
TEXT_BATCH_SECONDS = 1 / 30


class EngineWorker(QObject):
    """Loads models and generates replies on its own thread; the GUI talks to it by signals.

    Requests (connect to them, or emit them; they run on the worker thread):
        load_requested(str): path of a GGUF to load (unloads the previous model).
        generate_requested(object, object): list of `Message`, `SamplingSettings`.
        unload_requested().
        shutdown_requested(): unload, then end the worker's thread.

    Signals:
        loaded(object): the `LoadedModel` after a successful load.
        load_failed(object): the `QuantdeskError` (or unexpected exception) of a failed load.
        started(str): generation began; the argument is the exact prompt text.
        text(str): newly generated reply text, batched about 30 times a second.
        finished(object): the `GenerationStats` of a reply that ended (also when stopped).
        failed(object): the exception of a reply that could not be generated.
        unloaded().

    `stop()` may be called from any thread: generation ends before the next token.
    """

    load_requested = Signal(str)
    generate_requested = Signal(object, object)
    unload_requested = Signal()
    shutdown_requested = Signal()

    loaded = Signal(object)
    load_failed = Signal(object)
    started = Signal(str)
    text = Signal(str)
    finished = Signal(object)
    failed = Signal(object)
    unloaded = Signal()

    def __init__(self, engine: Engine | None = None) -> None:
        super().__init__()
        self._engine = engine or Engine()
        self._cancel = CancelToken()
        self.load_requested.connect(self._load)
        self.generate_requested.connect(self._generate)
        self.unload_requested.connect(self._unload)
        self.shutdown_requested.connect(self._shutdown)

    def stop(self) -> None:
        """Ask the running generation to end; thread-safe, returns at once."""
        self._cancel.cancel()

    @Slot(str)
    def _load(self, path: str) -> None:
        try:
            model = self._engine.load(path)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI, not kill the thread
            if not isinstance(exc, QuantdeskError):
                log.exception("unexpected error loading model path=%s", path)
            self.load_failed.emit(exc)
            return
        self.loaded.emit(model)

    @Slot(object, object)
    def _generate(self, messages: list[Message], sampling: SamplingSettings) -> None:
        self._cancel.reset()
        try:
            generation = self._engine.generate(messages, sampling, cancel=self._cancel)
            self.started.emit(generation.prompt)
            pending: list[str] = []
            last_emit = time.monotonic()
            for piece in generation:
                pending.append(piece)
                now = time.monotonic()
                if now - last_emit >= TEXT_BATCH_SECONDS:
                    self.text.emit("".join(pending))
                    pending.clear()
                    last_emit = now
            if pending:
                self.text.emit("".join(pending))
        except Exception as exc:  # noqa: BLE001 - reported to the GUI, which keeps running
            if not isinstance(exc, QuantdeskError):
                log.exception("unexpected error during generation")
            self.failed.emit(exc)
            return
        self.finished.emit(generation.stats)

    @Slot()
    def _unload(self) -> None:
        self._engine.unload()
        self.unloaded.emit()

    @Slot()
    def _shutdown(self) -> None:
        # Runs after every request queued before it: the model is freed on the thread that owns
        # it, then this thread's event loop ends.
        self._engine.unload()
        QThread.currentThread().quit()


class EngineThread:
    """Starts an `EngineWorker` on its own QThread and shuts both down cleanly."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.thread = QThread()
        self.thread.setObjectName("engine")
        self.worker = EngineWorker(engine)
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop any reply, unload on the worker thread, and end the thread (never terminate())."""
        self.worker.stop()
        self.worker.shutdown_requested.emit()
        if not self.thread.wait(timeout_ms):
            log.error("engine thread did not end within %d ms", timeout_ms)
