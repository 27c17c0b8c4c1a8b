"""Every line that names the model follows it: loading, ready, a failed load, another model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.ui.chat.unanswered import note_of
from app.ui.chat.view import MessageWidget
from app.ui.main_window import MainWindow
from tests.gui.conftest import set_sampling


def _in_a_message(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, MessageWidget):
            return True
        parent = parent.parentWidget()
    return False


def empty_chat_hint(window: MainWindow) -> str:
    """The empty chat's line (the one label of the view outside any message)."""
    shown = [
        label.text()
        for label in window.chat.chat_view.findChildren(QLabel)
        if label.isVisible() and label.text() and not _in_a_message(label)
    ]
    assert len(shown) == 1, shown
    return shown[0]


def test_status_bar_hint_and_title_follow_the_model(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, broken_models: dict[str, Path]
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000) as loaded:
        window.load_model(tiny_model)
        assert window.model_label.text().startswith("Loading")
    name = window.describe(loaded.args[0].path).label  # the library's name, as everywhere
    assert name in window.model_label.text()
    assert name in window.windowTitle()
    assert "is ready" in empty_chat_hint(window)
    qtbot.keyClicks(window.chat.input_box, "Hi")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert "tokens/s" in window.status_note.text()

    # Another file that fails to load: nothing still names the model that was unloaded.
    with qtbot.waitSignal(window.model_failed, timeout=30_000):
        window.load_model(broken_models["wrong-magic"])
    assert window.model_label.text() == "No model"
    assert window.status_note.text() == ""  # the last reply's speed was the old model's
    assert window.windowTitle() == "Quantdesk"
    assert "not a GGUF model" in window.model_status.text()
    qtbot.keyClick(window.chat.input_box, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    hint = empty_chat_hint(window)
    assert "couldn't be loaded" in hint and name not in hint
    assert not window.chat.send_button.isEnabled()


def test_a_reply_that_ends_inside_its_thoughts_says_why_and_what_to_do(
    qtbot: QtBot, window: MainWindow, think_model: Path
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(think_model)
    set_sampling(window, temperature=0.0, max_tokens=16)
    qtbot.keyClicks(window.chat.input_box, "Write a long story about a dragon.")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000) as finished:
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].finish_reason == "length"
    reply = window.chat.chat_view.messages()[-1]
    assert reply.reasoning and not reply.content
    note = note_of(reply)
    assert note is not None and note.isVisible()
    assert "stopped while thinking, before giving an answer" in note.text()
    assert "Max reply tokens" in note.text() and "Thinking off" in note.text()

    # Read back from the history (another chat, then this one again): still said.
    qtbot.keyClick(window.chat.input_box, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    conversation = window.chat.conversation
    assert conversation is None
    window.chat.conversations.list.setCurrentRow(0)
    reply = window.chat.chat_view.messages()[-1]
    again = note_of(reply)
    assert again is not None and "Max reply tokens" in again.text()
    qtbot.waitUntil(again.isVisible, timeout=2_000)
