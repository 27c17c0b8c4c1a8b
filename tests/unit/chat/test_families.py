"""Every reasoning family, proven on its makers' own chat template.

For each family in `app/resources/thinking_families.json`: the model is recognised from its
`general.name` and its real template (the corpus in `tests/fixtures/templates/real/`); the exact
prompt for ON and OFF (each effort level for gpt-oss), with and without a person's system prompt,
over three turns whose earlier reasoning is never sent back, rendered through the one bounded
renderer (`render_chat`); and the splitter separates a real-looking reply written in the family's
tags into reasoning and answer, with the tags cut anywhere.

The exact prompts are kept in `tests/fixtures/templates/families/prompts.json` (reviewed by hand
when made; `QUANTDESK_WRITE_PROMPTS=1` rewrites it after a deliberate change). Beside the exact
text, each case checks the family's switch itself, so a rewritten file can't hide a wrong switch.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from app.core.chat.prompting import effective_sampling
from app.core.chat.reasoning import (
    ReasoningSplitter,
    SwitchKind,
    ThinkingProfile,
    Toggle,
    detect_profile,
    finish_prompt,
    plan_prompt,
)
from app.core.chat.template import Message, render_chat
from app.core.errors import ChatTemplateError

FIXTURES = Path(__file__).parents[2] / "fixtures" / "templates"
REAL = FIXTURES / "real"
PROMPTS = FIXTURES / "families" / "prompts.json"
BOS, EOS = "<s>", "</s>"
SYSTEM = "Answer in one word."


def turns_for(profile: ThinkingProfile) -> list[Message]:
    """Three turns; the earlier answers still carry their reasoning in the family's own tags (as an
    imported chat might), which must not reach the model."""
    tags = profile.tags
    between = tags.answer_start[0] if tags.answer_start else "\n\n"
    return [
        Message("user", "What is 2+2?"),
        Message("assistant", f"{tags.open}secret one{tags.close}{between}4"),
        Message("user", "And 3+3?"),
        Message("assistant", f"{tags.open}\nsecret two\n{tags.close}{between}6"),
        Message("user", "And 4+4?"),
    ]


@dataclass(frozen=True)
class Case:
    template: str  # a file in the corpus
    name: str  # general.name
    family: str
    architecture: str | None = None


CASES = {
    "smollm3": Case("HuggingFaceTB-SmolLM3-3B.jinja", "SmolLM3 3B", "smollm3", "smollm3"),
    "nemotron-super-v1": Case(
        "nvidia-Llama-3_3-Nemotron-Super-49B-v1.jinja",
        "Llama 3_3 Nemotron Super 49B v1",
        "nemotron-v1",
        "deci",
    ),
    "nemotron-nano-v2": Case(
        "NVIDIA-Nemotron-Nano-v2.jinja", "NVIDIA Nemotron Nano 9B v2", "nemotron-flag", "nemotron_h"
    ),
    "nemotron-super-v1.5": Case(
        "nvidia-Llama-3_3-Nemotron-Super-49B-v1_5.jinja",
        "Llama 3_3 Nemotron Super 49B v1_5",
        "nemotron-flag",
        "deci",
    ),
    "qwen3": Case("Qwen-Qwen3-0.6B.jinja", "Qwen3 0.6B", "qwen3", "qwen3"),
    "r1-distill-llama": Case(
        "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja",
        "DeepSeek R1 Distill Llama 8B",
        "always-think",
        "llama",
    ),
    "r1-distill-qwen": Case(
        "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
        "DeepSeek R1 Distill Qwen 32B",
        "always-think",
        "qwen2",
    ),
    "qwq": Case("Qwen-QwQ-32B.jinja", "QwQ 32B", "always-think", "qwen2"),
    "deepseek-v3.1": Case(
        "deepseek-ai-DeepSeek-V3.1.jinja", "DeepSeek V3.1", "deepseek-v3.1", "deepseek2"
    ),
    "glm-4.6": Case("GLM-4.6.jinja", "GLM 4.6", "glm", "glm4moe"),
    "glm-4.7-flash": Case("GLM-4.7-Flash.jinja", "GLM 4.7 Flash", "glm", "glm4moe"),
    "gpt-oss": Case("openai-gpt-oss-120b.jinja", "Gpt Oss 120b", "gpt-oss", "gpt-oss"),
    "granite-3.3": Case(
        "ibm-granite-granite-3.3-2B-Instruct.jinja", "Granite 3.3 2b Instruct", "granite", "granite"
    ),
    "ministral-reasoning": Case(
        "mistralai-Ministral-3-14B-Reasoning-2512.jinja",
        "Ministral 3 14B Reasoning 2512",
        "magistral",
        "mistral3",
    ),
    "seed-oss": Case("ByteDance-Seed-OSS.jinja", "Seed OSS 36B Instruct", "seed-oss", "seed_oss"),
    "phi4-reasoning": Case(
        "microsoft-Phi-4-reasoning.jinja", "Phi 4 Reasoning", "phi4-reasoning", "phi3"
    ),
    "phi4-mini-reasoning": Case(
        "microsoft-Phi-4-mini-reasoning.jinja", "Phi 4 Mini Reasoning", "phi4-reasoning", "phi3"
    ),
    "qwen3-thinking-2507": Case(
        "Qwen-Qwen3-4B-Thinking-2507.jinja", "Qwen3 4B Thinking 2507", "always-think", "qwen3"
    ),
}


def template_of(case: Case) -> str:
    return (REAL / case.template).read_text(encoding="utf-8")


def profile_of(case: Case, *, name: str | None = None) -> ThinkingProfile:
    return detect_profile(
        name=case.name if name is None else name,
        basename=None,
        architecture=case.architecture,
        chat_template=template_of(case),
    )


def modes(profile: ThinkingProfile) -> list[str]:
    return list(profile.choices)


def prompt_for(case: Case, mode: str, system: str) -> str:
    profile = profile_of(case)
    effort = mode if profile.switch.kind == SwitchKind.EFFORT else None
    plan = plan_prompt(
        profile,
        thinking_on=mode != "off",
        system_prompt=system,
        turns=turns_for(profile),
        effort=effort,
    )
    rendered = render_chat(
        template_of(case), plan.messages, bos_token=BOS, eos_token=EOS, **plan.template_variables
    )
    prompt, _ = finish_prompt(rendered, plan)
    # Templates that print today's date (gpt-oss, Granite): the date is not part of the switch.
    for fmt in ("%Y-%m-%d", "%B %d, %Y"):
        prompt = prompt.replace(datetime.now().strftime(fmt), "<TODAY>")
    return prompt


ALL = [
    (key, mode, system)
    for key, case in CASES.items()
    for mode in modes(profile_of(case))
    for system in ("", SYSTEM)
]


def _stored() -> dict[str, str]:
    return json.loads(PROMPTS.read_text(encoding="utf-8")) if PROMPTS.exists() else {}


def test_write_prompts_when_asked() -> None:
    # Only with QUANTDESK_WRITE_PROMPTS=1: regenerates the exact prompts after a deliberate change.
    if os.environ.get("QUANTDESK_WRITE_PROMPTS") != "1":
        assert set(_stored()) == {f"{k}/{m}/{'system' if s else 'none'}" for k, m, s in ALL}
        return
    PROMPTS.parent.mkdir(exist_ok=True)
    prompts = {
        f"{k}/{m}/{'system' if s else 'none'}": prompt_for(CASES[k], m, s) for k, m, s in ALL
    }
    PROMPTS.write_text(json.dumps(prompts, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


@pytest.mark.parametrize("key", list(CASES))
def test_the_family_is_recognised_by_name_and_by_template_alone(key: str) -> None:
    case = CASES[key]
    assert profile_of(case).family == case.family
    # An unknown model (a fine-tune with another name) whose template mentions the family's
    # switch is handled by that switch; always-reasoning templates are known by name only.
    unnamed = profile_of(case, name="Some Finetune 7B")
    if case.family != "always-think":
        assert unnamed.switch.kind == profile_of(case).switch.kind


@pytest.mark.parametrize(("key", "mode", "system"), ALL)
def test_exact_prompt(key: str, mode: str, system: str) -> None:
    prompt = prompt_for(CASES[key], mode, system)
    assert prompt == _stored()[f"{key}/{mode}/{'system' if system else 'none'}"]
    assert "secret" not in prompt  # earlier reasoning is never sent back
    assert "And 4+4?" in prompt and prompt.count("What is 2+2?") == 1
    if system:
        assert SYSTEM in prompt


# The switch itself, in each mode: (text the prompt must hold, text it must end with).
SWITCHES: dict[str, dict[str, tuple[str, str]]] = {
    "smollm3": {
        "on": ("Reasoning Mode: /think", "<|im_start|>assistant\n"),
        "off": ("Reasoning Mode: /no_think", "<|im_start|>assistant\n<think>\n\n</think>\n"),
    },
    "nemotron-super-v1": {  # the whole system prompt is the switch; OFF also closes the think
        "on": (
            "<|start_header_id|>system<|end_header_id|>\n\ndetailed thinking on<|eot_id|>",
            "assistant<|end_header_id|>\n\n",
        ),
        "off": (
            "<|start_header_id|>system<|end_header_id|>\n\ndetailed thinking off<|eot_id|>",
            "assistant<|end_header_id|>\n\n<think>\n</think>",
        ),
    },
    "nemotron-nano-v2": {
        "on": ("", "<SPECIAL_11>Assistant\n<think>\n"),
        "off": ("", "<SPECIAL_11>Assistant\n<think></think>"),
    },
    "nemotron-super-v1.5": {
        "on": ("", "assistant<|end_header_id|>\n\n"),
        "off": ("", "assistant<|end_header_id|>\n\n<think>\n\n</think>\n\n"),
    },
    "qwen3": {
        "on": ("", "<|im_start|>assistant\n"),
        "off": ("", "<|im_start|>assistant\n<think>\n\n</think>\n\n"),
    },
    "r1-distill-llama": {
        "on": ("", "<｜Assistant｜><think>\n"),
        "off": ("", "<｜Assistant｜><think>\n\n</think>\n\n"),  # the skip prefill
    },
    "r1-distill-qwen": {  # llama.cpp's copy reads enable_thinking: the template closes the block
        "on": ("", "<｜Assistant｜><think>\n"),
        "off": ("", "<｜Assistant｜><think>\n</think>"),
    },
    "qwq": {
        "on": ("", "<|im_start|>assistant\n<think>\n"),
        "off": ("", "<|im_start|>assistant\n<think>\n</think>"),
    },
    "deepseek-v3.1": {
        "on": ("", "<｜Assistant｜><think>"),
        "off": ("", "<｜Assistant｜><think></think>"),
    },
    "glm-4.6": {
        "on": ("", "And 4+4?<|assistant|>"),
        "off": ("And 4+4?/nothink", "<|assistant|>\n<think></think>"),
    },
    "glm-4.7-flash": {
        "on": ("", "<|assistant|><think>"),
        "off": ("", "<|assistant|></think>"),
    },
    "gpt-oss": {
        level: (f"\n\nReasoning: {level}\n\n", "<|end|><|start|>assistant")
        for level in ("low", "medium", "high")
    },
    "granite-3.3": {
        "on": ("", "<|start_of_role|>assistant<|end_of_role|>"),
        "off": ("", "<|start_of_role|>assistant<|end_of_role|>"),
    },
    "ministral-reasoning": {
        "on": ("", "[INST]And 4+4?[/INST]"),
        "off": ("", "[INST]And 4+4?[/INST][THINK][/THINK]"),
    },
    "seed-oss": {
        "on": ("", "<seed:bos>assistant\n"),
        "off": ("your thinking budget is 0", "</seed:cot_budget_reflect>\n</seed:think>"),
    },
    "phi4-reasoning": {  # the template's own system prompt asks for <think>; OFF skips it
        "on": ("Thought and Solution", "<|im_start|>assistant<|im_sep|>"),
        "off": ("Thought and Solution", "<|im_start|>assistant<|im_sep|><think>\n\n</think>\n\n"),
    },
    "phi4-mini-reasoning": {
        "on": ("an AI math expert", "<|end|><|assistant|>"),
        "off": ("an AI math expert", "<|end|><|assistant|><think>\n\n</think>\n\n"),
    },
    "qwen3-thinking-2507": {  # the template opens the block; OFF closes it
        "on": ("", "<|im_start|>assistant\n<think>\n"),
        "off": ("", "<|im_start|>assistant\n<think>\n\n</think>\n\n"),
    },
}
# Switches that live in a default system prompt the person's own prompt replaces: (its text,
# whether OFF leaves it: Magistral's is its template's default, skipped by the prefill instead).
DEFAULT_SYSTEM_SWITCH = {
    "granite-3.3": ("Write your thoughts between <think></think>", False),
    "ministral-reasoning": ("[THINK]Your thoughts", True),
}
# Where the system prompt is the switch, or the template writes its own and drops (or buries)
# the person's: the person's instructions open the first user turn instead (what it starts with).
INSTRUCTIONS_IN_FIRST_TURN = {
    "nemotron-super-v1": "<|start_header_id|>user<|end_header_id|>\n\n",
    "phi4-reasoning": "<|im_start|>user<|im_sep|>",
}
# Where the thinking prompt ends inside the open tag, so the reply starts in the reasoning.
STARTS_IN_REASONING = {
    "nemotron-nano-v2", "r1-distill-llama", "r1-distill-qwen", "qwq", "deepseek-v3.1",
    "glm-4.7-flash", "qwen3-thinking-2507",
}  # fmt: skip


@pytest.mark.parametrize(("key", "mode", "system"), ALL)
def test_the_switch_is_in_the_prompt(key: str, mode: str, system: str) -> None:
    prompt = prompt_for(CASES[key], mode, system)
    contains, ending = SWITCHES[key][mode]
    assert contains in prompt
    assert prompt.endswith(ending)
    if key in DEFAULT_SYSTEM_SWITCH:
        text, kept_when_off = DEFAULT_SYSTEM_SWITCH[key]
        assert (text in prompt) == (not system and (mode == "on" or kept_when_off))
    if key in INSTRUCTIONS_IN_FIRST_TURN and system:
        turn = INSTRUCTIONS_IN_FIRST_TURN[key]
        assert f"{turn}{SYSTEM}\n\nWhat is 2+2?" in prompt and prompt.count(SYSTEM) == 1


def test_a_template_with_a_place_for_instructions_keeps_them_in_the_system_message() -> None:
    # Phi-4-mini-reasoning's template adds the person's system message after its own, where
    # Phi-4-reasoning's drops it: the probe tells the two apart, not the family's name.
    mini = profile_of(CASES["phi4-mini-reasoning"])
    assert not mini.instructions_in_first_turn
    prompt = prompt_for(CASES["phi4-mini-reasoning"], "on", SYSTEM)
    assert f"developed by Microsoft. {SYSTEM}<|end|><|user|>What is 2+2?" in prompt
    assert profile_of(CASES["phi4-reasoning"]).instructions_in_first_turn


INSTRUCTIONS = "Answer like a pirate, in one short sentence."
# Tool-calling templates that iterate `tools` (or read `functions`) and so render no chat without
# them (transformers refuses them too): a chat with them fails with or without instructions.
NEEDS_TOOLS = {
    "CohereForAI-c4ai-command-r-plus-tool_use.jinja",
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja",
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja",
    "fireworks-ai-llama-3-firefunction-v2.jinja",
}


@pytest.mark.parametrize("path", sorted(REAL.glob("*.jinja")), ids=lambda path: path.stem)
def test_the_persons_instructions_reach_every_model_in_the_corpus(path: Path) -> None:
    """Whatever the template does with a system message (keeps it, drops it as Phi-4-reasoning's
    does, refuses it as Gemma 2's does), the person's instructions reach the prompt once, and a
    chat with them renders."""
    template = path.read_text(encoding="utf-8")
    if path.name in NEEDS_TOOLS:
        with pytest.raises(ChatTemplateError, match="is not iterable|'functions' is undefined"):
            render_chat(template, [Message("user", "What is 2+2?")])
        return
    profile = detect_profile(name=None, basename=None, architecture=None, chat_template=template)
    plan = plan_prompt(
        profile,
        thinking_on=profile.default_on,
        system_prompt=INSTRUCTIONS,
        turns=[Message("user", "What is 2+2?")],
    )
    prompt = render_chat(
        template, plan.messages, bos_token=BOS, eos_token=EOS, **plan.template_variables
    )
    assert prompt.count(INSTRUCTIONS) == 1
    if profile.instructions_in_first_turn:
        assert f"{INSTRUCTIONS}\n\nWhat is 2+2?" in prompt


# Families no maker's template in the corpus proves (none today): a family added without one is
# named here, with where it is tested instead.
UNPROVEN: set[str] = set()


def test_every_family_in_the_data_is_proven_on_a_real_template_or_named_here() -> None:
    from app.core.chat.reasoning import families

    proven = {case.family for case in CASES.values()}
    assert {f.profile.family for f in families()} == proven | UNPROVEN
    assert not proven & UNPROVEN


# --- the split of a real-looking reply -----------------------------------------------------------

REPLIES = {  # (reasoning, answer, how the family writes it around them)
    "gpt-oss": "<|channel|>analysis<|message|>{r}<|end|><|start|>assistant<|channel|>final"
    "<|message|>{a}<|return|>",
    "granite-3.3": "<think>{r}</think><response>{a}</response>",
}
REASONING_TEXT = "The user asks 4+4. Adding: 4+4 = 8. Check: 8-4 = 4. Fine."
ANSWER_TEXT = "**8**"


def reply_for(key: str, profile: ThinkingProfile, starts_in_reasoning: bool) -> str:
    if key in REPLIES:
        return REPLIES[key].format(r=REASONING_TEXT, a=ANSWER_TEXT)
    tags = profile.tags
    opening = "" if starts_in_reasoning else f"{tags.open}\n"
    return f"{opening}{REASONING_TEXT}\n{tags.close}\n\n{ANSWER_TEXT}"


def split(text: str, profile: ThinkingProfile, starts: bool, seed: int) -> tuple[str, str]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), rng.randint(0, min(30, len(text) - 1))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    splitter = ReasoningSplitter(starts_in_reasoning=starts, tags=profile.tags)
    out = [part for piece in pieces for part in splitter.feed(piece)] + splitter.flush()
    reasoning = "".join(text for kind, text in out if kind == "reasoning")
    return reasoning.strip(), "".join(text for kind, text in out if kind == "answer")


@pytest.mark.parametrize("key", list(CASES))
@pytest.mark.parametrize("seed", range(25))
def test_the_splitter_separates_a_reply_in_the_familys_tags(key: str, seed: int) -> None:
    case = CASES[key]
    profile = profile_of(case)
    plan = plan_prompt(profile, thinking_on=True, system_prompt="", turns=turns_for(profile))
    rendered = render_chat(template_of(case), plan.messages, bos_token=BOS, eos_token=EOS,
                           **plan.template_variables)  # fmt: skip
    _, starts = finish_prompt(rendered, plan)
    assert starts == (key in STARTS_IN_REASONING)
    text = reply_for(key, profile, starts)
    assert split(text, profile, starts, seed) == (REASONING_TEXT, ANSWER_TEXT)


def test_choices_notes_and_presets_come_from_the_data() -> None:
    gpt_oss = profile_of(CASES["gpt-oss"])
    assert (gpt_oss.toggle, gpt_oss.choices) == (Toggle.EFFORT, ("low", "medium", "high"))
    assert gpt_oss.mode_name(True) == "medium" and gpt_oss.mode_name(True, "high") == "high"
    assert effective_sampling(gpt_oss, True, {}, "high").temperature == 1.0
    qwq = profile_of(CASES["qwq"])
    assert (qwq.toggle, qwq.off_costs_quality) == (Toggle.SKIPPABLE, True)
    assert "worse" in qwq.note
    qwen3 = profile_of(CASES["qwen3"])
    assert (qwen3.toggle, qwen3.choices, qwen3.off_costs_quality) == (
        Toggle.SWITCH, ("on", "off"), False
    )  # fmt: skip
    assert effective_sampling(qwen3, False, {}).top_p == 0.8
    unknown = detect_profile(
        name="Llama 3.2 3B Instruct", basename=None, architecture="llama",
        chat_template=(REAL / "meta-llama-Llama-3.2-3B-Instruct.jinja").read_text(),
    )  # fmt: skip
    assert (unknown.family, unknown.toggle) == ("plain", Toggle.HIDDEN)
    assert "no thinking switch" in unknown.note
