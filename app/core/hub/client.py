"""Hugging Face: repo listings and file facts through `huggingface_hub`, errors made plain.

This is the only module that converts `huggingface_hub` and HTTP errors into ours
(`hub_errors`, `search_errors`), always `raise ... from exc`, with a message that says what to do
next. It is also the only one that names `huggingface_hub`'s HTTP transport (`httpx2` today, a
dependency of `huggingface_hub`, not ours): `transport_errors` and `http_timeout` hand it to the
callers that use `get_session()` directly. The byte transfer itself is `download.py`'s:
`huggingface_hub` 2.x restarts a killed download from zero.

Tokens: `huggingface_hub.get_token()` — `HF_TOKEN`, else the token `hf auth login` stored.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from app.core.errors import (
    GatedModelError,
    HubError,
    ModelNotFoundError,
    OfflineError,
    RateLimitedError,
)
from app.core.gguf.quants import parse_quant, shard_info
from app.core.paths import hub_endpoint

log = logging.getLogger(__name__)

# Seconds to wait for Hugging Face to answer a metadata call.
METADATA_TIMEOUT = 20


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
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    _route_hub_logs_to_ours()
    api = HfApi(endpoint=hub_endpoint(), token=token or hub_token())
    with hub_errors(repo_id):
        entries = list(api.list_repo_tree(repo_id, revision=revision, recursive=True))
    return [
        RemoteFile(
            repo_id, entry.path, entry.size, entry.lfs.sha256 if entry.lfs else None, revision
        )
        for entry in entries
        if isinstance(entry, RepoFile)
    ]


def select_files(
    files: list[RemoteFile], *, quant: str | None = None, filename: str | None = None
) -> list[RemoteFile]:
    """The files to download for one choice: a file (all shards if it is one), or a quant.

    Raises:
        ModelNotFoundError: nothing matches, or the quant matches several different files.
    """
    ggufs = [f for f in files if f.path.lower().endswith(".gguf")]
    repo_id = files[0].repo_id if files else "?"
    if filename is not None:
        chosen = [f for f in files if f.path == filename]
        if not chosen:
            raise ModelNotFoundError(f"{repo_id} has no file {filename!r}.", repo_id=repo_id)
        info = shard_info(filename)
        if info:
            chosen = [f for f in ggufs if (other := shard_info(f.path)) and other.stem == info.stem]
        return sorted(chosen, key=lambda f: f.path)
    assert quant is not None, "give quant or filename"
    matching = [f for f in ggufs if f.quant == quant.upper()]
    groups = {(shard_info(f.path).stem if shard_info(f.path) else f.path) for f in matching}
    if not matching:
        known = sorted({f.quant or "unknown" for f in ggufs})
        raise ModelNotFoundError(
            f"{repo_id} has no {quant.upper()} file. Available: {', '.join(known) or 'no GGUF files'}.",
            repo_id=repo_id,
        )
    if len(groups) > 1:
        names = ", ".join(sorted(groups))
        raise ModelNotFoundError(
            f"{repo_id} has several {quant.upper()} files ({names}); pick one with --file.",
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


@contextlib.contextmanager
def search_errors(query: str) -> Iterator[None]:
    """Like `hub_errors`, for a model search: there is no repo to blame, so a refusal is worded
    as the search failing, never as "‹query› doesn't exist"."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - translated below or re-raised unchanged
        translated = translate_error(exc, query)
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
    except Exception as exc:  # noqa: BLE001 - translated below or re-raised unchanged
        translated = translate_error(exc, repo_id, filename)
        if translated is None:
            raise
        raise translated from exc


def translate_error(
    exc: BaseException, repo_id: str, filename: str | None = None
) -> HubError | None:
    """Our error for a `huggingface_hub` or HTTP failure, or None if it isn't one."""
    from huggingface_hub import errors as hf

    what = f"{repo_id}/{filename}" if filename else repo_id
    if isinstance(exc, hf.GatedRepoError) or _status(exc) in (401, 403):
        return GatedModelError(
            f"{repo_id} is gated or private: accept its license on huggingface.co, then add a "
            "Hugging Face token (Settings, or set HF_TOKEN, or run `hf auth login`).",
            repo_id=repo_id,
        )
    if isinstance(exc, hf.RepositoryNotFoundError):
        return ModelNotFoundError(
            f"{repo_id} doesn't exist on Hugging Face. Check the name.", repo_id=repo_id
        )
    if isinstance(exc, hf.RevisionNotFoundError):
        return ModelNotFoundError(f"{repo_id} has no such revision.", repo_id=repo_id)
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
    return None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(exc: BaseException) -> float:
    response = getattr(exc, "response", None)
    try:
        return float(response.headers.get("Retry-After", 1))  # type: ignore[union-attr]
    except (AttributeError, TypeError, ValueError):
        return 1.0
