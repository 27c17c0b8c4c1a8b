"""What every request passes before it reaches an endpoint, and the refusals it can get.

Safe by default: the server listens on this computer only, unless an API key is set
(`check_bind`). `Guard` refuses a request whose Host header names neither the server nor this
computer (a web page can't reach it through DNS rebinding), one without the key, and one whose
declared body is over the limit; `read_json` keeps to the limit for a body of unknown length.
Every refusal is an `ApiError` answered in the shape the client's SDK reads (`error_response`).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
from typing import TYPE_CHECKING, Any

from app.core._util.text import printable
from app.core.api.protocol import error_body
from app.core.errors import (
    ApiAuthError,
    ApiBindError,
    ApiBodyTooLargeError,
    ApiError,
    ApiHostError,
    ApiRequestError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, api_key: str | None) -> None:
    """Raises `ApiBindError` when listening on `host` would open the model to the network
    without a key."""
    if not is_loopback(host) and not api_key:
        raise ApiBindError(
            f"Listening on {host} makes the model reachable from other computers: "
            "give an API key (--api-key KEY) to do that."
        )


def allowed_hosts(host: str) -> frozenset[str]:
    """The names a request's Host header may give: loopback names, the bound address, and when
    bound to every address, this computer's names and addresses."""
    names = set(LOOPBACK_NAMES) | {host.strip("[]").lower()}
    if host in ("0.0.0.0", "::", ""):
        names.add(socket.gethostname().lower())
        names.add(socket.getfqdn().lower())
        try:
            import psutil

            for addresses in psutil.net_if_addrs().values():
                names.update(a.address.split("%")[0].lower() for a in addresses if a.address)
        except Exception:  # noqa: BLE001 - without the list, only the names above pass
            log.warning("could not list this computer's addresses for the Host check")
    return frozenset(names)


def _host_name(header: str) -> str:
    """The name in a Host header, without its port ("[::1]:8080" -> "::1")."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Guard:
    """ASGI middleware run before anything else: Host check, API key, body size."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: frozenset[str],
        api_key: str | None,
        body_limit: int,
        refused: Callable[[str, str, ApiError], None] | None = None,
    ) -> None:
        """`refused(method, path, error)` hears of each request turned away here (for the
        list a person debugging a client looks at)."""
        self._app = app
        self._hosts = hosts
        self._api_key = api_key
        self._body_limit = body_limit
        self._refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        try:
            self._check(headers)
        except ApiError as error:
            if self._refused is not None:
                self._refused(scope["method"], scope["path"], error)
            await error_response(scope["path"], error)(scope, receive, send)
            return
        await self._app(scope, receive, send)

    def _check(self, headers: dict[str, str]) -> None:
        host = _host_name(headers.get("host", ""))
        if host not in self._hosts:
            raise ApiHostError(printable(host))  # the client's text: one bounded line
        key = self._api_key
        if key:
            given = headers.get("x-api-key") or ""
            authorization = headers.get("authorization", "")
            if authorization.lower().startswith("bearer "):
                given = authorization[7:].strip()
            if not hmac.compare_digest(given.encode(), key.encode()):
                raise ApiAuthError("A valid API key is required (Authorization: Bearer KEY).")
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._body_limit:
            raise ApiBodyTooLargeError(self._body_limit)


def error_response(path: str, error: ApiError) -> Response:
    """`error` as the client's SDK reads it (Anthropic's shape under /v1/messages), with
    Retry-After when it says when to come back."""
    from starlette.responses import JSONResponse

    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    anthropic = path.startswith("/v1/messages")
    return JSONResponse(error_body(error, anthropic=anthropic), error.status, headers=headers)


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The request's JSON object, read up to `limit` bytes.

    Raises:
        ApiBodyTooLargeError: the body is longer than `limit` (also without a Content-Length).
        ApiRequestError: it is not a JSON object.
    """
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiBodyTooLargeError(limit)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiRequestError(f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ApiRequestError("The request body must be a JSON object.")
    return data
