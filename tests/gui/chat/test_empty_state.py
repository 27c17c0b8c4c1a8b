"""With no model loaded, the chat says what to do and offers a button for each way forward."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.qtbot import QtBot

from app.core.paths import app_paths
from app.ui.library.add_model import AddModelDialog
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.gui.conftest import pick_in_model_picker


def first_run(qtbot: QtBot) -> tuple[MainWindow, FirstRunWizard]:
    """What a person sees on a first run: the window, and the wizard over it."""
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    assert window.needs_wizard()
    wizard = window.show_wizard()
    qtbot.waitUntil(wizard.isVisible, timeout=5_000)
    return window, wizard


def cancel_with_escape(qtbot: QtBot, wizard: FirstRunWizard) -> None:
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)


def cancel_with_button(qtbot: QtBot, wizard: FirstRunWizard) -> None:
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("cancel", [cancel_with_escape, cancel_with_button])
def test_cancelling_the_wizard_leaves_a_chat_that_says_what_to_do(
    qtbot: QtBot, cancel: object
) -> None:
    window, wizard = first_run(qtbot)
    window.sidebar.setCurrentRow(1)  # wherever the person was, the chat comes next
    cancel(qtbot, wizard)  # type: ignore[operator]
    qtbot.waitUntil(lambda: window.wizard is None, timeout=5_000)
    assert window.pages.currentWidget() is window.chat
    empty = window.chat.empty_state
    assert empty.isVisible()
    assert "To chat, you need a model" in empty.explanation.text()
    assert not window.chat.send_button.isEnabled()

    qtbot.mouseClick(empty.discover_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.discover_page

    window.sidebar.setCurrentRow(0)
    qtbot.mouseClick(empty.add_file_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.add_dialog is not None and window.add_dialog.isVisible())
    assert isinstance(QApplication.activeModalWidget(), AddModelDialog)
    qtbot.keyClick(window.add_dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=5_000)

    qtbot.mouseClick(empty.setup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.wizard is not None and window.wizard.isVisible())
    assert window.wizard is not None
    assert window.wizard.currentId() == FirstRunWizard.PAGE_WELCOME
    window.close()


def test_the_empty_state_leaves_once_a_model_loads_and_points_to_the_picker(
    qtbot: QtBot, tiny_model: Path
) -> None:
    paths = app_paths().ensure()
    target = paths.models / "HuggingFaceTB" / "SmolLM2-135M-Instruct" / tiny_model.name
    target.parent.mkdir(parents=True)
    target.symlink_to(tiny_model)
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.show()
    empty = window.chat.empty_state
    assert empty.isVisible()
    assert "pick one of your models in the list above" in empty.explanation.text()
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        pick_in_model_picker(qtbot, window, 0)
    assert not empty.isVisible()
    window.close()
