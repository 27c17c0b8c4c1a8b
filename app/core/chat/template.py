"""Rendering a model's chat template into the exact prompt text, safely.

Chat templates come from GGUF files, i.e. from strangers: they are Jinja programs. They run in
Jinja's immutable sandbox (no attribute tricks, no mutation of our objects), with the helpers
Hugging Face templates expect (`raise_exception`, `strftime_now`, `tojson`), and with a cap on the
rendered size so a hostile template can't exhaust memory. Anything that goes wrong becomes a
`ChatTemplateError` with a plain reason, never a traceback.

A model without a template (a base model) gets no invented chat format: `plain_prompt` joins the
text as a completion prompt instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.errors import ChatTemplateError

# A chat prompt bigger than this is a runaway template, not a conversation.
MAX_RENDERED_CHARS = 4_000_000


@dataclass(frozen=True)
class Message:
    """One turn of a conversation."""

    role: str  # "system", "user" or "assistant"
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


def _raise_exception(message: str) -> None:
    from jinja2.exceptions import TemplateError

    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(value: Any, indent: int | None = None) -> str:
    # Like transformers' tojson: no HTML escaping, keep non-ASCII text as it is.
    return json.dumps(value, ensure_ascii=False, indent=indent)


def render_chat(
    template: str,
    messages: list[Message],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
    **variables: Any,
) -> str:
    """Render `messages` with a Jinja chat `template`, in a sandbox.

    Args:
        template: the template source, e.g. a GGUF's `tokenizer.chat_template`.
        messages: the conversation so far.
        bos_token, eos_token: the model's special token texts, which templates often print.
        add_generation_prompt: end with the assistant turn's opening, ready for the reply.
        variables: further template variables (e.g. `enable_thinking`).

    Raises:
        ChatTemplateError: the template is invalid, raised an error, broke a sandbox rule, or
            produced an implausibly large prompt.
    """
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    context = {
        "messages": [message.as_dict() for message in messages],
        "bos_token": bos_token,
        "eos_token": eos_token,
        "add_generation_prompt": add_generation_prompt,
        **variables,
    }
    try:
        compiled = env.from_string(template)
        pieces: list[str] = []
        length = 0
        for piece in compiled.generate(**context):
            length += len(piece)
            if length > MAX_RENDERED_CHARS:
                raise ChatTemplateError("it produced a runaway prompt (over 4 million characters)")
            pieces.append(piece)
    except SecurityError as exc:
        raise ChatTemplateError(f"it tried something unsafe and was stopped ({exc})") from None
    except TemplateError as exc:
        raise ChatTemplateError(str(exc) or type(exc).__name__) from None
    except (RecursionError, MemoryError, OverflowError) as exc:
        raise ChatTemplateError(f"it failed while rendering ({type(exc).__name__})") from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as exc:
        if isinstance(exc, ChatTemplateError):
            raise
        raise ChatTemplateError(
            f"it failed while rendering ({type(exc).__name__}: {exc})"
        ) from None
    return "".join(pieces)


def plain_prompt(messages: list[Message]) -> str:
    """A completion prompt for a base model: the texts in order, with no invented chat format."""
    return "\n\n".join(message.content for message in messages if message.content)
