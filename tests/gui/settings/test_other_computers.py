"""Settings → Other computers, driven as a person would, with real workers (`quantdesk worker`,
the engine's RPC server with the CPU backend) on loopback addresses and the real tiny model."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.chat.history import ChatStore, MessageState
from app.ui.main_window import SETTINGS, MainWindow
from tests.gui.conftest import set_sampling
from tests.unit.remote.test_workers import free_port, start_worker
from tests.unit.test_cli import quantdesk

QUESTION = "Name three colours."


@pytest.fixture
def two_workers() -> Iterator[list[tuple[subprocess.Popen[str], str]]]:
    workers = [start_worker("127.0.0.6"), start_worker("127.0.0.7")]
    yield workers
    for process, _address in workers:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def add_in_settings(qtbot: QtBot, window: MainWindow, address: str) -> None:
    """Type the address in Settings → Other computers and press Enter."""
    window.sidebar.setCurrentRow(SETTINGS)
    section = window.settings_page.workers
    qtbot.keyClicks(section.address_edit, address)
    qtbot.keyClick(section.address_edit, Qt.Key.Key_Return)


def test_computers_added_in_settings_take_layers_and_the_reply_is_the_local_one(
    qtbot: QtBot,
    window: MainWindow,
    tiny_model: Path,
    two_workers: list[tuple[subprocess.Popen[str], str]],
) -> None:
    local = quantdesk("chat", str(tiny_model), "--prompt", QUESTION, "--temperature", "0",
                      "--max-tokens", "24", "--json", timeout=600)  # fmt: skip
    assert local.returncode == 0, local.stderr
    section = window.settings_page.workers
    add_in_settings(qtbot, window, "my desk")
    assert "is not a computer's address" in section.message.text() and section.message.isVisible()
    assert section.address_edit.text() == "my desk"  # kept, to be corrected
    section.address_edit.clear()
    for _process, address in two_workers:
        add_in_settings(qtbot, window, address)
    assert not section.message.isVisible() and section.address_edit.text() == ""
    rows = [section.rows[address] for _process, address in two_workers]
    for row in rows:  # probed: what it offers and how fast it answers
        qtbot.waitUntil(lambda row=row: "answered in" in row.status.text(), timeout=120_000)
        assert " free of " in row.status.text()
    assert window.session.preferences.workers == tuple(a for _p, a in two_workers)
    add_in_settings(qtbot, window, two_workers[0][1])
    assert "is in the list already" in section.message.text()

    with qtbot.waitSignal(window.model_loaded, timeout=300_000) as loaded:
        window.load_model(tiny_model)
    model = loaded.args[0]
    assert {worker.endpoint: worker.layers for worker in model.remote} == {
        two_workers[0][1]: 10, two_workers[1][1]: 10
    }  # fmt: skip
    assert "split across this computer (10 layers)" in window.model_label.text()

    window.sidebar.setCurrentRow(0)
    set_sampling(window, temperature=0.0, max_tokens=24)
    qtbot.keyClicks(window.chat.input_box, QUESTION)
    with qtbot.waitSignal(window.reply_finished, timeout=300_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    reply = window.chat.chat_view.messages()[-1]
    assert reply.content == json.loads(local.stdout)["content"]  # token for token

    # Removed: not used by the next load, and not contacted again.
    qtbot.mouseClick(rows[1].remove_button, Qt.MouseButton.LeftButton)
    assert window.session.preferences.workers == (two_workers[0][1],)
    assert two_workers[1][1] not in section.rows


def test_a_computer_gone_at_load_is_left_out_with_a_note(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    gone = f"127.0.0.8:{free_port('127.0.0.8')}"
    add_in_settings(qtbot, window, gone)
    row = window.settings_page.workers.rows[gone]
    qtbot.waitUntil(
        lambda: "nothing is listening on that port" in row.status.text(), timeout=60_000
    )
    with qtbot.waitSignal(window.model_loaded, timeout=300_000) as loaded:
        window.load_model(tiny_model)
    assert loaded.args[0].remote == ()  # this computer alone
    note = window.notes.text.text()
    assert window.notes.isVisible() and "Loaded without another computer" in note
    assert f"{gone} can't be used: nothing is listening on that port" in note


def test_a_computer_that_goes_away_mid_reply_ends_the_reply_and_keeps_its_text(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    worker, address = start_worker("127.0.0.9")
    try:
        add_in_settings(qtbot, window, address)
        with qtbot.waitSignal(window.model_loaded, timeout=300_000) as loaded:
            window.load_model(tiny_model)
        assert loaded.args[0].remote
        window.sidebar.setCurrentRow(0)
        set_sampling(window, temperature=0.0, max_tokens=300)
        qtbot.keyClicks(window.chat.input_box, "Write a long story about a dragon.")
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: len(window.chat.chat_view.messages()[-1].content) > 20, timeout=300_000
        )
        with qtbot.waitSignal(window.reply_failed, timeout=120_000):
            worker.kill()
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()
    reply = window.chat.chat_view.messages()[-1]
    assert len(reply.content) > 20 and reply.state == MessageState.FAILED
    sentence = f"The reply stopped here: the computer at {address} stopped answering."
    assert sentence in window.chat.error_label.text() and window.chat.error_label.isVisible()
    conversation = window.chat.conversation
    assert conversation is not None
    with ChatStore(window.chat.store_path, recover=False) as store:
        kept = store.messages(conversation.id)[-1]
    assert kept.content == reply.content  # every token shown is in the chat history
    assert not window.is_generating and window.isVisible()  # the app goes on
