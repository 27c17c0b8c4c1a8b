"""The wizard keeps what the person picks, and only that (issue 15, items 1, 2 and 6): driven
with the keyboard and mouse on the real window, the stand-in Hub and the real engine."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QWizard
from pytestqt.qtbot import QtBot

from app.core.config.preferences import load_preferences
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.gui.setup.conftest import REPO
from tests.gui.setup.test_wizard import MACHINE, click_next
from tests.localhub import LocalHub
from tests.unit.hub.test_catalog import dead_endpoint

NANO_4B = "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF"


def click_entry(qtbot: QtBot, entries: QListWidget, repo_id: str) -> None:
    """Click the list entry of `repo_id`, as a person picks a model."""
    for row in range(entries.count()):
        item = entries.item(row)
        if item.data(Qt.ItemDataRole.UserRole).repo_id == repo_id:
            entries.scrollToItem(item)
            center = entries.visualItemRect(item).center()
            qtbot.mouseClick(entries.viewport(), Qt.MouseButton.LeftButton, pos=center)
            return
    raise AssertionError(f"{repo_id} is not listed")


def open_model_page(qtbot: QtBot) -> tuple[MainWindow, FirstRunWizard]:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    wizard = window.show_wizard()
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    assert wizard.currentId() == FirstRunWizard.PAGE_MODEL
    return window, wizard


def test_enter_in_the_search_box_searches_and_forgets_the_model_picked_before(
    qtbot: QtBot, hub: LocalHub
) -> None:
    window, wizard = open_model_page(qtbot)
    models = wizard.model_page.model_list
    click_entry(qtbot, models.list, NANO_4B)
    assert models.selected is not None and models.selected.repo_id == NANO_4B
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert next_button.isEnabled()

    qtbot.keyClicks(models.search_box, "smol")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    # Enter searched: still choosing a model, the new results shown, nothing picked from them.
    assert wizard.currentId() == FirstRunWizard.PAGE_MODEL
    assert [text.splitlines()[0] for text in models.item_texts()] == [REPO.split("/")[1]]
    assert models.selected is None
    assert not next_button.isEnabled()
    # Picking from the new results is what enables Next, and leads to that model's files.
    click_entry(qtbot, models.list, REPO)
    assert next_button.isEnabled()
    click_next(qtbot, wizard)
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.facts is not None, timeout=20_000)
    assert chooser.facts is not None and chooser.facts.repo_id == REPO
    wizard.reject()
    window.close()


def test_the_context_chosen_in_the_wizard_is_what_loads_and_is_remembered(
    qtbot: QtBot, hub: LocalHub
) -> None:
    window, wizard = open_model_page(qtbot)
    models = wizard.model_page.model_list
    qtbot.keyClicks(models.search_box, "SmolLM2")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    click_entry(qtbot, models.list, REPO)
    click_next(qtbot, wizard)
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.selected_option is not None, timeout=20_000)
    assert chooser.context == 4096  # the default
    chooser.context_slider.setFocus()
    qtbot.keyClick(chooser.context_slider, Qt.Key.Key_Left)
    assert chooser.context_label.text() == "2,048 tokens"

    click_next(qtbot, wizard)  # downloads, then loads
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    qtbot.waitUntil(finish.isEnabled, timeout=90_000)
    assert "2,048\u00a0tokens of context" in wizard.ready_page.status.text()
    qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert window.loaded_model is not None and window.loaded_model.context_length == 2048
    assert window.chat.settings_panel.context_length.value() == 2048
    path = window.loaded_model.path
    window.close()

    # A new start: the wizard's choice is kept, and picking the file loads it at 2,048 again.
    prefs, _ = load_preferences(app_paths().config)
    assert prefs.model_context(path) == 2048 and prefs.chooser_context == 2048
    again = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(again)
    again.show()
    again.model_picker.setFocus()
    with qtbot.waitSignal(again.model_loaded, timeout=90_000) as loaded:
        qtbot.keyClick(again.model_picker, Qt.Key.Key_Down)
    assert loaded.args[0].path == path and loaded.args[0].context_length == 2048
    again.close()


def test_offline_the_curated_models_are_fitted_chosen_and_their_files_listed(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())
    window, wizard = open_model_page(qtbot)
    models = wizard.model_page.model_list
    # Each curated model says how it fits this machine (an 8 GB GPU); the one that suits it is
    # picked already, so Next is ready.
    texts = models.item_texts()
    assert len(texts) == 4
    assert all("Runs on the GPU with" in text or "Split GPU + CPU" in text for text in texts)
    suggested = [text for text in texts if "Suggested for this machine." in text]
    assert len(suggested) == 1 and suggested[0].startswith("Llama 3.1 Nemotron Nano 4B v1.1")
    assert models.selected is not None and models.selected.repo_id == NANO_4B
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert next_button.isEnabled()

    # Its files are listed and fitted without the Hub; the recommended one is ready to download.
    click_next(qtbot, wizard)
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.selected_option is not None, timeout=20_000)
    assert chooser.table.rowCount() == 24
    assert "as listed in Quantdesk" in chooser.title.text()
    assert chooser.selected_option is not None and chooser.selected_option.fit == "gpu"
    assert next_button.isEnabled()

    # Searching needs the Hub: it says it can't be reached, at once.
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(models.search_box, "smol")
    with qtbot.waitSignal(models.search_finished, timeout=30_000):
        started = time.monotonic()
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    took = time.monotonic() - started
    assert "can't be reached" in models.message.text()
    assert took < 3.0, f"the offline search took {took:.1f} s to say so"
    assert models.list.count() == 4 and models.selected is None  # the person picks again
    wizard.reject()
    window.close()


def test_the_badges_follow_the_goal_and_context_and_the_persons_pick_stays(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())
    window, wizard = open_model_page(qtbot)
    models = wizard.model_page.model_list
    ace = "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF"
    click_entry(qtbot, models.list, ace)
    click_next(qtbot, wizard)
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.selected_option is not None, timeout=20_000)
    chooser.context_slider.setFocus()
    qtbot.keyClick(chooser.context_slider, Qt.Key.Key_End)  # 131,072 tokens: the KV cache grows
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    assert models.selected is not None and models.selected.repo_id == ace
    assert not any("Runs on the GPU with" in text for text in models.item_texts())
    wizard.reject()
    window.close()
