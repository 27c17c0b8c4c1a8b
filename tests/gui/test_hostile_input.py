"""The real window meets llama.cpp aborts and hostile chat templates (issue 14, items 1 and 3):
it stays up, says one sentence, Stop and Close work, and another model loads afterwards."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.chat.template import renderer_busy
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests import models

LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
# Passes the probes at load (each ends with a "Hi"), runs away on a real conversation.
LOOPS_ON_REAL_MESSAGES = (
    "{% if messages[-1].content != 'Hi' %}" + LOOPS + "{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "<|im_start|>assistant\n"
)


def load(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(path)


def chat_once(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.chat.input_box, "Hi")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("layers", [0, 513])
def test_a_file_llama_cpp_aborts_on_is_one_sentence_and_the_app_stays_up(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, tmp_path: Path, layers: int
) -> None:
    path = models.with_block_count(tmp_path, layers)
    with qtbot.waitSignal(window.model_failed, timeout=60_000):
        window.load_model(path)
    assert window.isVisible()
    status = window.model_status.text()
    assert path.name in status and f"declares {layers} layers" in status
    assert "\n" not in status
    assert not window.chat.send_button.isEnabled()
    load(qtbot, window, tiny_model)
    chat_once(qtbot, window)


def test_a_template_that_runs_away_at_load_is_refused_and_another_model_loads(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, tmp_path: Path
) -> None:
    path = models.with_template(tmp_path, "loops", LOOPS)
    started = time.monotonic()
    with qtbot.waitSignal(window.model_failed, timeout=30_000):
        window.load_model(path)
    assert time.monotonic() - started < 20
    assert "took too long to render" in window.model_status.text()
    load(qtbot, window, tiny_model)
    chat_once(qtbot, window)


def test_stop_during_a_runaway_render_returns_control_at_once(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    path = models.with_template(tmp_path, "loops-on-real", LOOPS_ON_REAL_MESSAGES)
    load(qtbot, window, path)
    qtbot.keyClicks(window.chat.input_box, "Tell me a story")
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert window.chat.stop_button.isEnabled()
    qtbot.waitUntil(renderer_busy, timeout=5_000)  # the render runs away in the renderer child
    started = time.monotonic()
    with qtbot.waitSignal(window.reply_finished, timeout=5_000) as finished:
        qtbot.mouseClick(window.chat.stop_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 2
    assert finished.args[0].finish_reason == "cancelled"
    assert not window.is_generating
    assert window.chat.error_label.text() == ""
    # Without Stop, the budget ends it: one sentence, and the window keeps working.
    qtbot.keyClicks(window.chat.input_box, "Another story")
    with qtbot.waitSignal(window.reply_failed, timeout=30_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert "took too long to render" in window.chat.error_label.text()
    assert not window.is_generating


def test_closing_the_window_during_a_runaway_render_closes_promptly(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = models.with_template(tmp_path, "loops-on-real", LOOPS_ON_REAL_MESSAGES)
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    load(qtbot, window, path)
    qtbot.keyClicks(window.chat.input_box, "Tell me a story")
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(renderer_busy, timeout=5_000)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 2
    assert window.session.engine.thread.isFinished()


# A process that streams a real reply into the chat database, then aborts mid-reply the way a
# llama.cpp assert would (SIGABRT): nothing after the abort runs, no state is written.
DIES_MID_REPLY = """
import os, sys
from pathlib import Path
from app.core.chat.history import ChatStore
from app.core.chat.prompting import ReplyRequest
from app.core.chat.template import Message
from app.core.engine.engine import Engine
store = ChatStore(Path(sys.argv[1]))
chat = store.create_conversation()
store.add_message(chat.id, "user", "Tell me a story")
engine = Engine()
engine.load(sys.argv[2], context_length=512)
request = ReplyRequest([Message("user", "Tell me a story")],
                       overrides={"temperature": 0.0, "max_tokens": 200})
_, reply = engine.start_reply(request)
message = store.start_reply(chat.id, model_path=sys.argv[2])
for count, (_kind, piece) in enumerate(reply):
    store.append_reply(message.id, content=piece)
    if count == 10:
        os.abort()
"""


def test_after_the_app_died_mid_reply_the_next_start_names_the_model_and_keeps_the_reply(
    qtbot: QtBot, tiny_model: Path
) -> None:
    import signal
    import subprocess
    import sys

    from app.ui.session import CHAT_DATABASE

    paths = app_paths().ensure()
    database = paths.data / CHAT_DATABASE
    died = subprocess.run(
        [sys.executable, "-c", DIES_MID_REPLY, str(database), str(tiny_model)],
        capture_output=True,
        timeout=120,
    )
    assert died.returncode == -signal.SIGABRT, died.stderr[-2000:]

    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.show()
    assert window.notes.isVisible()
    note = window.notes.text.text()
    assert "closed unexpectedly" in note and tiny_model.name in note
    replies = [
        m for c in window.session.store.list_conversations() for m in window.session.store.messages(c.id)
        if m.role == "assistant"
    ]  # fmt: skip
    assert [m.state for m in replies] == ["interrupted"]
    assert replies[0].content  # the text streamed before the abort is kept
    window.close()
