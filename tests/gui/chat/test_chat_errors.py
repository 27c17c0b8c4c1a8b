"""A full disk and a locked database, met through the chat as a person meets them: a sentence
above the input box, never a traceback, and the typed text still there to send again.

Real SQLite on a real (small, mounted) filesystem, and a real second connection holding the lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.chat import history
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import CHAT_DATABASE, Session
from tests.disks import fill, locked, tiny_disk
from tests.gui.conftest import set_sampling


def _window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    return window


def _load(qtbot: QtBot, window: MainWindow, model: Path) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(model)
    set_sampling(window, temperature=0.0, max_tokens=6)


def _type_and_send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    qtbot.keyClicks(window.chat.input_box, text)
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)


def _send_again_and_wait(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)


@pytest.fixture
def window_on_a_tiny_disk(qtbot: QtBot, quantdesk_home: Path) -> Iterator[MainWindow]:
    """The real window, its chat history on a 4 MiB filesystem of its own."""
    with tiny_disk(quantdesk_home / "data"):
        window = _window(qtbot)
        yield window
        window.close()


def test_a_full_disk_says_so_and_keeps_the_typed_message(
    qtbot: QtBot, window_on_a_tiny_disk: MainWindow, tiny_model: Path
) -> None:
    window = window_on_a_tiny_disk
    _load(qtbot, window, tiny_model)
    filler = fill(app_paths().data)

    _type_and_send(qtbot, window, "Hello there, little model")
    error = window.chat.error_label
    assert error.isVisible()
    assert error.text().startswith(
        "Couldn't save the chat: the disk is full. Free some space on it, then try again."
    )
    assert "Traceback" not in error.text()
    assert window.chat.input_box.toPlainText() == "Hello there, little model"
    assert not window.chat.is_generating
    assert window.chat.chat_view.messages() == []  # nothing shown that wasn't kept

    filler.unlink()  # the person frees some space and sends the same text again
    _send_again_and_wait(qtbot, window)
    assert window.chat.input_box.toPlainText() == ""
    assert not error.isVisible()
    assert [m.role for m in window.chat.chat_view.messages()] == ["user", "assistant"]


def test_a_database_locked_by_another_program_says_so_and_keeps_the_typed_message(
    qtbot: QtBot, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A short wait for the lock, so the test doesn't sit out the real five seconds.
    monkeypatch.setattr(history, "BUSY_TIMEOUT_MS", 100)
    window = _window(qtbot)
    _load(qtbot, window, tiny_model)
    _type_and_send(qtbot, window, "first")
    qtbot.waitUntil(lambda: not window.chat.is_generating, timeout=90_000)

    with locked(app_paths().data / CHAT_DATABASE):
        _type_and_send(qtbot, window, "second")
        error = window.chat.error_label
        assert error.isVisible()
        assert error.text().startswith(
            "Couldn't save the chat: another program is using the chat history. Close it"
        )
        assert window.chat.input_box.toPlainText() == "second"

        # Renaming the chat in the list meets the same lock: the sentence, and the old name.
        conversations = window.chat.conversations
        title = conversations.list.item(0).text()
        conversations.rename(conversations.current_id(), "A new name")
        assert conversations.list.item(0).text() == title
        assert error.text().startswith("Couldn't save the chat: another program")

    _send_again_and_wait(qtbot, window)
    assert window.chat.input_box.toPlainText() == ""
    assert [m.content for m in window.chat.chat_view.messages() if m.role == "user"] == [
        "first",
        "second",
    ]
    window.close()


def test_a_disk_filling_up_during_a_reply_is_said_once_and_the_shown_text_stays(
    qtbot: QtBot, window_on_a_tiny_disk: MainWindow, tiny_model: Path
) -> None:
    window = window_on_a_tiny_disk
    _load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=400)
    filled: list[Path] = []
    failures: list[object] = []
    window.chat.reply_failed.connect(failures.append)

    def fill_once(update: object) -> None:
        # The engine thread stored this piece before sending it; the next one meets a full disk.
        if not filled:
            filled.append(fill(app_paths().data))

    worker = window.session.engine.worker
    worker.streamed.connect(fill_once)
    _type_and_send(qtbot, window, "Tell me a long story about a lighthouse.")
    qtbot.waitUntil(lambda: not window.chat.is_generating, timeout=90_000)
    worker.streamed.disconnect(fill_once)

    error = window.chat.error_label
    assert len(failures) == 1  # once, not once per token
    assert error.isVisible()
    assert error.text() == (
        "Couldn't save the reply, so it stopped here: the disk is full. "
        "Free some space on it, then try again."
    )
    reply = window.chat.chat_view.messages()[-1]
    assert reply.role == "assistant" and reply.state == "failed"
    assert reply.content  # what was shown stays shown
    assert window.chat.input_box.isEnabled()

    filled[0].unlink()  # space again: the chat goes on, and what was shown had been kept
    conversation = window.chat.conversation
    assert conversation is not None
    with history.ChatStore(window.chat.store_path, recover=False) as store:
        kept = store.messages(conversation.id)[-1]
    assert kept.content == reply.content
