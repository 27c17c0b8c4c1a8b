"""`prepare_reply` and friends: from stored turns to a prompt that fits, on the real tiny model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.chat.prompting import ReplyRequest, prepare_reply, turns_for_model
from app.core.chat.reasoning import PromptPlan
from app.core.chat.template import Message
from app.core.engine.engine import Engine
from app.core.errors import ContextOverflowError

EXCHANGES = 12


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[Engine]:
    engine = Engine()
    engine.load(tiny_model, context_length=512)
    yield engine
    engine.unload()


def long_turns(exchanges: int) -> list[Message]:
    turns = []
    for index in range(exchanges):
        turns += [Message("user", f"Question {index}: " + "word " * 60),
                  Message("assistant", "answer " * 20)]  # fmt: skip
    turns.append(Message("user", "Last question?"))
    return turns


class CountingTokens:
    """The engine's real token count, counting how often the prompt was measured."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.calls = 0

    def __call__(self, plan: PromptPlan) -> int:
        self.calls += 1
        return self.engine.count_tokens(self.engine.render_plan(plan))


def test_overflow_is_refused_before_generating_and_dropping_old_turns_fits(
    engine: Engine,
) -> None:
    model = engine.model
    assert model is not None
    count = CountingTokens(engine)
    request = ReplyRequest(turns=long_turns(6), overrides={"max_tokens": 128})
    with pytest.raises(ContextOverflowError) as refused:
        prepare_reply(request, model.thinking, model.context_length, count)
    assert refused.value.context_length == model.context_length
    assert "Leave out the oldest messages" in str(refused.value)

    prepared = prepare_reply(
        ReplyRequest(turns=long_turns(6), overrides={"max_tokens": 128}, drop_oldest=True),
        model.thinking, model.context_length, count,
    )  # fmt: skip
    assert prepared.dropped_turns > 0 and prepared.dropped_turns % 2 == 0
    assert prepared.plan.messages[-1].content == "Last question?"
    assert prepared.plan.messages[0].role == "user"  # whole exchanges are left out
    assert prepared.prompt_tokens + 128 <= model.context_length


def test_the_fewest_exchanges_are_dropped_with_a_handful_of_counts(engine: Engine) -> None:
    model = engine.model
    assert model is not None
    turns = long_turns(EXCHANGES)
    count = CountingTokens(engine)
    request = ReplyRequest(turns=turns, overrides={"max_tokens": 128}, drop_oldest=True)
    prepared = prepare_reply(request, model.thinking, model.context_length, count)
    # A binary search: the full history, the last message alone, then log2(exchanges) probes.
    assert count.calls <= 2 + EXCHANGES.bit_length()
    # The fewest: keeping one more exchange would not fit.
    budget_fits = prepared.prompt_tokens
    one_more = ReplyRequest(
        turns=turns[prepared.dropped_turns - 2 :], overrides={"max_tokens": 128}
    )
    with pytest.raises(ContextOverflowError):
        prepare_reply(one_more, model.thinking, model.context_length, count)
    assert budget_fits + 128 <= model.context_length


def test_even_the_last_message_alone_too_long_is_refused(engine: Engine) -> None:
    model = engine.model
    assert model is not None
    turns = [*long_turns(2)[:-1], Message("user", "word " * 600)]
    request = ReplyRequest(turns=turns, drop_oldest=True)
    with pytest.raises(ContextOverflowError):
        prepare_reply(request, model.thinking, model.context_length, CountingTokens(engine))


def test_a_seed_in_the_request_reaches_the_sampling(engine: Engine) -> None:
    model = engine.model
    assert model is not None
    request = ReplyRequest(turns=[Message("user", "Hi")], seed=7)
    prepared = prepare_reply(request, model.thinking, model.context_length, CountingTokens(engine))
    assert prepared.sampling.seed == 7


def test_unanswered_messages_are_joined_so_roles_alternate() -> None:
    stored = [
        SimpleNamespace(role="user", content="First?", state="complete"),
        SimpleNamespace(role="assistant", content="", state="failed"),
        SimpleNamespace(role="user", content="Second?", state="complete"),
        SimpleNamespace(role="assistant", content="Answer", state="stopped"),
        SimpleNamespace(role="user", content="Third?", state="complete"),
    ]
    assert turns_for_model(stored) == [
        Message("user", "First?\n\nSecond?"),
        Message("assistant", "Answer"),
        Message("user", "Third?"),
    ]
