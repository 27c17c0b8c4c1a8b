"""The real llama.cpp engine on the real tiny model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.core._util.cancel import CancelToken
from app.core.chat.prompting import SamplingSettings
from app.core.chat.template import Message
from app.core.engine.engine import Engine, usable_context
from app.core.errors import ContextOverflowError, EngineStateError, ModelFileError
from tests import models
from tests.conftest import BROKEN_REASONS

GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[Engine]:
    engine = Engine()
    engine.load(tiny_model, context_length=2048)
    yield engine
    engine.unload()


def test_load_reports_the_model(engine: Engine, tiny_model: Path) -> None:
    model = engine.model
    assert model is not None
    assert model.path == tiny_model
    assert "smollm2" in model.display_name.lower()
    assert model.architecture == "llama"
    assert model.context_length == 2048
    assert model.trained_context_length == 8192
    assert model.file_size == tiny_model.stat().st_size
    assert model.threads >= 1
    assert model.load_seconds > 0


def test_prompt_is_the_models_own_template(engine: Engine) -> None:
    prompt = engine.render_prompt([Message("system", "Be brief."), Message("user", "Hi")])
    assert prompt == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_reply_streams_token_by_token_with_stats(engine: Engine) -> None:
    generation = engine.generate(
        [
            Message("system", "Answer in one word."),
            Message("user", "What is the capital of France?"),
        ],
        GREEDY,
    )
    pieces = list(generation)
    assert len(pieces) > 3
    assert "".join(pieces) == generation.text
    assert "Paris" in generation.text
    stats = generation.stats
    assert stats is not None
    assert 0 < stats.completion_tokens <= 24
    assert stats.prompt_tokens > 10
    assert stats.seconds > 0
    assert stats.time_to_first_token is not None
    assert 0 < stats.time_to_first_token < stats.seconds
    assert stats.tokens_per_second > 1
    assert stats.finish_reason in ("stop", "length")


def test_greedy_replies_repeat_and_seeds_reproduce(engine: Engine) -> None:
    ask = [Message("user", "Name a color.")]
    assert engine.generate(ask, GREEDY).text == engine.generate(ask, GREEDY).text
    warm = SamplingSettings(temperature=1.0, max_tokens=16, seed=42)
    first = list(engine.generate(ask, warm))
    second = list(engine.generate(ask, warm))
    assert first == second


def test_max_tokens_ends_with_length(engine: Engine) -> None:
    generation = engine.generate(
        [Message("user", "Write a long story about a dragon.")], GREEDY.replace(max_tokens=5)
    )
    list(generation)
    assert generation.stats is not None
    assert generation.stats.completion_tokens == 5
    assert generation.stats.finish_reason == "length"


def test_stop_ends_generation_within_one_token(engine: Engine) -> None:
    cancel = CancelToken()
    generation = engine.generate(
        [Message("user", "Write a long story about a dragon.")],
        GREEDY.replace(max_tokens=200),
        cancel=cancel,
    )
    seen_at_cancel = 0
    for count, _piece in enumerate(generation, start=1):
        if count == 5:
            cancel.cancel()
            seen_at_cancel = count
    assert generation.stats is not None
    assert generation.stats.finish_reason == "cancelled"
    assert generation.stats.completion_tokens <= seen_at_cancel + 1


def test_conversation_larger_than_context_is_refused(tiny_model: Path) -> None:
    engine = Engine()
    engine.load(tiny_model, context_length=64)
    try:
        assert engine.model is not None
        context = engine.model.context_length  # llama.cpp may round 64 up
        with pytest.raises(ContextOverflowError, match=f"the model's context holds {context:,}"):
            engine.generate([Message("user", "word " * (context + 10))])
    finally:
        engine.unload()


def test_base_model_gets_plain_text_not_an_invented_format(base_model: Path) -> None:
    engine = Engine()
    engine.load(base_model, context_length=512)
    try:
        assert engine.model is not None and engine.model.chat_template is None
        assert engine.model.display_name == "Llama 3.1 Minitron 4B Width Base"
        prompt = engine.render_prompt([Message("user", "The capital of France is")])
        assert prompt == "The capital of France is"
        generation = engine.generate([Message("user", "The capital of France is")], GREEDY)
        assert generation.prompt == "The capital of France is"
        assert list(generation)
    finally:
        engine.unload()


def test_nemotron_template_is_rendered_from_the_file(nemotron_model: Path) -> None:
    engine = Engine()
    engine.load(nemotron_model, context_length=512)
    try:
        prompt = engine.render_prompt(
            [Message("system", "detailed thinking on"), Message("user", "Hi")]
        )
        # SmolLM2's BOS text is <|im_start|>; the template prints it first, as Llama 3.1's does.
        assert prompt == (
            "<|im_start|><|start_header_id|>system<|end_header_id|>\n\ndetailed thinking on<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n"
        )
    finally:
        engine.unload()


def test_unload_frees_the_model(tiny_model: Path) -> None:
    engine = Engine()
    engine.load(tiny_model, context_length=256)
    engine.unload()
    assert engine.model is None
    with pytest.raises(EngineStateError):
        engine.generate([Message("user", "hi")])
    engine.unload()  # twice is harmless


@pytest.mark.parametrize("kind", sorted(BROKEN_REASONS))
def test_broken_files_fail_clearly_and_the_engine_keeps_working(
    broken_models: dict[str, Path], tiny_model: Path, kind: str
) -> None:
    engine = Engine()
    with pytest.raises(ModelFileError) as caught:
        engine.load(broken_models[kind])
    assert BROKEN_REASONS[kind] in str(caught.value)
    assert engine.model is None
    engine.load(tiny_model, context_length=256)
    assert list(engine.generate([Message("user", "Hi")], GREEDY.replace(max_tokens=3)))
    engine.unload()


@pytest.mark.parametrize(
    ("asked", "trained", "given"),
    [
        (4096, None, 4096),
        (4096, 8192, 4096),
        (4096, 2048, 2048),
        (4096, 64, 256),  # a header declaring 64: llama.cpp's smallest context
        (64, None, 256),
        (300, None, 512),  # llama.cpp pads to 512 whatever is asked: ask for that
        (4096, 0, 4096),  # a header declaring 0 says nothing
    ],
)
def test_the_context_asked_for_is_what_llama_cpp_gives(
    asked: int, trained: int | None, given: int
) -> None:
    assert usable_context(asked, trained) == given


@pytest.mark.parametrize(("asked", "repeats"), [(64, 15), (300, 45)])
def test_a_tiny_or_odd_context_still_takes_a_prompt_longer_than_asked(
    asked: int, repeats: int
) -> None:
    """A header declaring `context_length` 64 (or a context of 300 chosen in Settings) used to
    load, then fail mid-reply with "unexpected error: ValueError" once the prompt passed the
    number asked for."""
    tiny_context = models.with_number("llama.context_length", 64)
    engine = Engine()
    model = engine.load(tiny_context if asked == 64 else models.base_model(), context_length=asked)
    try:
        assert model.context_length == usable_context(asked, model.trained_context_length)
        generation = engine.generate(
            [Message("user", "Tell me about the sea. " * repeats)], replace(GREEDY, max_tokens=8)
        )
        list(generation)
        assert generation.stats is not None
        assert generation.stats.prompt_tokens > asked
        assert generation.stats.completion_tokens > 0
    finally:
        engine.unload()
