"""Reasoning models done right: a thinking profile per model family, and the reasoning/answer split.

Every family switches thinking its own way (the project's DESIGN.md, "Thinking modes"):

- Llama-3.1 Nemotron Nano: the system prompt must be exactly `detailed thinking on|off`; OFF also
  prefills the assistant turn with `<think>\\n</think>` and decodes greedily. The model card asks
  for every instruction in the user turn, so a system prompt the person writes goes there.
- Always-reasoning models (AceReason-Nemotron, DeepSeek-R1 distills, QwQ; templates that open
  `<think>`): thinking is always on; OFF skips it by prefilling an empty think block, which the
  cards say costs quality.
- Qwen3-style templates: the `enable_thinking` template variable.
- Base models (no chat template): plain text completion; there is no thinking to switch.
- Anything else: the model's own template; no toggle.

`plan_prompt` turns (profile, mode, system prompt, turns) into what the engine renders, and
`ReasoningSplitter` separates a streamed reply into reasoning and answer even when `<think>` or
`</think>` arrive split across tokens. Reasoning is stored apart and never sent back to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.core._util.enums import TextEnum
from app.core.chat.template import Message, render_chat
from app.core.errors import ChatTemplateError, TemplateBudgetError

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


class ThinkingFamily(TextEnum):
    """How a model family switches thinking (the value is what `--json` prints as `profile`)."""

    NEMOTRON_SWITCH = "nemotron-switch"
    ALWAYS_REASONING = "always-reasoning"
    QWEN3_SWITCH = "qwen3-switch"
    BASE_COMPLETION = "base"
    PLAIN_CHAT = "plain"


class Toggle(TextEnum):
    """How the thinking toggle behaves for a family."""

    SWITCH = "switch"  # on/off, both first-class
    SKIPPABLE = "skippable"  # always on; off skips the reasoning and warns
    DISABLED = "disabled"  # shown greyed out, with the reason
    HIDDEN = "hidden"


NEMOTRON_SYSTEM = "detailed thinking {mode}"
# What OFF prefills after the assistant turn's opening.
NEMOTRON_OFF_PREFILL = "<think>\n</think>"
SKIP_AFTER_OPEN_TAG = "\n</think>\n\n"  # the template already opened <think>
SKIP_WHOLE_BLOCK = "<think>\n\n</think>\n\n"
# When a reasoning budget runs out, this closes the reasoning so the answer can begin.
FORCED_CLOSE = "\n</think>\n\n"

_ALWAYS_REASONING_NAMES = re.compile(r"acereason|deepseek[\s_-]*r1|r1[\s_-]*distill|\bqwq\b", re.I)
_NEMOTRON_NANO = re.compile(r"nemotron.*nano|nano.*nemotron", re.I)


@dataclass(frozen=True)
class ThinkingProfile:
    """How one model family thinks, and how Quantdesk switches it.

    Attributes:
        family: the family's `ThinkingFamily`.
        label: the family in words, for the settings panel and `--json`.
        toggle: how the thinking toggle behaves.
        default_on: whether new conversations start with thinking on.
        opens_think: the template's generation prompt already ends in `<think>`, so the reply
            starts inside the reasoning.
        note: a sentence for the person: why the toggle is disabled, or what OFF costs.
        presets: sampling presets by mode ("on"/"off"), from the model cards.
    """

    family: ThinkingFamily
    label: str
    toggle: Toggle
    default_on: bool
    opens_think: bool = False
    note: str = ""
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def can_think(self) -> bool:
        return self.family in (
            ThinkingFamily.NEMOTRON_SWITCH,
            ThinkingFamily.ALWAYS_REASONING,
            ThinkingFamily.QWEN3_SWITCH,
        )

    def mode_name(self, thinking_on: bool) -> str:
        """`on`, `off` or `always`, as the CLI's `--json` and the history report it."""
        if not self.can_think:
            return "off"
        if self.family == ThinkingFamily.ALWAYS_REASONING and thinking_on:
            return "always"
        return "on" if thinking_on else "off"

    def sampling_preset(self, thinking_on: bool) -> dict[str, Any]:
        """The model card's sampling for this mode (only the values the card sets)."""
        return dict(self.presets.get("on" if thinking_on else "off", {}))


@dataclass(frozen=True)
class PromptPlan:
    """What to render and send for one reply.

    Attributes:
        messages: the turns the template renders (the family's system prompt included).
        template_variables: extra template variables (`enable_thinking`).
        prefill: text appended after the rendered generation prompt, as if the model wrote it.
        starts_in_reasoning: the model's first token is already inside `<think>`.
        plain_completion: render no template (base models).
    """

    messages: list[Message]
    template_variables: dict[str, Any]
    prefill: str
    starts_in_reasoning: bool
    plain_completion: bool = False


def detect_profile(
    *,
    name: str | None,
    basename: str | None,
    architecture: str | None,
    chat_template: str | None,
) -> ThinkingProfile:
    """The thinking profile of a model, from its GGUF metadata and chat template."""
    names = " ".join(part for part in (name, basename) if part)
    if chat_template is None or not chat_template.strip():
        return _base_profile()
    if "enable_thinking" in chat_template:
        return _qwen3_profile()
    if "detailed thinking" in chat_template or (
        _NEMOTRON_NANO.search(names) and (architecture or "llama") == "llama"
    ):
        return _nemotron_profile()
    opens_think = _template_opens_think(chat_template)
    if opens_think or _ALWAYS_REASONING_NAMES.search(names):
        return _always_profile(opens_think)
    return ThinkingProfile(
        family=ThinkingFamily.PLAIN_CHAT, label="Chat model", toggle=Toggle.HIDDEN, default_on=False
    )


_REASONING_PRESET = {"temperature": 0.6, "top_p": 0.95, "max_tokens": 4096}


def _nemotron_profile() -> ThinkingProfile:
    return ThinkingProfile(
        family=ThinkingFamily.NEMOTRON_SWITCH,
        label="Llama-3.1 Nemotron Nano (thinking on/off)",
        toggle=Toggle.SWITCH,
        default_on=True,
        presets={"on": dict(_REASONING_PRESET), "off": {"temperature": 0.0, "max_tokens": 1024}},
    )


def _always_profile(opens_think: bool) -> ThinkingProfile:
    return ThinkingProfile(
        family=ThinkingFamily.ALWAYS_REASONING,
        label="Always-reasoning model",
        toggle=Toggle.SKIPPABLE,
        default_on=True,
        opens_think=opens_think,
        note=(
            "This model always reasons before answering. Turning thinking off skips the "
            "reasoning, and its answers get noticeably worse."
        ),
        presets={"on": dict(_REASONING_PRESET), "off": {"temperature": 0.6, "top_p": 0.95}},
    )


def _qwen3_profile() -> ThinkingProfile:
    # Qwen3's card: thinking 0.6/0.95/20/0; non-thinking 0.7/0.8/20/0.
    return ThinkingProfile(
        family=ThinkingFamily.QWEN3_SWITCH,
        label="Qwen3-style (thinking on/off)",
        toggle=Toggle.SWITCH,
        default_on=True,
        presets={
            "on": {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0,
                   "max_tokens": 4096},
            "off": {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "min_p": 0.0},
        },
    )  # fmt: skip


def _base_profile() -> ThinkingProfile:
    return ThinkingProfile(
        family=ThinkingFamily.BASE_COMPLETION,
        label="Base model (text completion)",
        toggle=Toggle.DISABLED,
        default_on=False,
        note=(
            "This is a base model: it has no chat format and no thinking mode, so it continues "
            "the text you write instead of answering it."
        ),
    )


def _template_opens_think(template: str) -> bool:
    """Whether the template's generation prompt ends inside `<think>` (a probe render).

    Raises:
        TemplateBudgetError: the template runs away (it would at every reply too).
    """
    try:
        probe = render_chat(template, [Message("user", "Hi")], add_generation_prompt=True)
    except TemplateBudgetError:
        raise
    except ChatTemplateError:
        return False
    return probe.rstrip().endswith(OPEN_TAG)


# --- prompts -------------------------------------------------------------------------------------


def plan_prompt(
    profile: ThinkingProfile,
    *,
    thinking_on: bool,
    system_prompt: str,
    turns: list[Message],
) -> PromptPlan:
    """The messages, template variables and prefill for one reply.

    `turns` are the user and assistant turns so far, ending with the user's; any reasoning left
    in an assistant turn is removed, so the model never reads its earlier thoughts.
    """
    turns = [strip_reasoning(turn) for turn in turns]
    system_prompt = system_prompt.strip()
    if profile.family == ThinkingFamily.BASE_COMPLETION:
        messages = ([Message("system", system_prompt)] if system_prompt else []) + turns
        return PromptPlan(messages, {}, "", starts_in_reasoning=False, plain_completion=True)
    if profile.family == ThinkingFamily.NEMOTRON_SWITCH:
        return _nemotron_plan(thinking_on, system_prompt, turns)
    messages = ([Message("system", system_prompt)] if system_prompt else []) + turns
    if profile.family == ThinkingFamily.ALWAYS_REASONING:
        if thinking_on:
            return PromptPlan(messages, {}, "", starts_in_reasoning=profile.opens_think)
        prefill = SKIP_AFTER_OPEN_TAG if profile.opens_think else SKIP_WHOLE_BLOCK
        return PromptPlan(messages, {}, prefill, starts_in_reasoning=False)
    if profile.family == ThinkingFamily.QWEN3_SWITCH:
        return PromptPlan(messages, {"enable_thinking": thinking_on}, "", starts_in_reasoning=False)
    return PromptPlan(messages, {}, "", starts_in_reasoning=False)


def _nemotron_plan(thinking_on: bool, system_prompt: str, turns: list[Message]) -> PromptPlan:
    if system_prompt:
        turns = _prefix_first_user_turn(turns, system_prompt)
    mode = "on" if thinking_on else "off"
    messages = [Message("system", NEMOTRON_SYSTEM.format(mode=mode)), *turns]
    prefill = "" if thinking_on else NEMOTRON_OFF_PREFILL
    return PromptPlan(messages, {}, prefill, starts_in_reasoning=False)


def _prefix_first_user_turn(turns: list[Message], instructions: str) -> list[Message]:
    for index, turn in enumerate(turns):
        if turn.role == "user":
            combined = Message("user", f"{instructions}\n\n{turn.content}")
            return [*turns[:index], combined, *turns[index + 1 :]]
    return turns


def strip_reasoning(message: Message) -> Message:
    """An assistant turn without any `<think>…</think>` block (user turns are left alone)."""
    if message.role != "assistant" or CLOSE_TAG not in message.content:
        return message
    return Message("assistant", message.content.split(CLOSE_TAG)[-1].strip())


# --- streaming split -----------------------------------------------------------------------------

REASONING = "reasoning"
ANSWER = "answer"


class SplitterState(TextEnum):
    """Where a `ReasoningSplitter` is in a reply (as Ollama's `thinkingState`)."""

    OPENING = "opening"  # nothing but whitespace yet: a `<think>` may still come
    REASONING_START = "reasoning_start"  # just after `<think>`: leading whitespace is skipped
    REASONING = "reasoning"
    ANSWER_START = "answer_start"  # just after `</think>` (or no block): whitespace skipped
    ANSWER = "answer"


class ReasoningSplitter:
    """Splits streamed reply text into ("reasoning", text) and ("answer", text) pieces.

    The reply is reasoning while it is inside `<think>…</think>`: from the start when the prompt
    already opened the block, or when the reply opens with `<think>` (leading whitespace
    allowed). Tags may arrive cut anywhere (`<th` + `ink>`): a tail that could be the start of
    the awaited tag is held back until the next piece decides it. Only the first block is
    reasoning: a later `<think>` is answer text, and a stray `</think>` in the answer is dropped.
    """

    def __init__(self, *, starts_in_reasoning: bool = False) -> None:
        self._state = SplitterState.REASONING if starts_in_reasoning else SplitterState.OPENING
        self._held = ""

    @property
    def in_reasoning(self) -> bool:
        return self._state in (SplitterState.REASONING, SplitterState.REASONING_START)

    def feed(self, text: str) -> list[tuple[str, str]]:
        """The pieces `text` completes; some of it may be held back for the next call."""
        self._held += text
        pieces: list[tuple[str, str]] = []
        while self._held:
            if not self._step(pieces):
                break
        return _merged(pieces)

    def flush(self) -> list[tuple[str, str]]:
        """Whatever is held back, at the end of the reply."""
        held, self._held = self._held, ""
        if not held:
            return []
        return [(REASONING if self.in_reasoning else ANSWER, held)]

    def _step(self, pieces: list[tuple[str, str]]) -> bool:
        """Consume some of the held text; False when the rest must wait for more."""
        if self._state == SplitterState.OPENING:
            return self._step_opening(pieces)
        if self._state == SplitterState.REASONING_START and not self._skip_leading_space(
            SplitterState.REASONING
        ):
            return False
        if self._state == SplitterState.REASONING:
            return self._step_reasoning(pieces)
        if self._state == SplitterState.ANSWER_START and not self._skip_leading_space(
            SplitterState.ANSWER
        ):
            return False
        return self._step_answer(pieces)

    def _skip_leading_space(self, next_state: SplitterState) -> bool:
        """Whitespace right after a tag is not shown (it may come in later pieces)."""
        self._held = self._held.lstrip()
        if self._held:
            self._state = next_state
        return bool(self._held)

    def _release(self, kind: str, text: str, pieces: list[tuple[str, str]]) -> None:
        """Emit `text` but hold back a tail that could be the start of `</think>`."""
        keep = _partial_tag_length(text, CLOSE_TAG)
        ready = text[: len(text) - keep]
        if ready:
            pieces.append((kind, ready))
        self._held = text[len(ready) :]

    def _step_answer(self, pieces: list[tuple[str, str]]) -> bool:
        # A stray </think> in the answer (models echo it, e.g. after a forced close) is noise.
        self._release(ANSWER, self._held.replace(CLOSE_TAG, ""), pieces)
        return False

    def _step_opening(self, pieces: list[tuple[str, str]]) -> bool:
        stripped = self._held.lstrip()
        if not stripped:
            return False  # only whitespace so far: wait
        if stripped.startswith(OPEN_TAG):
            self._held = stripped[len(OPEN_TAG) :]
            self._state = SplitterState.REASONING_START
            return True
        if OPEN_TAG.startswith(stripped):
            return False  # "<thi": could still become the tag
        self._state = SplitterState.ANSWER_START
        return True

    def _step_reasoning(self, pieces: list[tuple[str, str]]) -> bool:
        index = self._held.find(CLOSE_TAG)
        if index >= 0:
            if index:
                pieces.append((REASONING, self._held[:index]))
            self._held = self._held[index + len(CLOSE_TAG) :]
            self._state = SplitterState.ANSWER_START
            return True
        self._release(REASONING, self._held, pieces)
        return False

    def __repr__(self) -> str:
        return f"ReasoningSplitter(state={self._state.value!r}, held={self._held!r})"


def _partial_tag_length(text: str, tag: str) -> int:
    """Length of the longest tail of `text` that is a proper prefix of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


def _merged(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for kind, text in pieces:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        elif text:
            merged.append((kind, text))
    return merged
