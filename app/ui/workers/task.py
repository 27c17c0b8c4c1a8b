"""Plain jobs: a function on its own thread, and the one hardware detection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.ui.workers.job import Job


class TaskWorker(Job):
    """A plain job: `function()` on its own thread; `finished` carries its return value.

    Start it with a `Jobs` list (`jobs.start(TaskWorker(...))`), which owns its thread.
    `stop`, if given, asks the function to end early (a cancel token's `cancel`); closing the
    app calls it.
    """

    def __init__(
        self,
        function: Callable[[], Any],
        name: str = "task",
        *,
        stop: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name)
        self._function = function
        self._stop = stop

    def run(self) -> object:
        return self._function()

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


class HardwareJob(Job):
    """Detects this machine (`finished` carries the `HardwareProfile`). Detection reads the
    GPU list through the engine's libggml and NVML, which can take a second: never on the GUI
    thread."""

    def __init__(self) -> None:
        super().__init__("hardware")

    def run(self) -> object:
        # Imported on the job's thread: the probes (ctypes, subprocess) aren't needed sooner.
        from app.core.machine.hardware import detect

        return detect()
