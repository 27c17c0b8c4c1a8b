"""Discover keeps what the person picks (issue 15, items 2 and 6): goal and context across
restarts, the context a file was downloaded for when it loads, and the curated models fitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.fit.recommend import Goal
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.setup.conftest import FILE, REPO
from tests.gui.setup.test_wizard import MACHINE
from tests.gui.setup.test_wizard_choices import NANO_4B, click_entry
from tests.localhub import LocalHub
from tests.unit.hub.test_catalog import dead_endpoint


def open_discover(qtbot: QtBot) -> MainWindow:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    window.sidebar.setCurrentRow(2)
    assert window.pages.currentWidget() is window.discover_page
    return window


def test_goal_and_context_chosen_in_discover_are_kept_across_restarts(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())  # curated models need no Hub
    window = open_discover(qtbot)
    page = window.discover_page
    # The curated model that suits the machine is picked, and its files are shown.
    assert page.model_list.selected is not None and page.model_list.selected.repo_id == NANO_4B
    qtbot.waitUntil(lambda: page.chooser.selected_option is not None, timeout=20_000)
    page.chooser.goal.setFocus()
    qtbot.keyClick(page.chooser.goal, Qt.Key.Key_Down)  # Best quality
    page.chooser.context_slider.setFocus()
    qtbot.keyClick(page.chooser.context_slider, Qt.Key.Key_Right)  # 8,192 tokens
    assert page.chooser.fit_goal is Goal.QUALITY and page.chooser.context == 8192
    window.close()

    again = open_discover(qtbot)
    chooser = again.discover_page.chooser
    assert chooser.fit_goal is Goal.QUALITY
    assert chooser.context == 8192 and chooser.context_label.text() == "8,192 tokens"
    # The wizard's file chooser starts from them too.
    wizard = again.show_wizard()
    assert wizard.file_page.chooser.fit_goal is Goal.QUALITY
    assert wizard.file_page.chooser.context == 8192
    wizard.reject()
    again.close()


def test_a_file_downloaded_from_discover_loads_with_the_context_it_was_chosen_for(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {FILE: tiny_model})
    window = open_discover(qtbot)
    page = window.discover_page
    models = page.model_list
    qtbot.keyClicks(models.search_box, "SmolLM2")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    with qtbot.waitSignal(page.chooser.facts_ready, timeout=20_000):
        click_entry(qtbot, models.list, REPO)
    page.chooser.context_slider.setFocus()
    qtbot.keyClick(page.chooser.context_slider, Qt.Key.Key_Left)  # 2,048 tokens
    with qtbot.waitSignal(window.downloads_panel.download_finished, timeout=60_000):
        qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)

    path = window.models_dir / REPO / FILE
    window.model_picker.setFocus()
    with qtbot.waitSignal(window.model_loaded, timeout=90_000) as loaded:
        qtbot.keyClick(window.model_picker, Qt.Key.Key_Down)
    assert loaded.args[0].path == path and loaded.args[0].context_length == 2048
    window.close()
