"""The table of measured loads and the correction it gives this machine's estimates."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.fit import measured
from app.core.fit.measured import (
    MAX_CORRECTION,
    NO_CORRECTION,
    LoadOutcome,
    LoadRow,
    LoadTable,
    corrected,
    this_machine,
)
from app.core.fit.memory import MemoryEstimate


def row(estimated: int, measured_bytes: int | None, **changes: object) -> LoadRow:
    here = this_machine()
    made = LoadRow(
        file="/models/x.gguf",
        size=1000,
        context=2048,
        gpu_layers=0,
        memory_mapped=True,
        outcome=LoadOutcome.LOADED,
        estimated=estimated,
        measured=measured_bytes,
        measured_file=None,
        measured_anon=None,
        measured_vram=None,
        machine=here.machine,
        backend=here.backend,
        build=here.build,
        at=0.0,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def test_rows_are_kept_and_read_back(tmp_path: Path) -> None:
    table = LoadTable(tmp_path / "loads.json")
    assert table.rows() == []
    table.add(row(100, 90))
    table.add(row(100, 120, file="/models/y.gguf"))
    assert [r.measured for r in LoadTable(tmp_path / "loads.json").rows()] == [90, 120]
    assert table.last_load(Path("/models/y.gguf")).measured == 120  # type: ignore[union-attr]
    assert table.last_load(Path("/models/z.gguf")) is None


def test_the_table_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(measured, "MAX_ROWS", 3)
    table = LoadTable(tmp_path / "loads.json")
    for size in range(5):
        table.add(row(100, 100, size=size))
    assert [r.size for r in table.rows()] == [2, 3, 4]  # the oldest dropped first


def test_a_damaged_table_reads_as_empty_and_is_written_again(tmp_path: Path) -> None:
    path = tmp_path / "loads.json"
    path.write_text("{not json", encoding="utf-8")
    table = LoadTable(path)
    assert table.rows() == []
    table.add(row(100, 100))
    assert json.loads(path.read_text(encoding="utf-8"))["version"] == 1
    assert len(table.rows()) == 1


def test_the_correction_is_the_median_ratio_clamped(tmp_path: Path) -> None:
    table = LoadTable(tmp_path / "loads.json")
    here = this_machine()
    assert table.correction(here) == NO_CORRECTION
    for measured_bytes in (110, 130, 120):
        table.add(row(100, measured_bytes))
    table.add(row(100, None, outcome=LoadOutcome.OUT_OF_MEMORY))  # not a measurement
    table.add(row(100, 500, machine="another machine"))  # not this machine
    table.add(row(100, 500, build="another build"))  # not this engine build
    correction = table.correction(here)
    assert correction.factor == pytest.approx(1.2)
    assert correction.loads == 3
    assert correction.as_dict()["factor"] == 1.2


def test_a_correction_never_lowers_an_estimate_and_never_triples_it(tmp_path: Path) -> None:
    table = LoadTable(tmp_path / "loads.json")
    table.add(row(100, 60))
    assert table.correction(this_machine()).factor == 1.0
    for _ in range(3):
        table.add(row(100, 900))
    assert table.correction(this_machine()).factor == MAX_CORRECTION


def test_corrected_raises_every_part_of_an_estimate() -> None:
    estimate = MemoryEstimate(4096, 10, 1000, 2000, 100, 200, 10, 20, 400)
    raised = corrected(estimate, 1.5)
    assert (raised.context, raised.gpu_layers) == (4096, 10)
    assert raised.total_bytes == pytest.approx(1.5 * estimate.total_bytes, abs=10)
    assert corrected(estimate, 1.0) is estimate


def test_a_row_measured_again_replaces_the_old_one_in_place(tmp_path: Path) -> None:
    table = LoadTable(tmp_path / "loads.json")
    first, second = row(100, 90), row(100, 95, file="/models/y.gguf")
    table.add(first)
    table.add(second)
    table.replace_row(first, replace(first, measured=120))
    assert [r.measured for r in table.rows()] == [120, 95]
    table.replace_row(first, replace(first, measured=130))  # `first` is no longer there
    assert [r.measured for r in table.rows()] == [120, 95]
