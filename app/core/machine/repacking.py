"""Which weights llama.cpp repacks on this CPU, and so whether a file is loaded memory-mapped.

At load, llama.cpp's CPU backend rewrites ("repacks") some quant types into an interleaved
layout its matrix kernels read faster (ggml-cpu `repack.cpp`): Q4_0, Q4_K and IQ4_NL on x86 CPUs
with AVX2; on ARM (NEON) also Q5_K, Q6_K and Q8_0. The repacked copy lives in an anonymous
`CPU_REPACK` buffer. With the file memory-mapped (llama-cpp-python's default), the original pages
of those tensors are read during the load and stay in the page cache and in the process's
resident set too: the repacked weights are resident twice (measured on a Q4_0 SmolLM2 at 2,048
tokens: 218 MiB with the map, 162 MiB without; docs/performance.md). Loading such a file
without the map reads every weight once into memory the process owns, and nothing is kept twice.

Only the layers that stay on the CPU are repacked (a GPU takes the others as they are), so a
file fully offloaded to a GPU keeps the map.
"""

from __future__ import annotations

from app.core.gguf.header import GGUFHeader, tensor_nbytes
from app.core.machine.hardware import CpuInfo

# ggml type ids (ggml.h): the types named above.
Q4_0, Q8_0, Q4_K, Q5_K, Q6_K, IQ4_NL = 2, 8, 12, 13, 14, 20
X86_REPACKED = frozenset({Q4_0, Q4_K, IQ4_NL})
ARM_REPACKED = X86_REPACKED | {Q5_K, Q6_K, Q8_0}
# Below this share of the CPU part's weights, a repacked copy costs too little to give up the
# map for (a map's pages can be dropped and read again under memory pressure; ours can't).
NO_MAP_SHARE = 0.10


def repacked_types(cpu: CpuInfo) -> frozenset[int]:
    """The ggml types llama.cpp repacks on `cpu` (none on a CPU without AVX2 or NEON)."""
    if cpu.arch == "arm64" and cpu.has("neon"):
        return ARM_REPACKED
    if cpu.has("avx2"):
        return X86_REPACKED
    return frozenset()


def _layer_of(name: str) -> int | None:
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "blk" and parts[1].isdigit():
        return int(parts[1])
    return None


def repacked_bytes(header: GGUFHeader, cpu: CpuInfo, *, gpu_layers: int = 0) -> tuple[int, int]:
    """(bytes repacked, weight bytes kept on the CPU) for a load with `gpu_layers` layers on a
    GPU (-1: all). Only matrices (2-D) of the layers left on the CPU, and the output head when
    it stays there, are repacked; the token embedding is only looked up, never repacked."""
    types = repacked_types(cpu)
    layers = header.metadata.get(f"{header.architecture}.block_count")
    layers = layers if isinstance(layers, int) and layers > 0 else 0
    offloaded = layers if gpu_layers < 0 else min(max(gpu_layers, 0), layers)
    first_gpu_layer = layers - offloaded  # llama.cpp offloads the last layers
    repacked = on_cpu = 0
    for tensor in header.tensors:
        nbytes = tensor_nbytes(tensor) or 0
        layer = _layer_of(tensor.name)
        if layer is not None:
            stays = layer < first_gpu_layer
        else:
            stays = not (tensor.name.startswith("output") and offloaded == layers and layers)
        if not stays:
            continue
        on_cpu += nbytes
        matrix = len(tensor.shape) == 2 and not tensor.name.startswith("token_embd")
        if matrix and tensor.ggml_type in types:
            repacked += nbytes
    return repacked, on_cpu


def memory_map_wanted(header: GGUFHeader, cpu: CpuInfo, *, gpu_layers: int = 0) -> bool:
    """Load memory-mapped unless llama.cpp would repack a real share of what stays on the CPU
    (`NO_MAP_SHARE`): then the map would keep those weights resident twice."""
    repacked, on_cpu = repacked_bytes(header, cpu, gpu_layers=gpu_layers)
    return not (on_cpu and repacked >= NO_MAP_SHARE * on_cpu)
