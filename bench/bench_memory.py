"""Memory estimate vs what a real load uses, for the tiny test models at two context lengths.

    .venv/bin/python -m bench.bench_memory [--contexts 4096 32768]

Each measurement runs in a fresh process: RSS after importing llama.cpp, then after loading the
model and evaluating a prompt that fills the context (the weights, the KV cache and the compute
buffer have all been touched, as at the end of a long chat). Contexts are kept small because
filling 32k tokens takes over 10 minutes on 2 cores. The difference is compared with
`estimate_memory(...).ram_bytes` (CPU only here: no GPU on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

MIB = 1 << 20


def measure(model: Path, context: int) -> int:
    import psutil
    from llama_cpp import Llama

    process = psutil.Process()
    before = process.memory_info().rss
    from app.core.engine.backends import ensure_backends

    ensure_backends()  # the distribution build has no CPU backend until it is loaded
    llama = Llama(
        model_path=str(model), n_ctx=context, n_threads=2, n_batch=512, n_ubatch=512, verbose=False
    )
    # A chat that filled its context (the attention scratch grows with the cells in use).
    text = b"The quick brown fox jumps over the lazy dog. " * (context // 4)
    tokens = llama.tokenize(text, add_bos=True)[: context - 16]
    llama.eval(tokens)
    used = process.memory_info().rss - before
    llama.close()
    return used


def estimate(model: Path, context: int) -> int:
    from app.core.fit.memory import ModelShape, estimate_memory
    from app.core.gguf.header import check_model_file

    shape = ModelShape.from_header(check_model_file(model), model.stat().st_size)
    return estimate_memory(shape, context=context).ram_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure[0]), int(args.measure[1]))), flush=True)
        os._exit(0)  # flushed first: os._exit drops buffered output
    from tests.models import base_model, variant

    rows = []
    for model in (base_model(), variant("chatml-think")):
        for context in args.contexts:
            out = subprocess.run(
                [sys.executable, "-m", "bench.bench_memory", "--measure", str(model), str(context)],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            measured = json.loads(out.strip().splitlines()[-1])
            estimated = estimate(model, context)
            rows.append((model.name, context, estimated, measured))
    print(f"{'model':40} {'context':>8} {'estimate MiB':>13} {'measured MiB':>13} {'ratio':>6}")
    for name, context, estimated, measured in rows:
        print(
            f"{name:40} {context:>8} {estimated / MIB:>13.1f} {measured / MIB:>13.1f} {estimated / measured:>6.3f}"
        )


if __name__ == "__main__":
    main()
