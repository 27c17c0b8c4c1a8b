"""Start-up problems are explained in the window and stay until read: a chat history that can't
be opened (the app still opens, with a temporary one), a damaged one moved aside, and reset
preferences, both notes at once (C6)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.config.preferences import PREFERENCES_FILE
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import CHAT_DATABASE, Session


def _open_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_history_from_a_newer_version_is_explained_and_the_app_still_opens(
    qtbot: QtBot,
) -> None:
    database = app_paths().ensure().data / CHAT_DATABASE
    newer = sqlite3.connect(database)
    newer.execute("PRAGMA user_version = 99")
    newer.commit()
    newer.close()
    before = database.read_bytes()

    window = _open_window(qtbot)
    try:
        assert window.notes.isVisible()
        text = window.notes.text.text()
        assert "saved by a newer version of Quantdesk. Update Quantdesk to open it." in text
        assert "won't be kept after Quantdesk closes" in text
        # The chat still works, in a temporary history, and the newer file is left alone.
        assert window.chat.store_path != database
        assert database.read_bytes() == before
    finally:
        window.close()


def test_both_start_up_notes_stay_until_read_and_are_logged(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    paths = app_paths().ensure()
    (paths.data / CHAT_DATABASE).write_bytes(b"this is not a database, it was damaged" * 200)
    (paths.config / PREFERENCES_FILE).write_text("{ not json", encoding="utf-8")

    with caplog.at_level(logging.WARNING):
        window = _open_window(qtbot)
    try:
        text = window.notes.text.text()
        assert "Your chat history was damaged" in text
        assert "Your settings file" in text and "is damaged" in text
        # Chat status lines come and go; the notes stay.
        window.chat.status_changed.emit("12.3 tokens/s")
        assert window.notes.isVisible() and window.notes.text.text() == text
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "damaged chat history moved aside" in logged
        assert "Your settings file" in logged

        qtbot.mouseClick(window.notes.dismiss_button, Qt.MouseButton.LeftButton)
        assert not window.notes.isVisible()
    finally:
        window.close()


def test_a_clean_start_shows_no_notes(qtbot: QtBot, quantdesk_home: Path) -> None:
    window = _open_window(qtbot)
    try:
        assert not window.notes.isVisible()
    finally:
        window.close()
