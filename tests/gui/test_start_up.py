"""Start-up problems are explained in the window and stay until read: a chat history that can't
be opened for writing (the app still opens, with a temporary copy of the chats it can read), a
damaged one moved aside, and reset preferences, both notes at once (C6). Real SQLite files, made
read-only, full, locked or given bad bytes the way a person's machine does it."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.chat import history
from app.core.chat.history import ChatStore
from app.core.config.preferences import PREFERENCES_FILE
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import CHAT_DATABASE, Session
from tests.disks import fill, locked, read_only, tiny_disk


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


# --- faults at start-up (issue 14, item 4): the window opens, says what is wrong and what to do --


def _history_with_a_chat(database: Path) -> None:
    """A closed history with one chat of two messages, as a person's earlier session left it."""
    with ChatStore(database) as store:
        chat = store.create_conversation()
        store.add_message(chat.id, "user", "What is a quant?")
        store.add_message(chat.id, "assistant", "A smaller copy of the weights.")


def _shown_texts(window: MainWindow) -> list[str]:
    return [message.content for message in window.chat.chat_view.messages()]


def test_a_message_with_a_bad_byte_is_shown_with_a_replacement_character(
    qtbot: QtBot,
) -> None:
    database = app_paths().ensure().data / CHAT_DATABASE
    _history_with_a_chat(database)
    raw = sqlite3.connect(database)
    raw.execute("UPDATE messages SET content = CAST(x'5175616e74ff3f' AS TEXT) WHERE id = 1")
    raw.commit()
    assert raw.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    raw.close()

    window = _open_window(qtbot)
    try:
        assert not window.notes.isVisible()
        assert not window.chat.error_label.isVisible()
        assert _shown_texts(window) == ["Quant\ufffd?", "A smaller copy of the weights."]
        assert window.chat.conversations.list.item(0).text() == "What is a quant?"
    finally:
        window.close()


def test_a_read_only_history_is_explained_and_its_chats_are_still_shown(
    qtbot: QtBot,
) -> None:
    database = app_paths().ensure().data / CHAT_DATABASE
    _history_with_a_chat(database)
    before = database.read_bytes()

    with read_only(database):  # as one `sudo quantdesk` leaves it for the person
        window = _open_window(qtbot)
        try:
            text = window.notes.text.text()
            assert text.startswith(
                f"Quantdesk can't write its chat history at {database}: the file is read-only. "
                "Make it yours again (after running Quantdesk with sudo: sudo chown -R "
            )
            assert "your chats (1 chat and 2 messages) are shown from a copy" in text
            assert "won't be kept after Quantdesk closes" in text
            assert _shown_texts(window) == ["What is a quant?", "A smaller copy of the weights."]
        finally:
            window.close()
    assert database.read_bytes() == before


def test_no_free_space_at_start_up_is_explained_and_the_chats_are_still_shown(
    qtbot: QtBot,
) -> None:
    data = app_paths().ensure().data
    with tiny_disk(data):
        _history_with_a_chat(data / CHAT_DATABASE)
        fill(data)
        window = _open_window(qtbot)
        try:
            text = window.notes.text.text()
            assert text.startswith(
                f"Quantdesk can't write its chat history at {data / CHAT_DATABASE}: the disk is "
                "full. Free some space on it, then try again."
            )
            assert _shown_texts(window) == ["What is a quant?", "A smaller copy of the weights."]
        finally:
            window.close()


def test_a_lock_held_by_another_program_at_start_up_is_explained(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = app_paths().ensure().data / CHAT_DATABASE
    _history_with_a_chat(database)
    # The lock outlasts the wait for it: a shorter wait, so the test doesn't sit out five seconds.
    monkeypatch.setattr(history, "BUSY_TIMEOUT_MS", 200)
    with locked(database):
        window = _open_window(qtbot)
    try:
        text = window.notes.text.text()
        assert "another program is using the chat history. Close it" in text
        assert _shown_texts(window) == ["What is a quant?", "A smaller copy of the weights."]
    finally:
        window.close()
