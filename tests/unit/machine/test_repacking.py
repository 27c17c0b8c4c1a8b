"""Which files llama.cpp repacks on a CPU, and so which are loaded without the memory map."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.gguf.header import check_model_file
from app.core.machine.hardware import CpuInfo, detect_cpu
from app.core.machine.repacking import memory_map_wanted, repacked_bytes

AVX2 = CpuInfo("x86_64", "an AVX2 CPU", 8, ("avx", "avx2", "fma", "f16c"))
OLD_X86 = CpuInfo("x86_64", "an SSE-only CPU", 4, ())
ARM = CpuInfo("arm64", "an ARM CPU", 8, ("neon", "dotprod"))


def test_q4_0_is_repacked_on_avx2_and_arm_so_it_loads_without_the_map(q4_0_model: Path) -> None:
    header = check_model_file(q4_0_model)
    repacked, on_cpu = repacked_bytes(header, AVX2)
    # Every layer's matrices (two thirds of the file); the token embedding, only looked up
    # (and tied to the output here), is not repacked.
    assert 0.5 * on_cpu < repacked < 0.9 * on_cpu
    assert not memory_map_wanted(header, AVX2)
    assert not memory_map_wanted(header, ARM)
    assert memory_map_wanted(header, OLD_X86)  # nothing is repacked there


def test_q4_1_is_not_repacked_and_keeps_the_map(tiny_model: Path) -> None:
    header = check_model_file(tiny_model)
    assert repacked_bytes(header, AVX2)[0] == 0
    assert memory_map_wanted(header, AVX2)
    assert memory_map_wanted(header, ARM)


def test_layers_on_a_gpu_are_not_repacked(q4_0_model: Path) -> None:
    header = check_model_file(q4_0_model)
    whole, _ = repacked_bytes(header, AVX2)
    half, _ = repacked_bytes(header, AVX2, gpu_layers=15)  # of 30
    assert half == pytest.approx(whole / 2, rel=0.01)
    # Fully offloaded: nothing stays on the CPU to be kept twice.
    assert memory_map_wanted(header, AVX2, gpu_layers=-1)
    assert memory_map_wanted(header, AVX2, gpu_layers=30)


def test_detect_cpu_reads_this_machines_features() -> None:
    cpu = detect_cpu()
    assert cpu.cores >= 1
    assert cpu.arch in ("x86_64", "arm64")
