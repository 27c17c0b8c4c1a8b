"""Choosing a model and its file on the Discover page: real window, real local Hub."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.machine.hardware import HardwareProfile
from app.core.paths import app_paths
from app.ui.discover.model_chooser import FileChooser, ModelList
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.style import muted_color
from app.ui.theme import apply_theme
from tests.gui.conftest import StallMeter
from tests.gui.setup.test_wizard import MACHINE
from tests.gui.setup.test_wizard_choices import click_entry
from tests.localhub import Fault, LocalHub

SLOW_REPO = "tester/Slow-GGUF"
FAST_REPO = "tester/Fast-GGUF"
# The slow header takes about 2 s to arrive: read on the GUI thread, it would stall that long.
# 100 ms is where a person starts to notice lag (as in test_main_window.py); 50 ms failed now
# and then on a busy 2-core machine with nothing blocking, from the scheduler alone.
STALL_LIMIT_MS = 100


def test_picking_a_second_repo_while_the_first_loads_never_stalls_and_shows_the_second(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(SLOW_REPO, {"slow-Q4_1.gguf": tiny_model})
    local_hub.add_repo(FAST_REPO, {"fast-Q4_1.gguf": tiny_model})
    # The first repo's header arrives over a slow link: about two seconds.
    local_hub.inject(Fault.SLOW, path="slow-Q4_1.gguf", bytes_per_second=2_000_000, times=None)
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    window.sidebar.setCurrentRow(2)
    page = window.discover_page
    models, chooser = page.model_list, page.chooser
    qtbot.keyClicks(models.search_box, "tester")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)

    meter = StallMeter(interval_ms=10)
    meter.start()
    models.select_repo(SLOW_REPO)
    qtbot.waitUntil(
        lambda: any("slow-Q4_1.gguf" in path for _m, path, _r in local_hub.requests),
        timeout=20_000,
    )
    with qtbot.waitSignal(chooser.facts_ready, timeout=20_000):
        models.select_repo(FAST_REPO)  # the person moves on before the first answer
    assert chooser.facts is not None and chooser.facts.repo_id == FAST_REPO
    # The first fetch ends later; its result is dropped, not shown over the second.
    qtbot.waitUntil(lambda: not chooser.findChildren(QThread), timeout=30_000)
    meter.stop()
    assert chooser.facts.repo_id == FAST_REPO
    assert FAST_REPO in chooser.title.text() and SLOW_REPO not in chooser.title.text()
    assert chooser.selected_option is not None
    assert chooser.selected_option.files == ("fast-Q4_1.gguf",)
    print(f"\nlongest event-loop stall picking two repos: {meter.longest_ms} ms")
    assert meter.longest_ms < STALL_LIMIT_MS
    window.close()


def test_catalog_lines_use_the_themes_secondary_color(qtbot: QtBot, qapp: QApplication) -> None:
    apply_theme(qapp, "dark")
    try:
        models = ModelList()
        qtbot.addWidget(models)
        label = models.list.itemWidget(models.list.item(0))
        muted = muted_color(models.list)
        assert "#555" not in label.text()  # a fixed grey, unreadable on the dark theme
        assert muted.name() in label.text()
        assert muted.lightness() > 128  # light text on the dark background
    finally:
        apply_theme(qapp, "system")


def test_a_default_between_the_steps_is_a_stop_of_its_own(qtbot: QtBot, tmp_path: Path) -> None:
    # The file chooser fits at the person's default context exactly, as the CLI does.
    chooser = FileChooser(tmp_path, HardwareProfile.empty(), context=6000)
    qtbot.addWidget(chooser)
    assert chooser.context == 6000
    assert chooser.context_label.text() == "6,000 tokens"
    chooser.context_slider.setFocus()
    qtbot.keyClick(chooser.context_slider, Qt.Key.Key_Right)
    assert chooser.context == 8192


def test_a_new_search_in_discover_takes_the_old_models_files_and_download_away(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(FAST_REPO, {"fast-Q4_1.gguf": tiny_model})
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    window.sidebar.setCurrentRow(2)
    page = window.discover_page
    models = page.model_list
    qtbot.keyClicks(models.search_box, "tester")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    with qtbot.waitSignal(page.chooser.facts_ready, timeout=20_000):
        click_entry(qtbot, models.list, FAST_REPO)
    assert page.download_button.isEnabled()

    models.search_box.clear()
    qtbot.keyClicks(models.search_box, "nothing like it")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    assert models.selected is None
    assert page.chooser.table.rowCount() == 0 and page.chooser.facts is None
    assert FAST_REPO not in page.chooser.title.text()
    assert not page.download_button.isEnabled()
    window.close()


def test_fit_badges_read_in_dark_and_on_the_selected_entry(
    qtbot: QtBot, qapp: QApplication
) -> None:
    from PySide6.QtGui import QColor, QPalette

    from app.core.fit.recommend import Fit
    from app.ui.discover.model_chooser import _MODEL_ROLE
    from app.ui.style import FIT_COLORS, FIT_COLORS_ON_DARK
    from tests.gui.settings.test_theme_switch import READABLE, contrast

    apply_theme(qapp, "dark")
    try:
        models = ModelList()
        qtbot.addWidget(models)
        models.fit_to(MACHINE, goal="fastest", context=4096)
        background = models.list.palette().color(QPalette.ColorRole.Base)
        for fit in Fit:
            assert contrast(QColor(FIT_COLORS_ON_DARK[fit]), background) >= READABLE, fit
        selected = [models.list.row(item) for item in models.list.selectedItems()]
        assert selected, "the entry that suits this machine is preselected"
        other_row = 1 if selected[0] != 1 else 0
        click_entry(qtbot, models.list, models.list.item(other_row).data(_MODEL_ROLE).repo_id)
        (row,) = [models.list.row(item) for item in models.list.selectedItems()]
        chosen = models.list.itemWidget(models.list.item(row)).text()
        on_selection = models.list.palette().color(QPalette.ColorRole.HighlightedText).name()
        assert on_selection in chosen  # its facts and badge in the selection's text colour
        assert not any(color in chosen for color in FIT_COLORS_ON_DARK.values())
        other = models.list.itemWidget(models.list.item(selected[0])).text()
        assert any(color in other for color in FIT_COLORS_ON_DARK.values())
        assert not any(color in other for color in FIT_COLORS.values())  # the light-theme blue
    finally:
        apply_theme(qapp, "system")
