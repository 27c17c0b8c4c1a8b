"""Settings → Other computers, driven as a person would, with real workers (`quantdesk worker`,
the engine's RPC server with the CPU backend) on loopback addresses and the real tiny model."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.chat.history import ChatStore, MessageState
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.fit.memory import ModelShape, estimate_memory
from app.core.fit.recommend import machine_budget, os_reserve_bytes
from app.core.fit.verdicts import Fit
from app.core.gguf.header import check_model_file
from app.core.hub.library import import_model
from app.core.paths import app_paths
from app.ui.discover.model_chooser import FileChooser
from app.ui.main_window import CHATS, DISCOVER, MODELS, SETTINGS, MainWindow
from app.ui.session import Session
from tests.gui.conftest import set_sampling
from tests.gui.setup.test_why_this_file import NANO_4B, NO_GPU
from tests.unit.hub.test_catalog import dead_endpoint
from tests.unit.remote.test_workers import free_port, start_worker
from tests.unit.test_cli import quantdesk

QUESTION = "Name three colours."
GIB = 1 << 30
FIT_COLUMN = FileChooser.COLUMNS.index("Fit")


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


def go_to(qtbot: QtBot, window: MainWindow, row: int) -> None:
    """Click a page's entry in the sidebar."""
    item = window.sidebar.item(row)
    qtbot.mouseClick(
        window.sidebar.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.sidebar.visualItemRect(item).center(),
    )
    assert window.sidebar.currentRow() == row


def add_in_settings(qtbot: QtBot, window: MainWindow, address: str) -> None:
    """Type the address in Settings → Other computers and press Enter."""
    go_to(qtbot, window, SETTINGS)
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
    # Settings says what each computer holds (a worker serves one computer at a time: a probe
    # now would only wait).
    for row in rows:
        assert row.status.text() == "Holds 10 layers of the model loaded now."
    # The status bar says it short; the line above the chat and the tooltip give the layers.
    assert window.model_label.text().endswith("· split across 3 computers")
    placement = f"split across this computer (10 layers) and {two_workers[0][1]} (10), "
    assert placement in window.model_status.text() and placement in window.model_label.toolTip()

    go_to(qtbot, window, CHATS)
    set_sampling(window, temperature=0.0, max_tokens=24)
    qtbot.keyClicks(window.chat.input_box, QUESTION)
    with qtbot.waitSignal(window.reply_finished, timeout=300_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    reply = window.chat.chat_view.messages()[-1]
    assert reply.content == json.loads(local.stdout)["content"]  # token for token

    # "Why is it slow?" names the other computers, and predicts nothing it can't know.
    panel = window.show_why_slow()
    figures = panel.rows
    qtbot.waitUntil(lambda: "tokens/s" in figures["reply"].text(), timeout=60_000)
    first = two_workers[0][1]
    layers = figures["layers"].text()
    assert layers.startswith(f"10 of 30 layers on this computer, the rest on other computers: {first} (10)")  # fmt: skip
    assert figures["predicted"].text().startswith("Not predicted for a model split across")
    panel.close()

    # Loaded again (a worker serves one computer at a time, and the loaded model holds both):
    # the same split, at once, not both left out after a silent probe.
    with qtbot.waitSignal(window.model_loaded, timeout=120_000) as again:
        window.load_model(tiny_model)
    assert again.args[0].remote == model.remote
    assert not window.notes.isVisible()

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


def test_a_computer_not_ready_yet_is_checked_again_on_request(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Added before its worker was started: the row says why it can't be used, and Check
    again asks once the worker runs, without removing and adding it."""
    port = free_port("127.0.0.12")
    address = f"127.0.0.12:{port}"
    add_in_settings(qtbot, window, address)
    row = window.settings_page.workers.rows[address]
    qtbot.waitUntil(lambda: "nothing is listening" in row.status.text(), timeout=60_000)
    assert row.check_button.isVisible()
    worker, _address = start_worker("127.0.0.12", port)
    try:
        qtbot.mouseClick(row.check_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "answered in" in row.status.text(), timeout=120_000)
        assert not row.check_button.isVisible()
    finally:
        worker.kill()
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()


def test_a_computer_that_goes_away_mid_reply_ends_the_reply_and_keeps_its_text(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    worker, address = start_worker("127.0.0.9")
    try:
        add_in_settings(qtbot, window, address)
        with qtbot.waitSignal(window.model_loaded, timeout=300_000) as loaded:
            window.load_model(tiny_model)
        assert loaded.args[0].remote
        go_to(qtbot, window, CHATS)
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
    # The next message hears why there is no reply, and what to do.
    with qtbot.waitSignal(window.reply_failed, timeout=60_000):
        qtbot.keyClicks(window.chat.input_box, "Are you there?")
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert "Load the model again to go on without it." in window.chat.error_label.text()
    # Where the model is named, it says so; the note offers the load that goes on without it,
    # once however often the loss is met.
    assert "can't reply any more" in window.model_status.text()
    assert f"part of it was on {address}" in window.model_status.text()
    notes = window.notes
    assert notes.isVisible() and notes.action_button.isVisible()
    assert notes.action_button.text() == "Load it again"
    assert notes.text.text().count(f"The computer at {address} stopped answering") == 1
    with qtbot.waitSignal(window.model_loaded, timeout=300_000) as again:
        qtbot.mouseClick(notes.action_button, Qt.MouseButton.LeftButton)
    assert again.args[0].remote == ()  # this computer alone: the worker is gone
    assert "stopped answering" not in notes.text.text()  # the old note was withdrawn
    assert f"Loaded without another computer: {address} can't be used" in notes.text.text()
    assert not window.chat.error_label.isVisible()  # "can't reply any more" no longer holds
    assert window.model_status.text().startswith("Ready:")


def test_discover_fits_files_too_large_here_across_the_computers_added(
    qtbot: QtBot, two_workers: list[tuple[subprocess.Popen[str], str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A 4 GiB computer: the bigger files of a curated model are too large alone; once two
    computers are added in Settings, Discover fits them across all three."""
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())  # the curated facts ship with the app
    small = dataclasses.replace(NO_GPU, ram_bytes=4 * GIB, ram_available_bytes=3 * GIB)
    window = MainWindow(Session(app_paths().ensure(), hardware=small))
    qtbot.addWidget(window)
    window.show()
    go_to(qtbot, window, DISCOVER)
    chooser = window.discover_page.chooser
    qtbot.waitUntil(lambda: window.discover_page.model_list.list.count() > 0, timeout=30_000)
    window.discover_page.model_list.select_repo(NANO_4B)
    qtbot.waitUntil(lambda: chooser.table.rowCount() > 0, timeout=30_000)
    fits = [chooser.table.item(row, FIT_COLUMN).text() for row in range(chooser.table.rowCount())]
    assert "Too large" in fits and "Split across computers" not in fits
    for _process, address in two_workers:
        add_in_settings(qtbot, window, address)
    go_to(qtbot, window, DISCOVER)

    def split_rows() -> list[int]:
        table = chooser.table
        return [r for r in range(table.rowCount())
                if table.item(r, FIT_COLUMN).text() == "Split across computers"]  # fmt: skip

    qtbot.waitUntil(lambda: bool(split_rows()), timeout=120_000)
    row = split_rows()[-1]  # the largest such file
    table = chooser.table
    table.scrollToItem(table.item(row, 0))
    qtbot.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.visualItemRect(table.item(row, 0)).center(),
    )
    option = chooser.selected_option
    assert option is not None and option.fit == Fit.WORKERS
    assert set(option.layers_on or {}) == {"this computer", *(a for _p, a in two_workers)}
    assert "split across this computer and" in chooser.summary.text()
    assert window.discover_page.download_button.isEnabled()
    window.close()


def test_the_models_page_fits_a_model_too_large_here_across_the_computers_added(
    qtbot: QtBot, tiny_model: Path
) -> None:
    """A computer too small for the tiny model alone: its Models page badge says so, and says
    "Split across computers" once a worker is added in Settings (and contacts none before)."""
    shape = ModelShape.from_header(check_model_file(tiny_model), tiny_model.stat().st_size)
    here = estimate_memory(shape, context=DEFAULT_CONTEXT)  # the context new chats load with
    repeating = (shape.layer_bytes + here.kv_bytes / shape.layers) * shape.layers
    # Room for what stays on this computer (embeddings, output, scratch), not the whole model.
    budget = int(here.ram_bytes - repeating / 2)
    ram = budget + os_reserve_bytes(budget)  # 2 GB kept for the system at this size
    small = dataclasses.replace(NO_GPU, ram_bytes=ram, ram_available_bytes=ram // 2)
    assert machine_budget(small).ram_bytes == budget
    import_model(app_paths(), tiny_model, copy=False)
    window = MainWindow(Session(app_paths().ensure(), hardware=small))
    qtbot.addWidget(window)
    window.show()
    go_to(qtbot, window, MODELS)
    page = window.models_page
    fit_column = page.COLUMNS.index("On this machine")

    def badge() -> str:
        item = page.table.item(0, fit_column)
        return item.text() if item is not None else ""

    qtbot.waitUntil(lambda: badge() == "Too large", timeout=30_000)
    worker, address = start_worker("127.0.0.10")
    try:
        add_in_settings(qtbot, window, address)
        go_to(qtbot, window, MODELS)
        qtbot.waitUntil(lambda: badge() == "Split across computers", timeout=120_000)
        # Removed in Settings: too large again, without asking the worker.
        go_to(qtbot, window, SETTINGS)
        row = window.settings_page.workers.rows[address]
        qtbot.mouseClick(row.remove_button, Qt.MouseButton.LeftButton)
        go_to(qtbot, window, MODELS)
        qtbot.waitUntil(lambda: badge() == "Too large", timeout=30_000)
    finally:
        worker.kill()
        worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()
    window.close()
