"""One repo, one machine, one default context: the wizard's file chooser, Discover and
`quantdesk recommend` star the same file (each reads the context from the person's Settings)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QWizard
from pytestqt.qtbot import QtBot

from app.core.config.preferences import Preferences, save_preferences
from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile
from app.core.paths import app_paths
from app.ui.discover.model_chooser import FileChooser, ModelList
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.localhub import LocalHub, seed_repos

GB = 10**9
# At 4,096 tokens this repo's fastest file for the machine below is Q5_K_M, at 16,384 IQ4_XS:
# a GUI and a CLI fitting at different lengths star different files.
REPO = "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF"
CONTEXT = 16384
MACHINE = HardwareProfile(
    os="linux",
    cpu=CpuInfo("x86_64", "Test CPU 8-Core", 8, ("avx", "avx2", "fma", "f16c")),
    ram_bytes=16 * GB,
    ram_available_bytes=12 * GB,
    gpus=(GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * GB, 7 * GB),),
)


def click_row(qtbot: QtBot, view: QListWidget, row: int) -> None:
    rect = view.visualItemRect(view.item(row))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def click_model(qtbot: QtBot, models: ModelList, name: str) -> None:
    row = next(i for i, text in enumerate(models.item_texts()) if name in text)
    click_row(qtbot, models.list, row)


def starred(qtbot: QtBot, chooser: FileChooser) -> tuple[str, ...]:
    qtbot.waitUntil(lambda: chooser.recommendation is not None, timeout=30_000)
    assert chooser.recommendation is not None and chooser.recommendation.pick is not None
    assert chooser.context == CONTEXT
    star = [chooser.table.item(row, 0).text() for row in range(chooser.table.rowCount())]
    assert [text for text in star if text.startswith("★")] == [
        f"★ {chooser.recommendation.pick.quant}"
    ]
    return chooser.recommendation.pick.files


def cli_pick(hardware: Path) -> tuple[str, ...]:
    result = subprocess.run(
        [sys.executable, "-m", "app", "recommend", REPO, "--hardware", str(hardware), "--json"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["context"] == CONTEXT
    return tuple(report["pick"]["files"])


def test_wizard_discover_and_the_cli_star_the_same_file(
    qtbot: QtBot, local_hub: LocalHub, tmp_path: Path
) -> None:
    local_hub.add_listing_repo(REPO, seed_repos()[REPO])
    paths = app_paths().ensure()
    save_preferences(paths.config, Preferences(first_run_done=True, default_context=CONTEXT))
    hardware = tmp_path / "machine.json"
    hardware.write_text(json.dumps(MACHINE.to_json()))

    window = MainWindow(Session(paths, hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()

    sidebar = window.sidebar
    click_row(
        qtbot,
        sidebar,
        next(i for i in range(sidebar.count()) if sidebar.item(i).text() == "Discover"),
    )
    discover = window.discover_page
    click_model(qtbot, discover.model_list, "AceReason")
    in_discover = starred(qtbot, discover.chooser)

    wizard = window.show_wizard()
    for _page in (FirstRunWizard.PAGE_MACHINE, FirstRunWizard.PAGE_MODEL):
        next_button = wizard.button(QWizard.WizardButton.NextButton)
        qtbot.waitUntil(next_button.isEnabled, timeout=30_000)
        qtbot.mouseClick(next_button, Qt.MouseButton.LeftButton)
    click_model(qtbot, wizard.model_page.model_list, "AceReason")
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == FirstRunWizard.PAGE_FILE
    in_wizard = starred(qtbot, wizard.file_page.chooser)

    assert in_wizard == in_discover == cli_pick(hardware)
    assert in_wizard == ("nvidia_AceReason-Nemotron-1.1-7B-IQ4_XS.gguf",)
    wizard.close()
    window.close()
