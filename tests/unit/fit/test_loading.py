"""Loads as the app makes them, with real llama.cpp on the tiny models: the memory map left off
for repacked files, every load measured and remembered, and out of memory said plainly."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil
import pytest

from app.core.chat.prompting import ReplyRequest
from app.core.chat.template import Message
from app.core.engine.engine import Engine
from app.core.errors import LoadMemoryError
from app.core.fit.loading import FREE_RAM_SHARE, REMEASURE_STEP, load_measured, remeasure
from app.core.fit.measured import LoadOutcome, LoadTable
from app.core.fit.memory import ModelShape, estimate_memory
from app.core.gguf.header import check_model_file
from app.core.machine.hardware import detect_cpu
from app.core.machine.repacking import repacked_types
from tests.conftest import HUGE_CONTEXT

MIB = 1 << 20
LINUX = sys.platform.startswith("linux")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = Engine(load_checks=tmp_path / "load-checks.json")
    yield engine  # type: ignore[misc]
    engine.unload()


@pytest.fixture
def table(tmp_path: Path) -> LoadTable:
    return LoadTable(tmp_path / "measured-loads.json")


def test_every_load_is_measured_and_remembered(
    engine: Engine, table: LoadTable, tiny_model: Path
) -> None:
    result = load_measured(engine, tiny_model, table, context=2048)
    assert result.model.memory_mapped  # Q4_1 isn't repacked: the map stays
    assert result.fallback is None
    (row,) = table.rows()
    assert row == result.row
    assert row.outcome == LoadOutcome.LOADED
    assert (row.file, row.context, row.gpu_layers) == (str(tiny_model), 2048, 0)
    assert row.estimated and row.measured
    # Weights, KV cache and runtime are resident after the load; the estimate also counts the
    # attention scratch of a full context, which only a long chat touches.
    assert 0.5 * row.estimated < row.measured < 1.1 * row.estimated
    if LINUX:  # the weights are mapped from the file
        assert row.measured_file is not None and row.measured_file > 80 * MIB
    assert table.last_load(tiny_model) == row


def test_an_engine_without_gpu_support_is_no_fallback(
    engine: Engine, table: LoadTable, tiny_model: Path
) -> None:
    """This machine's engine has no GPU backend: it reports 0 layers offloaded for a machine
    that claims a GPU. That is not "the GPU had no room", so no fallback note is due."""
    from app.core.engine.backends import ensure_backends
    from tests.gui.setup.test_wizard import MACHINE  # claims an RTX 3070

    if ensure_backends().gpu_offload:
        pytest.skip("this engine can offload to a GPU")
    result = load_measured(engine, tiny_model, table, context=1024, gpu_layers=20,
                           hardware=MACHINE)  # fmt: skip
    assert result.model.gpu_layers == 0
    assert result.fallback is None


@pytest.mark.skipif(not repacked_types(detect_cpu()), reason="this CPU repacks nothing")
def test_a_repacked_file_loads_without_the_map_and_is_resident_once(
    engine: Engine, table: LoadTable, q4_0_model: Path
) -> None:
    result = load_measured(engine, q4_0_model, table, context=2048)
    assert not result.model.memory_mapped
    row = result.row
    assert not row.memory_mapped
    if LINUX:
        # Nothing of the file stays mapped: every weight is in llama.cpp's own buffers, once.
        assert row.measured_file is not None and row.measured_file < 8 * MIB
        assert row.measured_anon is not None and row.measured_anon > 80 * MIB
    # With the map, the 56 MiB of repacked layers were resident twice: the load now measures
    # within the estimate (which counts each weight once).
    assert row.measured is not None and row.estimated is not None
    assert row.measured < row.estimated


def test_out_of_memory_on_the_cpu_offers_a_context_that_fits(
    engine: Engine, table: LoadTable, huge_context_model: Path, address_space_capped: None
) -> None:
    with pytest.raises(LoadMemoryError) as caught:
        load_measured(engine, huge_context_model, table, context=HUGE_CONTEXT)
    error = caught.value
    assert (error.context, error.gpu_layers) == (HUGE_CONTEXT, 0)
    assert "not enough memory for a 1,048,576-token context" in str(error)
    assert engine.model is None
    # The offer: a context whose estimate fits the RAM free now.
    offered = error.suggested_context
    assert offered is not None and 256 <= offered < HUGE_CONTEXT
    shape = ModelShape.from_header(
        check_model_file(huge_context_model), huge_context_model.stat().st_size
    )
    free = psutil.virtual_memory().available
    assert estimate_memory(shape, context=offered).ram_bytes <= free * FREE_RAM_SHARE * 1.05
    assert estimate_memory(shape, context=offered * 2).ram_bytes > free * FREE_RAM_SHARE * 0.95
    (row,) = table.rows()
    assert row.outcome == LoadOutcome.OUT_OF_MEMORY
    assert (row.context, row.measured) == (HUGE_CONTEXT, None)


def test_an_earlier_model_is_gone_after_a_load_that_ran_out_of_memory(
    engine: Engine, table: LoadTable, tiny_model: Path, huge_context_model: Path,
    address_space_capped: None,
) -> None:  # fmt: skip
    load_measured(engine, tiny_model, table, context=1024)
    with pytest.raises(LoadMemoryError):
        load_measured(engine, huge_context_model, table, context=HUGE_CONTEXT)
    assert engine.model is None
    # And the engine loads again afterwards.
    assert load_measured(engine, tiny_model, table, context=1024).model.context_length == 1024


def test_remeasure_raises_the_row_to_the_peak_after_a_reply(
    engine: Engine, table: LoadTable, tiny_model: Path
) -> None:
    result = load_measured(engine, tiny_model, table, context=2048)
    assert result.baseline is not None
    # Nothing new touched yet: the row stays as it is, and the table isn't written again.
    written = table.path.stat().st_mtime_ns
    assert remeasure(table, result.row, result.baseline) == result.row
    assert table.path.stat().st_mtime_ns == written
    request = ReplyRequest(
        turns=[Message("user", "Tell me about the sea. " * 40)],
        overrides={"temperature": 0.0, "max_tokens": 4},
    )
    _prepared, reply = engine.start_reply(request)
    for _piece in reply:
        pass
    raised = remeasure(table, result.row, result.baseline)
    assert raised.measured is not None and result.row.measured is not None
    assert raised.measured > result.row.measured + REMEASURE_STEP
    assert table.rows() == [raised]  # the same load, its figure raised
