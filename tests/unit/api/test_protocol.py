"""The API's pieces without a server: stop strings, the thinking switch, request checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.api.generation import StopMatcher, ThinkingRequest, thinking_request
from app.core.api.owner import EngineJob, RequestQueue
from app.core.api.protocol import parse_chat_completion, parse_message
from app.core.chat.reasoning import detect_profile
from app.core.errors import ApiBusyError, ApiRequestError

REAL_TEMPLATES = Path(__file__).parents[2] / "fixtures" / "templates" / "real"

NEMOTRON = detect_profile(name="Llama 3.1 Nemotron Nano 4B", basename=None, architecture="llama",
                          chat_template="{{ 'detailed thinking' }}")  # fmt: skip
GPT_OSS = detect_profile(
    name="Gpt Oss 120b", basename=None, architecture="gpt-oss",
    chat_template=(REAL_TEMPLATES / "openai-gpt-oss-120b.jinja").read_text(encoding="utf-8"),
)  # fmt: skip
PLAIN = detect_profile(name="x", basename=None, architecture="llama", chat_template="{{ 'x' }}")


def test_stop_strings_are_found_across_pieces_and_held_back_until_decided() -> None:
    matcher = StopMatcher(("END",))
    assert matcher.feed("abc E") == ("abc ", None)
    assert matcher.feed("N") == ("", None)
    assert matcher.feed("D tail") == ("", "END")
    other = StopMatcher(("END",))
    assert other.feed("E") == ("", None)
    assert other.feed("x") == ("Ex", None)
    assert other.flush() == ""


def test_the_earliest_stop_string_wins() -> None:
    assert StopMatcher(("b", "a")).feed("xaby") == ("x", "a")


@pytest.mark.parametrize(
    ("effort", "kwargs", "expected"),
    [
        (None, None, ThinkingRequest(None, None)),
        ("none", None, ThinkingRequest(False, None, "none")),
        ("low", None, ThinkingRequest(True, 1024, "low")),
        ("high", None, ThinkingRequest(True, None, "high")),
        ("high", {"enable_thinking": False}, ThinkingRequest(False, None, "high")),
        (None, {"thinking": True}, ThinkingRequest(True, None)),
    ],
)
def test_reasoning_effort_and_template_kwargs(
    effort: str | None, kwargs: dict[str, bool] | None, expected: ThinkingRequest
) -> None:
    assert thinking_request(effort, kwargs) == expected


def test_the_switch_is_mapped_per_family() -> None:
    assert ThinkingRequest(None).resolve(NEMOTRON) == (True, None, None)  # the family's default
    assert ThinkingRequest(False, 5).resolve(NEMOTRON) == (False, None, None)
    assert ThinkingRequest(True, 5).resolve(NEMOTRON) == (True, 5, None)
    assert ThinkingRequest(True, 5).resolve(PLAIN) == (False, None, None)  # it can't think


@pytest.mark.parametrize(
    ("effort", "level"),
    [("low", "low"), ("medium", "medium"), ("high", "high"), ("none", "low"), ("minimal", "low"),
     (None, None)],
)  # fmt: skip
def test_reasoning_effort_is_gpt_oss_own_level_and_never_a_token_cap(
    effort: str | None, level: str | None
) -> None:
    """gpt-oss (harmony) takes the effort as its `Reasoning:` level; it can't stop reasoning,
    so "none" is its lowest level; its levels are its budget (no token cap from the effort)."""
    assert GPT_OSS.choices == ("low", "medium", "high")
    assert thinking_request(effort, None).resolve(GPT_OSS) == (True, None, level)
    assert thinking_request(effort, None, 300).resolve(GPT_OSS) == (True, 300, level)


def test_chat_request_checks_name_the_field() -> None:
    with pytest.raises(ApiRequestError, match="reasoning_effort"):
        parse_chat_completion({"messages": [{"role": "user", "content": "x"}],
                               "reasoning_effort": "max"})  # fmt: skip
    with pytest.raises(ApiRequestError, match="end with a user message"):
        parse_chat_completion({"messages": [{"role": "assistant", "content": "x"}]})
    with pytest.raises(ApiRequestError, match="max_tokens"):
        parse_chat_completion({"messages": [{"role": "user", "content": "x"}], "max_tokens": True})
    with pytest.raises(ApiRequestError, match="tool"):
        parse_chat_completion({"messages": [{"role": "tool", "content": "x"}]})


def test_chat_request_joins_system_messages_and_reads_text_parts() -> None:
    parsed = parse_chat_completion(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "developer", "content": "Be kind."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            ],
            "max_completion_tokens": 7,
            "stop": "\n",
        }
    )
    assert parsed.spec.system_prompt == "Be brief.\n\nBe kind."
    assert [turn.content for turn in parsed.spec.turns or []] == ["Hi"]
    assert parsed.spec.sampling.max_tokens == 7 and parsed.spec.stop == ("\n",)


def test_anthropic_request_drops_thinking_blocks_and_needs_max_tokens() -> None:
    with pytest.raises(ApiRequestError, match="max_tokens"):
        parse_message({"messages": [{"role": "user", "content": "x"}]})
    parsed = parse_message(
        {
            "max_tokens": 9,
            "messages": [
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": ""},
                    {"type": "text", "text": "4"}]},
                {"role": "user", "content": "3+3?"},
            ],
            "thinking": {"type": "enabled", "budget_tokens": 100},
        }
    )  # fmt: skip
    assert [turn.content for turn in parsed.spec.turns or []] == ["2+2?", "4", "3+3?"]
    assert parsed.spec.thinking == ThinkingRequest(True, 100)


class _Host:
    def __init__(self) -> None:
        self.jobs: list[EngineJob] = []

    def submit(self, job: EngineJob) -> None:
        self.jobs.append(job)

    def loaded_model(self) -> None:
        return None


def test_the_queue_refuses_past_its_limit_and_frees_a_place_when_a_job_ends() -> None:
    host = _Host()
    queue = RequestQueue(host, max_waiting=1)
    assert queue.submit(EngineJob(lambda session: None)) == 0  # runs
    assert queue.submit(EngineJob(lambda session: None)) == 1  # waits
    with pytest.raises(ApiBusyError) as busy:
        queue.submit(EngineJob(lambda session: None))
    assert busy.value.retry_after >= 1 and busy.value.status == 429
    host.jobs[0].run(None)  # type: ignore[arg-type]
    assert queue.pending == 1
    assert queue.submit(EngineJob(lambda session: None)) == 1
