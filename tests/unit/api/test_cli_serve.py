"""`quantdesk serve` as a person runs it: a real subprocess on the real tiny model."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import anthropic
import openai

from tests import models


def test_serve_answers_both_apis_logs_json_and_stops_on_sigterm(tiny_model: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", str(tiny_model), "--port", "0", "--json-log",
         "--api-key", "sesame"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    closing: list[openai.OpenAI | anthropic.Anthropic] = []
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        api = openai.OpenAI(base_url=f"{url}/v1", api_key="sesame", max_retries=0)
        closing.append(api)
        assert [model.id for model in api.models.list()][0] == models.BASE_NAME
        reply = api.chat.completions.create(
            model=models.BASE_NAME, messages=[{"role": "user", "content": "Hi"}], max_tokens=4
        )
        assert reply.usage is not None and reply.usage.completion_tokens == 4
        message = anthropic.Anthropic(
            base_url=url, api_key="sesame", max_retries=0
        ).messages.create(
            model=models.BASE_NAME, max_tokens=4, messages=[{"role": "user", "content": "Hi"}]
        )
        assert message.content
        with_wrong_key = openai.OpenAI(base_url=f"{url}/v1", api_key="nope", max_retries=0)
        closing.append(with_wrong_key)
        try:
            with_wrong_key.models.list()
            raise AssertionError("a wrong key was let in")
        except openai.AuthenticationError:
            pass
    finally:
        for made in closing:
            made.close()
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    logged = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(entry["path"], entry["state"], entry["status"]) for entry in logged] == [
        ("/v1/models", "done", 200),
        ("/v1/chat/completions", "done", 200),
        ("/v1/messages", "done", 200),
        ("/v1/models", "refused", 401),  # the wrong key: logged with why
    ]
    chat = logged[1]
    assert chat["completion_tokens"] == 4 and chat["tokens_per_second"] > 0
    assert chat["model"] == models.BASE_NAME


def test_serve_refuses_the_network_without_a_key() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 10
    assert "--api-key" in result.stderr and "other computers" in result.stderr
