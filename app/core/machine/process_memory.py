"""How much memory this process uses right now, for the status bar (RAM, and VRAM on NVIDIA)."""

from __future__ import annotations

import os
import warnings

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


def describe_process_memory() -> str:
    """'RAM 512.3 MiB' or 'RAM 512.3 MiB · VRAM 4.1 GiB'."""
    text = f"RAM {format_bytes(process_ram_bytes())}"
    vram = process_vram_bytes()
    if vram:
        text += f" · VRAM {format_bytes(vram)}"
    return text
