"""How much memory this process uses right now, for the status bar (RAM, and VRAM on NVIDIA),
and before and after a load (`MemorySnapshot`)."""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

from app.core._util.units import format_bytes

_nvml_state: dict[str, object] = {}


def process_ram_bytes() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def process_vram_bytes() -> int | None:
    """VRAM this process holds on NVIDIA GPUs, from NVML; None where NVML isn't available."""
    if _nvml_state.get("failed"):
        return None
    try:
        with warnings.catch_warnings():  # the `pynvml` wrapper package warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            import pynvml

        if not _nvml_state.get("ready"):
            pynvml.nvmlInit()
            _nvml_state["ready"] = True
        total = 0
        pid = os.getpid()
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            for process in pynvml.nvmlDeviceGetComputeRunningProcesses(handle):
                if process.pid == pid and process.usedGpuMemory:
                    total += process.usedGpuMemory
        return total
    except Exception:  # noqa: BLE001 - no driver, no GPU, old NVML: the status bar shows RAM only
        _nvml_state["failed"] = True
        return None


@dataclass(frozen=True)
class MemorySnapshot:
    """This process's memory at one moment: resident bytes, split where the OS says so into
    pages backed by files (memory-mapped weights) and anonymous ones (what llama.cpp
    allocated); VRAM is None where NVML can't say."""

    rss: int
    rss_file: int | None
    rss_anon: int | None
    vram: int | None

    def growth_since(self, before: MemorySnapshot) -> MemorySnapshot:
        """What was added since `before` (a part either side doesn't know stays None)."""

        def delta(now: int | None, then: int | None) -> int | None:
            return None if now is None or then is None else now - then

        return MemorySnapshot(
            rss=self.rss - before.rss,
            rss_file=delta(self.rss_file, before.rss_file),
            rss_anon=delta(self.rss_anon, before.rss_anon),
            vram=delta(self.vram, before.vram),
        )


def memory_snapshot() -> MemorySnapshot:
    """Resident memory now (Linux: /proc/self/status's RssFile and RssAnon too), and VRAM."""
    parts: dict[str, int] = {}
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/status", encoding="ascii", errors="replace") as status:
                for line in status:
                    key, _, value = line.partition(":")
                    if key in ("VmRSS", "RssFile", "RssAnon"):
                        parts[key] = int(value.split()[0]) * 1024  # "kB" there means KiB
        except (OSError, ValueError):
            parts = {}
    rss = parts.get("VmRSS") or process_ram_bytes()
    return MemorySnapshot(rss, parts.get("RssFile"), parts.get("RssAnon"), process_vram_bytes())


def describe_process_memory() -> str:
    """'RAM 512.3 MiB' or 'RAM 512.3 MiB · VRAM 4.1 GiB'."""
    text = f"RAM {format_bytes(process_ram_bytes())}"
    vram = process_vram_bytes()
    if vram:
        text += f" · VRAM {format_bytes(vram)}"
    return text
