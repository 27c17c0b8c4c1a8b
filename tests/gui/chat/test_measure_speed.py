"""Measure speed in the chat, as a person uses it: the loaded tiny model, a click, the status
line following the test on the engine thread, and the result kept for the speeds shown
elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.fit.speed import MEASUREMENTS_FILE
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from tests.gui.chat.test_chat_page import load


def test_measure_speed_runs_on_the_engine_thread_and_keeps_the_result(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    chat = window.chat
    assert not chat.speed_button.isEnabled()  # nothing to measure yet
    load(qtbot, window, tiny_model)
    assert chat.speed_button.isEnabled()
    qtbot.keyClicks(chat.input_box, "Hello")
    progress: list[float] = []
    window.session.engine.worker.speed_test_progress.connect(progress.append)
    with qtbot.waitSignal(window.session.engine.worker.speed_tested, timeout=90_000):
        qtbot.mouseClick(chat.speed_button, Qt.MouseButton.LeftButton)
        # While it runs: no second test, no message, and Stop can end it.
        assert not chat.speed_button.isEnabled() and not chat.send_button.isEnabled()
        assert chat.stop_button.isEnabled()
        assert window.status_note.text() == "Measuring speed…"
    qtbot.waitUntil(lambda: window.status_note.text().startswith("Measured"), timeout=5_000)
    status = window.status_note.text()
    assert status.startswith("Measured on this machine: writes ")
    assert "\u00a0tokens/s, reads a prompt at " in status and "first token after " in status
    assert progress and progress[-1] == 1.0
    assert chat.speed_button.isEnabled() and chat.send_button.isEnabled()
    stored = json.loads((app_paths().data / MEASUREMENTS_FILE).read_text())
    assert [run["file"] for run in stored["runs"]] == [tiny_model.name]


def test_stop_ends_a_speed_test_and_nothing_is_kept(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    chat = window.chat
    load(qtbot, window, tiny_model)
    with qtbot.waitSignal(window.session.engine.worker.speed_test_failed, timeout=90_000):
        qtbot.mouseClick(chat.speed_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(chat.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: chat.speed_button.isEnabled(), timeout=5_000)
    assert window.status_note.text() == "The speed measurement was stopped."
    assert not (app_paths().data / MEASUREMENTS_FILE).exists()
