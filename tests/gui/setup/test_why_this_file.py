"""The file page's reasons, read as a person reads them: one plain sentence, and the rules and
numbers behind "Why this file?", opened with a click or from the keyboard. A machine without a
GPU (as the person trying the app had), the real wizard and the curated model on a local Hub."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWizard
from pytestqt.qtbot import QtBot

from app.core.machine.hardware import CpuInfo, HardwareProfile
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.gui.setup.test_wizard import click_next
from tests.localhub import LocalHub, seed_repos

GIB = 1 << 30
NANO_4B = "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF"
NO_GPU = HardwareProfile(
    os="linux",
    cpu=CpuInfo("x86_64", "Test CPU 2-Core", 2, ("avx", "avx2", "fma", "f16c")),
    ram_bytes=16 * GIB,
    ram_available_bytes=12 * GIB,
)
GPU_WORDS = re.compile(r"GPU|VRAM|CUDA|layer|offload", re.IGNORECASE)


def test_why_this_file_opens_the_rules_and_numbers_behind_the_one_sentence(
    qtbot: QtBot, local_hub: LocalHub
) -> None:
    for repo_id, files in seed_repos().items():
        local_hub.add_listing_repo(repo_id, files)
    window = MainWindow(Session(app_paths().ensure(), hardware=NO_GPU))
    qtbot.addWidget(window)
    window.show()
    wizard = window.show_wizard()
    click_next(qtbot, wizard)  # the machine
    click_next(qtbot, wizard)  # the models
    models = wizard.model_page.model_list
    models.select_repo(NANO_4B)
    item = models.list.currentItem()
    qtbot.mouseClick(
        models.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=models.list.visualItemRect(item).center(),
    )
    click_next(qtbot, wizard)
    assert wizard.currentId() == FirstRunWizard.PAGE_FILE
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.selected_option is not None, timeout=30_000)

    # One plain sentence: the quality in words and the memory it takes of this machine's.
    summary = chooser.summary.text()
    assert summary.startswith("★ Recommended for this machine. ")
    assert "quality, runs on the CPU: uses about " in summary
    assert "of your 16.0\u00a0GiB of RAM" in summary
    # The details wait behind the button.
    why = chooser.why
    assert why.isVisible() and why.button.text() == "Why this file?"
    assert not why.details.isVisible()

    qtbot.mouseClick(why.button, Qt.MouseButton.LeftButton)
    assert why.details.isVisible()
    details = why.details.text()
    assert "Usable RAM: your 16.0\u00a0GiB minus" in details
    assert "context memory" in details and re.search(r"\d\u00a0tokens", details)
    assert "measured on a sibling model, Llama-3.1-Minitron-4B-Width-Base" in details
    assert "seed" not in details
    # This machine has no GPU: not one GPU word, in the sentence or behind it.
    assert not GPU_WORDS.search(summary + details), summary + details

    # The keyboard does the same: from the table, Tab reaches the button and Space folds it.
    qtbot.mouseClick(why.button, Qt.MouseButton.LeftButton)
    assert not why.details.isVisible()
    table = chooser.table
    row = table.visualRect(table.model().index(table.currentRow(), 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert QApplication.focusWidget() is table
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is why.button
    qtbot.keyClick(why.button, Qt.Key.Key_Space)
    assert why.details.isVisible() and why.button.isChecked()

    # Another file: its own sentence, and the details follow the selection.
    qtbot.keyClick(table, Qt.Key.Key_Up)  # a smaller file than the pick
    assert chooser.summary.text().startswith("Your choice. ")
    assert why.details.isVisible() and why.details.text() != details
    wizard.button(QWizard.WizardButton.CancelButton).click()
    window.close()
