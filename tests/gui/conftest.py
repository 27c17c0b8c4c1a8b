"""Fixtures for tests that drive the real window."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QMetaObject, Qt, QThread, QTimer
from pytestqt.qtbot import QtBot
from pytestqt.wait_signal import _AbstractSignalBlocker

from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.threads import ThreadWatch


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    """The real main window, shown (offscreen), closed after the test with its threads ended."""
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def pick_in_model_picker(qtbot: QtBot, window: MainWindow, row: int) -> None:
    """Open the model picker and click row `row` in its list, as a person chooses a model."""
    picker = window.model_picker
    picker.showPopup()
    view = picker.view()
    qtbot.waitUntil(view.isVisible, timeout=5_000)
    center = view.visualRect(view.model().index(row, 0)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)


def set_sampling(window: MainWindow, **values: float) -> None:
    """Set the current chat's sampling as a person would, in its settings panel."""
    panel = window.chat.settings_panel
    for key, value in values.items():
        panel.fields[key].setValue(value)


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """As the app does (`app/ui/gc_guard.py`): no automatic GC while worker threads run, so a
    Qt object in a reference cycle is never destroyed on the engine or a download thread; the
    test's leftovers are collected here, on the GUI thread."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


class StallMeter:
    """Measures the longest gap between event-loop turns with a fast timer on the GUI thread."""

    def __init__(self, interval_ms: int = 5) -> None:
        self.longest_ms = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        # What earlier tests left is collected now: a full collection of their widgets in the
        # middle of the measure is a stall of the test run, not of the app.
        gc.collect()
        self._clock.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        self.longest_ms = max(self.longest_ms, self._clock.restart())


@pytest.fixture(autouse=True, scope="session")
def wait_signal_across_threads() -> Iterator[None]:
    """`qtbot.waitSignal` on a job's signal, emitted on the job's thread: pytest-qt stops its
    timeout timer there, and Qt warns "Timers cannot be stopped from another thread" (which
    fails the test). Stop it on its own thread instead, as pytest-qt's open pull request #649
    does; remove this once pytest-qt ships that fix."""

    def cleanup(blocker: _AbstractSignalBlocker) -> None:
        blocker._timeout_message = blocker._get_timeout_error_message()
        if blocker._timer.thread() is QThread.currentThread():
            blocker._timer.stop()
        else:
            QMetaObject.invokeMethod(blocker._timer, "stop", Qt.ConnectionType.QueuedConnection)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_AbstractSignalBlocker, "_cleanup", cleanup)
        yield


# Threads a test leaked, kept referenced: a QThread destroyed while it runs aborts the whole run.
_leaked_threads: list[QThread] = []


@pytest.fixture(autouse=True)
def no_dangling_qthreads(qapp: QCoreApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a QThread running, naming it and where it was started. This runs
    after pytest-qt has closed the test's widgets, so a window that ends its threads on close
    passes."""
    watch = ThreadWatch()
    with watch.watching(monkeypatch):
        yield
    running = watch.still_running()
    if running:
        _leaked_threads.extend(watch.quit_running())
        pytest.fail(f"the test left QThreads running: {'; '.join(running)}", pytrace=False)
