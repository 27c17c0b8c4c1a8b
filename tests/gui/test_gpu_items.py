"""GPU settings and columns show only where the engine has a GPU to use."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.machine.hardware import HardwareProfile
from app.core.paths import app_paths
from app.ui.discover.model_chooser import GPU_LAYERS_COLUMN
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.setup.test_wizard import MACHINE
from tests.localhub import LocalHub

REPO = "tester/One-GGUF"
NO_GPU = replace(MACHINE, gpus=())
# Seen by the driver, but this engine build can't run layers on it.
UNUSABLE_GPU = replace(MACHINE, gpus=(replace(MACHINE.gpus[0], engine_usable=False),))


def open_window(qtbot: QtBot, hardware: HardwareProfile) -> MainWindow:
    window = MainWindow(Session(app_paths().ensure(), hardware=hardware))
    qtbot.addWidget(window)
    window.show()
    window.detect_hardware_later()
    return window


def pick_in_discover(qtbot: QtBot, window: MainWindow, repo: str) -> None:
    window.sidebar.setCurrentRow(window.pages.indexOf(window.discover_page))
    models, chooser = window.discover_page.model_list, window.discover_page.chooser
    qtbot.keyClicks(models.search_box, repo)
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    with qtbot.waitSignal(chooser.facts_ready, timeout=20_000):
        models.select_repo(repo)


@pytest.mark.parametrize(
    ("hardware", "gpu_shown"), [(NO_GPU, False), (UNUSABLE_GPU, False), (MACHINE, True)]
)
def test_gpu_offload_and_the_gpu_layers_column_only_with_a_usable_gpu(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path, hardware: HardwareProfile,
    gpu_shown: bool,
) -> None:  # fmt: skip
    local_hub.add_repo(REPO, {"one-Q4_1.gguf": tiny_model})
    window = open_window(qtbot, hardware)
    window.sidebar.setCurrentRow(window.pages.indexOf(window.settings_page))
    settings = window.settings_page
    assert settings.gpu_combo.isVisible() is gpu_shown
    assert settings.gpu_label is not None and settings.gpu_label.isVisible() is gpu_shown
    assert settings.gpu_layers_spin.isVisibleTo(settings) is gpu_shown  # "32 layers"

    pick_in_discover(qtbot, window, REPO)
    table = window.discover_page.chooser.table
    assert table.isColumnHidden(GPU_LAYERS_COLUMN) is not gpu_shown
    window.close()


def test_the_file_count_is_the_files_listed(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {"one-Q4_1.gguf": tiny_model, "README.md": b"# One model\n"})
    window = open_window(qtbot, NO_GPU)
    pick_in_discover(qtbot, window, REPO)
    chooser = window.discover_page.chooser
    assert chooser.table.rowCount() == 1
    assert "one file" in chooser.title.text()
    assert "<b>" not in chooser.title.text()  # a plain-text title shows no markup
    window.close()
