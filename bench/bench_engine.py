"""Tokens/s and time to first token through Quantdesk's engine vs raw llama-cpp-python.

    .venv/bin/python -m bench.bench_engine [MODEL] [--tokens 128] [--runs 5]

Both sides load the same GGUF with the same threads and context, and generate greedily from the
same prompt tokens; Quantdesk's side is the chat path (`Engine.start_reply`, as the app and the
CLI take it, with the reasoning splitter), on the same thread as the raw side; runs alternate so
machine noise hits both. The raw side is the plain way to stream with llama-cpp-python: `Llama.create_completion(prompt_tokens, stream=True)`.
Prints medians and the ratio (Quantdesk / raw); > 1 means Quantdesk is faster.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from app.core.chat.prompting import ReplyRequest
from app.core.chat.template import Message
from app.core.engine.engine import Engine, default_threads

PROMPT = [Message("user", "Write a long story about a dragon who learns to read.")]


def request_for(tokens: int) -> ReplyRequest:
    return ReplyRequest(turns=PROMPT, overrides={"temperature": 0.0, "max_tokens": tokens})


def run_quantdesk(engine: Engine, tokens: int) -> tuple[float, float]:
    """The chat path the app takes: plan the prompt, check it fits, stream it through the
    reasoning/answer splitter."""
    _prepared, reply = engine.start_reply(request_for(tokens))
    for _ in reply:
        pass
    stats = reply.stats
    assert stats is not None and stats.time_to_first_token is not None
    return stats.completion_tokens / stats.seconds, stats.time_to_first_token


def run_raw(llama, prompt_tokens: list[int], tokens: int) -> tuple[float, float]:  # noqa: ANN001
    llama.reset()  # same as Quantdesk's first turn: the whole prompt is evaluated
    started = time.perf_counter()
    first = None
    count = 0
    for _chunk in llama.create_completion(
        prompt_tokens, max_tokens=tokens, temperature=0.0, stream=True
    ):
        if first is None:
            first = time.perf_counter() - started
        count += 1
    elapsed = time.perf_counter() - started
    return count / elapsed, first or elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.model is None:
        from tests.models import base_model

        args.model = base_model()

    from llama_cpp import Llama

    threads = default_threads()
    engine = Engine()
    engine.load(args.model, context_length=2048, threads=threads)
    _prepared, first = engine.start_reply(request_for(1))
    prompt_text = first.prompt  # the exact text the chat path sends
    from app.core.engine.backends import ensure_backends

    ensure_backends()  # the distribution build has no CPU backend until it is loaded
    raw = Llama(
        model_path=str(args.model), n_ctx=2048, n_threads=threads, n_threads_batch=threads,
        verbose=False,
    )  # fmt: skip
    prompt_tokens = raw.tokenize(prompt_text.encode(), add_bos=False, special=True)

    ours_tps, ours_ttft, raw_tps, raw_ttft = [], [], [], []
    for _ in range(args.runs):
        engine._llama.reset()  # type: ignore[union-attr]  # fresh prompt each run, as raw
        tps, ttft = run_quantdesk(engine, args.tokens)
        ours_tps.append(tps)
        ours_ttft.append(ttft)
        tps, ttft = run_raw(raw, prompt_tokens, args.tokens)
        raw_tps.append(tps)
        raw_ttft.append(ttft)

    med = statistics.median
    print(f"model: {args.model.name}, threads: {threads}, tokens: {args.tokens}, runs: {args.runs}")
    print(f"tokens/s (whole reply)  quantdesk {med(ours_tps):7.1f}   raw {med(raw_tps):7.1f}"
          f"   ratio {med(ours_tps) / med(raw_tps):.3f}")  # fmt: skip
    print(f"time to first token     quantdesk {med(ours_ttft) * 1000:6.1f} ms raw "
          f"{med(raw_ttft) * 1000:6.1f} ms ratio {med(ours_ttft) / med(raw_ttft):.3f}")  # fmt: skip
    engine.unload()
    raw.close()


if __name__ == "__main__":
    main()
