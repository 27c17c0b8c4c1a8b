"""After a load, in the real window: the Models page shows what was estimated beside what the
load took, and a load that runs out of memory says so in one sentence and offers a context that
fits, with a button (real llama.cpp on the tiny model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget
from pytestqt.qtbot import QtBot

from app.core._util.units import format_bytes
from app.core.fit import loading
from app.core.fit.measured import LoadOutcome, LoadTable
from app.core.fit.memory import ModelShape, estimate_memory
from app.core.gguf.header import check_model_file
from app.core.hub.library import import_model
from app.core.machine.hardware import detect
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.conftest import HUGE_CONTEXT
from tests.gui.conftest import set_sampling

LOAD_MS = 120_000


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    window = MainWindow(Session(app_paths().ensure(), hardware=detect()))
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def click_row(qtbot: QtBot, view: QListWidget, text: str) -> None:
    row = next(i for i in range(view.count()) if view.item(i).text() == text)
    center = view.visualItemRect(view.item(row)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)


def test_the_models_page_shows_estimated_and_measured_after_a_load(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    import_model(app_paths(), tiny_model, copy=False)  # in the library, used where it is
    window.refresh_models()
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.load_model(tiny_model, context_length=2048)
    (row,) = LoadTable.in_folder(app_paths().data).rows()
    assert row.outcome == LoadOutcome.LOADED and row.estimated and row.measured

    click_row(qtbot, window.sidebar, "Models")
    page = window.models_page
    memory = page.COLUMNS.index("Memory")
    expected = f"estimated {format_bytes(row.estimated)} · measured {format_bytes(row.measured)}"

    def memory_cell() -> str:
        item = page.table.item(0, memory)
        return item.text() if item is not None else ""

    qtbot.waitUntil(lambda: memory_cell() == expected, timeout=30_000)
    assert "\u00a0GiB" in expected or "\u00a0MiB" in expected  # numbers joined to their units


def test_out_of_memory_says_so_and_offers_a_context_that_fits(
    qtbot: QtBot,
    window: MainWindow,
    huge_context_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    address_space_capped: None,
) -> None:
    # Make the memory free now look like room for a 4,096-token context and not for 8,192:
    # the offer is then one this test can load quickly.
    shape = ModelShape.from_header(
        check_model_file(huge_context_model), huge_context_model.stat().st_size
    )
    room = (
        estimate_memory(shape, context=4096).ram_bytes
        + estimate_memory(shape, context=8192).ram_bytes
    ) / 2
    monkeypatch.setattr(loading, "FREE_RAM_SHARE", room / psutil.virtual_memory().available)

    with qtbot.waitSignal(window.model_failed, timeout=LOAD_MS):
        window.load_model(huge_context_model, context_length=HUGE_CONTEXT)
    notes = window.notes
    assert notes.isVisible()
    assert notes.text.text() == (
        "There wasn't enough memory for a context of 1,048,576 tokens, so "
        f"{huge_context_model.name} wasn't loaded. A context of 4,096 tokens fits in the memory "
        "free now."
    )
    assert notes.action_button.text() == "Load with 4,096 tokens"
    (failed,) = LoadTable.in_folder(app_paths().data).rows()
    assert failed.outcome == LoadOutcome.OUT_OF_MEMORY  # remembered too
    assert window.chat.input_box.isEnabled()  # the window carries on

    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS) as loaded:
        qtbot.mouseClick(notes.action_button, Qt.MouseButton.LeftButton)
    assert loaded.args[0].context_length == 4096
    assert not notes.isVisible()


def test_a_reply_raises_the_measured_figure_to_the_loads_peak(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.load_model(tiny_model, context_length=2048)
    table = LoadTable.in_folder(app_paths().data)
    (at_load,) = table.rows()
    set_sampling(window, temperature=0.0, max_tokens=8)
    # A long question: evaluating it touches llama.cpp's scratch, which the load only reserved.
    qtbot.keyClicks(window.chat.input_box, "Tell me about the sea. " * 40)
    with qtbot.waitSignal(window.reply_finished, timeout=LOAD_MS):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    (after_reply,) = table.rows()
    assert at_load.measured is not None and after_reply.measured is not None
    assert after_reply.measured > at_load.measured + loading.REMEASURE_STEP
    assert (after_reply.at, after_reply.estimated) == (at_load.at, at_load.estimated)
