"""Hugging Face: repo listings and file facts through `huggingface_hub`, errors made plain.

This is the only module that converts `huggingface_hub` and HTTP errors into ours
(`hub_errors`, `search_errors`), always `raise ... from exc`, with a message that says what to do
next. It is also the only one that names `huggingface_hub`'s HTTP transport (`httpx2` today, a
dependency of `huggingface_hub`, not ours): `transport_errors` and `http_timeout` hand it to the
callers that use `get_session()` directly. The byte transfer itself is `download.py`'s:
`huggingface_hub` 2.x restarts a killed download from zero.

Tokens: `huggingface_hub.get_token()` — `HF_TOKEN`, else the token `hf auth login` stored.

A server is not trusted to behave: every metadata call has an overall deadline
(`METADATA_TIMEOUT`, however slowly the bytes trickle), a listing has at most `MAX_LISTING_PAGES`
pages and `MAX_LISTING_BYTES` of JSON, and a reply is read only up to the bytes asked for
(`fetch_bounded`). The client's environment (telemetry off, its state under our cache folder) is
set when this module is imported, before `huggingface_hub` is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.core._util.text import printable
from app.core.errors import (
    GatedModelError,
    HubError,
    ModelNotFoundError,
    OfflineError,
    QuantdeskError,
    RateLimitedError,
)
from app.core.gguf.quants import parse_quant, shard_info
from app.core.paths import hub_client_environment, hub_endpoint

log = logging.getLogger(__name__)

# Seconds a metadata call may take in all (a whole listing, every page), however the bytes come.
METADATA_TIMEOUT = 20.0
# Seconds to connect. A connection over any working link takes well under a second; one that
# takes longer is a network that is down or a firewall that drops packets, and the person
# should hear that at once (issue 15: "offline errors appear within 3 s, not 25").
CONNECT_TIMEOUT = 2.5
# Seconds a model search may take in all: the Hub answers one in well under a second, and a
# person waits on it. It is asked once (no retries): pressing Enter again is the retry.
SEARCH_TIMEOUT = 2.5
# A search answer: 30 short entries are a few kB.
MAX_SEARCH_BYTES = 4 << 20
# A repo's file listing: the Hub sends 1,000 entries a page; 100 pages is a 100,000-file repo.
MAX_LISTING_PAGES = 100
# A 10,000-file listing is about 3 MB of JSON.
MAX_LISTING_BYTES = 32 << 20
# A listing page that met a 429, a 5xx or a dropped connection is tried this many more times
# (within METADATA_TIMEOUT), waiting LISTING_BACKOFF s, then twice that; a server's Retry-After
# is followed up to RETRY_AFTER_CAP s.
LISTING_RETRIES = 2
LISTING_BACKOFF = 0.5
RETRY_AFTER_CAP = 5.0
# An error reply is read this far, for its message.
MAX_ERROR_BYTES = 64 << 10


def _configure_hub_client() -> None:
    """Set `huggingface_hub`'s environment before it is imported (see `paths`); calling it again
    changes nothing (the token path, once set, stays)."""
    os.environ.update(hub_client_environment())


_configure_hub_client()


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repo on the Hub, with what a verified download needs."""

    repo_id: str
    path: str
    size: int
    sha256: str | None  # LFS files only
    revision: str = "main"

    @property
    def url(self) -> str:
        from huggingface_hub import hf_hub_url

        return hf_hub_url(self.repo_id, self.path, revision=self.revision, endpoint=hub_endpoint())

    @property
    def quant(self) -> str | None:
        return parse_quant(self.path)


def _route_hub_logs_to_ours() -> None:
    """`huggingface_hub` prints its own warnings (retries) to stderr; send them to our log."""
    hub_logger = logging.getLogger("huggingface_hub")
    for handler in list(hub_logger.handlers):
        hub_logger.removeHandler(handler)
    hub_logger.propagate = True


def hub_token() -> str | None:
    """The token to send: the one saved in Settings (OS keychain), else `HF_TOKEN`, else the
    one stored by `hf auth login`, else None. Never logged."""
    from app.core.config.secrets import load_token

    token = load_token()
    if token:
        return token
    from huggingface_hub import get_token

    return get_token()


def list_repo_files(
    repo_id: str, *, revision: str = "main", token: str | None = None
) -> list[RemoteFile]:
    """Every file of `repo_id` (folders walked), with sizes and LFS sha256.

    Raises:
        ModelNotFoundError, GatedModelError, OfflineError, RateLimitedError, HubError.
    """
    from urllib.parse import quote

    from huggingface_hub.hf_api import RepoFile
    from huggingface_hub.utils import build_hf_headers

    _route_hub_logs_to_ours()
    headers = build_hf_headers(token=token or hub_token())
    url: str | None = (
        f"{hub_endpoint()}/api/models/{repo_id}/tree/{quote(revision, safe='')}"
        "?recursive=true&expand=false"
    )
    deadline = time.monotonic() + METADATA_TIMEOUT
    files: list[RemoteFile] = []
    pages = listed = 0
    with hub_errors(repo_id):
        while url is not None:
            pages += 1
            if pages > MAX_LISTING_PAGES:
                raise HubError(
                    f"Hugging Face's file list for {printable(repo_id)} goes on for over "
                    f"{MAX_LISTING_PAGES} pages; the server is misbehaving.",
                    repo_id=repo_id,
                )
            response = _fetch_listing_page(url, headers, deadline, MAX_LISTING_BYTES - listed)
            listed += len(response.content)
            for entry in response.json():
                if entry.get("type") == "file":
                    item = RepoFile(**entry)
                    sha256 = item.lfs.sha256 if item.lfs else None
                    files.append(RemoteFile(repo_id, item.path, item.size, sha256, revision))
            url = response.links.get("next", {}).get("url")
    return files


def _fetch_listing_page(url: str, headers: dict[str, str], deadline: float, max_bytes: int) -> Any:
    """One page of a listing, tried again after a busy (429) or failing (5xx) server or a dropped
    connection, as huggingface_hub's own listing does, but never past the listing's deadline."""
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    for attempt in range(LISTING_RETRIES + 1):
        try:
            return fetch_bounded(url, headers=headers, deadline=deadline, max_bytes=max_bytes)
        except (HfHubHTTPError, httpx2.TransportError) as exc:
            if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
                raise  # no server there (offline): trying again only delays saying so
            response = getattr(exc, "response", None)
            status = response.status_code if response is not None else None
            retryable = status is None or status == 429 or status >= 500
            wait = _retry_wait(response, attempt)
            if not retryable or attempt == LISTING_RETRIES or time.monotonic() + wait >= deadline:
                raise
            log.info("listing page failed (%s); trying again in %.1f s", status or exc, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises


def _retry_wait(response: Any, attempt: int) -> float:
    """Seconds before trying again: the server's Retry-After when it gives one (capped), else
    a doubling backoff."""
    header = response.headers.get("Retry-After") if response is not None else None
    if header and header.strip().isdigit():
        return min(float(header), RETRY_AFTER_CAP)
    return LISTING_BACKOFF * (2**attempt)


class _ReplyTooLong(Exception):
    """The server sent more than the bytes asked for."""


class _DeadlinePassed(Exception):
    """The call took longer than its deadline."""


def fetch_bounded(
    url: str,
    *,
    headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    whole_file_bytes: int | None = None,
    truncate: bool = False,
) -> Any:
    """GET `url` and read at most `max_bytes` of its body before `deadline` (`time.monotonic()`).

    Whatever the server does (never answers, trickles a byte at a time, sends without end), this
    returns or raises by the deadline, holding at most `max_bytes`. With `truncate`, a longer body
    is cut at `max_bytes` (a range read that got more than it asked for); without, it is an error.
    `whole_file_bytes`: the limit instead when a range request is answered 200 (the whole file).

    Returns:
        An `httpx2.Response` whose `content` is the bytes read (status checked: 2xx only).

    Raises:
        httpx2 and huggingface_hub errors, `_DeadlinePassed`, `_ReplyTooLong` (longer than
        `max_bytes` without `truncate`): call it inside `hub_errors`, which translates them all.
    """
    import httpx2
    from huggingface_hub import get_session
    from huggingface_hub.utils import hf_raise_for_status

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _DeadlinePassed
    timeout = httpx2.Timeout(remaining, connect=min(remaining, CONNECT_TIMEOUT))
    body = bytearray()
    with get_session().stream("GET", url, headers=headers, timeout=timeout) as response:
        # Per-read timeouts can't bound a trickle: shut the socket at the deadline instead.
        shutdown = socket_shutdown(response)
        watchdog = threading.Timer(max(deadline - time.monotonic(), 0), shutdown or _nothing)
        watchdog.daemon = True
        watchdog.start()
        try:
            limit = max_bytes
            if response.status_code == 200 and whole_file_bytes is not None:
                limit = whole_file_bytes
            elif response.status_code >= 400:
                limit = MAX_ERROR_BYTES
            for chunk in response.iter_bytes():
                if time.monotonic() >= deadline:
                    raise _DeadlinePassed
                body += chunk
                if len(body) > limit:
                    if truncate or response.status_code >= 400:
                        del body[limit:]
                        break
                    raise _ReplyTooLong
        except httpx2.TransportError:
            if time.monotonic() >= deadline:
                raise _DeadlinePassed from None
            raise
        finally:
            watchdog.cancel()
        headers_read = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        read = httpx2.Response(
            response.status_code,
            headers=headers_read,
            content=bytes(body),
            request=response.request,
        )
    hf_raise_for_status(read)
    return read


def _nothing() -> None:
    pass


def socket_shutdown(response: object) -> Callable[[], None] | None:
    """A callable that shuts the response's socket down, waking a blocked read at once."""
    stream = getattr(response, "extensions", {}).get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is None:
        return None

    def shutdown() -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    return shutdown


def select_files(
    files: list[RemoteFile], *, quant: str | None = None, filename: str | None = None
) -> list[RemoteFile]:
    """The files to download for one choice: a file (all shards if it is one), or a quant.

    Raises:
        ModelNotFoundError: nothing matches, or the quant matches several different files.
    """
    ggufs = [f for f in files if f.path.lower().endswith(".gguf")]
    repo_id = files[0].repo_id if files else "?"
    shown_repo = printable(repo_id)  # names from the listing and the person: escaped, clipped
    if filename is not None:
        chosen = [f for f in files if f.path == filename]
        if not chosen:
            raise ModelNotFoundError(
                f"{shown_repo} has no file '{printable(filename)}'.", repo_id=repo_id
            )
        info = shard_info(filename)
        if info:
            chosen = [f for f in ggufs if (other := shard_info(f.path)) and other.stem == info.stem]
        return sorted(chosen, key=lambda f: f.path)
    assert quant is not None, "give quant or filename"
    # The same canonical name as the files' own (`fp16` -> F16), or the text as typed.
    wanted = parse_quant(quant) or quant.upper()
    matching = [f for f in ggufs if f.quant == wanted]
    groups = {(shard.stem if (shard := shard_info(f.path)) else f.path) for f in matching}
    shown_quant = printable(wanted, 40)
    if not matching:
        known = sorted({f.quant or "unknown" for f in ggufs})
        raise ModelNotFoundError(
            f"{shown_repo} has no {shown_quant} file. "
            f"Available: {printable(', '.join(known), 400) or 'no GGUF files'}.",
            repo_id=repo_id,
        )
    if len(groups) > 1:
        names = printable(", ".join(printable(group, 80) for group in sorted(groups)), 400)
        raise ModelNotFoundError(
            f"{shown_repo} has several {shown_quant} files ({names}); pick one with --file.",
            repo_id=repo_id,
        )
    return sorted(matching, key=lambda f: f.path)


def transport_errors() -> tuple[type[Exception], ...]:
    """What `huggingface_hub`'s HTTP session raises for a refused, dropped or stalled connection
    (for `except transport_errors() as exc:` around `get_session()` calls)."""
    import httpx2

    return (httpx2.TransportError,)


def http_timeout(seconds: float, *, connect: float) -> Any:
    """A timeout for `get_session()` calls: `seconds` without a byte, `connect` to connect."""
    import httpx2

    return httpx2.Timeout(seconds, connect=connect)


def search_models(query: str, *, model_filter: str, limit: int) -> list[dict[str, Any]]:
    """The Hub's model search (`/api/models`), most downloaded first: one request, answered
    within SEARCH_TIMEOUT or not at all, read up to MAX_SEARCH_BYTES. Each entry is the Hub's
    JSON object for a model (its `id`, `downloads`…); entries that aren't objects are dropped.

    (huggingface_hub's `list_models` tries a refused connection five times over 24 s: a
    person waiting on a search box hears that the Hub is unreachable at once instead.)

    Raises:
        OfflineError: the Hub can't be reached, or didn't answer in time.
        HubError, RateLimitedError: other Hub failures (worded as the search failing).
    """
    from urllib.parse import urlencode

    from huggingface_hub.utils import build_hf_headers

    _route_hub_logs_to_ours()
    params = {"search": query, "filter": model_filter, "sort": "downloads", "direction": -1,
              "limit": limit}  # fmt: skip
    url = f"{hub_endpoint()}/api/models?{urlencode(params)}"
    with search_errors(query):
        response = fetch_bounded(
            url,
            headers=build_hf_headers(token=hub_token()),
            deadline=time.monotonic() + SEARCH_TIMEOUT,
            max_bytes=MAX_SEARCH_BYTES,
        )
        found = response.json()
        if not isinstance(found, list):
            raise HubError(f"Hugging Face's answer to the search for “{query}” isn't a list.")
    return [entry for entry in found if isinstance(entry, dict)]


@contextlib.contextmanager
def search_errors(query: str) -> Iterator[None]:
    """Like `hub_errors`, for a model search: there is no repo to blame, so a refusal is worded
    as the search failing, never as "‹query› doesn't exist"."""
    try:
        yield
    except Exception as exc:  # translated below or re-raised unchanged
        translated = translate_error(exc, query, seconds=SEARCH_TIMEOUT)
        if translated is None:
            raise
        if isinstance(translated, ModelNotFoundError):
            status = _status(exc)
            translated = HubError(
                f"Searching Hugging Face for “{query}” failed"
                + (f" (it answered {status})" if status else "")
                + ". Try again later; if you set HF_ENDPOINT or a token, check them."
            )
        else:
            translated.repo_id = None
        raise translated from exc


@contextlib.contextmanager
def hub_errors(repo_id: str, filename: str | None = None) -> Iterator[None]:
    """Turn `huggingface_hub`/HTTP failures inside the block into Quantdesk errors."""
    try:
        yield
    except Exception as exc:  # translated below or re-raised unchanged
        translated = translate_error(exc, repo_id, filename)
        if translated is None:
            raise
        raise translated from exc


def translate_error(
    exc: BaseException, repo_id: str, filename: str | None = None, *, seconds: float | None = None
) -> HubError | None:
    """Our error for a `huggingface_hub` or HTTP failure, or None if it is one of ours already.

    `seconds`: the call's deadline, for the "didn't answer within" message (METADATA_TIMEOUT
    unless given).

    Anything else the client raises (a reply it couldn't parse, a bug of its own) becomes a
    `HubError` too: a server's answer must never surface as an AttributeError.
    """
    import httpx2
    from huggingface_hub import errors as hf

    if isinstance(exc, QuantdeskError):
        return None
    what = printable(f"{repo_id}/{filename}" if filename else repo_id)
    shown_repo = printable(repo_id)
    if isinstance(exc, hf.GatedRepoError) or _status(exc) in (401, 403):
        return GatedModelError(
            f"{shown_repo} is gated or private: accept its license on huggingface.co, then add a "
            "Hugging Face token (Settings, or set HF_TOKEN, or run `hf auth login`).",
            repo_id=repo_id,
        )
    if isinstance(exc, hf.RepositoryNotFoundError):
        return ModelNotFoundError(
            f"{shown_repo} doesn't exist on Hugging Face. Check the name.", repo_id=repo_id
        )
    if isinstance(exc, hf.RevisionNotFoundError):
        return ModelNotFoundError(f"{shown_repo} has no such revision.", repo_id=repo_id)
    if isinstance(exc, hf.EntryNotFoundError) or _status(exc) == 404:
        return ModelNotFoundError(f"{what} doesn't exist on Hugging Face.", repo_id=repo_id)
    if _status(exc) == 429:
        retry_after = _retry_after(exc)
        return RateLimitedError(
            f"Hugging Face is limiting requests; try again in {retry_after:.0f} s.",
            repo_id=repo_id,
            retry_after=retry_after,
        )
    if isinstance(exc, hf.OfflineModeIsEnabled):
        return OfflineError(
            "Offline mode is on (HF_HUB_OFFLINE): Hugging Face isn't contacted.", repo_id=repo_id
        )
    if isinstance(exc, _DeadlinePassed | httpx2.TimeoutException):
        return OfflineError(
            f"Hugging Face ({hub_endpoint()}) didn't answer about {what} within "
            f"{seconds or METADATA_TIMEOUT:g} s; check your connection and try again.",
            repo_id=repo_id,
        )
    if isinstance(exc, transport_errors()):
        return OfflineError(
            f"Can't reach Hugging Face ({hub_endpoint()}): check your internet connection.",
            repo_id=repo_id,
        )
    if isinstance(exc, hf.HfHubHTTPError):
        return HubError(
            f"Hugging Face answered an error for {what}: {exc.response.status_code}.",
            repo_id=repo_id,
        )
    if isinstance(exc, _ReplyTooLong):
        return HubError(
            f"Hugging Face's answer about {what} is far longer than any real one; the server is "
            "misbehaving.",
            repo_id=repo_id,
        )
    return HubError(
        f"Hugging Face's answer about {what} couldn't be read ({type(exc).__name__}). Try again "
        "later.",
        repo_id=repo_id,
    )


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(exc: BaseException) -> float:
    response = getattr(exc, "response", None)
    if response is None:
        return 1.0
    try:
        return float(response.headers.get("Retry-After", 1))
    except (AttributeError, TypeError, ValueError):
        return 1.0
