"""A library that remembers: the last model loads again after a restart, and each chat keeps
its own model and offers it when another one is loaded. The real window, the real engine."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.config.preferences import Preferences, save_preferences
from app.core.paths import AppPaths, app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.conftest import pick_in_model_picker, set_sampling

SMOL_REPO = ("HuggingFaceTB", "SmolLM2-135M-Instruct-GGUF")
NEMOTRON_REPO = ("bartowski", "nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF")


def place(paths: AppPaths, repo: tuple[str, str], model: Path, name: str) -> Path:
    """A model as a download leaves it: models/<owner>/<repo>/<file>."""
    target = paths.models / repo[0] / repo[1] / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(model)
    return target


def open_window(qtbot: QtBot, paths: AppPaths) -> MainWindow:
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.show()
    return window


def choose(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    """Pick `path` in the model picker, as a person does, and wait for it to load."""
    index = window.model_picker.findData(str(path))
    assert index >= 0
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        pick_in_model_picker(qtbot, window, index)


def say(qtbot: QtBot, window: MainWindow, text: str) -> None:
    set_sampling(window, temperature=0.0, max_tokens=4)
    qtbot.keyClicks(window.chat.input_box, text)
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)


def test_the_last_model_loads_again_after_a_restart_unless_turned_off(
    qtbot: QtBot, tiny_model: Path
) -> None:
    paths = app_paths().ensure()
    smol = place(paths, SMOL_REPO, tiny_model, tiny_model.name)
    first = open_window(qtbot, paths)
    assert first.loaded_model is None and first.chat.empty_state.isVisible()
    choose(qtbot, first, smol)
    first.close()

    # Restart: the model loads by itself on the engine thread, the status line says so.
    second = open_window(qtbot, paths)
    assert second.model_status.text() == "Loading SmolLM2 135M Instruct · Q4_1…"
    assert not second.chat.empty_state.isVisible()
    with qtbot.waitSignal(second.model_loaded, timeout=90_000) as loaded:
        pass
    assert loaded.args[0].path == smol
    assert second.model_status.text().startswith("Ready: SmolLM2 135M Instruct · Q4_1")
    qtbot.keyClicks(second.chat.input_box, "Hello again")
    assert second.chat.send_button.isEnabled()

    # The setting that turns it off, in Settings.
    second.sidebar.setCurrentRow(4)
    check = second.settings_page.load_last_check
    assert check.text() == "Load the last model when Quantdesk starts" and check.isChecked()
    qtbot.mouseClick(check, Qt.MouseButton.LeftButton)
    assert not check.isChecked()
    second.close()

    third = open_window(qtbot, paths)
    with qtbot.assertNotEmitted(third.model_loaded, wait=1_000):
        assert third.model_status.text() == "No model loaded."
    assert third.loaded_model is None
    assert third.chat.empty_state.isVisible()
    assert not third.settings_page.load_last_check.isChecked()
    third.close()


def test_a_last_model_whose_file_is_gone_is_explained(qtbot: QtBot, tmp_path: Path) -> None:
    paths = app_paths().ensure()
    gone = tmp_path / "SmolLM2-135M-Instruct-Q4_1.gguf"
    save_preferences(paths.config, Preferences(last_model=str(gone)))
    window = open_window(qtbot, paths)
    assert window.model_status.text() == (
        f"The model you used last, SmolLM2 135M Instruct · Q4_1, is no longer at {gone}. "
        "Choose another one."
    )
    assert window.chat.empty_state.isVisible()
    window.close()


def test_each_chat_remembers_its_model_and_offers_to_switch_to_it(
    qtbot: QtBot, tiny_model: Path, nemotron_model: Path
) -> None:
    paths = app_paths().ensure()
    smol = place(paths, SMOL_REPO, tiny_model, tiny_model.name)
    nano = place(paths, NEMOTRON_REPO, nemotron_model, "nvidia_Nano-4B-v1.1-Q4_1.gguf")
    window = open_window(qtbot, paths)
    choose(qtbot, window, smol)
    say(qtbot, window, "Hi")
    smol_chat = window.chat.conversation
    assert smol_chat is not None
    assert not window.model_offer.isVisible()

    qtbot.mouseClick(window.chat.conversations.new_button, Qt.MouseButton.LeftButton)
    choose(qtbot, window, nano)
    say(qtbot, window, "Hello")
    nano_chat = window.chat.conversation
    assert nano_chat is not None and nano_chat.id != smol_chat.id

    # Back to the first chat: it was with SmolLM2, and says so, with a way to switch.
    conversations = window.chat.conversations
    row = [conversations.list.item(i).text() for i in range(conversations.list.count())].index(
        smol_chat.title
    )
    item = conversations.list.item(row)
    qtbot.mouseClick(
        conversations.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=conversations.list.visualItemRect(item).center(),
    )
    qtbot.waitUntil(lambda: window.chat.conversation.id == smol_chat.id, timeout=5_000)
    assert window.model_offer.isVisible()
    assert window.model_offer_text.text() == (
        "This chat was with SmolLM2 135M Instruct · Q4_1; "
        "Llama 3.1 Nemotron Nano 4B v1.1 · Q4_1 is loaded now."
    )
    assert window.switch_model_button.text() == "Switch to it"
    with qtbot.waitSignal(window.model_loaded, timeout=90_000) as loaded:
        qtbot.mouseClick(window.switch_model_button, Qt.MouseButton.LeftButton)
    assert loaded.args[0].path == smol
    assert not window.model_offer.isVisible()

    # The other chat's model file is gone: said plainly, nothing to click that can't work.
    nano.unlink()
    row = [conversations.list.item(i).text() for i in range(conversations.list.count())].index(
        nano_chat.title
    )
    qtbot.mouseClick(
        conversations.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=conversations.list.visualItemRect(conversations.list.item(row)).center(),
    )
    qtbot.waitUntil(lambda: window.chat.conversation.id == nano_chat.id, timeout=5_000)
    assert window.model_offer.isVisible()
    assert "its file is no longer at" in window.model_offer_text.text()
    assert str(nano) in window.model_offer_text.text()
    assert not window.switch_model_button.isVisible()
    window.close()
