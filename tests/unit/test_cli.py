"""`quantdesk` as a person runs it: a real subprocess, the real model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.core.fit.measured import LoadOutcome, LoadTable
from app.core.paths import app_paths
from tests.conftest import BROKEN_REASONS


def quantdesk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=timeout
    )


def test_version() -> None:
    result = quantdesk("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"quantdesk {__version__}"


def test_chat_json_reports_prompt_reply_and_sampling(tiny_model: Path) -> None:
    result = quantdesk(
        "chat", str(tiny_model), "--prompt", "What is the capital of France?",
        "--system", "Answer in one word.", "--max-tokens", "16", "--temperature", "0", "--seed", "3",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == str(tiny_model)
    assert report["prompt"] == (
        "<|im_start|>system\nAnswer in one word.<|im_end|>\n"
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert "Paris" in report["content"]
    assert 0 < report["completion_tokens"] <= 16
    assert report["seconds"] > 0
    assert report["tokens_per_second"] > 0
    assert report["sampling"]["temperature"] == 0
    assert report["sampling"]["seed"] == 3
    assert report["sampling"]["max_tokens"] == 16
    assert {"top_p", "top_k", "min_p", "repeat_penalty"} <= report["sampling"].keys()
    # The load was measured and remembered, as the app's are: it corrects this machine's estimates.
    (load,) = LoadTable.in_folder(app_paths().data).rows()
    assert (load.file, load.outcome) == (str(tiny_model), LoadOutcome.LOADED)
    assert load.estimated and load.measured


def chat_json(*args: str) -> dict:
    result = quantdesk("chat", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_chat_thinking_switch_on_a_nemotron_model(nemotron_model: Path) -> None:
    on = chat_json(str(nemotron_model), "--prompt", "Hi", "--max-tokens", "4")
    assert (on["profile"], on["thinking"]) == ("nemotron-v1", "on")
    assert "detailed thinking on" in on["prompt"]
    assert on["sampling"]["temperature"] == 0.6 and on["sampling"]["top_p"] == 0.95
    off = chat_json(str(nemotron_model), "--prompt", "Hi", "--max-tokens", "4", "--thinking", "off")
    assert off["thinking"] == "off"
    assert off["prompt"].endswith(
        "detailed thinking off<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n<think>\n</think>"
    )
    assert off["sampling"]["temperature"] == 0.0
    assert off["reasoning"] == ""


def test_chat_always_reasoning_model_reports_reasoning_apart(think_model: Path) -> None:
    report = chat_json(
        str(think_model), "--prompt", "Tell me a story.", "--max-tokens", "24",
        "--temperature", "0", "--reasoning-budget", "4",
    )  # fmt: skip
    assert (report["profile"], report["thinking"]) == ("always-think", "always")
    assert report["prompt"].endswith("<|im_start|>assistant\n<think>\n")
    assert report["reasoning"] and report["content"]
    assert "</think>" not in report["content"]
    skipped = chat_json(
        str(think_model), "--prompt", "Hi", "--max-tokens", "4", "--thinking", "off"
    )
    assert skipped["thinking"] == "off"
    assert skipped["prompt"].endswith("<think>\n\n</think>\n\n")


def test_chat_base_model_has_no_thinking(base_model: Path) -> None:
    report = chat_json(str(base_model), "--prompt", "Once upon a time", "--max-tokens", "4",
                       "--thinking", "on")  # fmt: skip
    assert (report["profile"], report["thinking"]) == ("base", "off")
    assert report["prompt"] == "Once upon a time"


def test_chat_streams_plain_text(tiny_model: Path) -> None:
    result = quantdesk(
        "chat", str(tiny_model), "--prompt", "Say hello.", "--max-tokens", "8", "--temperature", "0"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "tokens/s" in result.stderr


@pytest.mark.parametrize("kind", sorted(BROKEN_REASONS))
def test_bad_model_is_one_line_on_stderr(broken_models: dict[str, Path], kind: str) -> None:
    path = broken_models[kind]
    result = quantdesk("chat", str(path), "--prompt", "hi")
    assert result.returncode == 3
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [f"quantdesk: Can't open {path.name}: {BROKEN_REASONS[kind]}"] or (
        len(lines) == 1 and BROKEN_REASONS[kind] in lines[0]
    )
    assert "Traceback" not in result.stderr


def test_missing_model_and_bad_arguments(tmp_path: Path) -> None:
    result = quantdesk("chat", str(tmp_path / "none.gguf"), "--prompt", "hi")
    assert result.returncode == 3
    assert "file not found" in result.stderr
    result = quantdesk("chat", "x.gguf", "--prompt", "hi", "--max-tokens", "0")
    assert result.returncode == 2


def test_hostile_chat_template_is_refused_without_running_it(hostile_model: Path) -> None:
    marker = Path("/tmp/quantdesk-pwned")
    marker.unlink(missing_ok=True)
    result = quantdesk("chat", str(hostile_model), "--prompt", "hi")
    assert result.returncode == 4
    assert result.stderr.startswith("quantdesk: The model's chat template can't be used: ")
    assert "unsafe" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()


def test_conversation_too_long_for_the_context_is_one_line(tiny_model: Path) -> None:
    result = quantdesk("chat", str(tiny_model), "--prompt", "word " * 600, "--ctx", "256")
    assert result.returncode == 10  # REFUSED: the person's request, not a bug (1)
    assert "too little room for a reply" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_no_display_says_so_instead_of_crashing() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    result = subprocess.run(
        [sys.executable, "-m", "app"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 13  # NO_DISPLAY
    assert "no display found" in result.stderr


def test_every_error_of_ours_has_an_exit_code_other_than_a_bug() -> None:
    import inspect

    from app.cli import ExitCode, _exit_code_for
    from app.core import errors

    for value in vars(errors).values():
        if not (inspect.isclass(value) and issubclass(value, errors.QuantdeskError)):
            continue
        if value in (errors.QuantdeskError, errors.EngineStateError):
            continue  # the base itself, and our own misuse of the engine (a bug)
        error = value.__new__(value)  # the class decides the code, not the message
        assert _exit_code_for(error) != ExitCode.ERROR, value
    assert _exit_code_for(ValueError("ours to fix")) == ExitCode.ERROR
    assert _exit_code_for(errors.ModelHeaderError("cut short")) == ExitCode.BAD_MODEL
    assert _exit_code_for(errors.ChatTemplateError("unsafe")) == ExitCode.BAD_TEMPLATE
    assert _exit_code_for(errors.ContextOverflowError(900, 256)) == ExitCode.REFUSED


def test_chat_with_a_model_declaring_a_64_token_context_replies() -> None:
    """The header says `llama.context_length` 64: the model loads with llama.cpp's smallest
    context (256) and a prompt longer than 64 tokens gets a reply, not "ValueError"."""
    from tests import models

    tiny_context = models.with_number("llama.context_length", 64)
    result = quantdesk(
        "chat", str(tiny_context), "--prompt", "Tell me about the sea. " * 15,
        "--max-tokens", "8", "--temperature", "0", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ValueError" not in result.stderr
    report = json.loads(result.stdout)
    assert report["prompt_tokens"] > 64
    assert report["content"]


@pytest.mark.parametrize(
    ("layers", "alignment"), [(0, None), (513, None), (2**32 - 1, None), (None, 1), (None, 16)]
)
def test_chat_on_a_file_llama_cpp_aborts_on_is_one_line_not_an_abort(
    tmp_path: Path, layers: int | None, alignment: int | None
) -> None:
    from tests import models

    if layers is not None:
        path = models.with_block_count(tmp_path, layers)
    else:
        assert alignment is not None
        path = models.with_alignment(tmp_path, alignment)
    result = quantdesk("chat", str(path), "--prompt", "Hi", "--max-tokens", "4")
    assert result.returncode == 3  # BAD_MODEL, not 134 (SIGABRT)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "llama.cpp can't load it" in lines[0]


def test_chat_with_a_runaway_template_is_refused_in_seconds(tmp_path: Path) -> None:
    from tests import models

    path = models.with_template(
        tmp_path,
        "loops",
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    )
    result = quantdesk("chat", str(path), "--prompt", "Hi", "--max-tokens", "4", timeout=60)
    assert result.returncode == 4  # BAD_TEMPLATE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "took too long to render" in lines[0]


def test_chat_reasoning_effort_on_a_model_with_gpt_oss_template(tmp_path: Path) -> None:
    # The tiny weights with OpenAI's real gpt-oss template: an unknown model whose template has
    # a known switch is handled by it, and the toggle becomes an effort choice.
    from tests.models import TEMPLATES, with_template

    template = (TEMPLATES / "real" / "openai-gpt-oss-120b.jinja").read_text(encoding="utf-8")
    model = with_template(tmp_path, "gpt-oss", template)
    default = chat_json(str(model), "--prompt", "Hi", "--max-tokens", "2")
    assert (default["profile"], default["thinking"]) == ("gpt-oss", "medium")
    assert "\n\nReasoning: medium\n\n" in default["prompt"]
    high = chat_json(str(model), "--prompt", "Hi", "--max-tokens", "2", "--thinking", "high")
    assert (high["profile"], high["thinking"]) == ("gpt-oss", "high")
    assert "\n\nReasoning: high\n\n" in high["prompt"]
    assert high["prompt"].endswith("<|start|>user<|message|>Hi<|end|><|start|>assistant")
    assert (high["sampling"]["temperature"], high["sampling"]["top_p"]) == (1.0, 1.0)
    off = chat_json(str(model), "--prompt", "Hi", "--max-tokens", "2", "--thinking", "off")
    assert off["thinking"] == "low"  # it can't stop reasoning: off is its lowest effort
