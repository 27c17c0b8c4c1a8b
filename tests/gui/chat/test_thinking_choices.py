"""The chat's thinking toggle shows each family's own choices, with its note.

Real models (the tiny weights with the makers' own templates from the corpus) load through the
window as a person's would: gpt-oss gets an effort choice (low/medium/high) instead of on/off,
Qwen3 an on/off switch, and a chat model with no known switch no toggle, with the Reply settings
panel saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from tests.gui.conftest import set_sampling
from tests.models import TEMPLATES, with_template


def real_template_model(folder: Path, name: str) -> Path:
    template = (TEMPLATES / "real" / f"{name}.jinja").read_text(encoding="utf-8")
    return with_template(folder, name, template)


@pytest.fixture(scope="module")
def gpt_oss_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_template_model(tmp_path_factory.mktemp("gpt-oss"), "openai-gpt-oss-120b")


def load(qtbot: QtBot, window: MainWindow, model: Path) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(model)


def test_gpt_oss_offers_reasoning_effort_with_its_note(
    qtbot: QtBot, window: MainWindow, gpt_oss_model: Path
) -> None:
    load(qtbot, window, gpt_oss_model)
    chat = window.chat
    box = chat.effort_box
    assert box.isVisible() and not chat.thinking_toggle.isVisible()
    assert [box.itemText(i) for i in range(box.count())] == [
        "Thinking: low", "Thinking: medium", "Thinking: high",
    ]  # fmt: skip
    assert (box.currentData(), chat.effort) == ("medium", "medium")
    assert chat.thinking_note.isVisible() and "choose how much" in chat.thinking_note.text()
    qtbot.mouseClick(chat.settings_button, Qt.MouseButton.LeftButton)
    panel = chat.settings_panel
    assert "gpt-oss" in panel.thinking_family.text()
    # Choosing an effort changes what is sent, and the card's presets for it.
    box.setCurrentIndex(box.findData("high"))
    assert chat.effort == "high"
    assert panel.fields["max_tokens"].value() == 8192
    box.setCurrentIndex(box.findData("low"))
    assert panel.fields["max_tokens"].value() == 4096


def test_qwen3_gets_on_off_and_a_plain_chat_model_no_toggle_with_the_reason(
    qtbot: QtBot, window: MainWindow, qwen3_model: Path, tiny_model: Path
) -> None:
    chat = window.chat
    load(qtbot, window, qwen3_model)
    assert chat.thinking_toggle.isVisible() and not chat.effort_box.isVisible()
    assert chat.effort is None and chat.thinking_on
    qtbot.mouseClick(chat.settings_button, Qt.MouseButton.LeftButton)
    panel = chat.settings_panel
    assert "Qwen3" in panel.thinking_family.text()

    load(qtbot, window, tiny_model)  # SmolLM2's ChatML: no thinking switch
    assert not chat.thinking_toggle.isVisible() and not chat.effort_box.isVisible()
    assert panel.thinking_family.isVisible()
    assert "No thinking toggle" in panel.thinking_family.text()
    assert "no thinking switch Quantdesk knows" in panel.thinking_family.text()


def test_a_template_without_a_system_role_gets_the_instructions_in_the_first_message(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """Gemma 2's template refuses a system message ("System role not supported"): a person who
    writes instructions still gets replies, and the panel says where the instructions go."""
    load(qtbot, window, real_template_model(tmp_path, "google-gemma-2-2b-it"))
    chat = window.chat
    qtbot.mouseClick(chat.settings_button, Qt.MouseButton.LeftButton)
    panel = chat.settings_panel
    qtbot.keyClicks(panel.system_prompt, "Answer like a pirate.")
    assert panel.system_note.isVisible()
    assert "no place for a system prompt" in panel.system_note.text()
    set_sampling(window, temperature=0.0, max_tokens=8)
    qtbot.keyClicks(chat.input_box, "Say hello.")
    with qtbot.waitSignal(window.reply_finished, timeout=120_000):
        qtbot.mouseClick(chat.send_button, Qt.MouseButton.LeftButton)
    reply = chat.chat_view.messages()[-1]
    assert reply.role == "assistant" and reply.content and not chat.error_label.isVisible()


def test_every_familys_label_and_note_is_translatable() -> None:
    # lupdate can't read the families' JSON: family_words lists its words, and must keep up.
    from app.core.chat.reasoning import _family_data
    from app.ui.chat.family_words import FAMILY_TEXTS

    data = _family_data()
    entries = [*data["families"], data["base"], data["plain"]]
    words = {entry[key] for entry in entries for key in ("label", "note") if entry.get(key)}
    assert words == set(FAMILY_TEXTS)
