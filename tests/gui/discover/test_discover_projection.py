"""Discover's memory figures are llama.cpp's own where this machine's engine can plan the load
(issue 16): the real window, the real local Hub, llama.cpp's dry run on a stub of the header."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.machine.hardware import detect
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.localhub import LocalHub

REPO = "tester/Tiny-GGUF"


def test_the_figures_shown_are_llama_cpps_plan_at_the_context_chosen(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model})
    window = MainWindow(Session(app_paths().ensure(), hardware=detect()))
    qtbot.addWidget(window)
    window.show()
    window.sidebar.setCurrentRow(2)
    page = window.discover_page
    models, chooser = page.model_list, page.chooser
    qtbot.keyClicks(models.search_box, "tester")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    with qtbot.waitSignal(chooser.facts_ready, timeout=60_000):
        models.select_repo(REPO)
    recommendation = chooser.recommendation
    assert recommendation is not None
    assert [o.projection_source for o in recommendation.options] == ["llama.cpp"]
    chooser.why.set_expanded(True)
    assert "llama.cpp's own figure" in chooser.why.details_text()
    # Only the header was read for the plan (a stub stands for the rest of the file).
    header_bytes = sum(n for path, n in local_hub.bytes_sent.items() if "tiny-Q4_1" in path)
    assert 0 < header_bytes < tiny_model.stat().st_size / 4

    # Another context: the plan was made for the one before, so the formula answers.
    chooser.context_slider.setFocus()
    qtbot.keyClick(chooser.context_slider, Qt.Key.Key_Right)
    assert [o.projection_source for o in chooser.recommendation.options] == ["formula"]
    window.close()
