"""How the chat looks and is worked with the keyboard: code blocks (highlighted, copied), the
readable column, the palette followed live, versions of a regenerated reply, the Help menu's
shortcuts, the tab order and the names a screen reader reads.

Real window, real SQLite file under the test's QUANTDESK_HOME, real tiny model where a reply
is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pygments.styles import get_style_by_name
from pygments.token import Keyword
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from app.core.chat.history import ChatStore
from app.core.paths import app_paths
from app.ui.chat.code import DARK_STYLE, LIGHT_STYLE, CodeBlock
from app.ui.chat.view import MEASURE, USER_INDENT, USER_TINT
from app.ui.main_window import MainWindow
from app.ui.session import CHAT_DATABASE, Session
from app.ui.style import blend
from app.ui.theme import apply_theme
from tests.gui.conftest import set_sampling

CODE = 'def greet(name):\n    return f"Hello, {name}!"\n\nfor n in range(3):\n    greet(n)'
ANSWER = f"Here is a function:\n\n```python\n{CODE}\n```\n\nCall it with a name."


@pytest.fixture
def chat_window(qtbot: QtBot) -> Iterator[MainWindow]:
    """The window opened on a stored chat whose reply holds a Python code block."""
    paths = app_paths().ensure()
    with ChatStore(paths.data / CHAT_DATABASE) as store:
        chat = store.create_conversation()
        store.add_message(chat.id, "user", "How do I greet someone in Python?")
        store.add_message(chat.id, "assistant", ANSWER)
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


@pytest.fixture
def restore_theme() -> Iterator[None]:
    yield
    apply_theme(QApplication.instance(), "system")  # type: ignore[arg-type]


def _code_block(window: MainWindow) -> CodeBlock:
    [block] = window.chat.chat_view.messages()[-1].code_blocks()
    return block


def _keyword_color(block: CodeBlock) -> QColor | None:
    """The colour the document gives `def`, the code's first word; None before it has one
    (Pygments is imported off the GUI thread, the code shows plain until then)."""
    first_line = block.view.document().findBlockByNumber(0)
    spans = [f for f in first_line.layout().formats() if f.start == 0]
    return spans[0].format.foreground().color() if spans else None


def _pygments_color(style: str) -> QColor:
    return QColor(f"#{get_style_by_name(style).style_for_token(Keyword)['color']}")


def test_a_python_block_is_highlighted_labelled_and_copied_without_its_label(
    qtbot: QtBot, chat_window: MainWindow
) -> None:
    block = _code_block(chat_window)
    assert block.isVisible()
    assert block.language_label.text() == "python"
    assert block.view.toPlainText() == CODE
    # Pygments' colour for a keyword reached the document.
    qtbot.waitUntil(lambda: _keyword_color(block) == _pygments_color(LIGHT_STYLE))
    # Every line shows: the block is as tall as its code, the conversation scrolls instead.
    assert block.view.height() >= CODE.count("\n") * block.view.fontMetrics().lineSpacing()

    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(block.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == CODE  # the code only: no fence, no label


def test_the_code_and_the_persons_bubble_follow_a_theme_switch_live(
    qtbot: QtBot, chat_window: MainWindow, restore_theme: None
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    block = _code_block(chat_window)
    qtbot.waitUntil(lambda: _keyword_color(block) == _pygments_color(LIGHT_STYLE))

    apply_theme(app, "dark")
    qtbot.waitUntil(lambda: _keyword_color(block) == _pygments_color(DARK_STYLE))
    question = chat_window.chat.chat_view.messages()[0]
    palette = question.palette()
    expected = blend(
        palette.color(QPalette.ColorRole.Base),
        palette.color(QPalette.ColorRole.Highlight),
        USER_TINT,
    )
    assert palette.color(QPalette.ColorRole.Base).lightness() < 100  # the dark palette
    painted = question.grab().toImage().pixelColor(QPoint(USER_INDENT + 6, question.height() // 2))
    assert abs(painted.lightness() - expected.lightness()) <= 3


def test_turns_sit_in_a_readable_column_centred_in_a_wide_window(
    qtbot: QtBot, chat_window: MainWindow
) -> None:
    view = chat_window.chat.chat_view
    chat_window.resize(1900, 900)
    qtbot.waitUntil(lambda: view.viewport().width() > MEASURE + 100)
    reply = view.messages()[-1]
    qtbot.waitUntil(lambda: reply.width() <= MEASURE)
    left = reply.mapTo(view.viewport(), QPoint(0, 0)).x()
    right = view.viewport().width() - (left + reply.width())
    assert abs(left - right) <= 2 + view.verticalScrollBar().width()


def test_regenerate_keeps_every_version_and_the_next_prompt_reads_the_one_shown(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(tiny_model)
    set_sampling(window, temperature=1.5, max_tokens=16)
    chat = window.chat
    qtbot.keyClicks(chat.input_box, "Name a color.")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.keyClick(chat.input_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    for _ in range(2):
        reply = chat.chat_view.messages()[-1]
        with qtbot.waitSignal(window.reply_finished, timeout=90_000):
            qtbot.mouseClick(reply.regenerate_button, Qt.MouseButton.LeftButton)

    reply = chat.chat_view.messages()[-1]
    assert len(chat.chat_view.messages()) == 2  # one question, one reply (in three versions)
    assert reply.version_label.isVisible() and reply.version_label.text() == "3/3"
    assert not reply.next_version_button.isEnabled()
    with ChatStore(chat.store_path, recover=False) as store:
        versions = store.versions(reply.message_id)
    assert len(versions) == 3 and reply.content == versions[2].content

    qtbot.mouseClick(reply.previous_version_button, Qt.MouseButton.LeftButton)
    assert reply.version_label.text() == "2/3"
    assert reply.content == versions[1].content
    assert reply.next_version_button.isEnabled()

    # The next turn is asked with version 2 in the prompt, not the newest one.
    with qtbot.waitSignal(window.session.engine.worker.started, timeout=90_000) as started:
        qtbot.keyClicks(chat.input_box, "And another?")
        qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
    prompt = started.args[0].prompt
    assert versions[1].content in prompt
    if versions[2].content not in versions[1].content:
        assert versions[2].content not in prompt
    qtbot.waitUntil(lambda: not chat.is_generating, timeout=90_000)

    # Reopened, the chat shows version 2 of 3 where it was left.
    conversation = chat.conversation
    assert conversation is not None
    chat.new_conversation()
    chat.open_conversation(conversation.id)
    reopened = chat.chat_view.messages()[1]
    assert reopened.version_label.text() == "2/3" and reopened.content == versions[1].content


def test_help_lists_the_keyboard_shortcuts_and_says_what_quantdesk_is(
    qtbot: QtBot, window: MainWindow
) -> None:
    titles = [action.text() for action in window.menuBar().actions()]
    assert "&Help" in titles
    [shortcuts_action] = [
        a for a in window.help_menu.actions() if a.text() == "Keyboard shortcuts…"
    ]
    shortcuts_action.trigger()
    dialog = window.shortcuts_dialog
    assert dialog is not None and dialog.isVisible()
    listed = dict(dialog.shortcuts())
    assert listed["Ctrl+Return"] == "Send the message"
    assert listed["Esc"] == "Stop the reply, or cancel an edit"
    assert {"Ctrl+N", "Ctrl+K", "Ctrl+1", "Ctrl+5", "F1"} <= set(listed)
    dialog.close()

    # F1 opens the list too, from anywhere in the window.
    dialog.hide()
    qtbot.keyClick(window.chat.input_box, Qt.Key.Key_F1)
    assert dialog.isVisible()
    dialog.close()

    [about] = [a for a in window.help_menu.actions() if a.text() == "About Quantdesk"]
    about.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "About Quantdesk")
    assert box.isVisible() and "llama.cpp" in box.text()  # type: ignore[attr-defined]
    box.close()


def test_ctrl_number_goes_to_each_page(qtbot: QtBot, window: MainWindow) -> None:
    window.chat.input_box.setFocus()
    qtbot.keyClick(window.chat.input_box, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.discover_page
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.chat


def test_tab_from_the_message_box_reaches_send(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(tiny_model)
    chat = window.chat
    window.activateWindow()
    chat.input_box.setFocus()
    qtbot.keyClicks(chat.input_box, "Hello")
    qtbot.keyClick(chat.input_box, Qt.Key.Key_Tab)
    assert chat.input_box.toPlainText() == "Hello"  # Tab moved on, it typed nothing
    assert QApplication.focusWidget() is chat.send_button


def test_a_screen_reader_can_tell_every_button_apart(window: MainWindow) -> None:
    chat = window.chat
    assert chat.send_button.accessibleName() == "Send message"
    assert chat.stop_button.accessibleName() == "Stop the reply"
    assert chat.input_box.accessibleName() == "Message"
    names = [b.accessibleName() or b.text() for b in chat.findChildren(QPushButton)]
    assert all(names)
    assert len(set(names)) == len(names)
