"""Streamed responses: server-sent events that stop their generation when the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from app.core.api.generation import Generation
from app.core.api.protocol import error_body, sse
from app.core.errors import ApiError

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send


async def cancel_on_disconnect(receive: Receive, generation: Generation) -> None:
    """Cancel `generation` as soon as the client disconnects."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            generation.cancel.cancel()
            return


class EventStream:
    """A streamed response of server-sent events that stops its generation when the client
    goes away: a task listens for the disconnect while the events are sent, so a client that
    leaves between tokens is heard at once, not at the next write."""

    def __init__(self, body: AsyncIterator[bytes], generation: Generation) -> None:
        self._body = body
        self._generation = generation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        watcher = asyncio.ensure_future(cancel_on_disconnect(receive, self._generation))
        try:
            async for chunk in self._body:
                # Events already waiting go out in the same write.
                batch = [chunk]
                while not self._generation.events.empty():
                    try:
                        batch.append(await self._body.__anext__())
                    except StopAsyncIteration:
                        break
                body = b"".join(batch)
                await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away
            self._generation.cancel.cancel()
        except ApiError as error:  # the engine failed mid-stream: say so, then end the stream
            self._generation.cancel.cancel()
            anthropic = scope["path"].startswith("/v1/messages")
            event = sse(error_body(error, anthropic=anthropic), "error" if anthropic else None)
            with contextlib.suppress(OSError):  # and the client went away too
                await send({"type": "http.response.body", "body": event, "more_body": False})
        finally:
            watcher.cancel()
            await _close(self._body)


async def _close(body: AsyncIterator[bytes]) -> None:
    close = getattr(body, "aclose", None)
    if close is not None:
        await close()
