"""A model load as the app and `quantdesk chat` make it: settings worked out for this machine,
a fallback when memory runs out, and what the load took measured and remembered.

    1. GPU layers: the person's number, or (automatic) what the memory estimate says fits.
    2. Memory map: off for files llama.cpp repacks on this CPU (`machine/repacking.py`).
    3. Out of memory with layers on a GPU: again with half as many, down to none; the result
       says so (`GpuFallback`) and each failed try is a row of the table. Out of memory on the
       CPU: `LoadMemoryError` with the longest context the estimate fits into the RAM free now
       (`suggested_context`), for the person to choose: their context is theirs to shorten.
    4. After the load: the process's growth against the estimate for the settings it got
       (`measured.py`), on the calling thread (the engine thread in the app); after each
       reply, `remeasure` raises it to the peak so far.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from app.core._util.cancel import CancelToken
from app.core.engine.engine import LLAMA_CONTEXT_STEP, Engine, LoadedModel, usable_context
from app.core.errors import LoadMemoryError
from app.core.fit.measured import (
    LoadOutcome,
    LoadRow,
    LoadTable,
    Where,
    gpu_backend,
    this_machine,
)
from app.core.fit.memory import ModelShape, estimate_memory
from app.core.gguf.header import GGUFHeader, check_model_file
from app.core.machine.hardware import HardwareProfile, detect_cpu
from app.core.machine.process_memory import MemorySnapshot, memory_snapshot
from app.core.machine.repacking import memory_map_wanted

log = logging.getLogger(__name__)

# Of the RAM free at the time, what a suggested shorter context may plan to use: the rest is
# for what else runs and for the estimate's own error.
FREE_RAM_SHARE = 0.8


@dataclass(frozen=True)
class GpuFallback:
    """The GPU had no room for `requested` layers; the model runs with `loaded` there."""

    requested: int
    loaded: int


@dataclass(frozen=True)
class LoadResult:
    """A load: the model, its row in the table, the fallback taken (if any), and the memory
    before it (`remeasure` measures growth from there)."""

    model: LoadedModel
    row: LoadRow
    fallback: GpuFallback | None = None
    baseline: MemorySnapshot | None = None


# A remeasured load is written again only when it grew by more than this: replies that touch
# nothing new cost no write.
REMEASURE_STEP = 1 << 20


def remeasure(table: LoadTable, row: LoadRow, baseline: MemorySnapshot) -> LoadRow:
    """After a reply: raise `row`'s figures to the growth since `baseline` if it is higher
    (the load's peak so far), in the table too. Returns the row as it now stands."""
    growth = memory_snapshot().growth_since(baseline)
    measured = growth.rss + max(0, growth.vram or 0)
    if row.measured is not None and measured <= row.measured + REMEASURE_STEP:
        return row
    raised = replace(
        row,
        measured=measured,
        measured_file=growth.rss_file,
        measured_anon=growth.rss_anon,
        measured_vram=growth.vram,
    )
    table.replace_row(row, raised)
    return raised


def load_measured(
    engine: Engine,
    path: Path,
    table: LoadTable,
    *,
    context: int,
    threads: int | None = None,
    gpu_layers: int | None = 0,
    hardware: HardwareProfile | None = None,
    cancel: CancelToken | None = None,
) -> LoadResult:
    """Load `path` into `engine` (see the module docstring) and record what it took.

    Raises:
        LoadMemoryError: out of memory on the CPU (or with no GPU layers left to give up), with
            `suggested_context` set where a shorter context fits the RAM free now.
        ModelFileError, ModelLoadError, TemplateBudgetError: as `Engine.load`.
    """
    path = Path(path)
    header = check_model_file(path)
    if gpu_layers is None:
        from app.core.fit.recommend import automatic_gpu_layers

        gpu_layers = automatic_gpu_layers(path, hardware, context=context)
    cpu = hardware.cpu if hardware is not None and hardware.cpu.features else detect_cpu()
    gpu_usable = hardware is not None and hardware.has_usable_gpu
    requested = gpu_layers
    while True:
        memory_map = memory_map_wanted(header, cpu, gpu_layers=gpu_layers if gpu_usable else 0)
        engine.unload()  # measured from here: the previous model's memory is given back first
        _start_engine()
        before = memory_snapshot()
        try:
            model = engine.load(
                path,
                context_length=context,
                threads=threads,
                gpu_layers=gpu_layers,
                memory_map=memory_map,
                cancel=cancel,
            )
        except LoadMemoryError as error:
            where = this_machine(gpu_backend(hardware) if error.gpu_layers else "cpu")
            table.add(_failed_row(path, header, error, memory_map, where))
            if error.gpu_layers > 0:
                gpu_layers = error.gpu_layers // 2
                log.warning("out of GPU memory, trying layers=%d path=%s", gpu_layers, path)
                continue
            raise LoadMemoryError(
                path,
                context=error.context,
                gpu_layers=0,
                suggested_context=suggested_context(header, path, error.context),
            ) from error
        break
    growth = memory_snapshot().growth_since(before)
    backend = gpu_backend(hardware) if model.gpu_layers else "cpu"
    row = _loaded_row(model, header, growth, this_machine(backend), backend)
    table.add(row)
    log.info(
        "load measured path=%s estimated=%s measured=%s file=%s anon=%s vram=%s",
        path, row.estimated, row.measured, row.measured_file, row.measured_anon,
        row.measured_vram,
    )  # fmt: skip
    fallback = None
    # Only a load the GPU refused is a fallback: an engine built without GPU support reports
    # 0 layers offloaded too, and "the GPU had no room" would then be untrue.
    if gpu_layers != requested:
        fallback = GpuFallback(requested, model.gpu_layers)
    return LoadResult(model, row, fallback, before)


def _start_engine() -> None:
    """Import llama.cpp and load its backends before the first snapshot: their ~15 MiB belong
    to the app, not to the load. A failure is left for `Engine.load` to report."""
    try:
        import llama_cpp  # noqa: F401

        from app.core.engine.backends import ensure_backends

        ensure_backends()
    except Exception:  # noqa: BLE001 - Engine.load says what went wrong, with the words
        pass


def suggested_context(header: GGUFHeader, path: Path, context: int) -> int | None:
    """The longest context, halving from `context`, whose estimate fits `FREE_RAM_SHARE` of the
    RAM free now; None when not even the smallest does (then the file is too big)."""
    import psutil

    free = psutil.virtual_memory().available * FREE_RAM_SHARE
    shape = _shape(header, path)
    if shape is None:
        return None
    trained = shape.trained_context
    tokens = usable_context(context // 2, trained)
    while tokens >= LLAMA_CONTEXT_STEP:
        if estimate_memory(shape, context=tokens).ram_bytes <= free:
            return tokens
        if tokens == LLAMA_CONTEXT_STEP:
            break
        tokens = usable_context(tokens // 2, trained)
    return None


def _shape(header: GGUFHeader, path: Path) -> ModelShape | None:
    try:
        return ModelShape.from_header(header, path.stat().st_size)
    except (OSError, ValueError):
        return None


def _estimate(
    header: GGUFHeader, path: Path, *, context: int, gpu_layers: int, backend: str | None
) -> int | None:
    shape = _shape(header, path)
    if shape is None:
        return None
    layers = shape.layers if gpu_layers < 0 else gpu_layers
    estimate = estimate_memory(shape, context=context, gpu_layers=layers, backend=backend)
    return estimate.total_bytes


def _loaded_row(
    model: LoadedModel, header: GGUFHeader, growth: MemorySnapshot, where: Where, backend: str
) -> LoadRow:
    estimated = _estimate(
        header,
        model.path,
        context=model.context_length,
        gpu_layers=model.gpu_layers,
        backend=None if backend == "cpu" else backend,
    )
    measured = growth.rss + max(0, growth.vram or 0)
    return LoadRow(
        file=str(model.path),
        size=model.file_size,
        context=model.context_length,
        gpu_layers=model.gpu_layers,
        memory_mapped=model.memory_mapped,
        outcome=LoadOutcome.LOADED,
        estimated=estimated,
        measured=max(0, measured),
        measured_file=growth.rss_file,
        measured_anon=growth.rss_anon,
        measured_vram=growth.vram,
        machine=where.machine,
        backend=where.backend,
        build=where.build,
        at=time.time(),
    )


def _failed_row(
    path: Path, header: GGUFHeader, error: LoadMemoryError, memory_map: bool, where: Where
) -> LoadRow:
    backend = None if where.backend == "cpu" else where.backend
    return LoadRow(
        file=str(path),
        size=path.stat().st_size,
        context=error.context,
        gpu_layers=error.gpu_layers,
        memory_mapped=memory_map,
        outcome=LoadOutcome.OUT_OF_MEMORY,
        estimated=_estimate(
            header, path, context=error.context, gpu_layers=error.gpu_layers, backend=backend
        ),
        measured=None,
        measured_file=None,
        measured_anon=None,
        measured_vram=None,
        machine=where.machine,
        backend=where.backend,
        build=where.build,
        at=time.time(),
    )
