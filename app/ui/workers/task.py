"""A one-shot job on its own thread, for short-lived work like copying an imported model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.errors import QuantdeskError

log = logging.getLogger(__name__)


class TaskWorker(QObject):
    """Runs `function()` on its own thread.

    Signals:
        finished(object): the function's return value.
        failed(object): the exception it raised.
    Exactly one of them is emitted; the thread ends after it.
    """

    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, function: Callable[[], Any], name: str = "task") -> None:
        super().__init__()
        self._function = function
        self._thread = QThread()
        self._thread.setObjectName(name)
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        return self._thread.wait(timeout_ms)

    @Slot()
    def _run(self) -> None:
        try:
            result = self._function()
        except Exception as exc:  # noqa: BLE001 - reported to the GUI
            if not isinstance(exc, QuantdeskError):
                log.exception("task failed")
            self.failed.emit(exc)
        else:
            self.finished.emit(result)
        finally:
            self._thread.quit()
