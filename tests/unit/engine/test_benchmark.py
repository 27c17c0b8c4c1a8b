"""The built-in benchmark on the real tiny model: what it measures, that it stops, and that a
chat works after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core._util.cancel import CancelToken
from app.core.chat.prompting import ReplyRequest
from app.core.chat.template import Message
from app.core.engine.benchmark import DEEP_DEPTH
from app.core.engine.engine import Engine
from app.core.errors import BenchmarkCancelledError, EngineStateError


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[Engine]:
    engine = Engine()
    engine.load(tiny_model, context_length=4096, threads=1)
    yield engine
    engine.unload()


def greedy_reply(engine: Engine) -> str:
    request = ReplyRequest(
        turns=[Message("user", "Say hello.")],
        overrides={"temperature": 0.0, "max_tokens": 8},
        seed=1,
    )
    _prepared, reply = engine.start_reply(request)
    for _piece in reply:
        pass
    return reply.answer


def test_a_benchmark_measures_prompt_generation_and_first_token(engine: Engine) -> None:
    before = greedy_reply(engine)
    seen: list[float] = []
    result = engine.benchmark(progress=seen.append, budget_seconds=20)
    assert result.prompt_tokens > 0 and result.prompt_tokens_per_second > 0
    assert result.generation_tokens_per_second > 0
    # The first token waits for the whole prompt, then one step.
    assert result.time_to_first_token > result.prompt_tokens / result.prompt_tokens_per_second
    if result.deep_depth is not None:  # skipped only when the machine is too slow for it
        assert result.deep_depth == DEEP_DEPTH
        assert result.generation_tokens_per_second_deep is not None
    assert seen == sorted(seen) and seen[-1] == 1.0
    # The benchmark's filler left nothing behind: the same greedy reply as before.
    assert greedy_reply(engine) == before


def test_a_short_budget_still_takes_enough_steps_and_skips_the_deep_part(engine: Engine) -> None:
    result = engine.benchmark(budget_seconds=0.01)
    assert result.generation_tokens_per_second > 0  # at least 8 timed steps
    assert result.deep_depth is None and result.generation_tokens_per_second_deep is None
    assert result.prompt_tokens >= 1


def test_a_benchmark_stops_when_cancelled(engine: Engine) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(BenchmarkCancelledError):
        engine.benchmark(cancel=cancel)
    assert greedy_reply(engine)  # the model still answers


def test_no_benchmark_without_a_model() -> None:
    with pytest.raises(EngineStateError):
        Engine().benchmark()
