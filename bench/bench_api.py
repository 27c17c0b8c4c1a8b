"""Tokens/s streamed through the local API (one client) vs `quantdesk chat --json`, same model
and settings, measured in the same run.

    .venv/bin/python -m bench.bench_api [MODEL] [--runs 5] [--tokens 128] [--threads N]

`--threads` sets llama.cpp's CPU threads on both sides (default: the app's, the physical cores).
With every core computing, the client process and the server's event loop take their time from
llama.cpp's threads; one thread fewer leaves them a core, as a machine with more cores than the
model's threads does.

The API side is a real `quantdesk serve MODEL` process and the real `openai` client streaming a
chat completion: tokens/s is the client's own clock, first streamed token to the last
((tokens - 1) / seconds), so the server-sent events, JSON and loopback HTTP are all in it. The
chat side is `quantdesk chat MODEL --json`'s `tokens_per_second` (the engine's clock, first
token to last). Both are greedy, with the same prompt and seed. Each side runs in its own
process, alternating (see bench_app_stream: llama.cpp's threads from two calling threads in one
process slow each other down); each side's first reply is a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROMPT = "Write a long story about a dragon who learns to bake bread."


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QUANTDESK_HOME"] = tempfile.mkdtemp(prefix="quantdesk-bench-")
    return env


def _threads(threads: int | None) -> list[str]:
    return ["--threads", str(threads)] if threads else []


def chat_side(model: Path, tokens: int, threads: int | None) -> float:
    env = _env()
    command = [sys.executable, "-m", "app", "chat", str(model), "--prompt", PROMPT,
               "--max-tokens", str(tokens), "--temperature", "0", "--seed", "1", "--json",
               *_threads(threads)]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, check=True, env=env)  # warm-up
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return float(json.loads(result.stdout)["tokens_per_second"])


def _raw_stream(url: str, tokens: int) -> float:
    """Tokens/s read by a bare client (http.client, one `json.loads` per event): what the
    server delivers, without the openai SDK's own per-chunk cost on a shared CPU."""
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=600)
    body = json.dumps({
        "model": "", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": tokens,
        "temperature": 0, "seed": 1, "stream": True, "stream_options": {"include_usage": True},
    })  # fmt: skip
    connection.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    stamps: list[float] = []
    produced = 0
    for line in response:
        if not line.startswith(b"data: {"):
            continue
        event = json.loads(line[6:])
        if event["choices"] and event["choices"][0]["delta"].get("content"):
            stamps.append(time.perf_counter())
        if event.get("usage"):
            produced = event["usage"]["completion_tokens"]
    connection.close()
    return (produced - 1) / (stamps[-1] - stamps[0])


def api_side(model: Path, tokens: int, threads: int | None) -> tuple[float, float, float]:
    """(tokens/s by the openai client, by a bare client, the server's own
    `predicted_per_second`)."""
    import openai

    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", str(model), "--port", "0", *_threads(threads)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(),
    )  # fmt: skip
    try:
        url = server.stdout.readline().split()[-1]  # type: ignore[union-attr]
        api = openai.OpenAI(base_url=f"{url}/v1", api_key="-", max_retries=0, timeout=600)

        def one() -> tuple[float, float]:
            stamps: list[float] = []
            final: dict = {}
            for chunk in api.chat.completions.create(
                model="", messages=[{"role": "user", "content": PROMPT}], max_tokens=tokens,
                temperature=0, seed=1, stream=True, stream_options={"include_usage": True},
            ):  # fmt: skip
                if chunk.choices and chunk.choices[0].delta.content:
                    stamps.append(time.perf_counter())
                if chunk.choices and chunk.choices[0].finish_reason:
                    final = chunk.model_extra or {}
                if chunk.usage is not None:
                    produced = chunk.usage.completion_tokens
            client = (produced - 1) / (stamps[-1] - stamps[0])
            return client, float(final["timings"]["predicted_per_second"])

        one()  # warm-up
        client, server_own = one()
        return client, _raw_stream(url, tokens), server_own
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    if args.model is None:
        from tests.models import base_model

        args.model = base_model()
    api_runs, raw_runs, server_runs, chat_runs = [], [], [], []
    for run in range(args.runs):
        client, bare, server = api_side(args.model, args.tokens, args.threads)
        api_runs.append(client)
        raw_runs.append(bare)
        server_runs.append(server)
        chat_runs.append(chat_side(args.model, args.tokens, args.threads))
        print(f"run {run + 1}: api openai {client:6.1f}  bare {bare:6.1f}  (server {server:6.1f})"
              f"   chat {chat_runs[-1]:6.1f}", flush=True)  # fmt: skip
    med = statistics.median
    api_tps, raw_tps, chat_tps = med(api_runs), med(raw_runs), med(chat_runs)
    print(f"model: {args.model.name}, tokens: {args.tokens}, runs: {args.runs} (one process each), "
          f"threads: {args.threads or 'the app default'}")  # fmt: skip
    print(
        f"tokens/s streamed through the API: openai client {api_tps:6.1f} (ratio "
        f"{api_tps / chat_tps:.3f}), bare client {raw_tps:6.1f} (ratio {raw_tps / chat_tps:.3f}); "
        f"server's own {med(server_runs):6.1f}; quantdesk chat --json {chat_tps:6.1f}"
    )


if __name__ == "__main__":
    main()
