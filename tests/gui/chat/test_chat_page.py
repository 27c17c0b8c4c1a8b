"""The chat driven like a person would: thinking toggle, reasoning block, stop, regenerate, edit,
conversations, context overflow, and a restart (or a kill) that loses nothing.

Real window, real engine, real tiny models, real SQLite file under the test's QUANTDESK_HOME.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.chat.history import ChatStore, MessageState, open_chat_store
from app.core.paths import app_paths
from app.ui.chat.view import ChatView, MessageWidget, Segment, split_segments
from app.ui.main_window import MainWindow
from app.ui.session import CHAT_DATABASE, Session
from tests.gui.conftest import pick_in_model_picker, set_sampling


def load(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(path)


def send(qtbot: QtBot, window: MainWindow, text: str, *, timeout: int = 90_000) -> None:
    qtbot.keyClicks(window.chat.input_box, text)
    with qtbot.waitSignal(window.reply_finished, timeout=timeout):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)


def stored(window: MainWindow) -> list:
    conversation = window.chat.conversation
    assert conversation is not None
    with ChatStore(window.chat.store_path, recover=False) as store:
        return store.messages(conversation.id)


def last_message(window: MainWindow) -> MessageWidget:
    return window.chat.chat_view.messages()[-1]


def test_always_reasoning_model_shows_thoughts_apart_and_the_toggle_skips_them(
    qtbot: QtBot, window: MainWindow, think_model: Path
) -> None:
    load(qtbot, window, think_model)
    chat = window.chat
    assert chat.thinking_toggle.isVisible() and chat.thinking_toggle.isEnabled()
    assert chat.thinking_toggle.isChecked()  # the profile's default
    set_sampling(window, temperature=0.0, max_tokens=40)
    chat.settings_panel.reasoning_budget.setValue(6)

    send(qtbot, window, "Tell me about dragons.")
    reply = last_message(window)
    assert reply.reasoning and reply.content
    assert "</think>" not in reply.content
    # Folded once the answer began, with how long the model thought.
    assert not reply.reasoning_toggle.isChecked()
    assert not reply.reasoning_label.isVisible()
    assert "Thought for" in reply.reasoning_toggle.text()
    qtbot.mouseClick(reply.reasoning_toggle, Qt.MouseButton.LeftButton)
    assert reply.reasoning_label.isVisible()
    assert reply.reasoning_label.text() == reply.reasoning

    first = stored(window)[-1]
    assert (first.content, first.reasoning) == (reply.content, reply.reasoning)
    assert first.reasoning_seconds and first.reasoning_seconds > 0
    assert first.settings["thinking"] == "always" and first.settings["reasoning_budget"] == 6
    assert first.model_path == str(think_model) and first.stats["completion_tokens"] > 0

    # Off: the reasoning is skipped, and the person is told it costs quality.
    chat.thinking_toggle.setChecked(False)
    assert chat.thinking_note.isVisible() and "worse" in chat.thinking_note.text()
    send(qtbot, window, "And about knights?")
    assert last_message(window).reasoning == ""
    assert last_message(window).content
    messages = stored(window)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[-1].settings["thinking"] == "off"
    assert window.session.store.conversation(chat.conversation.id).thinking == "off"


def test_stop_while_thinking_keeps_the_reasoning_so_far(
    qtbot: QtBot, window: MainWindow, think_model: Path
) -> None:
    load(qtbot, window, think_model)
    set_sampling(window, temperature=0.0, max_tokens=600)
    qtbot.keyClicks(window.chat.input_box, "Write a very long story about a dragon and a knight.")
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    reply = last_message(window)
    qtbot.waitUntil(lambda: len(reply.reasoning) > 20, timeout=20_000)
    assert reply.reasoning_label.isVisible()  # open while the model thinks
    assert "Thinking" in reply.reasoning_toggle.text()
    sidebar = window.chat.conversations
    assert not sidebar.delete_button.isEnabled() and not sidebar.new_button.isEnabled()
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.keyClick(window.chat.input_box, Qt.Key.Key_Escape)
    assert finished.args[0].finish_reason == "cancelled"
    assert reply.content == "" and reply.reasoning
    assert reply.note.text() == "stopped"
    saved = stored(window)[-1]
    assert saved.state == "stopped"
    assert saved.reasoning == reply.reasoning


def test_regenerate_replaces_the_last_answer(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=1.0, max_tokens=12)
    send(qtbot, window, "Name a color.")
    before = stored(window)
    first_reply = last_message(window)
    assert first_reply.regenerate_button.isVisible()
    assert not window.chat.chat_view.messages()[0].regenerate_button.isVisible()
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(first_reply.regenerate_button, Qt.MouseButton.LeftButton)
    after = stored(window)
    assert [m.role for m in after] == ["user", "assistant"]
    assert after[0].id == before[0].id and after[1].id != before[1].id
    assert len(window.chat.chat_view.messages()) == 2
    assert last_message(window).content == after[1].content


def test_edit_and_resend_replaces_the_message_and_what_followed(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=8)
    send(qtbot, window, "What is the capital of France?")
    send(qtbot, window, "And of Spain?")
    first_question = window.chat.chat_view.messages()[0]
    qtbot.mouseClick(first_question.edit_button, Qt.MouseButton.LeftButton)
    assert window.chat.input_box.toPlainText() == "What is the capital of France?"
    assert window.chat.edit_banner.isVisible()
    window.chat.input_box.setPlainText("What is the capital of Italy?")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    messages = stored(window)
    assert [(m.role, m.content if m.role == "user" else "") for m in messages] == [
        ("user", "What is the capital of Italy?"),
        ("assistant", ""),
    ]
    assert [w.role for w in window.chat.chat_view.messages()] == ["user", "assistant"]
    assert not window.chat.edit_banner.isVisible()


def test_conversations_new_rename_search_delete_and_survive_a_restart(
    qtbot: QtBot, tiny_model: Path, think_model: Path
) -> None:
    paths = app_paths().ensure()
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.show()
    load(qtbot, window, think_model)
    set_sampling(window, temperature=0.0, max_tokens=30)
    window.chat.settings_panel.reasoning_budget.setValue(5)
    window.chat.settings_panel.system_prompt.setPlainText("You are terse.")
    send(qtbot, window, "Tell me about owls")
    owls = window.chat.conversation
    reply = last_message(window)
    assert owls is not None and owls.title == "Tell me about owls"

    qtbot.keyClick(window.chat.input_box, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.chat.conversation is None and window.chat.chat_view.messages() == []
    set_sampling(window, temperature=0.0, max_tokens=30)  # a new chat starts from the presets
    send(qtbot, window, "Tell me about cats")
    sidebar = window.chat.conversations
    assert [sidebar.list.item(i).text() for i in range(sidebar.list.count())] == [
        "Tell me about cats",
        "Tell me about owls",
    ]
    sidebar.rename(owls.id, "Birds")
    sidebar.search_box.setText("bir")
    assert [sidebar.list.item(i).text() for i in range(sidebar.list.count())] == ["Birds"]
    sidebar.search_box.clear()
    cats = window.chat.conversation
    assert cats is not None
    window.close()

    # A new run of the app: the latest conversation is open; the other is one click away.
    again = MainWindow(Session(paths))
    qtbot.addWidget(again)
    again.show()
    assert again.chat.conversation is not None and again.chat.conversation.id == cats.id
    assert "Tell me about cats" in again.chat.chat_view.plain_text()
    sidebar = again.chat.conversations
    sidebar.list.setCurrentRow(1)
    assert again.chat.conversation.id == owls.id
    restored = again.chat.chat_view.messages()
    assert [w.content for w in restored] == ["Tell me about owls", reply.content]
    assert restored[1].reasoning == reply.reasoning
    assert "Thought for" in restored[1].reasoning_toggle.text()
    assert again.chat.settings_panel.system_prompt_text() == "You are terse."
    assert again.chat.settings_panel.reasoning_budget.value() == 5
    assert again.chat.settings_panel.fields["max_tokens"].value() == 30

    sidebar.delete(owls.id)
    assert sidebar.list.count() == 1
    assert again.chat.conversation is None
    again.close()


def test_base_model_disables_the_toggle_and_says_why(
    qtbot: QtBot, window: MainWindow, base_model: Path, nemotron_model: Path
) -> None:
    load(qtbot, window, base_model)
    toggle = window.chat.thinking_toggle
    assert toggle.isVisible() and not toggle.isEnabled()
    assert "base model" in window.chat.thinking_note.text()
    set_sampling(window, temperature=0.0, max_tokens=6)
    send(qtbot, window, "Once upon a time")
    assert last_message(window).content

    window.chat.new_conversation()  # the base model's chat keeps its own sampling
    load(qtbot, window, nemotron_model)
    assert toggle.isEnabled() and toggle.isChecked()
    assert not window.chat.thinking_note.isVisible()
    assert window.chat.settings_panel.fields["temperature"].value() == 0.6  # the card's preset
    toggle.setChecked(False)
    assert window.chat.settings_panel.fields["temperature"].value() == 0.0  # greedy when off


def test_a_conversation_too_long_for_the_context_offers_a_choice(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    window.chat.settings_panel.context_length.setValue(512)
    load(qtbot, window, tiny_model)
    assert window.loaded_model is not None and window.loaded_model.context_length == 512
    set_sampling(window, temperature=0.0, max_tokens=64)
    outcomes: list[str] = []
    window.reply_finished.connect(lambda _stats: outcomes.append("answered"))
    window.reply_failed.connect(lambda _error: outcomes.append("refused"))
    sent = 0
    while "refused" not in outcomes:
        assert sent < 8, "the conversation never outgrew the context"
        outcomes.clear()
        qtbot.keyClicks(window.chat.input_box, f"Story {sent}: " + "dragons and knights " * 30)
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(outcomes), timeout=90_000)
        sent += 1
    box = window.chat.overflow_box
    assert box is not None and box.isVisible()
    assert "too little room for a reply" in box.text()
    assert f"Story {sent - 1}" in window.chat.chat_view.plain_text()  # the message is kept
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        window.chat.drop_oldest_button.click()
    # The notice is on the reply itself: the status line has moved on to the reply's speed.
    notice = re.compile(r"left out the \d+ oldest messages to fit the context")
    assert notice.search(last_message(window).note.text())
    assert "tokens/s" in window.status_note.text()
    assert last_message(window).content
    assert len(stored(window)) == 2 * sent  # nothing was deleted from the history
    assert stored(window)[-1].settings["dropped_turns"] > 0
    # Reopened later, the reply still says so.
    conversation = window.chat.conversation
    assert conversation is not None
    window.chat.new_conversation()
    window.chat.open_conversation(conversation.id)
    assert notice.search(last_message(window).note.text())


def test_long_answers_are_split_into_paragraphs_and_code_stays_whole() -> None:
    text = "Intro.\n\n```python\na = 1\n\nb = 2\n```\n\n- one\n- two\nEnd:\n~~~\nx\n~~~"
    assert split_segments(text) == [
        Segment("Intro."),
        Segment("a = 1\n\nb = 2", code=True, language="python"),
        Segment("- one\n- two\nEnd:"),
        Segment("x", code=True),
    ]
    # Backticks on one line are inline code, not a fence; an info string's first word names it.
    assert split_segments("```x``` is inline\n\n```py title=a.py\nx\n```") == [
        Segment("```x``` is inline"),
        Segment("x", code=True, language="py"),
    ]
    # While a reply streams, an open fence runs to the end.
    assert split_segments("See:\n```js\nlet a") == [
        Segment("See:"),
        Segment("let a", code=True, language="js"),
    ]


def test_a_long_streamed_answer_ends_where_its_text_ends(qtbot: QtBot) -> None:
    # Twenty paragraphs streamed a few characters at a time: the page below the last line is
    # no taller than its margin, so following the reply shows its newest text, not a blank.
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(717, 490)
    view.show()
    view.add_message(MessageWidget("user", "Write a very long story."))
    reply = view.add_message(MessageWidget("assistant", state=MessageState.STREAMING))
    paragraph = "The king and the dragon decide to create their own kingdom. " * 6
    text = "\n\n".join(f"{index}. {paragraph}" for index in range(20))
    for start in range(0, len(text), 40):
        reply.append("", text[start : start + 40])
        qtbot.wait(1)
    reply.finish(MessageState.COMPLETE, None)

    def ends_at_the_text() -> None:
        page = view.widget()
        below = page.height() - reply.geometry().bottom()
        assert below <= 2 * view._layout.contentsMargins().bottom() + 2
        scroll = view.verticalScrollBar()
        assert scroll.value() == scroll.maximum() > 0

    qtbot.waitUntil(ends_at_the_text)


def test_markdown_answers_render_code_and_never_raw_html(qtbot: QtBot) -> None:
    widget = MessageWidget(
        "assistant",
        "Use **this** and `x`:\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n"
        "| 1 | 2 |\n\n<img src='file:///etc/passwd'>",
    )
    qtbot.addWidget(widget)
    html = widget.content_label.text()
    assert "font-weight" in html  # bold
    assert "background-color:rgba(" in html  # inline code on its own background
    assert "<table" in html  # a Markdown table is a table
    assert "<img" not in html  # raw HTML is shown as text, not interpreted
    assert "&lt;img" in html
    [code] = widget.code_blocks()
    assert code.code == "print('hi')" and code.language_label.text() == "python"


DRIVER = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtWidgets import QApplication
    from app.core.paths import app_paths
    from app.ui.main_window import MainWindow
    from app.ui.session import Session
    app = QApplication([])
    window = MainWindow(Session(app_paths().ensure()))
    window.show()
    def on_loaded(_model):
        window.chat.settings_panel.fields["max_tokens"].setValue(2000)
        window.chat.settings_panel.fields["temperature"].setValue(0.0)
        window.chat.input_box.setPlainText("Write a very long story about a dragon.")
        window.chat.send_message()
    def on_streamed(_update):
        shown = window.chat.chat_view.messages()[-1].content
        print(json.dumps({"shown": shown}), flush=True)
    window.model_loaded.connect(on_loaded)
    window.session.engine.worker.streamed.connect(on_streamed)
    window.load_model(sys.argv[1])
    app.exec()
    """
)


def test_killed_mid_reply_keeps_the_message_and_every_token_shown(
    qtbot: QtBot, tiny_model: Path, quantdesk_home: Path
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QUANTDESK_HOME": str(quantdesk_home)}
    shown = ""
    with subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(tiny_model)],
        stdout=subprocess.PIPE, text=True, env=env,
    ) as process:  # fmt: skip
        try:
            assert process.stdout is not None
            for count, line in enumerate(process.stdout):
                shown = json.loads(line)["shown"]
                if count >= 8 and shown:
                    break
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait(timeout=30)
    assert len(shown) > 20

    store, note = open_chat_store(quantdesk_home / "data" / CHAT_DATABASE)
    assert note is None
    (conversation,) = store.list_conversations()
    user, reply = store.messages(conversation.id)
    assert user.content == "Write a very long story about a dragon."
    assert reply.content.startswith(shown)  # written before it was shown
    assert reply.state == "interrupted"
    store.close()

    # The next run shows it, marked as cut off by the app closing.
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    restored = window.chat.chat_view.messages()[-1]
    assert restored.content.startswith(shown)
    assert "interrupted" in restored.note.text()
    window.close()


def test_after_each_reply_the_database_file_alone_holds_the_chat(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, tmp_path: Path
) -> None:
    """The WAL is checkpointed after each reply: a copy of the file (a backup that leaves the
    -wal behind) misses nothing, and the WAL doesn't grow for the whole session."""
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=8)
    send(qtbot, window, "Hello, checkpoint")
    reply = last_message(window).content
    assert reply

    alone = tmp_path / "copy-without-wal.sqlite3"
    alone.write_bytes(window.chat.store_path.read_bytes())
    with ChatStore(alone, recover=False) as copy:
        [chat] = copy.list_conversations()
        assert [(m.role, m.content) for m in copy.messages(chat.id)] == [
            ("user", "Hello, checkpoint"),
            ("assistant", reply),
        ]


def test_each_chat_in_the_list_names_its_own_model_as_the_library_does(
    qtbot: QtBot, tiny_model: Path, base_model: Path
) -> None:
    paths = app_paths().ensure()
    in_library = paths.models / "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF" / tiny_model.name
    in_library.parent.mkdir(parents=True)
    shutil.copyfile(tiny_model, in_library)
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        pick_in_model_picker(qtbot, window, 0)
    set_sampling(window, temperature=0.0, max_tokens=16)
    send(qtbot, window, "Tell me about owls")
    qtbot.mouseClick(window.chat.conversations.new_button, Qt.MouseButton.LeftButton)
    load(qtbot, window, base_model)  # a file from elsewhere: named from its file name
    set_sampling(window, temperature=0.0, max_tokens=16)
    send(qtbot, window, "Tell me about cats")

    entries = window.chat.conversations.list
    shown = {
        entries.item(row).text(): entries.item(row).toolTip() for row in range(entries.count())
    }
    assert set(shown) == {"Tell me about cats", "Tell me about owls"}
    assert "SmolLM2 135M Instruct · Q4_1" in shown["Tell me about owls"]
    assert "SmolLM2 135M base" in shown["Tell me about cats"]
    assert "SmolLM2 135M Instruct" not in shown["Tell me about cats"]
    # Never the name inside the file (general.name says "Llama 3.1 Minitron 4B Width Base").
    assert "Minitron" not in shown["Tell me about cats"]
    # The model is a second line of the entry, under its title.
    first = entries.item(0)
    described = first.data(Qt.ItemDataRole.AccessibleDescriptionRole)
    assert described and "SmolLM2 135M base" in described
    one_line = entries.fontMetrics().height()
    assert entries.visualItemRect(first).height() >= 2 * one_line
    window.close()
