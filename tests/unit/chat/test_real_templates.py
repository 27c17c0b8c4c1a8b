"""The model makers' own chat templates render exactly as transformers renders them.

The corpus (`tests/fixtures/templates/real/`, see its README) is llama.cpp's collection of real
templates and a few more makers' templates found elsewhere; the oracle is transformers' own
renderer (`render_jinja_template`, the function behind `apply_chat_template`). Every template renders through Quantdesk's bounded path (`render_chat`, the
renderer child) a three-turn conversation with a system prompt, earlier reasoning in the assistant
turns and the generation prompt, to exactly transformers' text; a template transformers refuses
for that conversation, Quantdesk refuses too, giving the same reason in one sentence.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers.utils.chat_template_utils import render_jinja_template

from app.core.chat.template import Message, render_chat
from app.core.errors import ChatTemplateError

REAL = Path(__file__).parents[2] / "fixtures" / "templates" / "real"
TEMPLATES = sorted(REAL.glob("*.jinja"))
BOS, EOS = "<s>", "</s>"
CONVERSATION = [
    Message("system", "You are terse."),
    Message("user", "What is 2+2?"),
    Message("assistant", "<think>\nAdd them.\n</think>\n\n4"),
    Message("user", "And 3+3?"),
    Message("assistant", "<think>\nAgain.\n</think>\n\n6"),
    Message("user", "Thanks! Now 4+4?"),
]
# Templates transformers refuses for this conversation (tool-use templates iterate `tools`,
# Gemma 2 has no system role): counted so a change in either renderer is noticed.
REFUSED_BY_TRANSFORMERS = {
    "CohereForAI-c4ai-command-r-plus-tool_use.jinja",
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja",
    "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja",
    "fireworks-ai-llama-3-firefunction-v2.jinja",
    "google-gemma-2-2b-it.jinja",
}


def _transformers(template: str) -> str:
    rendered, _ = render_jinja_template(
        [[message.as_dict() for message in CONVERSATION]],
        chat_template=template,
        add_generation_prompt=True,
        bos_token=BOS,
        eos_token=EOS,
    )
    return str(rendered[0])


def test_the_corpus_is_the_real_collection() -> None:
    assert len(TEMPLATES) == 62
    assert {path.name for path in TEMPLATES} >= REFUSED_BY_TRANSFORMERS


@pytest.mark.parametrize("path", TEMPLATES, ids=[path.stem for path in TEMPLATES])
def test_renders_as_transformers_does(path: Path) -> None:
    template = path.read_text(encoding="utf-8")
    try:
        expected = _transformers(template)
    except Exception as refusal:  # noqa: BLE001 - whatever transformers raises is the reason
        assert path.name in REFUSED_BY_TRANSFORMERS, f"transformers refused: {refusal}"
        with pytest.raises(ChatTemplateError) as caught:
            render_chat(template, CONVERSATION, bos_token=BOS, eos_token=EOS)
        reason = str(caught.value)
        assert str(refusal) in reason
        assert "\n" not in reason and reason.count(". ") == 0
        return
    assert path.name not in REFUSED_BY_TRANSFORMERS
    assert render_chat(template, CONVERSATION, bos_token=BOS, eos_token=EOS) == expected
