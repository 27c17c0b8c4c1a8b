"""The local API server with the real `openai` and `anthropic` clients, on the real tiny model."""

from __future__ import annotations

import gc
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator

import anthropic
import openai
import pytest

from app.core.api.server import ApiServer, RequestRecord
from app.core.errors import ApiBindError
from app.core.paths import app_paths
from tests import models
from tests.waiting import wait_until

Serve = Callable[..., ApiServer]
HELLO = [{"role": "user", "content": "Say hello."}]


class Raw:
    """A plain HTTP answer (status, headers, JSON body), for what the SDKs won't send."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.body = body

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.body)  # type: ignore[no-any-return]


def raw(
    server: ApiServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    chunked: bool = False,
) -> Raw:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        if chunked:
            connection.putrequest(method, path)
            for key, value in (headers or {}).items():
                connection.putheader(key, value)
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            data = body or b""
            connection.send(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
        else:
            connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Raw(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()


def post(server: ApiServer, path: str, data: object) -> Raw:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return raw(server, "POST", path, body, {"Content-Type": "application/json"})


_OPEN: list[openai.OpenAI | anthropic.Anthropic] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    """Every client's connections closed after its test (an open socket left to the garbage
    collector warns, in whichever later test collects it)."""
    yield
    while _OPEN:
        _OPEN.pop().close()
    gc.collect()


def client(server: ApiServer, key: str = "unused") -> openai.OpenAI:
    made = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=120)
    _OPEN.append(made)
    return made


def claude(server: ApiServer, key: str = "unused") -> anthropic.Anthropic:
    made = anthropic.Anthropic(base_url=server.url, api_key=key, max_retries=0, timeout=120)
    _OPEN.append(made)
    return made


# --- OpenAI chat ---------------------------------------------------------------------------------


def test_models_lists_the_loaded_model_first_then_the_library(serve: Serve) -> None:
    ids = [model.id for model in client(serve()).models.list()]
    assert ids[0] == models.BASE_NAME
    assert set(ids[1:]) == {
        models.variant(name).name for name in ("chatml-think", "nemotron", "base")
    }


def test_chat_non_stream_answers_with_usage_and_timings(serve: Serve) -> None:
    reply = client(serve()).chat.completions.create(
        model=models.BASE_NAME, messages=HELLO, max_tokens=8, temperature=0, seed=1
    )
    choice = reply.choices[0]
    assert choice.message.content
    assert choice.finish_reason == "length"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 8
    assert reply.usage.prompt_tokens > 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 8
    timings = reply.model_extra["timings"]  # type: ignore[index]
    assert timings["predicted_n"] == 8
    assert timings["predicted_per_second"] > 0


def test_no_model_named_means_the_loaded_one(serve: Serve) -> None:
    api = client(serve())
    nemotron = models.variant("nemotron").name
    api.chat.completions.create(model=nemotron, messages=HELLO, max_tokens=1)  # loads it
    assert api.models.list().data[0].id == nemotron  # listed first now
    assert api.chat.completions.create(model="", messages=HELLO, max_tokens=1).model == nemotron


def test_chat_stream_matches_the_non_stream_answer_and_ends_with_usage(serve: Serve) -> None:
    api = client(serve())
    whole = api.chat.completions.create(model=models.BASE_NAME, messages=HELLO, max_tokens=8,
                                        temperature=0)  # fmt: skip
    chunks = list(
        api.chat.completions.create(
            model=models.BASE_NAME, messages=HELLO, max_tokens=8, temperature=0,
            stream=True, stream_options={"include_usage": True},
        )
    )  # fmt: skip
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == whole.choices[0].message.content
    finishes = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices]
    assert finishes[-1] == "length" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 8


def test_stop_strings_end_the_answer_before_them(serve: Serve) -> None:
    api = client(serve())
    whole = api.chat.completions.create(
        model=models.BASE_NAME, messages=HELLO, max_tokens=12, temperature=0
    )
    text = whole.choices[0].message.content or ""
    word = text.split()[2]
    stopped = api.chat.completions.create(
        model=models.BASE_NAME, messages=HELLO, max_tokens=12, temperature=0, stop=[word]
    )
    assert stopped.choices[0].message.content == text[: text.index(word)]
    assert stopped.choices[0].finish_reason == "stop"


def test_think_variant_streams_reasoning_and_answer_apart(serve: Serve) -> None:
    # A budget of 6 reasoning tokens: the engine closes </think> and the answer follows.
    chunks = list(
        client(serve()).chat.completions.create(
            model=models.variant("chatml-think").name, messages=HELLO, max_tokens=20,
            temperature=0, stream=True, reasoning_effort="low",
            extra_body={"reasoning_budget": 6}, stream_options={"include_usage": True},
        )
    )  # fmt: skip
    deltas = [chunk.choices[0].delta for chunk in chunks if chunk.choices]
    reasoning = [d.model_extra.get("reasoning_content") for d in deltas if d.model_extra]
    reasoning = [text for text in reasoning if text]
    answers = [d.content for d in deltas if d.content]
    assert reasoning and answers
    assert "<think>" not in "".join(reasoning) + "".join(answers)
    assert "</think>" not in "".join(answers)
    # No delta carries both: they arrive apart, all the reasoning first.
    kinds = ["r" if d.model_extra and d.model_extra.get("reasoning_content") else "a"
             for d in deltas if d.content or (d.model_extra or {}).get("reasoning_content")]  # fmt: skip
    assert kinds == sorted(kinds, reverse=True)
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert 6 <= (usage.completion_tokens_details.reasoning_tokens or 0) < usage.completion_tokens


def test_think_variant_non_stream_has_reasoning_content(serve: Serve) -> None:
    reply = client(serve()).chat.completions.create(
        model=models.variant("chatml-think").name, messages=HELLO, max_tokens=20, temperature=0,
        extra_body={"reasoning_budget": 6},
    )  # fmt: skip
    message = reply.choices[0].message
    assert message.model_extra and message.model_extra["reasoning_content"]
    assert message.content and "</think>" not in message.content


def test_nemotron_reasoning_effort_none_renders_thinking_off_and_the_prefill(serve: Serve) -> None:
    api = client(serve())
    name = models.variant("nemotron").name
    off = api.chat.completions.create(
        model=name, messages=HELLO, max_tokens=4, reasoning_effort="none",
        extra_body={"return_prompt": True},
    )  # fmt: skip
    prompt = off.model_extra["prompt"]  # type: ignore[index]
    assert "detailed thinking off" in prompt
    assert prompt.endswith("<think>\n</think>")
    on = api.chat.completions.create(
        model=name, messages=HELLO, max_tokens=4, reasoning_effort="high",
        extra_body={"return_prompt": True},
    )  # fmt: skip
    assert "detailed thinking on" in on.model_extra["prompt"]  # type: ignore[index]
    # chat_template_kwargs switch it the same way.
    kwargs = api.chat.completions.create(
        model=name, messages=HELLO, max_tokens=4,
        extra_body={"return_prompt": True, "chat_template_kwargs": {"enable_thinking": False}},
    )  # fmt: skip
    assert "detailed thinking off" in kwargs.model_extra["prompt"]  # type: ignore[index]


def test_earlier_reasoning_sent_back_is_dropped_before_rendering(serve: Serve) -> None:
    history = [
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "<think>SECRET-THOUGHT</think>4",
         "reasoning_content": "OTHER-THOUGHT"},
        {"role": "user", "content": "And 3+3?"},
    ]  # fmt: skip
    reply = client(serve()).chat.completions.create(
        model=models.variant("chatml-think").name, messages=history, max_tokens=2,  # type: ignore[arg-type]
        extra_body={"return_prompt": True},
    )  # fmt: skip
    prompt = reply.model_extra["prompt"]  # type: ignore[index]
    assert "And 3+3?" in prompt and "4" in prompt
    assert "SECRET-THOUGHT" not in prompt and "OTHER-THOUGHT" not in prompt


def test_completions_on_the_base_variant_continue_the_text(serve: Serve) -> None:
    api = client(serve())
    name = models.variant("base").name
    reply = api.completions.create(
        model=name, prompt="The capital of France is", max_tokens=6, temperature=0,
        extra_body={"return_prompt": True},
    )  # fmt: skip
    assert reply.choices[0].text
    assert reply.model_extra["prompt"] == "The capital of France is"  # type: ignore[index]
    assert reply.usage is not None and reply.usage.completion_tokens == 6
    streamed = api.completions.create(
        model=name, prompt="The capital of France is", max_tokens=6, temperature=0, stream=True
    )
    assert "".join(chunk.choices[0].text for chunk in streamed) == reply.choices[0].text


# --- Anthropic -----------------------------------------------------------------------------------


def test_anthropic_messages_with_thinking_blocks(serve: Serve) -> None:
    api = claude(serve())
    name = models.variant("chatml-think").name
    message = api.messages.create(
        model=name, max_tokens=20, messages=[{"role": "user", "content": "Say hello."}],
        thinking={"type": "enabled", "budget_tokens": 6}, extra_body={"temperature": 0},
    )  # fmt: skip
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text"]
    assert message.content[0].thinking  # type: ignore[union-attr]
    assert message.content[1].text  # type: ignore[union-attr]
    assert message.usage.output_tokens == 20 and message.usage.input_tokens > 5
    assert message.stop_reason == "max_tokens"

    with api.messages.stream(
        model=name, max_tokens=20, messages=[{"role": "user", "content": "Say hello."}],
        thinking={"type": "enabled", "budget_tokens": 6}, extra_body={"temperature": 0},
    ) as stream:  # fmt: skip
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start"
    assert "content_block_start" in events and "content_block_stop" in events
    assert events[-1] == "message_stop"
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == message.content[0].thinking  # type: ignore[union-attr]
    assert final.content[1].text == message.content[1].text  # type: ignore[union-attr]


def test_anthropic_thinking_disabled_skips_the_reasoning(serve: Serve) -> None:
    message = claude(serve()).messages.create(
        model=models.variant("chatml-think").name, max_tokens=6, extra_body={"temperature": 0},
        messages=[{"role": "user", "content": "Say hello."}], thinking={"type": "disabled"},
        system="Be brief.",
    )  # fmt: skip
    assert [block.type for block in message.content] == ["text"]


# --- the queue, and clients that leave -----------------------------------------------------------


def _states(records: list[RequestRecord], request_id: int) -> list[str]:
    return [record.state for record in records if record.id == request_id]


def test_a_second_client_waits_for_the_first(serve: Serve, records: list[RequestRecord]) -> None:
    server = serve(max_waiting=1)
    api = client(server)
    first = api.chat.completions.create(
        model=models.BASE_NAME, messages=HELLO, max_tokens=60, temperature=0, stream=True
    )
    next(iter(first))  # the first is generating
    answers: list[str] = []
    second = threading.Thread(
        target=lambda: answers.append(
            api.chat.completions.create(model=models.BASE_NAME, messages=HELLO, max_tokens=3).choices[0]
            .message.content or ""
        )
    )  # fmt: skip
    second.start()
    wait_until(lambda: _states(records, 2) == ["queued"], timeout=30, what="the second queued")
    # A third is past the queue: refused at once, with when to come back.
    with pytest.raises(openai.RateLimitError) as refused:
        api.chat.completions.create(model=models.BASE_NAME, messages=HELLO, max_tokens=3)
    assert int(refused.value.response.headers["retry-after"]) >= 1
    assert _states(records, 2) == ["queued"]  # still waiting while the first streams
    list(first)
    second.join(60)
    assert answers and answers[0]
    first_done = next(r for r in records if r.id == 1 and r.state == "done")
    second_running = next(r for r in records if r.id == 2 and r.state == "running")
    assert records.index(first_done) < records.index(second_running)


def test_a_client_that_disconnects_stops_the_generation(
    serve: Serve, records: list[RequestRecord]
) -> None:
    server = serve()
    body = {"messages": HELLO, "max_tokens": 800, "temperature": 1.0, "stream": True,
            "stream_options": {"include_usage": True}}  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    connection.request("POST", "/v1/chat/completions", body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"})  # fmt: skip
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")  # it streams
    connection.sock.close()  # type: ignore[union-attr]  # the client goes away mid-stream
    connection.close()
    left = time.monotonic()
    wait_until(
        lambda: any(record.state == "cancelled" for record in records),
        timeout=20,
        what="the generation to stop",
    )
    stopped = next(record for record in records if record.state == "cancelled")
    assert time.monotonic() - left < 10
    assert stopped.completion_tokens < 200  # far short of the 800 asked for
    # The engine is free again: the next request is answered.
    assert client(server).chat.completions.create(
        model=models.BASE_NAME, messages=HELLO, max_tokens=2
    )


def test_api_requests_never_touch_the_persons_chats(serve: Serve) -> None:
    client(serve()).chat.completions.create(model=models.BASE_NAME, messages=HELLO, max_tokens=2)
    data = app_paths().data
    assert not list(data.glob("*.sqlite*")) and not list(data.glob("*.db*"))


def test_saving_api_requests_in_the_chats_is_the_persons_choice(serve: Serve) -> None:
    from app.core.chat.history import ChatStore

    database = app_paths().data / "chats-for-api.sqlite3"
    server = serve(history=database)
    client(server).chat.completions.create(
        model=models.BASE_NAME, messages=[{"role": "system", "content": "Be brief."}, *HELLO],
        max_tokens=3,
    )  # fmt: skip
    # Saved on the engine thread after the reply went out.
    wait_until(database.exists, timeout=30, what="the chat database")

    def saved() -> int:
        with ChatStore(database, recover=False) as store:
            return len(store.list_conversations())

    wait_until(lambda: saved() == 1, timeout=30, what="the exchange saved as a chat")
    with ChatStore(database, recover=False) as store:
        (chat,) = store.list_conversations()
        said = [(m.role, m.content) for m in store.messages(chat.id)]
        assert chat.system_prompt == "Be brief."
    assert said[0] == ("user", "Say hello.") and said[1][0] == "assistant" and said[1][1]


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/v1"])
def test_the_url_opened_in_a_browser_says_the_api_runs_and_how_to_use_it(
    serve: Serve, path: str
) -> None:
    server = serve()
    page = raw(server, "GET", path, headers={"Host": f"127.0.0.1:{server.port}"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    text = page.body.decode()
    assert text.startswith("Quantdesk's local API is running.")
    assert f"OpenAI clients: base URL http://127.0.0.1:{server.port}/v1" in text
    assert f"Anthropic clients: base URL http://127.0.0.1:{server.port}\n" in text


def test_unknown_model_is_404_naming_the_library(serve: Serve) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client(serve()).chat.completions.create(model="gpt-4o", messages=HELLO, max_tokens=2)
    message = str(missing.value)
    assert "gpt-4o" in message and models.variant("nemotron").name in message


def test_a_hostile_model_name_comes_back_as_one_bounded_line(
    serve: Serve, records: list[RequestRecord]
) -> None:
    """The client's text reaches the 404, the request list and the log: one short line."""
    hostile = "\x1b[31m\u202e" + "x" * 1_000_000
    with pytest.raises(openai.NotFoundError) as missing:
        client(serve()).chat.completions.create(model=hostile, messages=HELLO, max_tokens=2)
    message = str(missing.value)
    assert len(message) < 2_000 and "\x1b" not in message and "\u202e" not in message
    refused = records[-1]
    assert len(refused.model) <= 200 and refused.model.endswith("…")
    assert "\x1b" not in refused.model and len(refused.error or "") < 2_000


def test_anthropic_errors_have_anthropics_shape(serve: Serve) -> None:
    with pytest.raises(anthropic.NotFoundError) as missing:
        claude(serve()).messages.create(model="claude-x", max_tokens=2, messages=HELLO)  # type: ignore[arg-type]
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]


def test_a_wrong_key_is_401_and_the_right_one_passes(
    serve: Serve, records: list[RequestRecord]
) -> None:
    server = serve(api_key="sesame")
    with pytest.raises(openai.AuthenticationError):
        client(server, "wrong").models.list()
    # Listed, with why: a person setting up a client sees the wrong key, not an empty list.
    (refused,) = records
    assert (refused.method, refused.path, refused.state, refused.status) == (
        "GET", "/v1/models", "refused", 401
    )  # fmt: skip
    assert "A valid API key is required" in refused.error
    with pytest.raises(anthropic.AuthenticationError):
        claude(server, "wrong").messages.create(
            model=models.BASE_NAME, max_tokens=2, messages=HELLO
        )  # type: ignore[arg-type]
    assert client(server, "sesame").models.list().data
    assert (records[-1].method, records[-1].path, records[-1].state) == (
        "GET",
        "/v1/models",
        "done",
    )
    answer = claude(server, "sesame").messages.create(
        model=models.BASE_NAME, max_tokens=2, messages=HELLO
    )  # type: ignore[arg-type]
    assert answer.content


def test_malformed_json_is_400_with_a_message(serve: Serve) -> None:
    server = serve()
    response = post(server, "/v1/chat/completions", b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]
    response = post(server, "/v1/chat/completions", {"messages": []})
    assert response.status_code == 400 and "messages" in response.json()["error"]["message"]
    response = post(server, "/v1/chat/completions", {"messages": HELLO, "temperature": "hot"})
    assert response.status_code == 400 and "temperature" in response.json()["error"]["message"]


def test_a_conversation_longer_than_the_context_is_400_saying_so(serve: Serve) -> None:
    long = [{"role": "user", "content": "word " * 3000}]  # the context is 1,024 tokens
    with pytest.raises(openai.BadRequestError) as refused:
        client(serve()).chat.completions.create(model=models.BASE_NAME, messages=long)  # type: ignore[arg-type]
    assert "context" in str(refused.value).lower()


def test_a_body_over_the_limit_is_413(serve: Serve) -> None:
    server = serve(body_limit=10_000)
    big = {"messages": [{"role": "user", "content": "x" * 20_000}]}
    assert post(server, "/v1/chat/completions", big).status_code == 413
    # Without a Content-Length, the limit holds while the body is read.
    response = raw(server, "POST", "/v1/chat/completions", json.dumps(big).encode(), chunked=True)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]["message"]


def test_a_foreign_host_header_is_refused(serve: Serve) -> None:
    server = serve()
    rebound = raw(server, "GET", "/v1/models", headers={"Host": "attacker.example:8080"})
    assert rebound.status_code == 403
    assert "attacker.example" in rebound.json()["error"]["message"]
    local = raw(server, "GET", "/v1/models", headers={"Host": f"localhost:{server.port}"})
    assert local.status_code == 200


def test_no_cors_unless_origins_are_listed(serve: Serve) -> None:
    preflight = {"Origin": "https://web.example", "Access-Control-Request-Method": "POST"}
    closed = serve()
    response = raw(closed, "OPTIONS", "/v1/chat/completions", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    opened = serve(cors_origins=("https://web.example",))
    response = raw(opened, "OPTIONS", "/v1/chat/completions", headers=preflight)
    assert response.headers["access-control-allow-origin"] == "https://web.example"


def test_listening_beyond_this_computer_needs_a_key(serve: Serve) -> None:
    with pytest.raises(ApiBindError, match="API key"):
        serve(host="0.0.0.0")
    server = serve(host="0.0.0.0", api_key="sesame")
    assert client(server, "sesame").models.list().data


def test_a_taken_port_is_a_clear_error(serve: Serve) -> None:
    server = serve()
    with pytest.raises(ApiBindError, match=str(server.port)) as refused:
        serve(port=server.port)
    assert "another program already uses" in str(refused.value)  # and what to do: another port
    assert "Choose another port" in str(refused.value)
