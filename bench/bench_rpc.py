"""Generation speed with the model on this computer alone vs split over two workers (llama.cpp
RPC, `quantdesk worker`) on loopback addresses, and what a real network would add.

    .venv/bin/python -m bench.bench_rpc [MODEL.gguf] [--rounds 3] [--tokens 64]

Both through `quantdesk chat --json` (greedy, the same prompt), alternating, `--rounds` times;
medians of the reported generation tokens/s. The workers run here too (one thread each), so the
split pays the protocol's cost without a network's: a third of the layers on each device, the
activations passed worker to worker through this computer. The probe's round trip is measured;
on a LAN each token waits at least one round trip per worker, so the estimate for a network is
1 / (1 / split tokens/s + workers x (LAN round trip - loopback round trip)).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PROMPT = "Write a short story about a lighthouse keeper."
LAN_ROUND_TRIPS_MS = (0.3, 1.0, 3.0)  # wired gigabit, a good Wi-Fi, a busy Wi-Fi


def chat(model: Path, tokens: int, workers: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "app", "chat", str(model), "--prompt", PROMPT, "--temperature",
         "0", "--max-tokens", str(tokens), "--json", *(f"--worker={w}" for w in workers)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    from app.core.remote.workers import parse_address, probe
    from tests.models import base_model
    from tests.unit.remote.test_workers import start_worker

    model = args.model or base_model()
    workers = [start_worker("127.0.0.2"), start_worker("127.0.0.3")]
    try:
        addresses = [address for _process, address in workers]
        trips = [probe(parse_address(a)).round_trip_seconds for a in addresses]
        local, split = [], []
        for _ in range(args.rounds):
            local.append(chat(model, args.tokens, [])["tokens_per_second"])
            report = chat(model, args.tokens, addresses)
            split.append(report["tokens_per_second"])
        here, there = statistics.median(local), statistics.median(split)
        loopback = statistics.median(trips)
        print(f"model {model.name}, {args.tokens} tokens, {args.rounds} rounds alternating")
        print(f"layers: {report['layers']}")
        print(f"this computer alone: {here:.1f} tokens/s; split over 2 workers: {there:.1f} "
              f"tokens/s; ratio {there / here:.3f}")  # fmt: skip
        print(f"loopback round trip (probe median): {loopback * 1000:.3f} ms")
        for lan_ms in LAN_ROUND_TRIPS_MS:
            extra = len(addresses) * max(0.0, lan_ms / 1000 - loopback)
            print(f"estimate with a {lan_ms} ms network round trip: "
                  f"{1 / (1 / there + extra):.1f} tokens/s")  # fmt: skip
    finally:
        for process, _address in workers:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
