"""What each load really took, kept beside what was estimated for it, and the correction the
next estimate on this machine gets from them.

After every load the engine thread measures the process's growth (`MemorySnapshot`: resident
bytes, split into file-backed and anonymous pages on Linux, and VRAM where NVML says) and adds
one row to a small JSON table in the data folder (`measured-loads.json`, at most `MAX_ROWS`,
oldest dropped first, written atomically). After each reply the row is raised to the growth
then, if higher: llama.cpp's scratch is touched as the chat fills the context, so the figure
becomes the load's peak so far. A load that failed for memory is a row too:

    {"version": 1, "rows": [{"file": "/…/x.gguf", "size": 98362432, "context": 2048,
      "gpu_layers": 0, "memory_mapped": true, "outcome": "loaded",
      "estimated": 231000000, "measured": 168000000, "measured_file": 94000000,
      "measured_anon": 74000000, "measured_vram": null,
      "machine": "host", "backend": "cpu", "build": "0.3.36", "at": 1764777600.0}, …]}

The correction: the median of measured / estimated over this machine's last `CORRECTION_ROWS`
loads with the same backend and engine build, clamped to [1, `MAX_CORRECTION`]. It only ever
raises an estimate: a load is measured right after it, before a long chat has touched the
attention scratch the estimate counts for a full context, so a load measured below its
estimate says nothing against the estimate, while one measured above it does.
"""

from __future__ import annotations

import json
import logging
import platform
import statistics
import threading
from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.core._util.enums import TextEnum
from app.core._util.files import write_json_atomic
from app.core.fit.memory import MemoryEstimate
from app.core.machine.hardware import HardwareProfile

log = logging.getLogger(__name__)

TABLE_FILE = "measured-loads.json"
TABLE_VERSION = 1
# Rows kept, oldest dropped first: a few hundred loads say all there is to say; a row is ~400 B.
MAX_ROWS = 200
# The loads a correction is worked out from: the latest, so a new engine build or a changed
# machine is followed within a few loads.
CORRECTION_ROWS = 20
# The most a correction raises an estimate: beyond this the estimate is wrong, not off, and a
# bigger factor would hide that (the log and docs/performance.md say it instead).
MAX_CORRECTION = 1.5
_lock = threading.Lock()  # one writer at a time (the engine thread and the CLI share none)


class LoadOutcome(TextEnum):
    LOADED = "loaded"
    OUT_OF_MEMORY = "out of memory"


@dataclass(frozen=True)
class Where:
    """The machine, backend and engine build a figure is true for."""

    machine: str
    backend: str  # "cpu", or the GPU backend layers ran on ("cuda", "metal", …)
    build: str  # llama-cpp-python's version: its llama.cpp is vendored


@dataclass(frozen=True)
class LoadRow:
    """One load: its settings, what was estimated, and what it took (bytes; None unknown)."""

    file: str
    size: int
    context: int
    gpu_layers: int
    memory_mapped: bool
    outcome: LoadOutcome
    estimated: int | None
    measured: int | None
    measured_file: int | None
    measured_anon: int | None
    measured_vram: int | None
    machine: str
    backend: str
    build: str
    at: float

    @property
    def where(self) -> Where:
        return Where(self.machine, self.backend, self.build)

    @property
    def ratio(self) -> float | None:
        """measured / estimated, for a load that succeeded and was measured."""
        if self.outcome != LoadOutcome.LOADED or not self.estimated or self.measured is None:
            return None
        return self.measured / self.estimated

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadRow | None:
        """A row read back, or None for one this version can't use (hand-edited, older)."""
        try:
            values = {f.name: data[f.name] for f in fields(cls)}
            values["outcome"] = LoadOutcome(values["outcome"])
            return cls(**values)
        except (KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "outcome": str(self.outcome)}


@dataclass(frozen=True)
class Correction:
    """The factor this machine's loads put on an estimate, and how many loads say so."""

    factor: float
    loads: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor": round(self.factor, 3),
            "loads": self.loads,
            "basis": "median of measured / estimated over this machine's last loads, "
            f"clamped to 1-{MAX_CORRECTION:g}",
        }


NO_CORRECTION = Correction(1.0, 0)


def corrected(estimate: MemoryEstimate, factor: float) -> MemoryEstimate:
    """`estimate` with every part raised by `factor` (a `Correction`'s), so its totals are."""
    if factor == 1.0:
        return estimate
    scaled: dict[str, Any] = {
        f.name: int(getattr(estimate, f.name) * factor)
        for f in fields(estimate)
        if f.name not in ("context", "gpu_layers")
        and type(getattr(estimate, f.name)) is int  # bytes; not a flag (`projected`)
    }
    return replace(estimate, **scaled)


def this_machine(backend: str = "cpu") -> Where:
    """Where figures measured now hold: this computer, `backend`, this engine build."""
    return Where(platform.node() or "this machine", backend, engine_version())


@lru_cache(maxsize=1)
def engine_version() -> str:
    """The engine's build as its package version (without importing llama.cpp; read once, since
    looking it up walks the installed packages)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama_cpp_python")
    except PackageNotFoundError:
        return "unknown"


class LoadTable:
    """The table of measured loads in `path` (a missing or damaged file reads as empty)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def in_folder(cls, data_folder: Path) -> LoadTable:
        return cls(Path(data_folder) / TABLE_FILE)

    def rows(self) -> list[LoadRow]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        raw = data.get("rows") if isinstance(data, dict) else None
        rows = (LoadRow.from_json(r) for r in raw if isinstance(r, dict)) if raw else ()
        return [row for row in rows if row is not None]

    def add(self, row: LoadRow) -> None:
        """Keep `row` (the oldest dropped past `MAX_ROWS`). Never raises: a table that can't be
        written costs the next estimate its correction, not the load."""
        with _lock:
            rows = [*self.rows(), row][-MAX_ROWS:]
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_json_atomic(
                    self.path, {"version": TABLE_VERSION, "rows": [r.to_json() for r in rows]}
                )
            except OSError as exc:
                log.warning("couldn't save measured loads path=%s error=%s", self.path, exc)

    def replace_row(self, old: LoadRow, new: LoadRow) -> None:
        """Put `new` where `old` is (the same load measured again); nothing if `old` is gone."""
        with _lock:
            rows = self.rows()
            if old not in rows:
                return
            rows[rows.index(old)] = new
            try:
                write_json_atomic(
                    self.path, {"version": TABLE_VERSION, "rows": [r.to_json() for r in rows]}
                )
            except OSError as exc:
                log.warning("couldn't save measured loads path=%s error=%s", self.path, exc)

    def last_load(self, file: Path) -> LoadRow | None:
        """The latest successful load of `file` on this machine (any backend), if any."""
        return self.last_loads([file])[Path(file)]

    def last_loads(self, files: list[Path]) -> dict[Path, LoadRow | None]:
        """`last_load` of each of `files`, reading the table once."""
        here = this_machine().machine
        latest: dict[str, LoadRow] = {}
        for row in self.rows():
            if row.machine == here and row.outcome == LoadOutcome.LOADED:
                latest[row.file] = row
        return {Path(f): latest.get(str(Path(f))) for f in files}

    def correction(self, where: Where) -> Correction:
        """The factor for estimates made for `where` (see the module docstring)."""
        ratios = [
            ratio for r in self.rows() if r.where == where and (ratio := r.ratio) is not None
        ][-CORRECTION_ROWS:]
        if not ratios:
            return NO_CORRECTION
        factor = min(MAX_CORRECTION, max(1.0, statistics.median(ratios)))
        return Correction(factor, len(ratios))


def measured_correction(profile: HardwareProfile, table: LoadTable) -> Correction:
    """The correction for estimates on this machine (`profile` detected here): its loads on
    the GPU backend a pick would use, or on the CPU without one."""
    return table.correction(this_machine(gpu_backend(profile)))


def gpu_backend(profile: HardwareProfile | None) -> str:
    """The backend a load's GPU layers run on here (the biggest usable GPU's), else "cpu"."""
    gpus = [g for g in profile.gpus if g.engine_usable] if profile is not None else []
    return max(gpus, key=lambda g: g.vram_bytes).backend if gpus else "cpu"
