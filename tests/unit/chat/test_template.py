from __future__ import annotations

import pytest

from app.core.chat.template import Message, plain_prompt, render_chat
from app.core.errors import ChatTemplateError

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}"
)


def test_chatml_renders_exactly() -> None:
    text = render_chat(CHATML, [Message("system", "Be brief."), Message("user", "Hi")])
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_template_helpers_exist() -> None:
    template = "{{ bos_token }}{{ messages | tojson }}{{ strftime_now('%Y') | length }}"
    text = render_chat(template, [Message("user", "é")], bos_token="<s>")
    assert text == '<s>[{"role": "user", "content": "é"}]4'


def test_template_variables_pass_through() -> None:
    text = render_chat("{{ enable_thinking }}", [], enable_thinking=False)
    assert text == "False"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
        ("{{ messages.append({'role': 'x'}) }}", "unsafe"),
        ("{{ cycler.__init__.__globals__.os.system('id') }}", "unsafe"),
        ("{{ raise_exception('Conversation roles must alternate') }}", "roles must alternate"),
        ("{% for m in messages %}", "Unexpected end of template"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}",
            "runaway",
        ),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
    ],
)
def test_hostile_or_broken_templates_give_an_error_not_a_crash(template: str, reason: str) -> None:
    with pytest.raises(ChatTemplateError) as caught:
        render_chat(template, [Message("user", "hi")])
    assert reason in str(caught.value)
    assert str(caught.value).startswith("The model's chat template can't be used: ")


def test_plain_prompt_invents_no_chat_format() -> None:
    text = plain_prompt([Message("system", "Facts:"), Message("user", "The sky is")])
    assert text == "Facts:\n\nThe sky is"


# NVIDIA's Llama-Nemotron tool-calling templates test `tools is not none`; transformers passes
# `tools=None`, so without tools no <AVAILABLE_TOOLS> block may appear.
TOOLS_TEMPLATE = (
    "{% if tools is not none %}<AVAILABLE_TOOLS>{{ tools | tojson }}</AVAILABLE_TOOLS>{% endif %}"
    "{% if documents is not none %}<DOCS>{% endif %}"
    "{% for m in messages %}{{ m['content'] }}{% endfor %}"
)


def test_tools_and_documents_are_none_as_transformers_passes_them() -> None:
    assert render_chat(TOOLS_TEMPLATE, [Message("user", "Hi")]) == "Hi"


def test_the_helpers_take_transformers_keyword_arguments() -> None:
    template = (
        "{{ {'b': 1, 'a': 'é'} | tojson(ensure_ascii=True, sort_keys=True, separators=(',', ':')) }}"
        "|{{ {'a': [1]} | tojson(indent=2) }}"
        "|{% set d = dict(x=1) %}{{ d.x }}"
        "|{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}"
        "{% if loop.first %}{% continue %}{% endif %}{% endfor %}{{ ns.n }}"
        "|{% generation %}{{ unk_token }}{% endgeneration %}"
    )
    text = render_chat(
        template,
        [Message("user", "a"), Message("user", "b")],
        special_tokens={"unk_token": "<unk>"},
    )
    assert text == '{"a":"\\u00e9","b":1}|{\n  "a": [\n    1\n  ]\n}|1|2|<unk>'


def test_a_namespace_refuses_underscore_names() -> None:
    with pytest.raises(ChatTemplateError, match="underscore"):
        render_chat("{% set ns = namespace(_x=1) %}", [])
