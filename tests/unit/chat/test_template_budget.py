"""Hostile chat templates meet a hard time and memory budget (issue 14, item 3).

Each template of the issue runs in the real renderer child; the test process's own memory must
not grow, and the answer must come within seconds, as one sentence.
"""

from __future__ import annotations

import resource
import threading
import time

import pytest

from app.core._util.cancel import CancelToken
from app.core.chat.template import (
    RENDER_SECONDS,
    Message,
    render_chat,
    renderer_pid,
)
from app.core.errors import ChatTemplateError, TemplateBudgetError

# A render killed at its budget, plus a fresh renderer's start on a busy 2-core machine.
ANSWER_WITHIN = RENDER_SECONDS + 6
HI = [Message("user", "Hi")]

HOSTILE = {
    "nested loops with no output": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    ),
    "doubling macro": (
        "{% macro d(s, n) %}{% if n > 0 %}{{ d(s ~ s, n - 1) }}{% else %}{{ s|length }}"
        "{% endif %}{% endmacro %}{{ d('ab', 64) }}"
    ),
    "huge power": "{{ 9 ** (9 ** 9) }}",
    "huge lipsum": "{{ lipsum(10**6) }}",
    "gigabyte string": "{{ 'a' * 10**9 }}",
}


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_templates_are_refused_within_seconds_in_one_sentence(name: str) -> None:
    render_chat("warm-up {{ messages[0].content }}", HI)  # the renderer is running
    rss_before = _max_rss_mb()
    started = time.monotonic()
    with pytest.raises(ChatTemplateError) as refused:
        render_chat(HOSTILE[name], HI)
    assert time.monotonic() - started < ANSWER_WITHIN
    message = str(refused.value)
    assert "\n" not in message and len(message) < 300
    # The gigabytes are never built in this process (the child has its own budget).
    assert _max_rss_mb() - rss_before < 100
    # ...and the next render works, in a renderer that is alive again.
    assert render_chat("{{ messages[0].content }}!", HI) == "Hi!"


def test_a_runaway_render_says_it_took_too_long() -> None:
    with pytest.raises(TemplateBudgetError, match="took too long to render"):
        render_chat(HOSTILE["nested loops with no output"], HI)


def test_the_renderer_is_started_once_and_reused() -> None:
    render_chat("{{ messages[0].content }}", HI)
    first = renderer_pid()
    for _ in range(5):
        render_chat("{{ messages[0].content }}", HI)
    assert renderer_pid() == first is not None
    with pytest.raises(TemplateBudgetError):
        render_chat(HOSTILE["huge power"], HI)
    assert renderer_pid() is None  # killed at its budget
    render_chat("{{ messages[0].content }}", HI)
    assert renderer_pid() not in (None, first)


def test_cancelling_ends_a_render_at_once() -> None:
    render_chat("{{ messages[0].content }}", HI)
    cancel = CancelToken()
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(ChatTemplateError, match="stopped"):
        render_chat(HOSTILE["nested loops with no output"], HI, cancel=cancel)
    assert time.monotonic() - started < 2


def test_text_crosses_to_the_renderer_and_back_exactly() -> None:
    text = "ünïcode 漢字 🐉 and a lone surrogate \udcff from bad bytes"
    rendered = render_chat(
        "{{ messages[0].content }}|{{ extra }}", [Message("user", text)], extra={"k": [1]}
    )
    assert rendered == text + "|{'k': [1]}"


@pytest.mark.parametrize(
    ("switch", "variables"),
    [
        ("enable_thinking", {"enable_thinking": False}),
        ("reasoning_effort <|channel|>", {"reasoning_effort": "high"}),
        ("[gMASK]<sop> enable_thinking", {"enable_thinking": False}),
    ],
)
def test_every_familys_render_goes_through_the_same_budget(
    switch: str, variables: dict[str, object]
) -> None:
    # A hostile template that mentions a family's switch is taken for that family; the probe
    # render at load (where does a system prompt go?) and every reply's render meet the one
    # bounded renderer's budget.
    from app.core.chat.reasoning import detect_profile, families, plan_prompt

    hostile = f"{{# {switch} #}}" + HOSTILE["nested loops with no output"]
    family = next(f for f in families() if f.matches_template(hostile))
    assert family.profile.can_think
    started = time.monotonic()
    with pytest.raises(TemplateBudgetError, match="took too long to render"):
        detect_profile(name=None, basename=None, architecture=None, chat_template=hostile)
    assert time.monotonic() - started < ANSWER_WITHIN
    plan = plan_prompt(family.profile, thinking_on=False, system_prompt="", turns=HI, effort="high")
    assert plan.template_variables == variables
    started = time.monotonic()
    with pytest.raises(TemplateBudgetError, match="took too long to render"):
        render_chat(hostile, plan.messages, **plan.template_variables)
    assert time.monotonic() - started < ANSWER_WITHIN


def test_an_unknown_runaway_template_is_refused_by_the_thinking_probe() -> None:
    from app.core.chat.reasoning import detect_profile

    with pytest.raises(TemplateBudgetError):
        detect_profile(
            name="Some Model", basename=None, architecture="llama",
            chat_template=HOSTILE["nested loops with no output"],
        )  # fmt: skip
