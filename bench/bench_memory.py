"""The memory figure a person is shown vs what the app's own load takes, per model and context.

    .venv/bin/python -m bench.bench_memory [--contexts 2048 8192] [--models smollm2 gemma3 moe]

Each measurement runs in a fresh process: RSS after importing llama.cpp, then the load the way
the app's engine makes it (2 threads, 512-token batches; a file with weights llama.cpp repacks
on this CPU without mmap, see `--mmap`) and a prompt that fills the context, so the weights, the
KV cache and the compute scratch have all been touched, as at the end of a long chat. The
measured figure is the peak RSS growth (VmHWM after minus RSS before).

Beside it: the estimate a person sees (`quantdesk recommend --json`'s `estimated_bytes` and the
file page: `fit_option` on this machine, CPU only here), from the formula and from llama.cpp's
own dry run, and the formula as it was before issue 16, with the error of each. Contexts are
kept to 2k/8k by default: filling 32k tokens takes over 10 minutes a row on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

MIB = 1 << 20


def _peak_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(model: Path, context: int, *, mmap: bool) -> dict[str, int]:
    """Peak and settled RSS growth of one load that fills `context` tokens (this process)."""
    import psutil
    from llama_cpp import Llama

    from app.core.engine.backends import ensure_backends

    ensure_backends()  # the distribution build has no CPU backend until it is loaded
    process = psutil.Process()
    before = process.memory_info().rss
    llama = Llama(
        model_path=str(model), n_ctx=context, n_threads=2, n_batch=512, n_ubatch=512,
        use_mmap=mmap, verbose=False,
    )  # fmt: skip
    # A chat that filled its context (the attention scratch grows with the cells in use).
    text = b"The quick brown fox jumps over the lazy dog. " * (context // 4)
    tokens = llama.tokenize(text, add_bos=True)[: context - 16]
    llama.eval(tokens)
    settled = process.memory_info().rss - before
    peak = _peak_kib() * 1024 - before
    llama.close()
    return {"peak": peak, "settled": settled}


def measure_in_child(model: Path, context: int, *, mmap: bool) -> dict[str, int]:
    flag = "--mmap" if mmap else "--no-mmap"
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_memory", "--measure", str(model), str(context), flag],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def shown(model: Path, context: int, *, projected: bool) -> int:
    """The total a person is shown for `model` here (CPU only): the formula, or with llama.cpp's
    dry run standing in for its KV and compute terms."""
    from app.core.engine.projection import project_memory
    from app.core.fit.memory import ModelShape
    from app.core.fit.recommend import fit_option, machine_budget
    from app.core.gguf.header import check_model_file

    size = model.stat().st_size
    shape = ModelShape.from_header(check_model_file(model), size)
    projection = project_memory(model, context=context) if projected else None
    budget = machine_budget(_this_cpu())
    _fit, _layers, estimate = fit_option(shape, size, budget, context, projection=projection)
    assert estimate.projected == projected
    return estimate.total_bytes


def old_formula(model: Path, context: int) -> int:
    """The CPU estimate before issue 16 (for comparison): attention scratch 1.6 x heads x 512
    floats per cell, 3 x n_ff + 10 x n_embd floats per batch token, a flat 16 MiB runtime."""
    from app.core.fit.memory import ModelShape, kv_cache_bytes
    from app.core.gguf.header import check_model_file

    size = model.stat().st_size
    shape = ModelShape.from_header(check_model_file(model), size).with_file_size(size)
    floats = 1.6 * shape.heads * context + 3 * shape.feed_forward + 10 * shape.embedding
    return shape.weights_bytes + kv_cache_bytes(shape, context) + int(4 * 512 * floats) + 16 * MIB


def _this_cpu():  # noqa: ANN202 - a HardwareProfile, imported late
    from app.core.machine.hardware import HardwareProfile

    return HardwareProfile.from_json({
        "os": "linux", "cpu": {"arch": "x86_64", "model": "bench", "cores": 2, "features": []},
        "ram_bytes": 64 << 30, "unified_memory": False, "gpus": [],
    })  # fmt: skip


def _error(estimate: int, measured: int) -> str:
    return f"{estimate / MIB:8.1f} {100 * (estimate / measured - 1):+6.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[2048, 8192])
    parser.add_argument("--models", nargs="+", default=["smollm2", "gemma3"])
    parser.add_argument("--mmap", action=argparse.BooleanOptionalAction, default=True,
                        help="load with mmap (the engine's default today) or without")  # fmt: skip
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = measure(Path(args.measure[0]), int(args.measure[1]), mmap=args.mmap)
        print(json.dumps(result), flush=True)
        os._exit(0)  # flushed first: os._exit drops buffered output
    from tests.models import base_model, gemma_model, moe_model

    models = {"smollm2": base_model, "gemma3": gemma_model, "moe": moe_model}
    print(f"{'model':34} {'ctx':>6} {'mmap':>5} {'measured':>9}  {'formula MiB, error':>18}  "
          f"{'llama.cpp MiB, error':>20}  {'old formula, error':>18}")  # fmt: skip
    for key in args.models:
        model = models[key]()
        for context in args.contexts:
            measured = measure_in_child(model, context, mmap=args.mmap)["peak"]
            print(
                f"{model.name:34} {context:>6} {str(args.mmap):>5} {measured / MIB:>9.1f}  "
                f"{_error(shown(model, context, projected=False), measured):>18}  "
                f"{_error(shown(model, context, projected=True), measured):>20}  "
                f"{_error(old_formula(model, context), measured):>18}",
                flush=True,
            )


if __name__ == "__main__":
    main()
