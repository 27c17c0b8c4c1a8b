"""This process's memory, as the status bar shows it."""

from __future__ import annotations

import re

from app.core.machine.process_memory import (
    describe_process_memory,
    process_ram_bytes,
    process_vram_bytes,
)

MB = 1_000_000


def test_ram_follows_what_the_process_holds() -> None:
    before = process_ram_bytes()
    held = bytearray(b"x" * (200 * MB))  # written, so the pages are really resident
    assert process_ram_bytes() - before > 150 * MB
    del held


def test_the_line_names_ram_and_vram_only_when_known() -> None:
    line = describe_process_memory()
    vram = process_vram_bytes()
    if vram:  # an NVIDIA GPU with NVML, where this process holds memory
        assert re.fullmatch(r"RAM \d+\.\d\u00a0[KMGT]iB · VRAM \d+\.\d\u00a0[KMGT]iB", line)
    else:  # no NVML here (or nothing on the GPU): RAM alone, never "VRAM 0 B"
        assert re.fullmatch(r"RAM \d+\.\d\u00a0[KMGT]iB", line)
