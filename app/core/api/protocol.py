"""The wire formats: OpenAI's Chat Completions and Completions, Anthropic's Messages.

Requests are checked here, field by field, into a `GenerationSpec` (an `ApiRequestError` names
the field that is wrong); responses and stream events are built here from the generation's
events. Reasoning travels apart from the answer, as clients expect: `reasoning_content` in
OpenAI messages and deltas (as llama-server and DeepSeek send it), `thinking` blocks in
Anthropic's. Reasoning a client sends back (`reasoning_content`, thinking blocks, `<think>` in
an answer) is dropped before the prompt is rendered: the families' rule (`chat.reasoning`).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core._util.text import printable
from app.core.api.generation import (
    EFFORTS,
    Finished,
    GenerationSpec,
    SamplingRequest,
    ThinkingRequest,
    thinking_request,
    timings,
)
from app.core.chat.history import MessageState
from app.core.chat.prompting import turns_for_model
from app.core.chat.reasoning import REASONING
from app.core.chat.template import Message
from app.core.errors import ApiError, ApiRequestError

MAX_STOP_STRINGS = 16


@dataclass(frozen=True)
class ParsedRequest:
    """A checked request: which model it names ("" for the loaded one), whether it streams,
    and the generation it asks for (its `model` set once the name is resolved)."""

    model_name: str
    stream: bool
    include_usage: bool
    spec: GenerationSpec
    return_prompt: bool = False  # answer with the exact prompt text too (a Quantdesk extension)


@dataclass(frozen=True)
class _Turn:
    # A message as `turns_for_model` reads it (it joins user turns in a row, drops empty ones).
    role: str
    content: str
    state: MessageState = MessageState.COMPLETE


# --- checking fields -----------------------------------------------------------------------------


def _field(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = None
) -> Any:
    value = body.get(name, default)
    if value is None:
        return default
    # bool is an int in Python: never accept true for a number.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ApiRequestError(f"'{name}' must be a {_kind_name(kind)}, not a boolean.")
    if not isinstance(value, kind):
        raise ApiRequestError(f"'{name}' must be a {_kind_name(kind)}.")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "string", int: "integer", float: "number", bool: "boolean", list: "list",
             dict: "object"}  # fmt: skip
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = _field(body, name, (int, float))
    if value is not None and not low <= value <= high:
        raise ApiRequestError(f"'{name}' must be between {low:g} and {high:g}.")
    return None if value is None else float(value)


def _positive(body: dict[str, Any], name: str) -> int | None:
    value = _field(body, name, int)
    if value is not None and value < 1:
        raise ApiRequestError(f"'{name}' must be 1 or more.")
    return value


def _stops(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        if len(value) > MAX_STOP_STRINGS:
            raise ApiRequestError(f"'{name}' may hold at most {MAX_STOP_STRINGS} strings.")
        return tuple(value)
    raise ApiRequestError(f"'{name}' must be a string or a list of strings.")


def _model_name(body: dict[str, Any]) -> str:
    # The client's text, shown in the request list, the log and a 404: one bounded line. A
    # name cut short ends in "…" and matches no file, as the whole would not have either.
    return printable(str(_field(body, "model", str, "")).strip())


def _sampling(body: dict[str, Any], max_tokens: int | None) -> SamplingRequest:
    return SamplingRequest(
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0.0, 2.0),
        top_p=_number(body, "top_p", 0.0, 1.0),
        top_k=_field(body, "top_k", int),
        seed=_field(body, "seed", int),
    )


def _text_of(content: Any, where: str) -> str:
    """A message's text: a string, or text parts (reasoning parts are dropped)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ApiRequestError(f"{where}: 'content' must be a string or a list of parts.")
    texts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind in ("thinking", "redacted_thinking", "reasoning"):
            continue  # earlier reasoning is never sent back to the model
        else:
            raise ApiRequestError(
                f"{where}: only text content is supported here, not {kind or 'this part'!r}."
            )
    return "\n".join(texts)


def _turns(messages: list[tuple[str, str]]) -> list[Message]:
    turns = turns_for_model(_Turn(role, text) for role, text in messages)
    if not turns or turns[-1].role != "user":
        raise ApiRequestError("'messages' must end with a user message.")
    return turns


# --- OpenAI --------------------------------------------------------------------------------------


def parse_chat_completion(body: dict[str, Any]) -> ParsedRequest:
    """A `POST /v1/chat/completions` body, checked."""
    messages = _field(body, "messages", list)
    if not messages:
        raise ApiRequestError("'messages' must be a non-empty list.")
    system: list[str] = []
    said: list[tuple[str, str]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise ApiRequestError(f"{where} must be an object.")
        role = message.get("role")
        text = _text_of(message.get("content"), where)
        if role in ("system", "developer"):
            system.append(text)
        elif role in ("user", "assistant"):
            # An assistant's `reasoning_content` is left out: the model never reads old thoughts.
            said.append((role, text))
        else:
            raise ApiRequestError(f"{where}: the role {role!r} is not supported (tools aren't).")
    if _field(body, "n", int, 1) != 1:
        raise ApiRequestError("'n' must be 1: one reply per request.")
    effort = _field(body, "reasoning_effort", str)
    if effort is not None and effort not in EFFORTS:
        raise ApiRequestError(f"'reasoning_effort' must be one of {', '.join(EFFORTS)}.")
    max_tokens = _positive(body, "max_completion_tokens") or _positive(body, "max_tokens")
    options = _field(body, "stream_options", dict, {})
    return ParsedRequest(
        model_name=_model_name(body),
        stream=bool(_field(body, "stream", bool, False)),
        include_usage=bool(options.get("include_usage", False)),
        return_prompt=bool(_field(body, "return_prompt", bool, False)),
        spec=GenerationSpec(
            model=Path(),
            turns=_turns(said),
            system_prompt="\n\n".join(text for text in system if text),
            thinking=thinking_request(
                effort,
                _field(body, "chat_template_kwargs", dict),
                _positive(body, "reasoning_budget"),
            ),
            sampling=_sampling(body, max_tokens),
            stop=_stops(body.get("stop"), "stop"),
        ),
    )


def parse_completion(body: dict[str, Any]) -> ParsedRequest:
    """A `POST /v1/completions` body (plain text completion, for base models), checked."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str) or not prompt:
        raise ApiRequestError("'prompt' must be a non-empty string.")
    if body.get("echo"):
        raise ApiRequestError("'echo' is not supported.")
    options = _field(body, "stream_options", dict, {})
    return ParsedRequest(
        model_name=_model_name(body),
        stream=bool(_field(body, "stream", bool, False)),
        include_usage=bool(options.get("include_usage", False)),
        return_prompt=bool(_field(body, "return_prompt", bool, False)),
        spec=GenerationSpec(
            model=Path(),
            prompt=prompt,
            sampling=_sampling(body, _positive(body, "max_tokens")),
            stop=_stops(body.get("stop"), "stop"),
        ),
    )


def openai_usage(end: Finished) -> dict[str, Any]:
    stats = end.stats
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "total_tokens": stats.prompt_tokens + stats.completion_tokens,
        "completion_tokens_details": {"reasoning_tokens": end.reasoning_tokens},
    }


def openai_finish(end: Finished) -> str:
    return "length" if end.finish == "length" else "stop"


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def chat_completion(response_id: str, model: str, end: Finished) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": end.answer}
    if end.reasoning:
        message["reasoning_content"] = end.reasoning
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": openai_finish(end)}
        ],
        "usage": openai_usage(end),
        "timings": timings(end.stats),
    }


def chat_chunk(
    response_id: str,
    model: str,
    delta: dict[str, Any] | None,
    *,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One `chat.completion.chunk`; with `delta` None, the usage chunk (no choices)."""
    chunk: dict[str, Any] = {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage is not None:
        chunk["usage"] = usage
    if extra:
        chunk.update(extra)
    return chunk


def text_completion(
    response_id: str, model: str, text: str, finish: str | None, **extra: Any
) -> dict[str, Any]:
    """A `text_completion` object, whole or as one stream chunk."""
    return {
        "id": response_id,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    """One server-sent event."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


# --- Anthropic -----------------------------------------------------------------------------------


def parse_message(body: dict[str, Any]) -> ParsedRequest:
    """A `POST /v1/messages` body (Anthropic's Messages API), checked."""
    max_tokens = _positive(body, "max_tokens")
    if max_tokens is None:
        raise ApiRequestError("'max_tokens' is required.")
    messages = _field(body, "messages", list)
    if not messages:
        raise ApiRequestError("'messages' must be a non-empty list.")
    said = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise ApiRequestError(f"{where} must be an object with the role user or assistant.")
        said.append((message["role"], _text_of(message.get("content"), where)))
    system = body.get("system")
    system_prompt = _text_of(system, "system") if system is not None else ""
    return ParsedRequest(
        model_name=_model_name(body),
        stream=bool(_field(body, "stream", bool, False)),
        include_usage=True,
        return_prompt=bool(_field(body, "return_prompt", bool, False)),
        spec=GenerationSpec(
            model=Path(),
            turns=_turns(said),
            system_prompt=system_prompt,
            thinking=_anthropic_thinking(body.get("thinking")),
            sampling=_sampling(body, max_tokens),
            stop=_stops(body.get("stop_sequences"), "stop_sequences"),
        ),
    )


def _anthropic_thinking(value: Any) -> ThinkingRequest:
    """`thinking: {"type": "enabled", "budget_tokens": N}` or `{"type": "disabled"}`; absent:
    the family's default (a reasoning model thinks unless told not to)."""
    if value is None:
        return ThinkingRequest()
    if not isinstance(value, dict) or value.get("type") not in ("enabled", "disabled", "adaptive"):
        raise ApiRequestError('\'thinking\' must be {"type": "enabled" | "disabled"}.')
    if value["type"] == "disabled":
        return ThinkingRequest(on=False)
    budget = _positive(value, "budget_tokens")
    return ThinkingRequest(on=True, budget=budget)


def anthropic_stop_reason(end: Finished) -> str:
    if end.stop_sequence is not None:
        return "stop_sequence"
    return "max_tokens" if end.finish == "length" else "end_turn"


def anthropic_usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens}


def anthropic_message(
    message_id: str, model: str, content: list[dict[str, Any]], end: Finished | None
) -> dict[str, Any]:
    """A `message` object: whole (with `end`), or as `message_start` announces it."""
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": anthropic_stop_reason(end) if end else None,
        "stop_sequence": end.stop_sequence if end else None,
        "usage": anthropic_usage(
            end.stats.prompt_tokens if end else 0, end.stats.completion_tokens if end else 0
        ),
    }


def anthropic_content(end: Finished) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if end.reasoning:
        blocks.append({"type": "thinking", "thinking": end.reasoning, "signature": ""})
    blocks.append({"type": "text", "text": end.answer})
    return blocks


def block_start(index: int, kind: str) -> bytes:
    block = (
        {"type": "thinking", "thinking": "", "signature": ""}
        if kind == REASONING
        else {"type": "text", "text": ""}
    )
    return sse(
        {"type": "content_block_start", "index": index, "content_block": block},
        "content_block_start",
    )


def block_delta(index: int, kind: str, text: str) -> bytes:
    delta = (
        {"type": "thinking_delta", "thinking": text}
        if kind == REASONING
        else {"type": "text_delta", "text": text}
    )
    return sse(
        {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
    )


def block_stop(index: int) -> bytes:
    return sse({"type": "content_block_stop", "index": index}, "content_block_stop")


# --- errors --------------------------------------------------------------------------------------


def error_body(error: ApiError, *, anthropic: bool) -> dict[str, Any]:
    """An error as the client's SDK reads it (OpenAI's or Anthropic's shape)."""
    if anthropic:
        return {"type": "error", "error": {"type": error.kind, "message": str(error)}}
    return {
        "error": {"message": str(error), "type": error.kind, "param": None, "code": error.status}
    }
