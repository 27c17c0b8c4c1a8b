"""The wizard's welcome page says what will happen and what it needs; its download page has
one Cancel."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWizard
from pytestqt.qtbot import QtBot

from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.gui.setup.test_wizard import FILE, MACHINE, REPO, click_next
from tests.localhub import Fault, LocalHub


def open_wizard(qtbot: QtBot) -> tuple[MainWindow, FirstRunWizard]:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    return window, window.show_wizard()


def shown_text(widget: QWizard) -> str:
    page = widget.currentPage()
    return "\n".join(label.text() for label in page.findChildren(QLabel) if label.isVisible())


def test_the_welcome_page_explains_the_three_steps_and_what_is_needed(qtbot: QtBot) -> None:
    window, wizard = open_wizard(qtbot)
    assert wizard.currentId() == FirstRunWizard.PAGE_WELCOME
    qtbot.waitUntil(lambda: "free for models" in shown_text(wizard), timeout=10_000)
    text = shown_text(wizard)
    for step in ("1. Your machine", "2. A model", "3. Download and chat"):
        assert step in text
    assert "disk space" in text and "internet connection" in text
    assert str(window.models_dir) in text  # where the space was measured
    assert re.search(r"\d\u00a0[KMGT]iB free", text)  # binary units, never split from the number
    window.close()


def visible_buttons(wizard: QWizard) -> list[str]:
    return [
        button.text()
        for button in wizard.findChildren(QAbstractButton)
        if button.isVisible() and button.text()
    ]


def test_the_download_page_has_one_cancel(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {FILE: tiny_model})
    local_hub.inject(Fault.SLOW, bytes_per_second=2_000_000, times=None)
    window, wizard = open_wizard(qtbot)
    assert [t for t in visible_buttons(wizard) if "Cancel" in t] == ["Cancel"]
    click_next(qtbot, wizard)  # the machine
    click_next(qtbot, wizard)  # the model
    models = wizard.model_page.model_list
    qtbot.keyClicks(models.search_box, "SmolLM2")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    models.select_repo(REPO)
    click_next(qtbot, wizard)  # the file
    qtbot.waitUntil(lambda: wizard.file_page.chooser.selected_option is not None, timeout=20_000)
    click_next(qtbot, wizard)  # the download
    assert wizard.currentId() == FirstRunWizard.PAGE_DOWNLOAD
    row = wizard.download_row
    assert row is not None
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=20_000)
    buttons = visible_buttons(wizard)
    assert [t for t in buttons if "Cancel" in t] == ["Cancel download"]
    assert wizard.button(QWizard.WizardButton.CancelButton).text() == "Close"
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: row.worker.done, timeout=10_000)
    # Back on another page, the wizard's own button is Cancel again.
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.BackButton), Qt.MouseButton.LeftButton)
    assert wizard.button(QWizard.WizardButton.CancelButton).text() == "Cancel"
    window.close()
