"""One API generation: the work on the engine thread, and the events it sends to the server.

The engine thread runs `run_generation`; every piece of text crosses to the server's event
loop as an event (`Started`, `Piece`, `Finished`, `Failed`) on an asyncio queue. The server
cancels the generation's `CancelToken` when the client goes away: the engine checks it before
every token, so a disconnect stops the generation within one token.

Thinking is switched through the family's own profile (`chat.reasoning`): the client's
`reasoning_effort` or `chat_template_kwargs` become the toggle and a reasoning budget, and the
profile renders them as that family must be (`detailed thinking off` and its prefill for
Nemotron, `enable_thinking` for Qwen3, a skipped block for always-reasoning models).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core._util.cancel import CancelToken
from app.core.chat.prompting import ReplyRequest, effective_sampling
from app.core.chat.reasoning import REASONING, PromptPlan, ThinkingProfile, Toggle
from app.core.chat.template import Message
from app.core.errors import ApiRequestError, EngineStateError, QuantdeskError

if TYPE_CHECKING:
    from app.core.api.owner import EngineSession
    from app.core.engine.engine import GenerationStats, LoadedModel, Reply

log = logging.getLogger(__name__)

# `reasoning_effort` -> the most reasoning tokens (None: no limit). "none" turns thinking off.
EFFORT_BUDGETS: dict[str, int | None] = {"minimal": 256, "low": 1024, "medium": 4096, "high": None}
EFFORTS = ("none", *EFFORT_BUDGETS)
# Template variables clients send to switch thinking (Qwen3's, and the common generic one).
THINKING_TEMPLATE_KWARGS = ("enable_thinking", "thinking")


@dataclass(frozen=True)
class ThinkingRequest:
    """What a client asked about thinking: an explicit on/off (None: the family's default),
    a reasoning budget in tokens (None: no limit), and the `reasoning_effort` as written (for
    families whose switch is an effort level: gpt-oss)."""

    on: bool | None = None
    budget: int | None = None
    effort: str | None = None
    budget_given: bool = False  # `budget` set by the client, not derived from the effort

    def resolve(self, profile: ThinkingProfile) -> tuple[bool, int | None, str | None]:
        """(thinking on, budget, effort level) for this model's family (a family that can't
        think ignores them all). A family with effort levels takes the client's level as its
        own, and "none"/"minimal" or off as its lowest: it can't stop reasoning, and its levels
        are its own budget."""
        if not profile.can_think:
            return False, None, None
        budget = self.budget if self.budget_given else None
        if profile.toggle == Toggle.EFFORT:
            levels = profile.choices
            if self.effort in levels:
                return True, budget, self.effort
            if self.effort in ("none", "minimal") or self.on is False:
                return True, budget, levels[0]
            return True, budget, None
        on = profile.default_on if self.on is None else self.on
        return on, self.budget if on else None, None


def thinking_request(
    effort: str | None, template_kwargs: dict[str, Any] | None, budget: int | None = None
) -> ThinkingRequest:
    """`reasoning_effort` and `chat_template_kwargs` as a `ThinkingRequest` (the explicit
    template variable wins over the effort); `budget`, when given, caps the reasoning in
    tokens instead of the effort's budget (`reasoning_budget`, a Quantdesk extension)."""
    on: bool | None = None
    effort_budget: int | None = None
    if effort is not None:
        on = effort != "none"
        effort_budget = EFFORT_BUDGETS.get(effort)
    for key in THINKING_TEMPLATE_KWARGS:
        value = (template_kwargs or {}).get(key)
        if isinstance(value, bool):
            on = value
            break
    return ThinkingRequest(
        on,
        budget if budget is not None else effort_budget,
        effort=effort,
        budget_given=budget is not None,
    )


@dataclass(frozen=True)
class SamplingRequest:
    """The sampling values a client set (None: the family's preset, then the app's default)."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None

    def overrides(self) -> dict[str, Any]:
        return {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
        }


@dataclass(frozen=True)
class GenerationSpec:
    """One request's generation, as the engine thread needs it.

    Attributes:
        model: the model file to use (loaded first when another one is loaded).
        turns: a chat's user and assistant turns (answers only), ending with the user's; None
            for a plain text completion of `prompt`.
        system_prompt: the chat's system prompt ("" for none).
        prompt: a text completion's prompt (base models).
        stop: strings that end the answer where they appear (not included in it).
        history: a chat database to save the exchange in, as a new chat (the person turned
            that on); None (the default) keeps API requests out of the person's chats.
    """

    model: Path
    turns: list[Message] | None = None
    system_prompt: str = ""
    prompt: str = ""
    thinking: ThinkingRequest = field(default_factory=ThinkingRequest)
    sampling: SamplingRequest = field(default_factory=SamplingRequest)
    stop: tuple[str, ...] = ()
    history: Path | None = None


# --- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """The prompt is rendered and fits; generation begins."""

    model: LoadedModel
    prompt_tokens: int
    thinking_on: bool
    prompt: str  # the exact text sent to the model (rendered template and prefill)


@dataclass(frozen=True)
class Piece:
    """New text: `kind` is "reasoning" or "answer"."""

    kind: str
    text: str
    tokens: int = 0  # tokens generated so far


@dataclass(frozen=True)
class Finished:
    """The end of a generation.

    `finish` is "stop" (the model ended, or a stop string appeared: `stop_sequence`), "length"
    (max tokens or a full context) or "cancelled" (the client went away).
    """

    stats: GenerationStats
    finish: str
    reasoning_tokens: int
    reasoning: str
    answer: str
    stop_sequence: str | None = None


@dataclass(frozen=True)
class Failed:
    """The generation could not run; `error` says why (a `QuantdeskError` is the client's to
    read)."""

    error: BaseException


Event = Started | Piece | Finished | Failed


class Generation:
    """The server's handle on one generation: its events (an asyncio queue on the server's
    loop, filled from the engine thread) and its cancel token.

    The engine thread wakes the server's loop once for however many events pile up before the
    loop gets to them: a busy machine then pays one wake-up (a write to the loop's pipe) per
    batch, not per token.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.cancel = CancelToken()
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[Event] = []

    def emit(self, event: Event) -> None:
        """Hand `event` to the server's loop (from the engine thread)."""
        with self._lock:
            self._pending.append(event)
            if len(self._pending) > 1:
                return  # a delivery is already on its way and will take this one too
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the server's loop is closed: nobody is listening any more
            self.cancel.cancel()

    def _deliver(self) -> None:
        with self._lock:
            events, self._pending = self._pending, []
        for event in events:
            self.events.put_nowait(event)


# --- the engine thread's work --------------------------------------------------------------------


def run_generation(
    session: EngineSession, spec: GenerationSpec, cancel: CancelToken, emit: Callable[[Event], None]
) -> None:
    """Generate `spec` on the engine thread, sending events to `emit`; never raises."""
    if cancel.cancelled:  # the client went away while the request waited: no work at all
        emit(Failed(ApiRequestError("The request was cancelled before it started.")))
        return
    try:
        model = session.use_model(spec.model, cancel)
        reply, prompt_tokens, thinking_on = _start(session, model, spec, cancel)
    except Exception as exc:  # noqa: BLE001 - every failure is the client's to hear
        emit(Failed(exc))
        return
    emit(Started(model, prompt_tokens, thinking_on, reply.prompt))
    try:
        end = _stream(reply, spec.stop, cancel, emit)
    except Exception as exc:  # a failure mid-stream: the client hears of it
        log.exception("API generation failed mid-stream")
        emit(Failed(exc))
        return
    if spec.history is not None and spec.turns is not None and end.finish != "cancelled":
        _save_chat(spec, model, end)


def _save_chat(spec: GenerationSpec, model: LoadedModel, end: Finished) -> None:
    """Save the exchange as a new chat in the person's history (they turned that on)."""
    from dataclasses import asdict

    from app.core.chat.history import ChatStore

    assert spec.history is not None and spec.turns is not None
    try:
        # recover=False: never mark the app's own streaming replies interrupted. One
        # transaction: the app's chat list never shows the chat without its messages.
        with ChatStore(spec.history, recover=False) as store, store.together():
            chat = store.create_conversation(
                system_prompt=spec.system_prompt, model_path=str(model.path)
            )
            for turn in spec.turns:
                store.add_message(chat.id, turn.role, turn.content)
            store.add_message(
                chat.id, "assistant", end.answer, reasoning=end.reasoning,
                model_path=str(model.path), stats=asdict(end.stats),
            )  # fmt: skip
    except QuantdeskError as error:  # the client has its answer; the log says what failed
        log.warning("could not save an API exchange in the chat history: %s", error)


def _start(
    session: EngineSession, model: LoadedModel, spec: GenerationSpec, cancel: CancelToken
) -> tuple[Reply, int, bool]:
    engine = session.engine
    if engine.model is None:
        raise EngineStateError("No model is loaded.")
    if spec.turns is None:
        # A text completion: the prompt as written, no chat format and no thinking.
        plan = PromptPlan([], {}, spec.prompt, plain_completion=True)
        sampling = effective_sampling(model.thinking, False, spec.sampling.overrides())
        if spec.sampling.seed is not None:
            sampling = sampling.replace(seed=spec.sampling.seed)
        reply = engine.reply(plan, sampling, cancel=cancel)
        return reply, engine.count_tokens(reply.prompt), False
    thinking_on, budget, effort = spec.thinking.resolve(model.thinking)
    request = ReplyRequest(
        turns=spec.turns,
        system_prompt=spec.system_prompt,
        thinking_on=thinking_on,
        effort=effort,
        overrides=spec.sampling.overrides(),
        reasoning_budget=budget,
        seed=spec.sampling.seed,
        cancel=cancel,
        # Never recorded: API requests don't touch the person's chats.
        record=None,
    )
    prepared, reply = engine.start_reply(request, cancel=cancel)
    return reply, prepared.prompt_tokens, thinking_on


def _stream(
    reply: Reply, stops: tuple[str, ...], cancel: CancelToken, emit: Callable[[Event], None]
) -> Finished:
    matcher = StopMatcher(stops)
    matched: str | None = None
    reasoning_tokens: int | None = None  # tokens generated before the answer began
    answer: list[str] = []
    for kind, text in reply:
        if kind == REASONING:
            emit(Piece(kind, text, reply.tokens))
            continue
        if reasoning_tokens is None:
            reasoning_tokens = max(0, reply.tokens - 1) if reply.reasoning else 0
        if matched is not None:
            continue  # the stop string appeared: the rest (at most a token) is dropped
        released, matched = matcher.feed(text)
        if released:
            answer.append(released)
            emit(Piece(kind, released, reply.tokens))
        if matched is not None:
            cancel.cancel()  # ends the generation before its next token
    if matched is None:
        tail = matcher.flush()
        if tail:
            answer.append(tail)
            emit(Piece("answer", tail, reply.tokens))
    stats = reply.stats
    assert stats is not None, "a reply that ended has its stats"
    if reasoning_tokens is None:  # no answer at all: every token was reasoning (or none came)
        reasoning_tokens = stats.completion_tokens if reply.reasoning else 0
    finish = "stop" if matched is not None else str(stats.finish_reason)
    end = Finished(stats, finish, reasoning_tokens, reply.reasoning, "".join(answer), matched)
    emit(end)
    return end


class StopMatcher:
    """Finds the first stop string in streamed text that may cut a stop string anywhere: a
    tail that could begin one is held back until the next piece decides it."""

    def __init__(self, stops: tuple[str, ...]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._held = ""

    def feed(self, text: str) -> tuple[str, str | None]:
        """The text that is surely answer, and the stop string found (None if none yet)."""
        if not self._stops:
            return text, None
        buffer = self._held + text
        found = [(buffer.find(stop), stop) for stop in self._stops if stop in buffer]
        if found:
            index, stop = min(found)
            self._held = ""
            return buffer[:index], stop
        keep = max(_partial_length(buffer, stop) for stop in self._stops)
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep], None

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


def _partial_length(text: str, stop: str) -> int:
    """Length of the longest tail of `text` that is a proper prefix of `stop`."""
    for length in range(min(len(stop) - 1, len(text)), 0, -1):
        if stop.startswith(text[-length:]):
            return length
    return 0


def timings(stats: GenerationStats) -> dict[str, Any]:
    """Timings as llama-server reports them (`timings` in its responses)."""
    ttft = stats.time_to_first_token or 0.0
    predicted_seconds = max(0.0, stats.seconds - ttft)
    return {
        "prompt_n": stats.prompt_tokens,
        "prompt_ms": round(ttft * 1000, 3),
        "prompt_per_second": round(stats.prompt_tokens / ttft, 2) if ttft > 0 else None,
        "predicted_n": stats.completion_tokens,
        "predicted_ms": round(predicted_seconds * 1000, 3),
        "predicted_per_second": round(stats.tokens_per_second, 2),
    }
