"""The wizard keeps what the person picks, and only that (issue 15, items 1, 2 and 6): driven
with the keyboard and mouse on the real window, the stand-in Hub and the real engine."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QWizard
from pytestqt.qtbot import QtBot

from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.gui.setup.conftest import REPO
from tests.gui.setup.test_wizard import MACHINE, click_next
from tests.localhub import LocalHub

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
