"""From a stored conversation to what the engine is asked: turns, settings and the context budget.

Plain Python, used by the engine worker (GUI) and the CLI alike, both through
`Engine.start_reply`, which calls `prepare_reply` on the engine's thread because counting tokens
needs the loaded model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from app.core._util.cancel import CancelToken
from app.core.chat.history import MessageState
from app.core.chat.reasoning import PromptPlan, ThinkingProfile, plan_prompt
from app.core.chat.template import Message
from app.core.errors import ContextOverflowError

# The settings a conversation may override, beside the profile's presets.
SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")
# A reply needs room: at least this many free cells (or max_tokens when smaller) after the prompt.
MIN_REPLY_ROOM = 256


@dataclass(frozen=True)
class SamplingSettings:
    """How the next tokens are chosen. `temperature == 0` means greedy decoding."""

    temperature: float = 0.8
    top_p: float = 0.95
    top_k: int = 40
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    max_tokens: int = 1024
    seed: int | None = None

    def replace(self, **changes: Any) -> SamplingSettings:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReplyRecord:
    """Where the engine thread writes the reply as it streams: a chat database and conversation;
    with `version_of`, as another version of that reply (Regenerate)."""

    store_path: Path
    conversation_id: int
    model_path: str | None = None
    version_of: int | None = None


@dataclass(frozen=True)
class ReplyRequest:
    """Everything the engine thread needs for one chat reply.

    Attributes:
        turns: user and assistant turns (answers only), ending with the user's message.
        system_prompt: the person's own system prompt ("" for none).
        thinking_on: the toggle's state (ignored by models that can't think).
        effort: the reasoning effort chosen for families that take one (gpt-oss: low, medium,
            high); None for the family's default.
        overrides: sampling values the person set for this conversation (`SAMPLING_KEYS`).
        reasoning_budget: most reasoning tokens before `</think>` is forced; None for no limit.
        drop_oldest: when the conversation no longer fits, leave out its oldest turns instead of
            refusing (the person chose this).
        record: where to store the reply as it streams; None to keep it in memory only.
        cancel: stops this reply when cancelled.
        seed: a fixed random seed, for repeatable replies (`quantdesk chat --seed`).
    """

    turns: list[Message]
    system_prompt: str = ""
    thinking_on: bool = True
    effort: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    reasoning_budget: int | None = None
    drop_oldest: bool = False
    record: ReplyRecord | None = None
    cancel: CancelToken | None = None  # set by the GUI to stop this reply (any thread)
    seed: int | None = None


@dataclass(frozen=True)
class PreparedReply:
    plan: PromptPlan
    sampling: SamplingSettings
    dropped_turns: int
    prompt_tokens: int


class _StoredTurn(Protocol):
    # Read-only, so the frozen `StoredMessage` matches.
    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def state(self) -> MessageState: ...


def effective_sampling(
    profile: ThinkingProfile,
    thinking_on: bool,
    overrides: dict[str, Any],
    effort: str | None = None,
) -> SamplingSettings:
    """The app defaults, then the model card's preset for the mode, then the person's choices."""
    values: dict[str, Any] = profile.sampling_preset(thinking_on and profile.can_think, effort)
    values.update({key: overrides[key] for key in SAMPLING_KEYS if overrides.get(key) is not None})
    return SamplingSettings().replace(**values)


def turns_for_model(messages: Iterable[_StoredTurn]) -> list[Message]:
    """The turns the model reads: user messages and assistant answers (never reasoning).

    Failed or empty replies are left out; a reply stopped or interrupted part-way counts, since
    the person saw it. User messages left without a reply are joined with the next one: many
    templates refuse two user turns in a row ("roles must alternate").
    """
    turns: list[Message] = []
    for message in messages:
        if message.role not in ("user", "assistant"):
            continue
        if message.role == "assistant" and (
            message.state == MessageState.FAILED or not message.content
        ):
            continue
        if turns and message.role == "user" and turns[-1].role == "user":
            turns[-1] = Message("user", f"{turns[-1].content}\n\n{message.content}")
            continue
        turns.append(Message(message.role, message.content))
    return turns


def reply_room(sampling: SamplingSettings, context_length: int) -> int:
    """Free cells a reply needs after the prompt."""
    return min(sampling.max_tokens, max(MIN_REPLY_ROOM, context_length // 8), context_length // 2)


def prepare_reply(
    request: ReplyRequest,
    profile: ThinkingProfile,
    context_length: int,
    count_tokens: Callable[[PromptPlan], int],
) -> PreparedReply:
    """Plan the prompt and check it fits, leaving out the oldest turns if the person allowed it.

    Raises:
        ContextOverflowError: the conversation doesn't leave room for a reply (and dropping was
            not allowed, or even the last message alone is too long).
    """
    sampling = effective_sampling(profile, request.thinking_on, request.overrides, request.effort)
    if request.seed is not None:
        sampling = sampling.replace(seed=request.seed)
    budget = context_length - reply_room(sampling, context_length)

    def measured(turns: list[Message]) -> tuple[PromptPlan, int]:
        plan = plan_prompt(
            profile,
            thinking_on=request.thinking_on,
            system_prompt=request.system_prompt,
            turns=turns,
            effort=request.effort,
        )
        return plan, count_tokens(plan)

    plan, tokens = measured(request.turns)
    if tokens <= budget:
        return PreparedReply(plan, sampling, 0, tokens)
    if not request.drop_oldest:
        raise ContextOverflowError(tokens, context_length, room=context_length - tokens)
    # Whole exchanges are left out, oldest first: binary search for the fewest to drop, so a
    # 20,000-token history is counted a handful of times, not once per exchange.
    starts = _exchange_starts(request.turns)
    low, high = 0, len(starts) - 1  # dropping up to starts[high] keeps only the last message
    plan, tokens = measured(request.turns[starts[high] :])
    if tokens > budget:
        raise ContextOverflowError(tokens, context_length, room=context_length - tokens)
    best = (high, plan, tokens)
    while low < high:
        middle = (low + high) // 2
        plan, tokens = measured(request.turns[starts[middle] :])
        if tokens <= budget:
            high = middle
            best = (middle, plan, tokens)
        else:
            low = middle + 1
    index, plan, tokens = best
    return PreparedReply(plan, sampling, starts[index], tokens)


def _exchange_starts(turns: list[Message]) -> list[int]:
    """Where each exchange begins (a user turn), always ending with the last turn's index."""
    starts = [i for i, turn in enumerate(turns[:-1]) if turn.role == "user" and i > 0]
    return [0, *starts, len(turns) - 1]
