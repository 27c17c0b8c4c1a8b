"""Thinking profiles, exact prompts for ON and OFF, and the streaming reasoning/answer split.

Prompts are rendered by the real engine with the derived test models (SmolLM2's weights with a
Nemotron, ChatML-with-<think>, Qwen3-style or no template), so the BOS text and the templates are
the real ones from the GGUF files.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.chat.prompting import SamplingSettings, effective_sampling
from app.core.chat.reasoning import (
    ReasoningSplitter,
    SwitchKind,
    Toggle,
    detect_profile,
    finish_prompt,
    plan_prompt,
)
from app.core.chat.template import Message
from app.core.engine.engine import Engine
from app.core.gguf.header import check_model_file

# Three turns; the earlier answer was stored with its reasoning apart, but a reply that still
# carries a <think> block (e.g. imported) must not leak it either.
TURNS = [
    Message("user", "What is 2+2?"),
    Message("assistant", "<think>\nsecret reasoning\n</think>\n\n4"),
    Message("user", "And 3+3?"),
]
SYSTEM = "Answer in one word."


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = Engine()
    yield engine
    engine.unload()


def render(engine: Engine, model: Path, *, on: bool, system: str = "") -> str:
    if engine.model is None or engine.model.path != model:
        engine.load(model, context_length=1024)
    assert engine.model is not None
    plan = plan_prompt(engine.model.thinking, thinking_on=on, system_prompt=system, turns=TURNS)
    prompt = engine.render_plan(plan)
    assert "secret reasoning" not in prompt
    return prompt


# --- exact prompts -------------------------------------------------------------------------------

LLAMA_TURNS = (
    "<|start_header_id|>user<|end_header_id|>\n\n{first}<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>"
    "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)
# SmolLM2's BOS token is <|im_start|>: the Nemotron template prints whatever the model's BOS is.
NEMOTRON_HEAD = (
    "<|im_start|><|start_header_id|>system<|end_header_id|>\n\ndetailed thinking {mode}<|eot_id|>"
)


@pytest.mark.parametrize(
    ("on", "system", "expected"),
    [
        (True, "", NEMOTRON_HEAD.format(mode="on") + LLAMA_TURNS.format(first="What is 2+2?")),
        (
            False,
            "",
            NEMOTRON_HEAD.format(mode="off")
            + LLAMA_TURNS.format(first="What is 2+2?")
            + "<think>\n</think>",
        ),
        (
            True,
            SYSTEM,
            NEMOTRON_HEAD.format(mode="on") + LLAMA_TURNS.format(first=f"{SYSTEM}\n\nWhat is 2+2?"),
        ),
        (
            False,
            SYSTEM,
            NEMOTRON_HEAD.format(mode="off")
            + LLAMA_TURNS.format(first=f"{SYSTEM}\n\nWhat is 2+2?")
            + "<think>\n</think>",
        ),
    ],
)
def test_nemotron_prompt_is_exact(
    engine: Engine, nemotron_model: Path, on: bool, system: str, expected: str
) -> None:
    # The switch is the whole system prompt; the person's instructions go to the user turn.
    assert render(engine, nemotron_model, on=on, system=system) == expected


CHATML_TURNS = (
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
    "<|im_start|>assistant\n4<|im_end|>\n"
    "<|im_start|>user\nAnd 3+3?<|im_end|>\n"
    "<|im_start|>assistant\n"
)
CHATML_SYSTEM = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"


@pytest.mark.parametrize(
    ("on", "system", "expected"),
    [
        (True, "", CHATML_TURNS + "<think>\n"),
        (False, "", CHATML_TURNS + "<think>\n\n</think>\n\n"),
        (True, SYSTEM, CHATML_SYSTEM + CHATML_TURNS + "<think>\n"),
        (False, SYSTEM, CHATML_SYSTEM + CHATML_TURNS + "<think>\n\n</think>\n\n"),
    ],
)
def test_always_reasoning_prompt_is_exact(
    engine: Engine, think_model: Path, on: bool, system: str, expected: str
) -> None:
    assert render(engine, think_model, on=on, system=system) == expected


@pytest.mark.parametrize(
    ("on", "system", "expected"),
    [
        (True, "", CHATML_TURNS),
        (False, "", CHATML_TURNS + "<think>\n\n</think>\n\n"),
        (True, SYSTEM, CHATML_SYSTEM + CHATML_TURNS),
        (False, SYSTEM, CHATML_SYSTEM + CHATML_TURNS + "<think>\n\n</think>\n\n"),
    ],
)
def test_qwen3_style_prompt_passes_enable_thinking(
    engine: Engine, qwen3_model: Path, on: bool, system: str, expected: str
) -> None:
    assert render(engine, qwen3_model, on=on, system=system) == expected


@pytest.mark.parametrize("on", [True, False])
def test_base_model_gets_plain_text_and_no_invented_format(
    engine: Engine, base_model: Path, on: bool
) -> None:
    assert render(engine, base_model, on=on) == "What is 2+2?\n\n4\n\nAnd 3+3?"
    assert render(engine, base_model, on=on, system=SYSTEM) == (
        f"{SYSTEM}\n\nWhat is 2+2?\n\n4\n\nAnd 3+3?"
    )


# --- profiles ------------------------------------------------------------------------------------


def profile_of(path: Path):  # noqa: ANN201 - test helper
    header = check_model_file(path)
    return detect_profile(
        name=header.name,
        basename=header.metadata.get("general.basename"),
        architecture=header.architecture,
        chat_template=header.chat_template,
    )


def test_profiles_of_the_test_models(
    nemotron_model: Path, think_model: Path, qwen3_model: Path, base_model: Path, tiny_model: Path
) -> None:
    nemotron = profile_of(nemotron_model)
    assert (nemotron.family, nemotron.toggle, nemotron.default_on) == (
        "nemotron-v1", Toggle.SWITCH, True
    )  # fmt: skip
    assert nemotron.switch.kind == SwitchKind.SYSTEM_LINE
    think = profile_of(think_model)
    assert (think.family, think.toggle, think.opens_think) == (
        "always-think", Toggle.SKIPPABLE, True
    )  # fmt: skip
    assert "worse" in think.note
    assert profile_of(qwen3_model).family == "qwen3"
    base = profile_of(base_model)
    assert (base.family, base.toggle) == ("base", Toggle.DISABLED)
    assert "base model" in base.note
    plain = profile_of(tiny_model)
    assert (plain.family, plain.toggle) == ("plain", Toggle.HIDDEN)


def test_r1_distills_always_reason_even_when_the_template_does_not_open_think() -> None:
    template = "{% for m in messages %}{{ m.content }}{% endfor %}<｜Assistant｜>"
    profile = detect_profile(
        name="DeepSeek R1 Distill Qwen 7B", basename=None, architecture="qwen2",
        chat_template=template,
    )  # fmt: skip
    assert profile.family == "always-think"
    assert not profile.opens_think
    plan = plan_prompt(profile, thinking_on=False, system_prompt="", turns=[Message("user", "x")])
    assert finish_prompt("<｜Assistant｜>", plan) == (
        "<｜Assistant｜><think>\n\n</think>\n\n",
        False,
    )
    assert profile.mode_name(True) == "always"


def test_acereason_nemotron_is_not_taken_for_the_nemotron_nano_switch() -> None:
    profile = detect_profile(
        name="AceReason Nemotron 1.1 7B", basename="AceReason-Nemotron-1.1",
        architecture="qwen2", chat_template="{{ messages[0].content }}<|im_start|>assistant\n",
    )  # fmt: skip
    assert profile.family == "always-think"


def test_sampling_presets_follow_the_model_cards_and_the_person_wins(nemotron_model: Path) -> None:
    nemotron = profile_of(nemotron_model)
    on = effective_sampling(nemotron, True, {})
    assert (on.temperature, on.top_p) == (0.6, 0.95)
    assert effective_sampling(nemotron, False, {}).temperature == 0.0  # greedy
    assert (
        effective_sampling(nemotron, True, {"temperature": 0.2, "top_k": None}).temperature == 0.2
    )
    qwen_off = effective_sampling(profile_of_template("{{ enable_thinking }}"), False, {})
    assert (qwen_off.temperature, qwen_off.top_p, qwen_off.top_k) == (0.7, 0.8, 20)


def profile_of_template(template: str):  # noqa: ANN201 - test helper
    return detect_profile(name=None, basename=None, architecture=None, chat_template=template)


# --- the split -----------------------------------------------------------------------------------


def split_in_pieces(text: str, seed: int, *, starts_in_reasoning: bool = False) -> tuple[str, str]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), rng.randint(0, min(25, len(text) - 1))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    splitter = ReasoningSplitter(starts_in_reasoning=starts_in_reasoning)
    out = [part for piece in pieces for part in splitter.feed(piece)] + splitter.flush()
    reasoning = "".join(text for kind, text in out if kind == "reasoning")
    answer = "".join(text for kind, text in out if kind == "answer")
    return reasoning, answer


@pytest.mark.parametrize("seed", range(200))
def test_split_survives_tags_cut_anywhere(seed: int) -> None:
    text = (
        "\n<think>\nIs a < b? </th is not a tag. So yes.</think>\n\n"
        "Yes: <think> stays text, a stray </think> does not."
    )
    assert split_in_pieces(text, seed) == (
        "Is a < b? </th is not a tag. So yes.",
        "Yes: <think> stays text, a stray  does not.",
    )


@pytest.mark.parametrize("seed", range(50))
def test_split_when_the_prompt_opened_think(seed: int) -> None:
    text = "Let me see.</think>The answer."
    assert split_in_pieces(text, seed, starts_in_reasoning=True) == ("Let me see.", "The answer.")


@pytest.mark.parametrize("seed", range(20))
def test_split_without_reasoning_is_all_answer(seed: int) -> None:
    assert split_in_pieces("<b>Hello</b> <thinking", seed) == ("", "<b>Hello</b> <thinking")


def test_reasoning_cut_off_by_the_end_stays_reasoning() -> None:
    splitter = ReasoningSplitter()
    assert splitter.feed("<think>still going</thi") == [("reasoning", "still going")]
    assert splitter.flush() == [("reasoning", "</thi")]


# --- real replies --------------------------------------------------------------------------------


def test_reasoning_budget_closes_the_thinking_and_the_answer_follows(
    engine: Engine, think_model: Path
) -> None:
    engine.load(think_model, context_length=1024)
    assert engine.model is not None
    plan = plan_prompt(
        engine.model.thinking, thinking_on=True, system_prompt="",
        turns=[Message("user", "Write a long story about a dragon.")],
    )  # fmt: skip
    reply = engine.reply(plan, SamplingSettings(temperature=0.0, max_tokens=40), reasoning_budget=5)
    pieces = list(reply)
    assert reply.reasoning and reply.answer
    assert [kind for kind, _ in pieces][0] == "reasoning"
    assert "</think>" not in reply.answer and "</think>" not in reply.reasoning
    assert reply.reasoning_seconds is not None and reply.reasoning_seconds > 0
    assert reply.stats is not None and reply.stats.completion_tokens <= 40
