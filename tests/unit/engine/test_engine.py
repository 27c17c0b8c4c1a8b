"""The real llama.cpp engine on the real tiny model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core._util.cancel import CancelToken
from app.core.chat.history import MessageState
from app.core.chat.prompting import ReplyRequest, SamplingSettings
from app.core.chat.reasoning import PromptPlan, plan_prompt
from app.core.chat.template import Message
from app.core.engine.engine import Engine, FinishReason, Reply, usable_context
from app.core.engine.ggml import llama_lib_folder
from app.core.errors import ContextOverflowError, EngineStateError, ModelFileError
from tests import models
from tests.conftest import BROKEN_REASONS

GREEDY = {"temperature": 0.0, "max_tokens": 24}
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def engine(tiny_model: Path) -> Iterator[Engine]:
    engine = Engine()
    engine.load(tiny_model, context_length=2048)
    yield engine
    engine.unload()


def ask(
    engine: Engine,
    text: str,
    *,
    system: str = "",
    seed: int | None = None,
    cancel: CancelToken | None = None,
    **sampling: float,
) -> Reply:
    """Start a reply the way the app and the CLI do (`start_reply`), greedy unless told."""
    request = ReplyRequest(
        turns=[Message("user", text)],
        system_prompt=system,
        overrides={**GREEDY, **sampling},
        seed=seed,
        cancel=cancel,
    )
    _prepared, reply = engine.start_reply(request)
    return reply


def plan_for(engine: Engine, messages: list[Message]) -> PromptPlan:
    assert engine.model is not None
    system = messages[0].content if messages[0].role == "system" else ""
    turns = [m for m in messages if m.role != "system"]
    return plan_prompt(engine.model.thinking, thinking_on=False, system_prompt=system, turns=turns)


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
    prompt = engine.render_plan(
        plan_for(engine, [Message("system", "Be brief."), Message("user", "Hi")])
    )
    assert prompt == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_reply_streams_token_by_token_with_stats(engine: Engine) -> None:
    reply = ask(engine, "What is the capital of France?", system="Answer in one word.")
    pieces = list(reply)
    assert len(pieces) > 3
    assert all(kind == "answer" for kind, _text in pieces)
    assert "".join(text for _kind, text in pieces) == reply.answer
    assert "Paris" in reply.answer
    stats = reply.stats
    assert stats is not None
    assert 0 < stats.completion_tokens <= 24
    assert stats.prompt_tokens > 10
    assert stats.seconds > 0
    assert stats.time_to_first_token is not None
    assert 0 < stats.time_to_first_token < stats.seconds
    assert stats.tokens_per_second > 1
    assert stats.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)


def test_seeded_replies_reproduce(engine: Engine) -> None:
    # Seeded replies evaluate the prompt afresh, so they repeat exactly. (Unseeded greedy ones
    # reuse llama.cpp's cached prefix and need not: see the engine's `_stream`.)
    def answer(seed: int) -> str:
        reply = ask(engine, "Name a color.", seed=seed, temperature=1.0, max_tokens=16)
        list(reply)
        assert reply.answer
        return reply.answer

    assert answer(42) == answer(42)


def test_max_tokens_ends_with_length(engine: Engine) -> None:
    reply = ask(engine, "Write a long story about a dragon.", max_tokens=5)
    list(reply)
    assert reply.stats is not None
    assert reply.stats.completion_tokens == 5
    assert reply.stats.finish_reason == FinishReason.LENGTH


def test_stop_ends_generation_within_one_token(engine: Engine) -> None:
    cancel = CancelToken()
    reply = ask(engine, "Write a long story about a dragon.", max_tokens=200, cancel=cancel)
    seen_at_cancel = 0
    for count, _piece in enumerate(reply, start=1):
        if count == 5:
            cancel.cancel()
            seen_at_cancel = count
    assert reply.stats is not None
    assert reply.stats.finish_reason == FinishReason.CANCELLED
    assert reply.stats.completion_tokens <= seen_at_cancel + 1


def test_conversation_larger_than_context_is_refused(tiny_model: Path) -> None:
    engine = Engine()
    engine.load(tiny_model, context_length=64)
    try:
        assert engine.model is not None
        context = engine.model.context_length  # llama.cpp may round 64 up
        too_long = [Message("user", "word " * (context + 10))]
        with pytest.raises(ContextOverflowError, match=f"the model's context holds {context:,}"):
            ask(engine, too_long[0].content)
        # `reply` checks on its own too, for a plan that was never measured.
        with pytest.raises(ContextOverflowError, match=f"the model's context holds {context:,}"):
            engine.reply(plan_for(engine, too_long), SamplingSettings())
    finally:
        engine.unload()


def test_base_model_gets_plain_text_not_an_invented_format(base_model: Path) -> None:
    engine = Engine()
    engine.load(base_model, context_length=512)
    try:
        assert engine.model is not None and engine.model.chat_template is None
        assert engine.model.display_name == "Llama 3.1 Minitron 4B Width Base"
        reply = ask(engine, "The capital of France is")
        assert reply.prompt == "The capital of France is"
        assert list(reply)
    finally:
        engine.unload()


def test_nemotron_template_is_rendered_from_the_file(nemotron_model: Path) -> None:
    engine = Engine()
    engine.load(nemotron_model, context_length=512)
    try:
        prompt = engine.render_plan(
            PromptPlan(
                [Message("system", "detailed thinking on"), Message("user", "Hi")],
                template_variables={},
                prefill="",
            )
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
        ask(engine, "hi")
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
    assert list(ask(engine, "Hi", max_tokens=3))
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
        reply = ask(engine, "Tell me about the sea. " * repeats, max_tokens=8)
        list(reply)
        assert reply.stats is not None
        assert reply.stats.prompt_tokens > asked
        assert reply.stats.completion_tokens > 0
    finally:
        engine.unload()


def test_backends_that_cannot_be_loaded_are_a_sentence_not_a_crash(
    tiny_model: Path, tmp_path: Path
) -> None:
    # A real broken install, as a wrong library name on macOS would make it: llama-cpp-python's
    # folder lacks libggml (libllama still finds its copy elsewhere, so llama_cpp imports).
    real = llama_lib_folder()
    assert real is not None
    package = tmp_path / "site" / "llama_cpp"
    shutil.copytree(real.parent, package, ignore=shutil.ignore_patterns("lib", "__pycache__"))
    elsewhere = tmp_path / "elsewhere"
    (package / "lib").mkdir()
    elsewhere.mkdir()
    for library in real.iterdir():
        moved = library.name.startswith("libggml.") or library.name.startswith("ggml.")
        shutil.copy2(library, (elsewhere if moved else package / "lib") / library.name)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(REPO_ROOT)]),
        "LD_LIBRARY_PATH": str(elsewhere),
    }
    result = subprocess.run(
        [sys.executable, "-m", "app", "chat", str(tiny_model), "--prompt", "Hi"],
        capture_output=True, text=True, timeout=120, env=environment, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr  # BAD_MODEL, not a bug
    assert "the engine's llama.cpp libraries could not be loaded" in result.stderr
    assert "libggml" in result.stderr
    assert "Traceback" not in result.stderr


def test_how_a_reply_ended_decides_its_stored_state() -> None:
    # One mapping, used by the engine worker (the database) and the chat page (the message).
    assert FinishReason.CANCELLED.message_state is MessageState.STOPPED
    assert FinishReason.STOP.message_state is MessageState.COMPLETE
    assert FinishReason.LENGTH.message_state is MessageState.COMPLETE
