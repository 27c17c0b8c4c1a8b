"""Rendering a model's chat template into the exact prompt text, safely.

Chat templates come from GGUF files, i.e. from strangers: they are Jinja programs. They run in
Jinja's immutable sandbox (no attribute tricks, no mutation of our objects), with exactly the
variables and helpers Hugging Face transformers' `apply_chat_template` gives them (`tools=None`,
`documents=None`, the special-token texts, `raise_exception`, `strftime_now`, `tojson` with its
keyword arguments, `dict`, a `namespace` that refuses underscore names, the `generation` tag and
the loop controls, `trim_blocks`/`lstrip_blocks`): a template is written against that renderer, and
one that tests `tools is not none` must see `None` here too. And with a cap on the rendered size.
The sandbox guards our objects, not our time or memory: a template can loop for hours without
printing, or build a 10 GB string before any cap sees it. So `render_chat` renders in a child
process (`_util.child`), started once and reused, with a hard time budget
(`RENDER_SECONDS`) and memory budget (`RENDER_MEMORY_BYTES`) that hold for any template; past
either it is killed, and the next render starts a fresh one. Anything that goes wrong becomes a
`ChatTemplateError` with a plain reason, never a traceback.

A model without a template (a base model) gets no invented chat format: `plain_prompt` joins the
text as a completion prompt instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import IO, Any

from app.core._util.cancel import CancelToken
from app.core._util.child import PersistentChild, set_memory_limit
from app.core.errors import ChatTemplateError, ChildWorkError, TemplateBudgetError

# A chat prompt bigger than this is a runaway template, not a conversation.
MAX_RENDERED_CHARS = 4_000_000
# A real template renders in milliseconds; a few seconds means it is looping or computing.
RENDER_SECONDS = 4.0
# The renderer's whole address space (Python and Jinja take ~60 MB of it): room for a 4-million-
# character prompt many times over, far from the gigabytes a hostile template would build.
RENDER_MEMORY_BYTES = 512 * 2**20
# The hidden command of `app/cli.py` that runs `serve_renders` in the child.
RENDER_COMMAND = "__render-templates"


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


def _tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # As transformers' tojson: no HTML escaping, non-ASCII text kept, and its keyword arguments.
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


class _TemplateDict:
    """`dict(...)` for templates, as transformers gives it: builds dicts, exposes nothing else."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args, **kwargs)


_renderer = PersistentChild([RENDER_COMMAND])


def render_chat(
    template: str,
    messages: list[Message],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
    special_tokens: dict[str, str] | None = None,
    cancel: CancelToken | None = None,
    **variables: Any,
) -> str:
    """Render `messages` with a Jinja chat `template`, in the sandbox, in the renderer child.

    Args: as `render_in_process`, and `cancel`: set it (Stop, Close) to end the render at once.

    Raises:
        ChatTemplateError: as `render_in_process`, or the render was stopped.
        TemplateBudgetError: the render took longer than `RENDER_SECONDS` or used more than
            `RENDER_MEMORY_BYTES` (the renderer was killed).
    """
    payload = {
        "template": template,
        "messages": [message.as_dict() for message in messages],
        "bos_token": bos_token,
        "eos_token": eos_token,
        "add_generation_prompt": add_generation_prompt,
        "special_tokens": special_tokens or {},
        "variables": variables,
    }
    try:
        answer = _renderer.request(payload, deadline_seconds=RENDER_SECONDS, cancel=cancel)
    except ChildWorkError as failure:
        if failure.why == "stopped":
            raise ChatTemplateError("the render was stopped") from None
        raise TemplateBudgetError(_failure_reason(failure)) from None
    if "error" in answer:
        raise ChatTemplateError(str(answer["error"]))
    return str(answer["text"])


def _failure_reason(failure: ChildWorkError) -> str:
    if failure.why == "timeout":
        return f"it took too long to render (over {RENDER_SECONDS:g} seconds), so it was stopped"
    return "it used too much memory or crashed while rendering, so it was stopped"


def serve_renders(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The renderer child's loop: one JSON request a line in, one JSON answer a line out.

    Sets its own memory limit first; ends when its stdin closes (the app went away).
    """
    set_memory_limit(RENDER_MEMORY_BYTES)
    import jinja2.sandbox  # noqa: F401 - imported before "ready", so a render pays no import

    _answer(stdout, {"ready": True})
    for line in iter(stdin.readline, b""):
        try:
            request = json.loads(line)
            text = render_in_process(
                request["template"],
                [Message(m["role"], m["content"]) for m in request["messages"]],
                bos_token=request["bos_token"],
                eos_token=request["eos_token"],
                add_generation_prompt=request["add_generation_prompt"],
                special_tokens=request["special_tokens"],
                **request["variables"],
            )
            _answer(stdout, {"text": text})
        except ChatTemplateError as exc:
            _answer(stdout, {"error": exc.reason})
        except Exception as exc:  # noqa: BLE001 - the renderer must outlive any one template
            _answer(stdout, {"error": f"it failed while rendering ({type(exc).__name__})"})
    return 0


def _answer(stdout: IO[bytes], answer: dict[str, Any]) -> None:
    # ASCII JSON: a lone surrogate in a message (bad bytes from a file) survives the trip.
    stdout.write(json.dumps(answer).encode("ascii") + b"\n")
    stdout.flush()


def prestart_renderer() -> None:
    """Start the renderer child in the background (a model load calls this first), so that the
    first render doesn't wait for its start."""
    _renderer.prestart()


def stop_renderer() -> None:
    """End the renderer child now (tests; the app leaves it to end with its stdin)."""
    _renderer.close()


def renderer_busy() -> bool:
    """A render is in flight in the renderer child."""
    return _renderer.busy


def renderer_pid() -> int | None:
    """The renderer child's process id, while one runs."""
    return _renderer.pid


def render_in_process(
    template: str,
    messages: list[Message],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
    special_tokens: dict[str, str] | None = None,
    **variables: Any,
) -> str:
    """Render `messages` with a Jinja chat `template`, in a sandbox, in this process.

    No time or memory budget: only the renderer child (and benchmarks) call this.

    Args:
        template: the template source, e.g. a GGUF's `tokenizer.chat_template`.
        messages: the conversation so far.
        bos_token, eos_token: the model's special token texts, which templates often print.
        add_generation_prompt: end with the assistant turn's opening, ready for the reply.
        special_tokens: the model's other special-token texts by name (`unk_token`,
            `pad_token`), which transformers passes to templates beside `bos_token`/`eos_token`.
        variables: further template variables (e.g. `enable_thinking`).

    Raises:
        ChatTemplateError: the template is invalid, raised an error, broke a sandbox rule, or
            produced an implausibly large prompt.
    """
    from jinja2 import TemplateError
    from jinja2.sandbox import SecurityError

    # What transformers' `apply_chat_template` passes: the special tokens, then `messages`,
    # `tools=None`, `documents=None`, `add_generation_prompt`, then the caller's variables.
    context = {
        **(special_tokens or {}),
        "bos_token": bos_token,
        "eos_token": eos_token,
        "messages": [message.as_dict() for message in messages],
        "tools": None,
        "documents": None,
        "add_generation_prompt": add_generation_prompt,
        **variables,
    }
    try:
        compiled = _compiled(template)
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


@lru_cache(maxsize=4)
def _compiled(template: str) -> Any:
    # A conversation renders the same template at every reply: compile it once.
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_generation_tag_extension(), "jinja2.ext.loopcontrols"],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _template_namespace()
    return env.from_string(template)


@lru_cache(maxsize=1)
def _generation_tag_extension() -> type:
    """`{% generation %}…{% endgeneration %}`, which transformers' templates may use to mark the
    assistant's text (for training masks): here it renders its body, as in transformers."""
    import jinja2.nodes
    from jinja2.ext import Extension

    class GenerationTag(Extension):
        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            call = self.call_method("_body")
            return jinja2.nodes.CallBlock(call, [], [], body).set_lineno(lineno)

        def _body(self, caller: Any) -> str:
            return str(caller())

    return GenerationTag


@lru_cache(maxsize=1)
def _template_namespace() -> type:
    """Jinja's `namespace`, refusing underscore-prefixed names as transformers' does (a template
    must not reach Python's internals through a namespace's attributes)."""
    from jinja2.exceptions import SecurityError
    from jinja2.utils import Namespace

    def check(name: Any) -> None:
        if isinstance(name, str) and name.startswith("_"):
            raise SecurityError(
                "Chat templates cannot store underscore-prefixed attributes on a namespace, "
                f"but got {name!r}. Please rename the attribute."
            )

    class TemplateNamespace(Namespace):
        # No named `self`: `namespace(self=...)` must still work, as in Jinja.
        def __init__(*args: Any, **kwargs: Any) -> None:
            self, rest = args[0], args[1:]
            attrs = dict(*rest, **kwargs)
            for name in attrs:
                check(name)
            Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            check(name)
            Namespace.__setitem__(self, name, value)

    return TemplateNamespace


def plain_prompt(messages: list[Message]) -> str:
    """A completion prompt for a base model: the texts in order, with no invented chat format."""
    return "\n\n".join(message.content for message in messages if message.content)
