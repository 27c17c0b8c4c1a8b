"""Discover tells a person what is wrong with a repo in words, not as a bug (C7)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.errors import ModelHeaderError
from app.core.machine.hardware import CpuInfo, HardwareProfile
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.localhub import LocalHub

REPO = "someone/Garbage-GGUF"
FILE = "Garbage-Q4_K_M.gguf"
MACHINE = HardwareProfile(
    os="linux",
    cpu=CpuInfo("x86_64", "Test CPU 8-Core", 8, ("avx", "avx2", "fma", "f16c")),
    ram_bytes=16 * 10**9,
    ram_available_bytes=12 * 10**9,
    gpus=(),
)


def test_a_repo_whose_header_is_garbage_is_explained_not_called_a_bug(
    qtbot: QtBot, local_hub: LocalHub
) -> None:
    local_hub.add_repo(REPO, {FILE: b"an HTML error page where a model should be " * 50})
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    try:
        window.sidebar.setCurrentRow(2)
        page = window.discover_page
        qtbot.keyClicks(page.model_list.search_box, "Garbage")
        with qtbot.waitSignal(page.model_list.search_finished, timeout=20_000):
            qtbot.keyClick(page.model_list.search_box, Qt.Key.Key_Return)
        with qtbot.waitSignal(page.chooser.facts_failed, timeout=20_000) as failed:
            page.model_list.select_repo(REPO)
        assert isinstance(failed.args[0], ModelHeaderError)
        shown = page.chooser.title.text()
        assert shown.startswith(f"Can't read the model file {FILE} in {REPO}: not a GGUF model")
        assert "Something went wrong" not in shown
        assert not page.download_button.isEnabled()
    finally:
        window.close()
