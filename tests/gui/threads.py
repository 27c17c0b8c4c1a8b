"""Catching QThreads a test leaves running (napari's `_dangling_qthreads`, in `conftest.py`)."""

from __future__ import annotations

import time
import traceback
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThread

ROOT = Path(__file__).resolve().parents[2]

# A QThread that ended its job (emitted its last signal, called quit()) may still be leaving its
# event loop when the test ends; this long is allowed for that. A thread with work left, or an
# idle event loop nobody quit, never ends on its own, so it is still caught.
END_GRACE_SECONDS = 5.0


class ThreadWatch:
    """Every QThread started while `watching()`, by weak reference (the watch must not keep
    alive a thread the app would have dropped), with the place that started it."""

    def __init__(self) -> None:
        self._started: list[tuple[weakref.ref[QThread], str]] = []

    @contextmanager
    def watching(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadWatch]:
        original_start = QThread.start

        def recording_start(thread: QThread, *args: object) -> None:
            self._started.append((weakref.ref(thread), _where_started()))
            original_start(thread, *args)

        monkeypatch.setattr(QThread, "start", recording_start)
        try:
            yield self
        finally:
            monkeypatch.setattr(QThread, "start", original_start)

    def still_running(self, grace_seconds: float = END_GRACE_SECONDS) -> list[str]:
        """The threads running after `grace_seconds`, each as "'name' started at file:line"."""
        running = []
        for ref, where in self._started:
            thread = ref()
            if thread is not None and _runs_on(thread, grace_seconds):
                running.append(f"{thread.objectName() or 'unnamed'!r} started at {where}")
        return running

    def quit_running(self) -> list[QThread]:
        """Ask the threads still running to quit (never `terminate()`), and return them."""
        threads = [t for ref, _ in self._started if (t := ref()) is not None and _alive(t)]
        for thread in threads:
            thread.quit()
        return threads


def _alive(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is already deleted
        return False


def _where_started() -> str:
    """The innermost frame in the app (or else in a test) that started the thread."""
    frames = traceback.extract_stack()[:-2]  # not this helper nor recording_start
    for folder in ("app", "tests"):
        ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(ROOT / folder)]
        if ours:
            return f"{Path(ours[-1].filename).resolve().relative_to(ROOT)}:{ours[-1].lineno}"
    return "an unknown place"


def _runs_on(thread: QThread, grace_seconds: float) -> bool:
    """Whether `thread` still runs after `grace_seconds`. Events are processed meanwhile, so a
    thread that waits for the GUI thread can end."""
    deadline = time.monotonic() + grace_seconds
    try:
        while thread.isRunning():
            if time.monotonic() > deadline:
                return True
            QCoreApplication.processEvents()
            thread.wait(10)
    except RuntimeError:  # the C++ object is already deleted: the thread ended
        return False
    return False
