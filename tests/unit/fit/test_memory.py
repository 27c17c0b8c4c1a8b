"""The memory estimate against a real load of the tiny model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.core.fit.memory import ModelShape, estimate_memory, kv_cache_bytes
from app.core.gguf.header import check_model_file

MIB = 1 << 20


def test_shape_and_kv_from_the_real_header(tiny_model: Path) -> None:
    shape = ModelShape.from_header(check_model_file(tiny_model), tiny_model.stat().st_size)
    assert (shape.layers, shape.embedding, shape.heads, shape.kv_heads) == (30, 576, 9, 3)
    assert (shape.key_length, shape.value_length, shape.vocab) == (64, 64, 49152)
    # llama.cpp's own dry run prints "llama_kv_cache: size = 90.00 MiB (4096 cells, 30 layers)".
    assert kv_cache_bytes(shape, 4096) == 90 * MIB
    assert abs(shape.weights_bytes - tiny_model.stat().st_size) < 0.05 * tiny_model.stat().st_size


def test_gpu_split_moves_layers_and_their_kv(tiny_model: Path) -> None:
    shape = ModelShape.from_header(check_model_file(tiny_model), tiny_model.stat().st_size)
    cpu = estimate_memory(shape, context=4096)
    half = estimate_memory(shape, context=4096, gpu_layers=15, backend="cuda")
    full = estimate_memory(shape, context=4096, gpu_layers=30, backend="cuda")
    assert cpu.vram_bytes == 0
    assert half.kv_gpu == half.kv_ram == 45 * MIB
    assert half.weights_gpu == 15 * shape.layer_bytes
    assert full.weights_ram == shape.embed_bytes  # the token embedding stays in RAM
    # SmolLM2 ties its output head to the embedding: llama.cpp copies it to the GPU.
    assert shape.tied_output
    assert full.weights_gpu == 30 * shape.layer_bytes + shape.output_bytes + shape.embed_bytes
    assert full.backend_context == 400 * MIB


def test_estimate_is_within_10_percent_of_a_real_load(tiny_model: Path) -> None:
    """bench/bench_memory.py measures two contexts; the suite checks one (2048, ~10 s)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.bench_memory", "--measure", str(tiny_model), "2048"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    shape = ModelShape.from_header(check_model_file(tiny_model), tiny_model.stat().st_size)
    estimated = estimate_memory(shape, context=2048).ram_bytes
    print(f"\nestimate {estimated / MIB:.1f} MiB, measured {measured / MIB:.1f} MiB")
    assert 1.0 <= estimated / measured <= 1.10  # never low, at most 10 % high
