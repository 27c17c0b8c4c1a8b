"""The reply loop on llama.cpp's own decode and sampler chain, on the real tiny model: every reply
setting does what it says, and the text is what llama-cpp-python's own loop gave before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest

from app.core._util.cancel import CancelToken
from app.core.chat.prompting import SamplingSettings
from app.core.chat.reasoning import plan_prompt
from app.core.chat.template import Message
from app.core.engine.decoding import TokenLoop
from app.core.engine.engine import Engine, FinishReason, Reply

# Hot enough that an unfiltered draw wanders far from the greedy reply.
HOT = {"temperature": 1.5, "top_k": 0, "top_p": 1.0, "min_p": 0.0, "max_tokens": 16}


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[Engine]:
    engine = Engine()
    engine.load(tiny_model, context_length=2048)
    yield engine
    engine.unload()


def reply(
    engine: Engine, text: str, cancel: CancelToken | None = None, **sampling: float | None
) -> Reply:
    """A finished reply to one user turn with these settings."""
    assert engine.model is not None
    plan = plan_prompt(
        engine.model.thinking, thinking_on=False, system_prompt="", turns=[Message("user", text)]
    )
    started = engine.reply(plan, SamplingSettings(**sampling), cancel=cancel)  # type: ignore[arg-type]
    list(started)
    return started


def fresh(engine: Engine, text: str, **sampling: float) -> str:
    """A reply's answer from a freshly evaluated prompt (a seeded reply never reuses the cache:
    reused cells are computed in other batches, and that moves the logits a little)."""
    return reply(engine, text, seed=sampling.pop("seed", 1), **sampling).answer


def test_greedy_reply_is_the_text_llama_cpp_pythons_own_loop_gives(engine: Engine) -> None:
    ours = reply(engine, "What is the capital of France?", temperature=0.0, max_tokens=24, seed=1)
    llama = engine._llama
    assert llama is not None
    llama.reset()
    tokens = llama.tokenize(ours.prompt.encode(), add_bos=False, special=True)
    theirs: list[int] = []
    for token in llama.generate(tokens, temp=0.0, repeat_penalty=1.0):
        if llama.token_eos() == token or len(theirs) == 24:
            break
        theirs.append(token)
    assert len(theirs) > 8
    assert ours.answer == llama.detokenize(theirs).decode()


def test_a_seed_repeats_its_reply_and_another_seed_draws_another(engine: Engine) -> None:
    assert fresh(engine, "Name a color.", seed=7, **HOT) == fresh(engine, "Name a color.", seed=7, **HOT)  # fmt: skip
    assert fresh(engine, "Name a color.", seed=7, **HOT) != fresh(engine, "Name a color.", seed=8, **HOT)  # fmt: skip


def test_replies_without_a_seed_differ_even_after_a_seeded_one(engine: Engine) -> None:
    # llama-cpp-python kept a reply's seed for every later reply: unseeded ones then repeated.
    fresh(engine, "Name a color.", seed=7, **HOT)
    answers = {reply(engine, "Name a color.", **HOT).answer for _ in range(3)}
    assert len(answers) > 1


@pytest.mark.parametrize("narrowing", [{"top_k": 1}, {"top_p": 0.0}, {"min_p": 1.0}])
def test_each_filter_alone_can_narrow_a_hot_draw_to_the_greedy_reply(
    engine: Engine, narrowing: dict[str, float]
) -> None:
    greedy = fresh(engine, "Name a color.", temperature=0.0, max_tokens=16)
    assert fresh(engine, "Name a color.", **HOT) != greedy  # without it the draw wanders off
    assert fresh(engine, "Name a color.", **{**HOT, **narrowing}) == greedy


def test_temperature_zero_ignores_the_seed(engine: Engine) -> None:
    greedy = {"temperature": 0.0, "max_tokens": 16}
    assert fresh(engine, "Name a color.", seed=1, **greedy) == fresh(engine, "Name a color.", seed=2, **greedy)  # fmt: skip


def test_repeat_penalty_makes_a_reply_repeat_itself_less(engine: Engine) -> None:
    ask = "Say the word hello ten times."
    plain = fresh(engine, ask, temperature=0.0, max_tokens=48)
    penalised = fresh(engine, ask, temperature=0.0, max_tokens=48, repeat_penalty=1.5)
    assert plain.lower().count("hello") > 10
    assert penalised.lower().count("hello") < plain.lower().count("hello") / 2


def test_the_end_of_turn_token_ends_the_reply_and_is_not_shown(engine: Engine) -> None:
    answer = reply(engine, "What is the capital of France? Answer in one word.", temperature=0.0, max_tokens=64)  # fmt: skip
    assert answer.stats is not None
    assert answer.stats.finish_reason == FinishReason.STOP
    assert answer.stats.completion_tokens < 64
    assert "<|im_end|>" not in answer.answer and "Paris" in answer.answer


def test_a_reply_stopped_before_it_begins_generates_nothing(engine: Engine) -> None:
    cancel = CancelToken()
    cancel.cancel()
    stopped = reply(engine, "Write a long story.", cancel=cancel, temperature=0.0, max_tokens=32)
    assert stopped.stats is not None
    assert stopped.stats.finish_reason == FinishReason.CANCELLED
    assert stopped.stats.completion_tokens == 0 and stopped.answer == ""


# --- the loop itself -----------------------------------------------------------------------------


def test_a_prompt_evaluates_only_what_the_cache_does_not_hold(engine: Engine) -> None:
    llama = engine._llama
    assert llama is not None
    first = llama.tokenize(b"The quick brown fox jumps over the lazy dog.", add_bos=False)
    more = llama.tokenize(b" Then it ran away.", add_bos=False)
    loop = TokenLoop(llama, SamplingSettings(temperature=0.0))
    try:
        llama.reset()
        assert loop.prefill(first) == len(first)
        assert loop.prefill(first + more) == len(more)
        assert loop.prefill(first) == 1  # all cached: the last token again, for its logits
        assert loop.prefill(more) == len(more)  # nothing shared
        assert llama.n_tokens == len(more)
        assert list(llama.input_ids[: llama.n_tokens]) == more
        token = loop.sample()
        loop.advance(token)
        assert llama.n_tokens == len(more) + 1 and llama.input_ids[len(more)] == token
    finally:
        loop.close()


def test_a_token_longer_than_a_small_buffer_keeps_all_its_text(
    engine: Engine, tiny_model: Path
) -> None:
    # Code's deep indents are single tokens: SmolLM2 has a newline and 80 spaces in one. Its
    # text, from the file's own vocabulary (GPT-2 byte symbols: Ċ newline, Ġ space).
    field = gguf.GGUFReader(str(tiny_model)).fields["tokenizer.ggml.tokens"]
    texts = [field.parts[part] for part in field.data]  # each token's UTF-8 bytes, in order
    longest = max(range(len(texts)), key=lambda token: len(texts[token]))
    text = bytes(texts[longest]).decode().replace("Ċ", "\n").replace("Ġ", " ").encode()
    assert len(text) > 64
    assert engine._llama is not None
    loop = TokenLoop(engine._llama, SamplingSettings())
    try:
        assert loop.piece(longest) == text
    finally:
        loop.close()
