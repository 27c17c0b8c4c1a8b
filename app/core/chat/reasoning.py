"""Reasoning models done right: a thinking profile per model family, and the reasoning/answer split.

Every family switches thinking its own way, and they are described as data, not code branches:
`app/resources/thinking_families.json` says for each family how it is recognised (its
`general.name`/`basename`, architecture, the switch its chat template mentions), how thinking is
switched, which tags delimit its reasoning, its model card's sampling per mode, and whether OFF
costs quality. The switch kinds (`SwitchKind`):

- system-line (Llama-3.1 Nemotron Nano v1/v1.1, Super v1): the system prompt must be exactly
  `detailed thinking on|off`; OFF also prefills `<think>\\n</think>`. The card asks for every
  instruction in the user turn, so a system prompt the person writes goes there.
- system-flag (Nemotron Nano v2, Llama-3.3 Nemotron Super v1.5): `/think` or `/no_think` ends the
  system prompt, after the person's own.
- variable (Qwen3 hybrid, SmolLM3, DeepSeek-V3.1, GLM-4.5+, Granite 3.2+, Seed-OSS): a chat-template
  variable (`enable_thinking`, `thinking`, `thinking_budget`).
- always (DeepSeek-R1 and distills, QwQ, Qwen3 Thinking-2507, Phi-4-reasoning, AceReason,
  Magistral): thinking is always on; OFF skips it by prefilling an empty block, which the cards
  say costs quality.
- effort (gpt-oss, the harmony format): `reasoning_effort` low/medium/high, which the template
  writes as `Reasoning: …` in the system message; the toggle becomes an effort choice.
- Base models (no chat template): plain text completion; there is no thinking to switch.
- Anything else: the model's own template; no toggle, and the settings panel says why.

`plan_prompt` turns (profile, mode, system prompt, turns) into what the engine renders;
`finish_prompt` completes the rendered text (a skip prefill that fits what the template already
wrote) and says whether the reply starts inside the reasoning. `ReasoningSplitter` separates a
streamed reply into reasoning and answer with the family's tags (harmony's channels included) even
when they arrive split across tokens. Reasoning is stored apart and never sent back to the model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from app.core._util.enums import TextEnum
from app.core.chat.template import Message, render_chat
from app.core.errors import ChatTemplateError, TemplateBudgetError

FAMILIES_FILE = "thinking_families.json"
OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"
# When a reasoning budget runs out, this closes the reasoning so the answer can begin.
FORCED_CLOSE = "\n</think>\n\n"


class SwitchKind(TextEnum):
    """How a family switches thinking (see the module's docstring)."""

    SYSTEM_LINE = "system-line"
    SYSTEM_FLAG = "system-flag"
    VARIABLE = "variable"
    ALWAYS = "always"
    EFFORT = "effort"
    BASE = "base"
    NONE = "none"


class Toggle(TextEnum):
    """How the thinking toggle behaves for a family."""

    SWITCH = "switch"  # on/off, both first-class
    SKIPPABLE = "skippable"  # always on; off skips the reasoning and warns
    EFFORT = "effort"  # a choice of reasoning effort (low/medium/high)
    DISABLED = "disabled"  # shown greyed out, with the reason
    HIDDEN = "hidden"


@dataclass(frozen=True)
class ReasoningTags:
    """What delimits a family's reasoning in its replies.

    Attributes:
        open, close: the reasoning block's opening and closing text.
        answer_start: texts that may introduce the answer (dropped), e.g. harmony's final channel.
        noise: texts dropped from the answer (a stray close tag, harmony's `<|return|>`).
        forced_close: what is written for the model when the reasoning budget runs out.
        special_tokens: the tags are special tokens, which the engine must print to see them.
    """

    open: str = OPEN_TAG
    close: str = CLOSE_TAG
    answer_start: tuple[str, ...] = ()
    noise: tuple[str, ...] = ()
    forced_close: str = FORCED_CLOSE
    special_tokens: bool = False


DEFAULT_TAGS = ReasoningTags()


@dataclass(frozen=True)
class Switch:
    """How thinking is switched: `kind`, with a template variable's `name` and its `on`/`off`
    values, the lines or flags `on`/`off` for system-prompt switches, or effort `levels`."""

    kind: SwitchKind
    name: str = ""
    on: Any = None
    off: Any = None
    levels: tuple[str, ...] = ()
    default_level: str = ""


@dataclass(frozen=True)
class ThinkingProfile:
    """How one model family thinks, and how Quantdesk switches it.

    Attributes:
        family: the family's id in the families file (what `--json` prints as `profile`).
        label: the family in words, for the settings panel.
        switch: how thinking is switched.
        tags: what delimits its reasoning.
        default_on: whether new conversations start with thinking on.
        opens_think: the template's generation prompt already opens the reasoning block.
        note: a sentence for the person: why the toggle is hidden or disabled, or what OFF costs.
        presets: sampling presets by mode ("on"/"off", or each effort level), from the model card.
        off_costs_quality: turning thinking off makes its answers worse (the card says so).
        off_prefill: what OFF writes after the generation prompt (system-line families).
        skip_prefill: the empty reasoning block OFF writes for an always-reasoning model when the
            template opened none ("" for the open tag, a blank line, the close tag).
        template_enable_thinking: the template reads `enable_thinking` (always-reasoning templates
            llama.cpp extended: ON must pass it true).
        instructions_in_first_turn: the person's system prompt goes at the start of the first user
            turn, because the template has no place for it: it drops system messages (it writes
            its own, as Phi-4-reasoning's does) or refuses them (Gemma 2's). Found by a probe
            render, as llama.cpp and transformers find a template's system-role support.
    """

    family: str
    label: str
    switch: Switch
    default_on: bool
    tags: ReasoningTags = DEFAULT_TAGS
    opens_think: bool = False
    note: str = ""
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)
    off_costs_quality: bool = False
    off_prefill: str = ""
    skip_prefill: str = ""
    template_enable_thinking: bool = False
    instructions_in_first_turn: bool = False

    @property
    def toggle(self) -> Toggle:
        return {
            SwitchKind.ALWAYS: Toggle.SKIPPABLE,
            SwitchKind.EFFORT: Toggle.EFFORT,
            SwitchKind.BASE: Toggle.DISABLED,
            SwitchKind.NONE: Toggle.HIDDEN,
        }.get(self.switch.kind, Toggle.SWITCH)

    @property
    def can_think(self) -> bool:
        return self.switch.kind not in (SwitchKind.BASE, SwitchKind.NONE)

    @property
    def choices(self) -> tuple[str, ...]:
        """What the toggle offers: effort levels, or on/off (nothing when it can't think)."""
        if self.switch.kind == SwitchKind.EFFORT:
            return self.switch.levels
        return ("on", "off") if self.can_think else ()

    def effort_level(self, effort: str | None) -> str:
        """`effort` when the family offers it, else its default level ("" for on/off families)."""
        if self.switch.kind != SwitchKind.EFFORT:
            return ""
        return effort if effort in self.switch.levels else self.switch.default_level

    def mode_name(self, thinking_on: bool, effort: str | None = None) -> str:
        """`on`, `off`, `always` or the effort level, as `--json` and the history report it."""
        if self.switch.kind == SwitchKind.EFFORT:
            return self.effort_level(effort)
        if not self.can_think:
            return "off"
        if self.switch.kind == SwitchKind.ALWAYS and thinking_on:
            return "always"
        return "on" if thinking_on else "off"

    def sampling_preset(self, thinking_on: bool, effort: str | None = None) -> dict[str, Any]:
        """The model card's sampling for this mode (only the values the card sets)."""
        if self.switch.kind == SwitchKind.EFFORT:
            key = self.effort_level(effort)
        else:
            key = "on" if thinking_on else "off"
        return dict(self.presets.get(key, {}))


@dataclass(frozen=True)
class PromptPlan:
    """What to render and send for one reply.

    Attributes:
        messages: the turns the template renders (the family's system prompt included).
        template_variables: extra template variables (`enable_thinking`, `reasoning_effort`, …).
        prefill: text appended after the rendered generation prompt, as if the model wrote it.
        skip_reasoning: skip an always-on reasoning: `finish_prompt` closes the block the template
            opened, or writes an empty one.
        plain_completion: render no template (base models).
        tags: the family's reasoning tags (for `finish_prompt` and the splitter).
        skip_block: the empty block written when the template opened none.
    """

    messages: list[Message]
    template_variables: dict[str, Any]
    prefill: str = ""
    skip_reasoning: bool = False
    plain_completion: bool = False
    tags: ReasoningTags = DEFAULT_TAGS
    skip_block: str = ""


# --- the families, from data ---------------------------------------------------------------------


@dataclass(frozen=True)
class _FamilyEntry:
    """One family of the families file: how it is recognised, and its profile."""

    names: tuple[re.Pattern[str], ...]
    not_names: tuple[re.Pattern[str], ...]
    architectures: tuple[str, ...]
    # Alternative sets of texts; a template holding every text of one set is the family's.
    template_markers: tuple[tuple[str, ...], ...]
    opens_think: bool  # recognised by a generation prompt that opens its tag
    profile: ThinkingProfile

    def matches_names(self, names: str, architecture: str | None) -> bool:
        if not names or not any(pattern.search(names) for pattern in self.names):
            return False
        if any(pattern.search(names) for pattern in self.not_names):
            return False
        return (
            not self.architectures
            or (architecture or "") in self.architectures
            or not (architecture)
        )

    def matches_template(self, template: str) -> bool:
        return any(
            markers and all(marker in template for marker in markers)
            for markers in self.template_markers
        )


@lru_cache(maxsize=1)
def _family_data() -> dict[str, Any]:
    from app.resources import RESOURCES

    data: dict[str, Any] = json.loads((RESOURCES / FAMILIES_FILE).read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def families() -> tuple[_FamilyEntry, ...]:
    """The families file's families, in the order they are tried."""
    return tuple(_entry(raw) for raw in _family_data()["families"])


def _entry(raw: dict[str, Any]) -> _FamilyEntry:
    def patterns(key: str) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(text, re.I) for text in raw.get(key, ()))

    switch_raw = raw["switch"]
    switch = Switch(
        kind=SwitchKind(switch_raw["kind"]),
        name=switch_raw.get("name", ""),
        on=switch_raw.get("on"),
        off=switch_raw.get("off"),
        levels=tuple(switch_raw.get("levels", ())),
        default_level=switch_raw.get("default", ""),
    )
    tags_raw = raw.get("tags", {})
    tags = ReasoningTags(
        open=tags_raw.get("open", OPEN_TAG),
        close=tags_raw.get("close", CLOSE_TAG),
        answer_start=tuple(tags_raw.get("answer_start", ())),
        noise=tuple(tags_raw.get("noise", ())),
        forced_close=tags_raw.get("forced_close", f"\n{tags_raw.get('close', CLOSE_TAG)}\n\n"),
        special_tokens=bool(tags_raw.get("special_tokens", False)),
    )
    profile = ThinkingProfile(
        family=raw["id"],
        label=raw["label"],
        switch=switch,
        default_on=bool(raw.get("default_on", True)),
        tags=tags,
        note=raw.get("note", ""),
        presets={mode: dict(values) for mode, values in raw.get("presets", {}).items()},
        off_costs_quality=bool(raw.get("off_costs_quality", False)),
        off_prefill=raw.get("off_prefill", ""),
        skip_prefill=raw.get("skip_prefill", ""),
    )
    return _FamilyEntry(
        names=patterns("names"),
        not_names=patterns("not_names"),
        architectures=tuple(raw.get("architectures", ())),
        template_markers=_marker_sets(raw.get("template_markers", [])),
        opens_think=bool(raw.get("opens_think", False)),
        profile=profile,
    )


def _marker_sets(raw: list[str] | list[list[str]]) -> tuple[tuple[str, ...], ...]:
    """`template_markers` as alternative sets: one list of texts, or a list of such lists (a
    family whose models' templates differ, such as Phi-4-reasoning and Phi-4-mini-reasoning)."""
    if all(isinstance(item, str) for item in raw):
        return (tuple(str(item) for item in raw),)
    return tuple(tuple(markers) for markers in raw)


def detect_profile(
    *,
    name: str | None,
    basename: str | None,
    architecture: str | None,
    chat_template: str | None,
) -> ThinkingProfile:
    """The thinking profile of a model, from its GGUF metadata and chat template.

    A family is recognised by its names first (the maker's own words), then by the switch its
    template mentions (so an unknown model with a known switch is handled by that switch), then
    by a generation prompt that opens `<think>` (an always-reasoning model); otherwise there is no
    thinking to switch. A second probe render finds whether the template has a place for the
    person's system prompt (`instructions_in_first_turn`).

    Raises:
        TemplateBudgetError: the template runs away in the probe render (it would at every reply).
    """
    if chat_template is None or not chat_template.strip():
        return _special_profile("base", SwitchKind.BASE)
    names = " ".join(part for part in (name, basename) if part)
    chosen = next((f for f in families() if f.matches_names(names, architecture)), None)
    if chosen is None:
        chosen = next((f for f in families() if f.matches_template(chat_template)), None)
    probe_family = next(f for f in families() if f.opens_think)
    opens = (chosen is None or chosen.profile.switch.kind == SwitchKind.ALWAYS) and (
        _template_opens(chat_template, (chosen or probe_family).profile.tags.open)
    )
    if chosen is None and opens:
        chosen = probe_family
    profile = _special_profile("plain", SwitchKind.NONE) if chosen is None else chosen.profile
    if profile.switch.kind == SwitchKind.ALWAYS:
        profile = replace(
            profile, opens_think=opens, template_enable_thinking="enable_thinking" in chat_template
        )
    if profile.switch.kind in _SYSTEM_SLOT_KINDS and not _template_keeps_system(chat_template):
        profile = replace(profile, instructions_in_first_turn=True)
    return profile


# The switches that leave the system message to the person (system-line families move the
# instructions to the first turn anyway; system-flag ones need the system slot for their flag).
_SYSTEM_SLOT_KINDS = (SwitchKind.NONE, SwitchKind.VARIABLE, SwitchKind.EFFORT, SwitchKind.ALWAYS)
# Text no template writes by itself: a probe render shows whether a system message reaches the
# prompt.
_SYSTEM_PROBE = "Quantdesk system probe 7f3a"


def _template_keeps_system(template: str) -> bool:
    """Whether a system message's text reaches the prompt (a probe render). A template that
    drops it, or refuses it ("System role not supported"), has no place for instructions.

    Raises:
        TemplateBudgetError: the template runs away (it would at every reply too).
    """
    messages = [Message("system", _SYSTEM_PROBE), Message("user", "Hi")]
    try:
        probe = render_chat(template, messages, add_generation_prompt=True)
    except TemplateBudgetError:
        raise
    except ChatTemplateError:
        return False
    return _SYSTEM_PROBE in probe


def _special_profile(key: str, kind: SwitchKind) -> ThinkingProfile:
    raw = _family_data()[key]
    return ThinkingProfile(
        family=raw["id"],
        label=raw["label"],
        switch=Switch(kind),
        default_on=False,
        note=raw["note"],
    )


def _template_opens(template: str, open_tag: str) -> bool:
    """Whether the template's generation prompt ends inside the reasoning tag (a probe render).

    Raises:
        TemplateBudgetError: the template runs away (it would at every reply too).
    """
    try:
        probe = render_chat(template, [Message("user", "Hi")], add_generation_prompt=True)
    except TemplateBudgetError:
        raise
    except ChatTemplateError:
        return False
    return probe.rstrip().endswith(open_tag)


# --- prompts -------------------------------------------------------------------------------------


def plan_prompt(
    profile: ThinkingProfile,
    *,
    thinking_on: bool,
    system_prompt: str,
    turns: list[Message],
    effort: str | None = None,
) -> PromptPlan:
    """The messages, template variables and prefill for one reply.

    `turns` are the user and assistant turns so far, ending with the user's; any reasoning left
    in an assistant turn is removed, so the model never reads its earlier thoughts. `effort`: the
    chosen reasoning effort, for families that take one (else ignored).
    """
    tags = profile.tags
    turns = [strip_reasoning(turn, tags) for turn in turns]
    system_prompt = system_prompt.strip()
    kind = profile.switch.kind
    if profile.instructions_in_first_turn and system_prompt and kind in _SYSTEM_SLOT_KINDS:
        messages = _prefix_first_user_turn(turns, system_prompt)
    else:
        messages = ([Message("system", system_prompt)] if system_prompt else []) + turns
    if kind == SwitchKind.BASE:
        return PromptPlan(messages, {}, plain_completion=True)
    if kind == SwitchKind.SYSTEM_LINE:
        return _system_line_plan(profile, thinking_on, system_prompt, turns)
    if kind == SwitchKind.SYSTEM_FLAG:
        flag = str(profile.switch.on if thinking_on else profile.switch.off)
        system = f"{system_prompt}\n{flag}" if system_prompt else flag
        return PromptPlan([Message("system", system), *turns], {}, tags=tags)
    if kind == SwitchKind.VARIABLE:
        value = profile.switch.on if thinking_on else profile.switch.off
        return PromptPlan(messages, {profile.switch.name: value}, tags=tags)
    if kind == SwitchKind.EFFORT:
        return PromptPlan(messages, {profile.switch.name: profile.effort_level(effort)}, tags=tags)
    if kind == SwitchKind.ALWAYS:
        variables: dict[str, Any] = (
            {"enable_thinking": thinking_on} if profile.template_enable_thinking else {}
        )
        skip_block = profile.skip_prefill or f"{tags.open}\n\n{tags.close}\n\n"
        return PromptPlan(
            messages, variables, skip_reasoning=not thinking_on, tags=tags, skip_block=skip_block
        )
    return PromptPlan(messages, {}, tags=tags)


def _system_line_plan(
    profile: ThinkingProfile, thinking_on: bool, system_prompt: str, turns: list[Message]
) -> PromptPlan:
    if system_prompt:
        turns = _prefix_first_user_turn(turns, system_prompt)
    line = str(profile.switch.on if thinking_on else profile.switch.off)
    prefill = "" if thinking_on else profile.off_prefill
    return PromptPlan([Message("system", line), *turns], {}, prefill, tags=profile.tags)


def _prefix_first_user_turn(turns: list[Message], instructions: str) -> list[Message]:
    for index, turn in enumerate(turns):
        if turn.role == "user":
            combined = Message("user", f"{instructions}\n\n{turn.content}")
            return [*turns[:index], combined, *turns[index + 1 :]]
    return turns


def finish_prompt(rendered: str, plan: PromptPlan) -> tuple[str, bool]:
    """The exact prompt from the rendered template and the plan, and whether the reply starts
    inside the reasoning block (the prompt ends with its opening tag).

    Skipping an always-on reasoning closes the block the template opened, or writes an empty one
    (nothing when the template closed it itself).
    """
    tags = plan.tags
    prompt = rendered + plan.prefill
    if plan.skip_reasoning:
        tail = prompt.rstrip()
        if tail.endswith(tags.open):
            prompt += f"\n{tags.close}\n\n"
        elif not tail.endswith(tags.close):
            prompt += plan.skip_block
    return prompt, prompt.rstrip().endswith(tags.open)


def strip_reasoning(message: Message, tags: ReasoningTags = DEFAULT_TAGS) -> Message:
    """An assistant turn without its reasoning block, nor the text that introduced the answer
    (harmony's final channel); user turns are left alone."""
    if message.role != "assistant" or tags.close not in message.content:
        return message
    answer = message.content.split(tags.close)[-1].strip()
    for marker in tags.answer_start:
        answer = answer.removeprefix(marker)
    return Message("assistant", answer.strip())


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

    The reply is reasoning while it is inside the family's block (`<think>…</think>` by default,
    harmony's analysis channel for gpt-oss): from the start when the prompt already opened the
    block, or when the reply opens with the tag (leading whitespace allowed). Tags may arrive cut
    anywhere (`<th` + `ink>`): a tail that could be the start of an awaited tag is held back until
    the next piece decides it. Only the first block is reasoning: a later open tag is answer text;
    a text that introduces the answer (harmony's final channel) is dropped where the answer begins,
    and a stray close tag or other noise (`<|return|>`) in the answer is dropped.
    """

    def __init__(
        self, *, starts_in_reasoning: bool = False, tags: ReasoningTags = DEFAULT_TAGS
    ) -> None:
        self._state = SplitterState.REASONING if starts_in_reasoning else SplitterState.OPENING
        self._held = ""
        self._tags = tags
        self._answer_noise = tuple(dict.fromkeys((tags.close, *tags.noise)))

    @property
    def in_reasoning(self) -> bool:
        return self._state in (SplitterState.REASONING, SplitterState.REASONING_START)

    @property
    def forced_close(self) -> str:
        """What closes the reasoning when its budget runs out."""
        return self._tags.forced_close

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
        if self._state == SplitterState.ANSWER_START and not self._skip_answer_start():
            return False
        return self._step_answer(pieces)

    def _skip_leading_space(self, next_state: SplitterState) -> bool:
        """Whitespace right after a tag is not shown (it may come in later pieces)."""
        self._held = self._held.lstrip()
        if self._held:
            self._state = next_state
        return bool(self._held)

    def _skip_answer_start(self) -> bool:
        """Drop the whitespace and any text that introduces the answer; False to wait for more."""
        while True:
            self._held = self._held.lstrip()
            if not self._held:
                return False
            marker = next((m for m in self._tags.answer_start if self._held.startswith(m)), None)
            if marker is not None:
                self._held = self._held[len(marker) :]
                continue
            if any(m.startswith(self._held) for m in self._tags.answer_start):
                return False  # "<|chan": could still become the marker
            self._state = SplitterState.ANSWER
            return True

    def _release(
        self, kind: str, text: str, pieces: list[tuple[str, str]], awaited: tuple[str, ...]
    ) -> None:
        """Emit `text` but hold back a tail that could be the start of an `awaited` tag."""
        keep = max(_partial_tag_length(text, tag) for tag in awaited)
        ready = text[: len(text) - keep]
        if ready:
            pieces.append((kind, ready))
        self._held = text[len(ready) :]

    def _step_answer(self, pieces: list[tuple[str, str]]) -> bool:
        # A stray close tag in the answer (models echo it, e.g. after a forced close) is noise.
        text = self._held
        for noise in self._answer_noise:
            text = text.replace(noise, "")
        self._release(ANSWER, text, pieces, self._answer_noise)
        return False

    def _step_opening(self, pieces: list[tuple[str, str]]) -> bool:
        stripped = self._held.lstrip()
        if not stripped:
            return False  # only whitespace so far: wait
        if stripped.startswith(self._tags.open):
            self._held = stripped[len(self._tags.open) :]
            self._state = SplitterState.REASONING_START
            return True
        if self._tags.open.startswith(stripped):
            return False  # "<thi": could still become the tag
        self._state = SplitterState.ANSWER_START
        return True

    def _step_reasoning(self, pieces: list[tuple[str, str]]) -> bool:
        index = self._held.find(self._tags.close)
        if index >= 0:
            if index:
                pieces.append((REASONING, self._held[:index]))
            self._held = self._held[index + len(self._tags.close) :]
            self._state = SplitterState.ANSWER_START
            return True
        self._release(REASONING, self._held, pieces, (self._tags.close,))
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
