"""The local API server: a Starlette app served by uvicorn on its own thread.

Why uvicorn + Starlette: both are small, pure-Python (uvicorn's speedups are optional), well
kept (the Encode projects under FastAPI), and ASGI, so a streamed reply is an async iterator of
server-sent events with back-pressure and a disconnect the app hears at once. FastAPI would
add pydantic and an OpenAPI layer we don't need; aiohttp or http.server would mean writing
streaming and keep-alive ourselves.

Safe by default (`ServerSettings`): it listens on 127.0.0.1; listening elsewhere needs an API
key. Every request passes `guard.Guard` first (Host header, key, body size). No CORS unless
origins are listed. A client that goes away stops its generation within one token
(`streaming.EventStream`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core._util.text import printable
from app.core.api.generation import Failed, Finished, Generation, Piece, Started
from app.core.api.generation import run_generation as run_on_engine
from app.core.api.guard import (
    Guard,
    allowed_hosts,
    check_bind,
    error_response,
    read_json,
)
from app.core.api.owner import EngineHost, EngineJob, EngineSession, RequestQueue
from app.core.api.protocol import (
    ParsedRequest,
    anthropic_content,
    anthropic_message,
    anthropic_stop_reason,
    anthropic_usage,
    block_delta,
    block_start,
    block_stop,
    chat_chunk,
    chat_completion,
    new_id,
    openai_finish,
    openai_usage,
    parse_chat_completion,
    parse_completion,
    parse_message,
    sse,
    text_completion,
)
from app.core.api.streaming import EventStream, cancel_on_disconnect
from app.core.chat.reasoning import REASONING
from app.core.config.preferences import API_PORT
from app.core.errors import (
    ApiBindError,
    ApiError,
    ApiModelNotFoundError,
    ApiRequestError,
    ContextOverflowError,
    QuantdeskError,
)

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp

    from app.core.paths import AppPaths

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = API_PORT  # the port in the person's preferences until they pick another
DEFAULT_BODY_LIMIT = 4 << 20  # 4 MiB: a long conversation, never a file upload
LIVE_UPDATE_SECONDS = 0.5  # how often a streaming request's figures reach the listener


@dataclass(frozen=True)
class ServerSettings:
    """Where and how the server listens.

    Attributes:
        host, port: the address to listen on (port 0: any free port).
        api_key: the key every request must carry (`Authorization: Bearer KEY` or
            `x-api-key: KEY`); required to listen on anything but this computer.
        cors_origins: web origins allowed to call it from a browser (none by default).
        body_limit: the largest request body, in bytes (over it: 413).
        max_waiting: requests that may wait for the model behind the running one (past it:
            429 with Retry-After).
        history: the person's chat database, to save each chat exchange in as a new chat;
            None (the default): API requests never touch the person's chats.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    body_limit: int = DEFAULT_BODY_LIMIT
    max_waiting: int = 4
    history: Path | None = None


@dataclass
class RequestRecord:
    """One request, for the live list and the log: updated as it goes."""

    id: int
    method: str
    path: str
    model: str = ""
    state: str = "queued"  # queued, running, done, failed, refused, cancelled
    status: int = 200
    started: float = field(default_factory=time.time)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    tokens_per_second: float = 0.0
    seconds: float = 0.0
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "model": self.model,
            "state": self.state,
            "status": self.status,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "tokens_per_second": round(self.tokens_per_second, 2),
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


# Told of every change to a request (from the server's thread); must return at once.
RequestListener = Callable[[RequestRecord], None]


class ModelResolver:
    """Which model file a request's `model` names: the loaded one, or one from the library."""

    def __init__(self, host: EngineHost, paths: AppPaths, served: Path | None = None) -> None:
        self._host = host
        self._paths = paths
        self._served = served  # the model given to `quantdesk serve`, if outside the library

    def listed(self) -> list[tuple[str, Path]]:
        """(id, file) of every model: the loaded one first, then the library's."""
        from app.core.hub.library import list_models

        models: list[tuple[str, Path]] = []
        for path in (self._host.loaded_model(), self._served):
            if path is not None and all(path != seen for _, seen in models):
                models.append((path.name, path))
        for model in list_models(self._paths):
            if not model.missing and all(model.path != seen for _, seen in models):
                models.append((model.name, model.path))
        return models

    def resolve(self, name: str) -> Path:
        """The file `name` means ("" means the loaded model).

        Raises:
            ApiModelNotFoundError: no such model (the message lists the library's).
        """
        loaded = self._host.loaded_model() or self._served
        if not name and loaded is not None:
            return loaded
        listed = self.listed()
        wanted = name.lower()
        for model_id, path in listed:
            if wanted in (model_id.lower(), path.stem.lower(), str(path).lower()):
                return path
        from app.core.hub.library import list_models

        for model in list_models(self._paths):
            if wanted in (model.title.lower(), model.label.lower()):
                return model.path
        raise ApiModelNotFoundError(name or "(none)", [model_id for model_id, _ in listed])


class ApiService:
    """The endpoints, on a `RequestQueue` over the engine host."""

    def __init__(
        self,
        host: EngineHost,
        settings: ServerSettings,
        paths: AppPaths,
        *,
        served: Path | None = None,
        listener: RequestListener | None = None,
    ) -> None:
        self.settings = settings
        self.queue = RequestQueue(host, max_waiting=settings.max_waiting)
        self.models = ModelResolver(host, paths, served)
        self._listener = listener
        self._next_id = 0
        self._id_lock = threading.Lock()

    # --- the app ---------------------------------------------------------------------------------

    def app(self) -> ASGIApp:
        from starlette.applications import Starlette
        from starlette.routing import Route

        routes = [
            # A person who opens the URL in a browser learns it works, and what to do with it.
            Route("/", self._about, methods=["GET"]),
            Route("/v1", self._about, methods=["GET"]),
            Route("/v1/models", self._list_models, methods=["GET"]),
            Route(
                "/v1/chat/completions",
                self._endpoint(parse_chat_completion, self._chat),
                methods=["POST"],
            ),
            Route(
                "/v1/completions",
                self._endpoint(parse_completion, self._completion),
                methods=["POST"],
            ),
            Route("/v1/messages", self._endpoint(parse_message, self._message), methods=["POST"]),
        ]
        inner: ASGIApp = Starlette(routes=routes)
        if self.settings.cors_origins:
            from starlette.middleware.cors import CORSMiddleware

            inner = CORSMiddleware(
                inner,
                allow_origins=list(self.settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type", "x-api-key",
                               "anthropic-version"],
            )  # fmt: skip
        return Guard(
            inner,
            hosts=allowed_hosts(self.settings.host),
            api_key=self.settings.api_key,
            body_limit=self.settings.body_limit,
            refused=self._note_refused,
        )

    def _note_refused(self, method: str, path: str, error: ApiError) -> None:
        """A request the guard turned away (wrong key, foreign host, too large) is listed too:
        a person setting up a client sees why it fails. The path is the client's text."""
        record = self._new_record(method, printable(path))
        self._update(record, state="refused", status=error.status, error=str(error))

    async def _about(self, request: Request) -> Response:
        from starlette.responses import PlainTextResponse

        # The Host header's port is the client's text: one bounded line.
        base = printable(f"{request.url.scheme}://{request.url.netloc}")
        return PlainTextResponse(
            "Quantdesk's local API is running.\n"
            f"OpenAI clients: base URL {base}/v1\n"
            f"Anthropic clients: base URL {base}\n"
            f"The models it serves: {base}/v1/models\n"
        )

    async def _list_models(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        record = self._record(request)
        listed = await asyncio.to_thread(self.models.listed)
        data = [
            {"id": model_id, "object": "model", "created": 0, "owned_by": "quantdesk"}
            for model_id, _path in listed
        ]
        self._update(record, state="done")
        return JSONResponse({"object": "list", "data": data})

    def _endpoint(
        self,
        parse: Callable[[dict[str, Any]], ParsedRequest],
        handler: Callable[
            [Request, ParsedRequest, RequestRecord], Awaitable[Response | EventStream]
        ],
    ) -> Callable[[Request], Awaitable[Response | EventStream]]:
        """A POST endpoint: read and check the body, resolve the model, then `handler`; an
        `ApiError` anywhere is the client's error response."""

        async def endpoint(request: Request) -> Response | EventStream:
            record = self._record(request)
            try:
                body = await read_json(request, self.settings.body_limit)
                parsed = parse(body)
                record.model = parsed.model_name
                path = await asyncio.to_thread(self.models.resolve, parsed.model_name)
                record.model = path.name
                parsed = replace(parsed, spec=replace(parsed.spec, model=path))
                return await handler(request, parsed, record)
            except ApiError as error:
                self._update(record, state="refused", status=error.status, error=str(error))
                return error_response(request.url.path, error)

        return endpoint

    def _record(self, request: Request) -> RequestRecord:
        return self._new_record(request.method, request.url.path)

    def _new_record(self, method: str, path: str) -> RequestRecord:
        with self._id_lock:
            self._next_id += 1
            return RequestRecord(self._next_id, method, path)

    def _update(self, record: RequestRecord, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(record, key, value)
        if self._listener is not None:
            try:
                self._listener(record)
            except Exception:  # a listener's bug must not fail the request
                log.exception("API request listener failed")

    def _start(self, parsed: ParsedRequest, record: RequestRecord) -> Generation:
        """Queue the generation (raises `ApiBusyError` when the queue is full)."""
        generation = Generation(asyncio.get_running_loop())
        spec = replace(parsed.spec, history=self.settings.history)

        def run(session: EngineSession) -> None:
            run_on_engine(session, spec, generation.cancel, generation.emit)

        self.queue.submit(EngineJob(run, generation.cancel))
        self._update(record, state="queued")
        return generation

    async def _events(
        self, generation: Generation, record: RequestRecord
    ) -> AsyncIterator[Started | Piece | Finished]:
        """The generation's events until it ends; a failure before it starts is raised as the
        `ApiError` the client gets."""
        shown = began = time.monotonic()  # the last live update; when generation began
        while True:
            event = await generation.events.get()
            if isinstance(event, Failed):
                error = _as_api_error(event.error)
                self._update(record, state="failed", status=error.status, error=str(error))
                raise error
            if isinstance(event, Started):
                self._update(record, state="running", prompt_tokens=event.prompt_tokens)
                shown = began = time.monotonic()
            elif isinstance(event, Piece):
                record.completion_tokens = event.tokens
                if time.monotonic() - shown >= LIVE_UPDATE_SECONDS:  # the live list, throttled
                    shown = time.monotonic()
                    # Prompt processing included: a running figure, replaced by the engine's own.
                    self._update(record, tokens_per_second=event.tokens / (shown - began))
            elif isinstance(event, Finished):
                stats = event.stats
                # Before the event is handed on: a caller that stops at Finished still logs it.
                self._update(
                    record,
                    state="cancelled" if event.finish == "cancelled" else "done",
                    prompt_tokens=stats.prompt_tokens,
                    completion_tokens=stats.completion_tokens,
                    reasoning_tokens=event.reasoning_tokens,
                    tokens_per_second=stats.tokens_per_second,
                    seconds=time.time() - record.started,
                )
            yield event
            if isinstance(event, Finished):
                return

    async def _whole(
        self, request: Request, generation: Generation, record: RequestRecord
    ) -> tuple[Started, Finished]:
        """A non-streamed reply: wait for its end, stopping it if the client goes away."""
        watcher = asyncio.ensure_future(cancel_on_disconnect(request.receive, generation))
        started: Started | None = None
        try:
            async for event in self._events(generation, record):
                if isinstance(event, Started):
                    started = event
                elif isinstance(event, Finished):
                    assert started is not None, "Started comes first"
                    return started, event
        finally:
            watcher.cancel()
        raise AssertionError("a generation ends with Finished or Failed")

    async def _first(
        self, request: Request, generation: Generation, record: RequestRecord
    ) -> Started:
        """Wait until the generation starts (or fails: raised before any byte is sent, so the
        client gets a proper error status, not a broken stream); a client that leaves while it
        waits takes its request out of the queue."""
        watcher = asyncio.ensure_future(cancel_on_disconnect(request.receive, generation))
        try:
            async for event in self._events(generation, record):
                if isinstance(event, Started):
                    return event
        finally:
            watcher.cancel()
        raise AssertionError("Started comes first")

    # --- OpenAI ----------------------------------------------------------------------------------

    async def _chat(
        self, request: Request, parsed: ParsedRequest, record: RequestRecord
    ) -> Response | EventStream:
        from starlette.responses import JSONResponse

        generation = self._start(parsed, record)
        response_id = new_id("chatcmpl-")
        model_id = record.model
        if not parsed.stream:
            started, end = await self._whole(request, generation, record)
            body = chat_completion(response_id, model_id, end)
            return JSONResponse(_with_prompt(body, parsed, started))
        started = await self._first(request, generation, record)

        async def chunks() -> AsyncIterator[bytes]:
            yield sse(chat_chunk(response_id, model_id, {"role": "assistant", "content": ""}))
            async for event in self._events(generation, record):
                if isinstance(event, Piece):
                    key = "reasoning_content" if event.kind == REASONING else "content"
                    yield sse(chat_chunk(response_id, model_id, {key: event.text}))
                elif isinstance(event, Finished):
                    extra = _with_prompt({"timings": _timings(event)}, parsed, started)
                    yield sse(
                        chat_chunk(
                            response_id, model_id, {}, finish=openai_finish(event), extra=extra
                        )
                    )
                    if parsed.include_usage:
                        yield sse(
                            chat_chunk(response_id, model_id, None, usage=openai_usage(event))
                        )
            yield sse("[DONE]")

        return EventStream(chunks(), generation)

    async def _completion(
        self, request: Request, parsed: ParsedRequest, record: RequestRecord
    ) -> Response | EventStream:
        from starlette.responses import JSONResponse

        generation = self._start(parsed, record)
        response_id = new_id("cmpl-")
        model_id = record.model
        if not parsed.stream:
            started, end = await self._whole(request, generation, record)
            body = text_completion(
                response_id, model_id, end.reasoning + end.answer, openai_finish(end),
                usage=openai_usage(end), timings=_timings(end),
            )  # fmt: skip
            return JSONResponse(_with_prompt(body, parsed, started))
        started = await self._first(request, generation, record)

        async def chunks() -> AsyncIterator[bytes]:
            async for event in self._events(generation, record):
                if isinstance(event, Piece):
                    yield sse(text_completion(response_id, model_id, event.text, None))
                elif isinstance(event, Finished):
                    extra = _with_prompt({"timings": _timings(event)}, parsed, started)
                    if parsed.include_usage:
                        extra["usage"] = openai_usage(event)
                    yield sse(
                        text_completion(response_id, model_id, "", openai_finish(event), **extra)
                    )
            yield sse("[DONE]")

        return EventStream(chunks(), generation)

    # --- Anthropic -------------------------------------------------------------------------------

    async def _message(
        self, request: Request, parsed: ParsedRequest, record: RequestRecord
    ) -> Response | EventStream:
        from starlette.responses import JSONResponse

        generation = self._start(parsed, record)
        message_id = new_id("msg_")
        model_id = record.model
        if not parsed.stream:
            started, end = await self._whole(request, generation, record)
            body = anthropic_message(message_id, model_id, anthropic_content(end), end)
            body["timings"] = _timings(end)
            return JSONResponse(_with_prompt(body, parsed, started))
        started = await self._first(request, generation, record)

        async def events() -> AsyncIterator[bytes]:
            start = anthropic_message(message_id, model_id, [], None)
            start["usage"] = anthropic_usage(started.prompt_tokens, 0)
            yield sse({"type": "message_start", "message": start}, "message_start")
            index = -1
            open_kind: str | None = None
            async for event in self._events(generation, record):
                if isinstance(event, Piece):
                    if event.kind != open_kind:
                        if open_kind is not None:
                            yield block_stop(index)
                        index += 1
                        open_kind = event.kind
                        yield block_start(index, event.kind)
                    yield block_delta(index, event.kind, event.text)
                elif isinstance(event, Finished):
                    if open_kind is None:  # an empty answer is still one text block
                        index += 1
                        open_kind = "answer"
                        yield block_start(index, "answer")
                    if open_kind == REASONING:
                        yield block_stop(index)
                        index += 1
                        yield block_start(index, "answer")
                    yield block_stop(index)
                    delta = {
                        "type": "message_delta",
                        "delta": {
                            "stop_reason": anthropic_stop_reason(event),
                            "stop_sequence": event.stop_sequence,
                        },
                        "usage": {"output_tokens": event.stats.completion_tokens},
                    }
                    yield sse(delta, "message_delta")
                    yield sse({"type": "message_stop"}, "message_stop")

        return EventStream(events(), generation)


def _with_prompt(body: dict[str, Any], parsed: ParsedRequest, started: Started) -> dict[str, Any]:
    """`body` with the exact prompt text, when the request asked for it (`return_prompt`)."""
    if parsed.return_prompt:
        body["prompt"] = started.prompt
    return body


def _timings(end: Finished) -> dict[str, Any]:
    from app.core.api.generation import timings

    return timings(end.stats)


def _as_api_error(error: BaseException) -> ApiError:
    """What the client is told of an engine failure."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, ContextOverflowError):
        return ApiRequestError(str(error))
    if isinstance(error, QuantdeskError):
        failure = ApiError(str(error))
        failure.status = 500
        failure.kind = "api_error"
        return failure
    log.error("unexpected engine failure in an API request", exc_info=error)
    failure = ApiError(f"The engine failed: {type(error).__name__}. Details are in the log.")
    failure.status = 500
    failure.kind = "api_error"
    return failure


# --- the server thread ---------------------------------------------------------------------------


class ApiServer:
    """uvicorn serving an `ApiService` on its own thread; `stop()` ends it cleanly."""

    def __init__(self, service: ApiService) -> None:
        self.service = service
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        assert self._socket is not None, "start() first"
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = self.service.settings.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Listen and serve; returns once requests are answered.

        Raises:
            ApiBindError: the address can't be listened on (taken, not this computer's), or an
                address other than this computer's without an API key.
        """
        import uvicorn

        settings = self.service.settings
        check_bind(settings.host, settings.api_key)
        self._socket = _listen(settings.host, settings.port)
        config = uvicorn.Config(
            self.service.app(),
            log_config=None,
            access_log=False,
            # Named, not "auto": the bundle carries exactly these (installers/quantdesk.spec).
            http="h11",
            loop="asyncio",
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="api-server",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ApiBindError(f"The API server could not start on {settings.host}.")
            time.sleep(0.01)
        log.info("API server listening url=%s", self.url)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop answering, end open streams (their generations are cancelled), end the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._thread = None


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ApiBindError(
                f"Can't listen on {host}:{port}: another program already uses port {port}. "
                "Choose another port (0 picks any free one)."
            ) from exc
        raise ApiBindError(f"Can't listen on {host}:{port}: {exc.strerror or exc}.") from exc
    sock.set_inheritable(True)
    return sock
