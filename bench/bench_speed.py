"""Held-out check of the speed prediction: calibrate on one model, predict another, measure it.

    .venv/bin/python -m bench.bench_speed CALIBRATE.gguf HELD_OUT.gguf [...] [--threads 1] [--rounds 3]

For each model: generation time per token at depth 0, as the app's benchmark takes it (median of
single-token decode steps after a warm-up), in two clocks:
- wall: what a person waits; on a shared machine other processes' work inflates it;
- CPU: the decode thread's own CPU time (`time.thread_time`; with `--threads 1` llama.cpp
  computes on the calling thread), nearly blind to other processes on the machine.
Models are measured alternately, `--rounds` times, medians kept.

The first model calibrates: scale = its measured time / its predicted time (`fit.speed`, this
machine's RAM bandwidth measured once). Every other model's prediction is that scale times its
own predicted time; the error against its measurement is the held-out error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

WARM_UP = 4
STEPS = 64


def measure(model: Path, threads: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per generated token at depth 0, medians of `STEPS` steps."""
    from llama_cpp import Llama

    from app.core.engine.backends import ensure_backends

    ensure_backends()
    llama = Llama(
        model_path=str(model), n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    try:
        llama.eval([200])
        walls: list[float] = []
        cpus: list[float] = []
        for step in range(WARM_UP + STEPS):
            wall, cpu = time.perf_counter(), time.thread_time()
            llama.eval([200 + step])
            if step >= WARM_UP:
                walls.append(time.perf_counter() - wall)
                cpus.append(time.thread_time() - cpu)
        return statistics.median(walls), statistics.median(cpus)
    finally:
        llama.close()


def predicted(model: Path, ram_gbps: float) -> float:
    from app.core.fit.memory import ModelShape
    from app.core.fit.speed import Bandwidths, predicted_seconds_per_token
    from app.core.gguf.header import check_model_file

    shape = ModelShape.from_header(check_model_file(model), model.stat().st_size)
    seconds = predicted_seconds_per_token(
        shape, gpu_layers=0, backend=None, bandwidths=Bandwidths(ram_gbps)
    )
    assert seconds is not None
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from app.core.fit.speed import measure_ram_bandwidth

    ram = measure_ram_bandwidth(args.threads)
    runs: dict[Path, list[tuple[float, float]]] = {m: [] for m in args.models}
    for _round in range(args.rounds):
        for model in args.models:
            runs[model].append(measure(model, args.threads))
    rows = []
    for model in args.models:
        wall = statistics.median(r[0] for r in runs[model])
        cpu = statistics.median(r[1] for r in runs[model])
        rows.append(
            {
                "model": model.name,
                "predicted_s": predicted(model, ram),
                "wall_s": wall,
                "cpu_s": cpu,
            }
        )
    base = rows[0]
    for row in rows:
        for clock in ("wall", "cpu"):
            scale = base[f"{clock}_s"] / base["predicted_s"]
            guess = scale * row["predicted_s"]
            row[f"{clock}_tokens_per_second"] = round(1 / row[f"{clock}_s"], 1)
            row[f"{clock}_predicted_tokens_per_second"] = round(1 / guess, 1)
            # Predicted tokens/s over measured, minus 1: negative when the prediction is low.
            row[f"{clock}_error_percent"] = round(100 * (row[f"{clock}_s"] / guess - 1), 1)
        row["bandwidth_only_tokens_per_second"] = round(1 / row["predicted_s"], 1)
    print(json.dumps({"ram_gbps": round(ram, 2), "threads": args.threads, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
