"""A ten-second benchmark of a loaded model: prompt speed, generation speed, first-token time.

Timed on llama.cpp's own decode calls (`Llama.eval`), as the study advises (its perf counters are
meant for examples): one step per generated token, the same decode a reply runs. Which token is
fed does not change the work, so no sampling is done; the text is meaningless on purpose.

    1. depth 0: one token in the cache, 4 warm-up steps, then up to 48 timed steps (median);
    2. prompt: a 512-token prompt from an empty cache, in 128-token chunks (prompt tokens/s; a
       slow machine stops early with a shorter prompt), then one step: the time to the first
       token of that prompt;
    3. depth 2,048 (when the context and the time left allow): the cache filled to 2,048 tokens,
       then 16 timed steps (median).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core._util.cancel import CancelToken
from app.core.errors import BenchmarkCancelledError

if TYPE_CHECKING:
    from llama_cpp import Llama

PROMPT_TOKENS = 512
PROMPT_CHUNK = 128
DEEP_DEPTH = 2048
WARM_UP_STEPS = 4
MOST_STEPS = 48
DEEP_STEPS = 16
# The whole run aims at about ten seconds; each part gets a share, and at least a few steps.
BUDGET_SECONDS = 10.0
LEAST_STEPS = 8
# A token that is an ordinary piece of text in every vocabulary we ship for (not BOS/EOS).
FILLER_TOKEN_BASE = 200


@dataclass(frozen=True)
class BenchmarkResult:
    prompt_tokens_per_second: float
    prompt_tokens: int
    time_to_first_token: float  # seconds: the prompt plus one generated token
    generation_tokens_per_second: float  # at depth 0 (median step)
    generation_tokens_per_second_deep: float | None  # at `deep_depth` (None: skipped)
    deep_depth: int | None
    seconds: float  # the whole run


Progress = Callable[[float], None]


def run_benchmark(
    llama: Llama,
    *,
    context: int,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
    budget_seconds: float = BUDGET_SECONDS,
) -> BenchmarkResult:
    """Benchmark `llama` (loaded with `context` cells); leaves its cache empty.

    Raises:
        BenchmarkCancelledError: `cancel` was set (checked between steps).
    """
    started = time.perf_counter()
    vocab = llama.n_vocab()

    def tokens(count: int, offset: int = 0) -> list[int]:
        return [FILLER_TOKEN_BASE + (offset + i) % max(1, vocab - FILLER_TOKEN_BASE) for i in range(count)]  # fmt: skip

    def step_times(count: int, until: float) -> list[float]:
        times: list[float] = []
        while len(times) < count and (len(times) < LEAST_STEPS or time.perf_counter() < until):
            if cancel is not None and cancel.cancelled:
                raise BenchmarkCancelledError("The speed measurement was stopped.")
            token = tokens(1, llama.n_tokens)
            begun = time.perf_counter()
            llama.eval(token)
            times.append(time.perf_counter() - begun)
        return times

    def report(fraction: float) -> None:
        if progress is not None:
            progress(min(1.0, fraction))

    try:
        # 1. Generation at depth 0.
        llama.reset()
        llama.eval(tokens(1))
        step_times(WARM_UP_STEPS, started)
        report(0.05)
        shallow = step_times(MOST_STEPS, started + budget_seconds * 0.3)
        report(0.3)
        # 2. A prompt from an empty cache, then its first token.
        # In chunks, so a slow machine stops at its share of the time with a shorter prompt.
        target = min(PROMPT_TOKENS, max(1, context - 2))
        llama.reset()
        begun = time.perf_counter()
        until = begun + budget_seconds * 0.3
        while llama.n_tokens < target and (llama.n_tokens == 0 or time.perf_counter() < until):
            if cancel is not None and cancel.cancelled:
                raise BenchmarkCancelledError("The speed measurement was stopped.")
            llama.eval(tokens(min(PROMPT_CHUNK, target - llama.n_tokens), llama.n_tokens))
        prompt = llama.n_tokens
        prompt_seconds = time.perf_counter() - begun
        first = step_times(1, 0.0)[0]
        report(0.5)
        # 3. Deep in a conversation, when it fits the context and the time.
        deep: list[float] = []
        remaining = started + budget_seconds - time.perf_counter()
        fill_estimate = (DEEP_DEPTH - llama.n_tokens) * prompt_seconds / prompt
        if context >= DEEP_DEPTH + DEEP_STEPS + 1 and fill_estimate < remaining * 0.6:
            llama.eval(tokens(DEEP_DEPTH - llama.n_tokens, llama.n_tokens))
            report(0.8)
            deep = step_times(DEEP_STEPS, started + budget_seconds)
        report(1.0)
    finally:
        llama.reset()
    return BenchmarkResult(
        prompt_tokens_per_second=prompt / prompt_seconds,
        prompt_tokens=prompt,
        time_to_first_token=prompt_seconds + first,
        generation_tokens_per_second=1 / statistics.median(shallow),
        generation_tokens_per_second_deep=1 / statistics.median(deep) if deep else None,
        deep_depth=DEEP_DEPTH if deep else None,
        seconds=time.perf_counter() - started,
    )
