"""Speed in plain words where files are chosen (Discover and the wizard share the chooser): words
per second for every file, the source of the figure, and a warning when "Best quality" would be
slower than a person reads. The real window, the curated models' shipped facts (no Hub)."""

from __future__ import annotations

import json
import re
import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.fit.speed import (
    BANDWIDTH_FILE,
    SpeedMeasurement,
    engine_build,
    machine_key,
    save_measurement,
)
from app.core.fit.verdicts import Fit
from app.core.paths import app_paths
from app.ui.discover.model_chooser import FileChooser
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.setup.test_why_this_file import NANO_4B, NO_GPU
from tests.unit.hub.test_catalog import dead_endpoint

SPEED_COLUMN = FileChooser.COLUMNS.index("Speed")
WORDS = re.compile(r"^about \d+(\u2013\d+)?\u00a0words/s$")


def open_chooser(qtbot: QtBot) -> tuple[MainWindow, FileChooser]:
    window = MainWindow(Session(app_paths().ensure(), hardware=NO_GPU))
    qtbot.addWidget(window)
    window.show()
    window.sidebar.setCurrentRow(2)
    page = window.discover_page
    assert page.model_list.selected is not None and page.model_list.selected.repo_id == NANO_4B
    chooser = page.chooser
    qtbot.waitUntil(lambda: chooser.speed_line.text() != "", timeout=30_000)
    return window, chooser


def speed_cells(chooser: FileChooser) -> list[str]:
    table = chooser.table
    return [table.item(row, SPEED_COLUMN).text() for row in range(table.rowCount())]


@pytest.fixture
def ram_20_gbps(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's RAM as measured before: 20 GB/s (the figures below follow from it)."""
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())
    cache = app_paths().ensure().cache
    (cache / BANDWIDTH_FILE).write_text(
        json.dumps({"format": 1, "machine": machine_key(NO_GPU), "gbps": 20.0})
    )


@pytest.mark.usefixtures("ram_20_gbps")
def test_every_file_has_its_speed_in_words_and_best_quality_warns_when_slow(
    qtbot: QtBot,
) -> None:
    window, chooser = open_chooser(qtbot)
    assert chooser.table.horizontalHeaderItem(SPEED_COLUMN).text() == "Speed"
    cells = speed_cells(chooser)
    assert len(cells) == 24
    fitting = [
        cell
        for cell, option in zip(cells, chooser.recommendation.options, strict=True)
        if option.fit != Fit.TOO_LARGE
    ]
    assert fitting and all(WORDS.match(cell) for cell in fitting), fitting
    # The pick (a 4-bit file of a 4B model, ~2.5 GB over 20 GB/s): a few words a second.
    assert chooser.speed_line.text().startswith("Replies come at about ")
    assert chooser.speed_line.text().endswith(
        "words/s on this machine (estimated from its memory speed)."
    )

    # Best quality picks a bigger file: slower than a person reads, and the line says so.
    chooser.goal.setFocus()
    qtbot.keyClick(chooser.goal, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: "slower than you read" in chooser.speed_line.text(), timeout=5_000)
    assert chooser.speed_line.text() == (
        # An 8-bit 4.8 GB file: 2 words/s if this CPU is bound by its RAM, 4 if by arithmetic.
        "Replies come at about 2\u20134\u00a0words/s on this machine: slower than you read. "
        "Choose Fastest for a quicker file."
    )
    window.close()


@pytest.mark.usefixtures("ram_20_gbps")
def test_after_a_speed_test_here_the_figure_says_so(qtbot: QtBot) -> None:
    save_measurement(
        app_paths().ensure().data,
        SpeedMeasurement(
            machine=machine_key(NO_GPU), backend="cpu", build=engine_build(),
            file="SmolLM2-135M-Instruct-Q4_1.gguf", file_size=98_362_432, gpu_layers=0,
            threads=2, prompt_tokens_per_second=900.0, generation_tokens_per_second=100.0,
            generation_tokens_per_second_deep=80.0, deep_depth=2048, time_to_first_token=0.6,
            prompt_tokens=512, predicted_seconds_per_token=0.01, measured_at=time.time(),
        ),
    )  # fmt: skip
    window, chooser = open_chooser(qtbot)
    assert chooser.speed_line.text().endswith("words/s on this machine (from a speed test here).")
    window.close()


@pytest.mark.usefixtures("ram_20_gbps")
def test_this_machines_measured_loads_raise_the_needs_column(qtbot: QtBot) -> None:
    """Loads on this machine that took 20 % more than estimated: Discover's figures carry it,
    as `quantdesk recommend` does (the person sees what a load here will take)."""
    from app.core._util.units import format_bytes
    from app.core.fit.measured import LoadOutcome, LoadRow, LoadTable, this_machine

    window, chooser = open_chooser(qtbot)
    needs = FileChooser.COLUMNS.index("Needs")
    before = [o.estimated_bytes for o in chooser.recommendation.options]
    window.close()

    here = this_machine()
    table = LoadTable.in_folder(app_paths().data)
    for measured in (110, 130, 120):
        table.add(
            LoadRow(
                file="/models/x.gguf", size=1, context=4096, gpu_layers=0, memory_mapped=True,
                outcome=LoadOutcome.LOADED, estimated=100, measured=measured,
                measured_file=None, measured_anon=None, measured_vram=None,
                machine=here.machine, backend=here.backend, build=here.build, at=0.0,
            )
        )  # fmt: skip
    window, chooser = open_chooser(qtbot)
    qtbot.waitUntil(
        lambda: chooser.recommendation.options[0].estimated_bytes > before[0], timeout=10_000
    )
    after = chooser.recommendation.options
    for old, option, row in zip(before, after, range(len(after)), strict=True):
        assert option.estimated_bytes == pytest.approx(1.2 * old, rel=1e-3)
        assert chooser.table.item(row, needs).text() == format_bytes(option.estimated_bytes)
    window.close()
