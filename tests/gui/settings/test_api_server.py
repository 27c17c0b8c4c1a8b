"""Settings → Local API server in the real window: the real `openai` client against it, on the
app's own engine thread, while the person's own reply streams."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import openai
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QCheckBox
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.settings.api_section import ApiServerSection
from tests import models
from tests.gui.conftest import set_sampling


def any_free_port(qtbot: QtBot, section: ApiServerSection) -> None:
    """Type 0 in the port box ("Any free port"), as a person would."""
    spin = section.port_spin
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, "0")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert spin.value() == 0 and spin.text() == "Any free port"


def tick(qtbot: QtBot, box: QCheckBox) -> None:
    """Click a check box on its box, as a person would (its row may be wider than its text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def test_the_api_shares_the_engine_thread_and_the_persons_chat_streams_while_it_waits(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(tiny_model)
    section = window.settings_page.api_section
    assert not section.enable_check.isChecked()  # off by default
    assert not window.api_label.isVisible()
    any_free_port(qtbot, section)
    with qtbot.waitSignal(window.session.api.started, timeout=30_000):
        qtbot.mouseClick(section.enable_check, Qt.MouseButton.LeftButton)
    url = window.session.api.url
    assert url is not None and section.url_label.text() == f"{url}/v1"
    assert window.api_label.isVisible() and url in window.api_label.text()
    qtbot.mouseClick(section.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == f"{url}/v1"

    # The person's own reply streams...
    worker = window.session.engine.worker
    streamed: list[object] = []
    worker.streamed.connect(streamed.append)
    set_sampling(window, temperature=0.0, max_tokens=160)
    qtbot.keyClicks(window.chat.input_box, "Write a long story about a dragon.")
    finished = qtbot.waitSignal(window.reply_finished, timeout=120_000)
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(streamed) >= 2, timeout=60_000)

    # ...while a program asks the API: its request is listed, and waits.
    answers: list[str] = []
    api = openai.OpenAI(base_url=f"{url}/v1", api_key="-", max_retries=0, timeout=120)
    client = threading.Thread(
        target=lambda: answers.append(
            api.chat.completions.create(
                model=models.BASE_NAME, messages=[{"role": "user", "content": "Hi"}], max_tokens=4
            ).choices[0].message.content or ""
        )
    )  # fmt: skip
    client.start()
    qtbot.waitUntil(lambda: section.state_of(1) == "Waiting for the model", timeout=30_000)
    assert "1" in section.queue_label.text()
    before = len(streamed)
    qtbot.waitUntil(lambda: len(streamed) >= before + 3, timeout=60_000)  # still streaming
    assert section.state_of(1) == "Waiting for the model"
    finished.wait()
    assert finished.args is not None

    # Then the request runs on the same engine thread, and the list shows its speed.
    qtbot.waitUntil(lambda: section.state_of(1) == "Done", timeout=60_000)
    assert section.queue_label.text() == ""  # nothing waits any more
    client.join(60)
    api.close()
    assert answers and answers[0]
    item = section.requests.topLevelItem(0)
    assert item.text(1) == "POST /v1/chat/completions" and item.text(2) == models.BASE_NAME
    assert item.text(4) == "4" and float(item.text(5)) > 0
    # Nothing of it went into the person's chats: one conversation, theirs.
    assert len(window.session.store.list_conversations()) == 1

    with qtbot.waitSignal(window.session.api.stopped, timeout=30_000):
        qtbot.mouseClick(section.enable_check, Qt.MouseButton.LeftButton)
    assert not window.api_label.isVisible()
    assert section.url_label.text() == "Off"


def _answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_closing_the_app_stops_the_server(qtbot: QtBot, window: MainWindow) -> None:
    section = window.settings_page.api_section
    any_free_port(qtbot, section)
    with qtbot.waitSignal(window.session.api.started, timeout=30_000):
        qtbot.mouseClick(section.enable_check, Qt.MouseButton.LeftButton)
    url = window.session.api.url
    assert url is not None
    port = int(url.rsplit(":", 1)[1])
    assert _answers(port)
    window.close()  # the session ends its threads, the server's first
    assert not _answers(port)


def test_turned_off_while_starting_it_ends_off(qtbot: QtBot, window: MainWindow) -> None:
    section = window.settings_page.api_section
    any_free_port(qtbot, section)
    api = window.session.api
    with qtbot.waitSignal(api.stopped, timeout=30_000):
        qtbot.mouseClick(section.enable_check, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(section.enable_check, Qt.MouseButton.LeftButton)  # before it answered
    qtbot.wait(200)
    assert not api.running and api.url is None
    assert not section.enable_check.isChecked() and section.url_label.text() == "Off"
    assert not window.api_label.isVisible()


def test_the_port_and_the_saving_choice_are_there_again_after_a_restart(qtbot: QtBot) -> None:
    """A program set up with the URL finds the server at the same port once it is turned on
    again; the key is not kept (it would be a password in a settings file)."""
    from app.core.paths import app_paths
    from app.ui.main_window import SETTINGS
    from app.ui.session import Session
    from tests.gui.settings.test_other_computers import go_to

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    first = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(first)
    first.show()
    go_to(qtbot, first, SETTINGS)
    section = first.settings_page.api_section
    spin = section.port_spin
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, str(port))
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    qtbot.keyClicks(section.key_edit, "secret-key")
    tick(qtbot, section.save_check)
    with qtbot.waitSignal(first.session.api.started, timeout=30_000):
        tick(qtbot, section.enable_check)
    assert first.session.api.url == f"http://127.0.0.1:{port}"
    first.close()

    again = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(again)
    again.show()
    go_to(qtbot, again, SETTINGS)
    section = again.settings_page.api_section
    assert section.port_spin.value() == port and section.save_check.isChecked()
    assert section.key_edit.text() == "" and not section.enable_check.isChecked()
    assert "secret-key" not in (app_paths().config / "preferences.json").read_text()
    again.close()


def test_the_request_list_tells_a_refusal_from_a_server_failure(window: MainWindow) -> None:
    from app.core.api.server import RequestRecord

    section = window.settings_page.api_section
    section._on_request(RequestRecord(1, "GET", "/v1/models", state="refused", status=401))
    section._on_request(RequestRecord(2, "POST", "/v1/chat/completions", state="refused", status=500))  # fmt: skip
    states = {
        section.requests.topLevelItem(row).text(0): section.requests.topLevelItem(row).text(3)
        for row in range(section.requests.topLevelItemCount())
    }
    assert states == {"1": "Refused (401)", "2": "Failed (500)"}
