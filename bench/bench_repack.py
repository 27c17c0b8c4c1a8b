"""Resident memory of a load with and without the memory map, for a file llama.cpp repacks.

    .venv/bin/python -m bench.bench_repack [--context 2048]

For SmolLM2-135M as shipped (Q4_1: not repacked) and requantized to Q4_0 (repacked on AVX2 and
ARM CPUs), each in a fresh process: the growth of VmRSS, RssFile (file-backed pages: the mapped
weights) and RssAnon (llama.cpp's own buffers) from before the load to after it, and after a
prompt that fills the context; then what the app's load path (`fit/loading.py`) chose and
recorded. Memory figures don't depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MIB = 1 << 20
KEYS = ("VmRSS", "RssFile", "RssAnon")


def _status() -> dict[str, int]:
    values = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in KEYS:
                values[key] = int(value.split()[0]) * 1024
    return values


def measure(model: Path, context: int, memory_map: bool) -> dict[str, dict[str, int]]:
    from llama_cpp import Llama

    from app.core.engine.backends import ensure_backends

    ensure_backends()
    before = _status()
    llama = Llama(
        model_path=str(model), n_ctx=context, n_threads=2, use_mmap=memory_map, verbose=False
    )
    loaded = _status()
    text = b"The quick brown fox jumps over the lazy dog. " * (context // 4)
    llama.eval(llama.tokenize(text, add_bos=True)[: context - 16])
    filled = _status()
    llama.close()
    return {
        "load": {k: loaded[k] - before[k] for k in KEYS},
        "full": {k: filled[k] - before[k] for k in KEYS},
    }


def app_load(model: Path, context: int) -> dict[str, object]:
    from app.core.engine.engine import Engine
    from app.core.fit.loading import load_measured
    from app.core.fit.measured import LoadTable

    with tempfile.TemporaryDirectory() as folder:
        engine = Engine(load_checks=Path(folder) / "checks.json")
        row = load_measured(engine, model, LoadTable(Path(folder) / "t.json"), context=context).row
        engine.unload()
    return {"mmap": row.memory_mapped, "estimated": row.estimated, "measured": row.measured}


def _child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_repack", *args],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", type=int, default=2048)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--app", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        model, context, mapped = args.measure
        print(json.dumps(measure(Path(model), int(context), mapped == "1")), flush=True)
        os._exit(0)
    if args.app:
        print(json.dumps(app_load(Path(args.app[0]), int(args.app[1]))), flush=True)
        os._exit(0)
    from tests.models import base_model, requantized

    ctx = str(args.context)
    print(f"context {args.context}; MiB of growth: after the load / after filling the context")
    print(f"{'file':34} {'map':>5} {'VmRSS':>15} {'RssFile':>15} {'RssAnon':>15}")
    for model in (base_model(), requantized("Q4_0")):
        for mapped in ("1", "0"):
            got = _child("--measure", str(model), ctx, mapped)
            cells = [f"{got['load'][k] / MIB:6.1f} / {got['full'][k] / MIB:6.1f}" for k in KEYS]
            print(f"{model.name:34} {'on' if mapped == '1' else 'off':>5} " + " ".join(
                f"{c:>15}" for c in cells
            ))  # fmt: skip
    print("\nthe app's load path (fit/loading.py): map chosen, estimate vs measured after load")
    for model in (base_model(), requantized("Q4_0")):
        got = _child("--app", str(model), ctx)
        print(
            f"{model.name:34} map {'on' if got['mmap'] else 'off':>3}  estimated "
            f"{got['estimated'] / MIB:6.1f} MiB  measured {got['measured'] / MIB:6.1f} MiB"
        )


if __name__ == "__main__":
    main()
