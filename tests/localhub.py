"""A local stand-in for the Hugging Face Hub's HTTP API, for the real `huggingface_hub` client.

Plain HTTP on 127.0.0.1 (standard library server, one daemon thread per connection), no Xet:
no `X-Xet-*` headers or `xetHash` fields are ever sent, so `huggingface_hub` (even with `hf_xet`
installed) downloads over plain HTTP.

Pointing the client at it: pass `endpoint=hub.url` (`HfApi(endpoint=...)`, `hf_hub_download(...,
endpoint=...)`, `hf_hub_url(..., endpoint=...)`), or for Quantdesk code set the environment
(`monkeypatch.setenv("HF_ENDPOINT", hub.url)`): `app.core.paths.hub_endpoint()` reads it per
call. Do not monkeypatch `huggingface_hub.constants.ENDPOINT`: the download URL template is built
from it at import time, so patching it alone leaves `hf_hub_url` pointing at huggingface.co.

Endpoints (as huggingface_hub 2.4.0 calls them):
  GET  /api/models?search=&author=&filter=&library=&limit=&full=    list_models (one page)
  GET  /api/models/{repo}[/revision/{rev}][?blobs=true]             model_info (files_metadata)
  GET  /api/models/{repo}/tree/{rev}[/{path}]?recursive=&expand=    list_repo_tree (one page)
  HEAD|GET /{repo}/resolve/{rev}/{path}   small files: served here (ETag = git blob sha1);
        LFS files (*.gguf, or >= 1 MB): 302 to /cdn-lfs/{repo}/{sha256}/{path}, with
        X-Repo-Commit, X-Linked-Etag, X-Linked-Size, ETag = '"<sha256>"'.
  HEAD|GET /cdn-lfs/...   the bytes: Content-Length, Accept-Ranges, ETag, `Range: bytes=a-`,
        `bytes=a-b`, `bytes=-n` (206 + Content-Range; 416 when unsatisfiable). Unlike a real CDN it
        also sends X-Repo-Commit: the CDN is on the Hub's own origin, so the client follows the
        HEAD redirect to it (it stops at the 302 only for another host) and reads the commit there.
Revisions: "main" or the repo's commit (`sha`, fixed per repo). Errors carry `X-Error-Code`
(RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), `X-Error-Message` and a JSON body
{"error": ...}, which `hf_raise_for_status` turns into RepositoryNotFoundError,
RevisionNotFoundError, RemoteEntryNotFoundError (an EntryNotFoundError) and GatedRepoError.
A gated repo answers 401 GatedRepo to every API/resolve request without its bearer token
(`gate_api=False`: only /resolve is gated, like the real Hub); /cdn-lfs is never gated.

Faults (`inject`), each matching request using one of `times` (None: forever):
  DROP         send `after_bytes` of a file body, then close the connection (a FIN, so the client
               sees httpx2.RemoteProtocolError, which `http_get` retries).
  SLOW         send file bodies at about `bytes_per_second`.
  STALL        send `after_bytes` of a file body, then nothing, holding the connection open until
               the client hangs up or the hub stops (a link gone silent: only a read timeout or a
               socket shutdown ends the client's read).
  WRONG_BYTES  flip every body byte from body offset `after_bytes` on (same length, wrong sha256).
  STATUS       answer with `status` (a 429 adds Retry-After: `retry_after`) instead.
  IGNORE_RANGE answer a GET that asks for a Range with 200 and the whole file (old proxies do).
  SHORT        send only `after_bytes` of a file body, with a Content-Length that says so: a clean,
               complete-looking short reply (with IGNORE_RANGE: a restart from zero every time).
  ENDLESS      a body that never ends (no Content-Length, closed only by the client): a file's
               bytes then filler, a 206 included; for the API, a JSON listing that never closes.
  SILENT       accept the request and never answer (until the hub stops).
  SELF_LINK    a file-tree listing whose `Link: rel="next"` names itself: endless pagination.
  JSON         answer an API GET (any path, "/api/agent-harnesses" too) with 200 and `body`.
`path` matches request paths ending with it ("x.gguf", "Q8_0/x.gguf", or "org/repo" for the API);
DROP/SLOW/STALL/WRONG_BYTES are used only by responses that send file bytes (GET, not HEAD or a 302).

What huggingface_hub 2.4.0 does with faults (worth knowing when choosing `times`):
model_info makes one request, no retry. list_models/list_repo_tree retry 408/429/5xx up to 5
times, sleeping Retry-After + 1 s. hf_hub_download repeats a failed HEAD once itself (with
retries), and its GET retries 408/429 and resumes after a DROP after 1 s, but only from a
multiple of its 10 MiB read size (a drop under 10 MiB restarts from byte 0). It never checks
the sha256 of what it downloaded.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import itertools
import json
import re
import select
import socket
import socketserver
import struct
import sys
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

CHUNK = 64 * 1024
LFS_MIN_SIZE = 1_000_000  # files this big (or *.gguf) are LFS files
DATE = "2025-06-20T12:00:00.000Z"
_FLIP = bytes(i ^ 0xFF for i in range(256))
_FILLER = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(CHUNK // 32))
_SHA256 = re.compile(r"[0-9a-f]{64}")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_SHA_CACHE: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256, across hubs
_SHA_LOCK = threading.Lock()


class Fault(enum.Enum):
    DROP = "drop"
    SLOW = "slow"
    STALL = "stall"
    WRONG_BYTES = "wrong"
    STATUS = "status"
    IGNORE_RANGE = "ignore_range"  # answer a Range GET with 200 and the whole file
    SHORT = "short"  # a clean reply with only `after_bytes` of the body
    ENDLESS = "endless"  # a body that never ends
    SILENT = "silent"  # never answer
    SELF_LINK = "self_link"  # a listing whose next page is itself
    JSON = "json"  # answer with `body`


BODY_FAULTS = (Fault.DROP, Fault.SLOW, Fault.STALL, Fault.WRONG_BYTES)
# Filler for an endless JSON listing: one well-formed entry after another.
_ENTRY = b'{"type":"file","oid":"0","size":1,"path":"x.bin"},'


@dataclass
class _Rule:
    fault: Fault
    path: str | None
    remaining: int | None
    after_bytes: int
    bytes_per_second: int
    status: int
    retry_after: int
    body: Any = None

    def matches(self, url_path: str) -> bool:
        if self.path is None:
            return True
        suffix = self.path.strip("/")
        return url_path.strip("/") == suffix or url_path.endswith("/" + suffix)


@dataclass
class _File:
    path: str
    size: int
    blob_id: str  # git oid: of the content, or of the LFS pointer
    sha256: str | None = None  # LFS files only
    data: bytes | Path | None = None  # None: `header` then deterministic filler
    header: bytes = b""

    def chunks(self, start: int, end: int, size: int) -> Iterator[bytes]:
        """The bytes [start, end) in pieces of at most `size`."""
        with contextlib.ExitStack() as stack:
            stream = (
                stack.enter_context(self.data.open("rb")) if isinstance(self.data, Path) else None
            )
            if stream is not None:
                stream.seek(start)
            for offset in range(start, end, size):
                count = min(size, end - offset)
                if stream is not None:
                    yield stream.read(count)
                elif isinstance(self.data, bytes):
                    yield self.data[offset : offset + count]
                else:
                    yield _synthetic(self.header, offset, count)


@dataclass
class _Repo:
    repo_id: str
    files: dict[str, _File]
    gated: bool = False
    token: str | None = None
    gate_api: bool = True

    @property
    def sha(self) -> str:
        return hashlib.sha1(f"localhub:{self.repo_id}".encode()).hexdigest()


class _HubError(Exception):
    def __init__(
        self, status: int, code: str | None, message: str, commit: str | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.commit = status, code, message, commit


def _synthetic(header: bytes, offset: int, count: int) -> bytes:
    """Bytes [offset, offset+count) of `header` followed by filler that repeats every CHUNK."""
    head = header[offset : offset + count]
    start, count = offset + len(head), count - len(head)
    turn = start % CHUNK
    rotated = _FILLER[turn:] + _FILLER[:turn]
    return head + (rotated * (count // CHUNK + 1))[:count]


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


def _lfs_file(path: str, size: int, sha256: str, **content: Any) -> _File:
    return _File(path, size, _git_blob_sha1(_pointer(sha256, size)), sha256, **content)


def _file_sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _SHA_LOCK:
        if key not in _SHA_CACHE:
            digest = hashlib.sha256()
            with path.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
            _SHA_CACHE[key] = digest.hexdigest()
        return _SHA_CACHE[key]


def _make_file(path: str, content: bytes | Path) -> _File:
    size = content.stat().st_size if isinstance(content, Path) else len(content)
    if path.endswith(".gguf") or size >= LFS_MIN_SIZE:
        path_sha = _file_sha256(content) if isinstance(content, Path) else None
        return _lfs_file(path, size, path_sha or hashlib.sha256(content).hexdigest(), data=content)
    raw = content.read_bytes() if isinstance(content, Path) else content
    return _File(path, size, _git_blob_sha1(raw), data=content)


class LocalHub:
    """The local Hub. `start()` it, add repos, point the client at `url`, `stop()` it.

    `requests` holds (method, unquoted URL path without the query, Range header or None) for
    every request; `bytes_sent` maps a file's path in its repo (all repos together) to the body
    bytes sent for it. Also a context manager: `with LocalHub() as hub:` starts and stops it.
    """

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[tuple[str, str, str | None]] = []
        self.authorizations: list[str | None] = []  # each request's Authorization header
        self.bytes_sent: dict[str, int] = {}
        self.errors: list[str] = []  # unexpected exceptions inside the server, for debugging
        self._repos: dict[str, _Repo] = {}
        self._faults: list[_Rule] = []
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalHub:
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.hub = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # end keep-alive connections too: the server is gone
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> LocalHub:
        return self if self._server else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes | Path],
        *,
        gated: bool = False,
        token: str | None = None,
        gate_api: bool = True,
    ) -> None:
        """A model repo. Gated with `token=None`: any bearer token opens it."""
        entries = {path: _make_file(path, content) for path, content in files.items()}
        with self._lock:
            self._repos[repo_id] = _Repo(repo_id, entries, gated, token, gate_api)

    def add_listing_repo(self, repo_id: str, files: dict[str, tuple[int, bytes]]) -> None:
        """Files of a declared size: `header` then deterministic filler, made on the fly.

        Their sha256 is a fake (sha256 of "repo_id/path"): nobody downloads them whole.
        """
        entries = {
            path: _lfs_file(
                path, size, hashlib.sha256(f"{repo_id}/{path}".encode()).hexdigest(), header=header
            )
            for path, (size, header) in files.items()
        }
        with self._lock:
            self._repos[repo_id] = _Repo(repo_id, entries)

    def inject(
        self,
        fault: Fault,
        *,
        path: str | None = None,
        times: int | None = 1,
        after_bytes: int = 0,
        bytes_per_second: int = 0,
        status: int = 0,
        retry_after: int = 1,
        body: Any = None,
    ) -> None:
        if fault is Fault.SLOW and bytes_per_second <= 0:
            raise ValueError("SLOW needs bytes_per_second > 0")
        if fault is Fault.STATUS and status < 100:
            raise ValueError("STATUS needs an HTTP status")
        rule = _Rule(fault, path, times, after_bytes, bytes_per_second, status, retry_after, body)
        with self._lock:
            self._faults.append(rule)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- used by the request handler -------------------------------------------------------

    def _record(
        self, method: str, path: str, range_header: str | None, authorization: str | None = None
    ) -> None:
        with self._lock:
            self.requests.append((method, path, range_header))
            self.authorizations.append(authorization)

    def _count_sent(self, path: str, count: int) -> None:
        with self._lock:
            self.bytes_sent[path] = self.bytes_sent.get(path, 0) + count

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            (self._conns.add if alive else self._conns.discard)(conn)

    def _take_faults(self, url_path: str, kinds: tuple[Fault, ...]) -> dict[Fault, _Rule]:
        """The first matching rule of each kind, each using up one of its `times`."""
        taken: dict[Fault, _Rule] = {}
        with self._lock:
            for rule in list(self._faults):
                if rule.fault in kinds and rule.fault not in taken and rule.matches(url_path):
                    taken[rule.fault] = rule
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._faults.remove(rule)
        return taken

    def _repo(self, repo_id: str) -> _Repo:
        with self._lock:
            repo = self._repos.get(repo_id)
        if repo is None:
            raise _HubError(404, "RepoNotFound", "Repository not found")
        return repo

    def _find_repo(self, segments: list[str]) -> tuple[_Repo, list[str]]:
        """Split API path segments into a known repo and the rest."""
        for count in (2, 1):
            with self._lock:
                repo = self._repos.get("/".join(segments[:count]))
            if repo is not None and len(segments) >= count:
                return repo, segments[count:]
        raise _HubError(404, "RepoNotFound", "Repository not found")

    def _list_models(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        search = (query.get("search") or [""])[0].lower()
        author = (query.get("author") or [None])[0]
        wanted = set(query.get("filter", []) + query.get("library", []))
        limit = int((query.get("limit") or ["1000"])[0])
        full = _flag(query, "full")
        with self._lock:
            repos = sorted(self._repos.values(), key=lambda repo: repo.repo_id)
        found = [
            _model_info(repo, blobs=False, short=not full)
            for repo in repos
            if search in repo.repo_id.lower()
            and author in (None, repo.repo_id.split("/")[0])
            and wanted <= {*_TAGS, "gguf"}
        ]
        return found[:limit]


_TAGS = ["gguf", "text-generation", "endpoints_compatible"]


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or ["false"])[0].lower() in ("true", "1")


def _check_revision(repo: _Repo, revision: str) -> None:
    if revision not in ("main", repo.sha):
        raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")


def _model_info(repo: _Repo, *, blobs: bool, short: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {
        "_id": repo.sha[:24],
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "private": False,
        "downloads": 0,
        "likes": 0,
        "tags": list(_TAGS),
        "pipeline_tag": "text-generation",
        "library_name": "gguf",
        "createdAt": DATE,
    }
    if short:
        return info
    files = sorted(repo.files.values(), key=lambda f: f.path)
    return info | {
        "author": repo.repo_id.split("/")[0],
        "sha": repo.sha,
        "lastModified": DATE,
        "gated": "auto" if repo.gated else False,
        "disabled": False,
        "siblings": [_sibling(f, blobs) for f in files],
        "spaces": [],
        "usedStorage": sum(f.size for f in files),
    }


def _sibling(f: _File, blobs: bool) -> dict[str, Any]:
    if not blobs:
        return {"rfilename": f.path}
    entry: dict[str, Any] = {"rfilename": f.path, "size": f.size, "blobId": f.blob_id}
    if f.sha256:
        pointer_size = len(_pointer(f.sha256, f.size))
        entry["lfs"] = {"sha256": f.sha256, "size": f.size, "pointerSize": pointer_size}
    return entry


def _tree(repo: _Repo, folder: str, *, recursive: bool, expand: bool) -> list[dict[str, Any]]:
    """Entries under `folder` ("" = root): folders first, then files, by path."""
    prefix = f"{folder}/" if folder else ""
    paths = [p for p in repo.files if p.startswith(prefix)]
    if folder and not paths:
        raise _HubError(404, "EntryNotFound", f"{folder} does not exist on main", repo.sha)
    dirs, files = set(), []
    for path in paths:
        parts = path[len(prefix) :].split("/")
        for depth in range(1, len(parts) if recursive else min(2, len(parts))):
            dirs.add(prefix + "/".join(parts[:depth]))
        if recursive or len(parts) == 1:
            files.append(path)
    extra = {"lastCommit": {"id": repo.sha, "title": "Upload", "date": DATE}} if expand else {}
    entries = [
        {"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
        | extra
        for d in sorted(dirs)
    ]
    return entries + [_tree_file(repo.files[p], expand) | extra for p in sorted(files)]


def _tree_file(f: _File, expand: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "oid": f.blob_id, "size": f.size, "path": f.path}
    if f.sha256:
        pointer_size = len(_pointer(f.sha256, f.size))
        entry["lfs"] = {"oid": f.sha256, "size": f.size, "pointerSize": pointer_size}
    if expand:
        scan = {"status": "safe", "avScan": {"virusFound": False, "virusNames": None}}
        entry["securityFileStatus"] = scan | {"pickleImportScan": None}
    return entry


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) asked for by a Range header; None: the whole file. 416 if unsatisfiable."""
    match = _RANGE.fullmatch((header or "").strip())
    if not match or not (match[1] or match[2]):
        return None
    if not match[1]:  # suffix: the last n bytes
        start, end = max(0, size - int(match[2])), size
        if int(match[2]) == 0:
            raise _HubError(416, None, "Requested Range Not Satisfiable")
    else:
        start = int(match[1])
        end = min(size, int(match[2]) + 1) if match[2] else size
        if match[2] and int(match[2]) < start:
            return None  # invalid: ignored, per RFC 9110
    if start >= size:
        raise _HubError(416, None, "Requested Range Not Satisfiable")
    return start, end


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: LocalHub

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn() (a DNS lookup)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            self.hub.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - no access log
        pass

    def setup(self) -> None:
        super().setup()
        self.server.hub._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.hub._track(self.connection, False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    @property
    def hub(self) -> LocalHub:
        return self.server.hub

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path, query = unquote(url.path), parse_qs(url.query)
        self.hub._record(
            self.command, path, self.headers.get("Range"), self.headers.get("Authorization")
        )
        early = self.hub._take_faults(path, (Fault.STATUS, Fault.SILENT, Fault.JSON))
        rule = early.get(Fault.STATUS)
        try:
            if Fault.SILENT in early:
                self.hub._stopping.wait()
                self.close_connection = True
            elif rule is not None:
                self._status_fault(rule)
            elif Fault.JSON in early:
                self._send_json(early[Fault.JSON].body)
            elif path == "/api/models":
                self._send_json(self.hub._list_models(query))
            elif path.startswith("/api/models/"):
                self._api(path[len("/api/models/") :].split("/"), query)
            elif path.startswith("/cdn-lfs/"):
                self._cdn(path)
            elif "/resolve/" in path:
                self._resolve(path)
            else:
                raise _HubError(404, None, "Not Found")
        except _HubError as error:
            self._send_error(error)

    def _status_fault(self, rule: _Rule) -> None:
        headers = {"Retry-After": str(rule.retry_after)} if rule.status == 429 else {}
        self._send_json({"error": f"Injected HTTP {rule.status}"}, rule.status, headers)

    def _check_access(self, repo: _Repo, *, api: bool) -> None:
        if not repo.gated or (api and not repo.gate_api):
            return
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and repo.token in (None, auth[len("Bearer ") :]):
            return
        message = (
            f"Access to model {repo.repo_id} is restricted and you are not in the authorized list. "
            f"Visit {self.hub.url}/{repo.repo_id} to ask for access."
            if auth
            else f"Access to model {repo.repo_id} is restricted. You must have access to it and "
            "be authenticated to access it. Please log in."
        )
        raise _HubError(401, "GatedRepo", message)

    def _api(self, segments: list[str], query: dict[str, list[str]]) -> None:
        repo, rest = self.hub._find_repo(segments)
        self._check_access(repo, api=True)
        if not rest or (rest[0] == "revision" and len(rest) == 2):
            if rest:
                _check_revision(repo, rest[1])
            self._send_json(_model_info(repo, blobs=_flag(query, "blobs")))
        elif rest[0] == "tree" and len(rest) >= 2:
            _check_revision(repo, rest[1])
            recursive, expand = _flag(query, "recursive"), _flag(query, "expand")
            folder = "/".join(rest[2:]).strip("/")
            tree = _tree(repo, folder, recursive=recursive, expand=expand)
            url_path = unquote(urlsplit(self.path).path)
            faults = self.hub._take_faults(url_path, (Fault.SELF_LINK, Fault.ENDLESS))
            if Fault.ENDLESS in faults:
                self._send_endless_listing()
                return
            link = f'<{self.hub.url}{self.path}>; rel="next"'
            self._send_json(tree, headers={"Link": link} if Fault.SELF_LINK in faults else None)
        else:
            raise _HubError(404, None, "Not Found")

    def _resolve(self, path: str) -> None:
        repo_id, _, rest = path.strip("/").partition("/resolve/")
        repo = self.hub._repo(repo_id)
        self._check_access(repo, api=False)
        revision, _, file_path = rest.partition("/")
        _check_revision(repo, revision)
        f = repo.files.get(file_path)
        if f is None:
            raise _HubError(404, "EntryNotFound", "Entry not found", repo.sha)
        headers = {"X-Repo-Commit": repo.sha}
        if f.sha256 is None:
            self._send_file(f, path, headers | {"ETag": f'"{f.blob_id}"'})
            return
        location = f"{self.hub.url}/cdn-lfs/{repo.repo_id}/{f.sha256}/{quote(f.path)}"
        body = f"Found. Redirecting to {location}".encode()
        headers |= self._lfs_headers(f) | {"Location": location, "Content-Type": "text/plain"}
        self._start(302, len(body), headers)
        if self.command == "GET":
            self.wfile.write(body)

    def _cdn(self, path: str) -> None:
        segments = path.split("/")[2:]
        index = next((i for i, s in enumerate(segments) if _SHA256.fullmatch(s)), None)
        if index is None:
            raise _HubError(404, None, "NoSuchKey")
        repo = self.hub._repo("/".join(segments[:index]))
        f = repo.files.get("/".join(segments[index + 1 :]))
        if f is None or f.sha256 != segments[index]:
            raise _HubError(404, None, "NoSuchKey")
        name = quote(f.path.rsplit("/", 1)[-1])
        disposition = f"inline; filename*=UTF-8''{name}; filename=\"{name}\";"
        headers = self._lfs_headers(f) | {"Content-Disposition": disposition}
        self._send_file(f, path, headers | {"X-Repo-Commit": repo.sha})

    @staticmethod
    def _lfs_headers(f: _File) -> dict[str, str]:
        etag = f'"{f.sha256}"'
        return {"ETag": etag, "X-Linked-Etag": etag, "X-Linked-Size": str(f.size)}

    def _send_file(self, f: _File, url_path: str, headers: dict[str, str]) -> None:
        asked = self.headers.get("Range")
        ignore = bool(asked) and self.command == "GET"
        ignore = ignore and bool(self.hub._take_faults(url_path, (Fault.IGNORE_RANGE,)))
        span = None if ignore else _byte_range(asked, f.size)
        start, end = span or (0, f.size)
        headers = headers | {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if span is not None:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{f.size}"
        shape = (
            self.hub._take_faults(url_path, (Fault.SHORT, Fault.ENDLESS))
            if self.command == "GET"
            else {}
        )
        if Fault.ENDLESS in shape:
            self._send_endless_file(f, start, 206 if span else 200, headers)
            return
        if Fault.SHORT in shape:
            end = min(end, start + shape[Fault.SHORT].after_bytes)
        self._start(206 if span else 200, end - start, headers)
        if self.command == "GET":
            self._stream(f, start, end, self.hub._take_faults(url_path, BODY_FAULTS))

    def _send_endless_file(
        self, f: _File, start: int, status: int, headers: dict[str, str]
    ) -> None:
        """The file's bytes from `start`, then filler, until the client goes away."""
        self.close_connection = True
        self.send_response(status)
        for name, value in (headers | {"Connection": "close"}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.closing(f.chunks(start, f.size, CHUNK)) as chunks:
            pieces = itertools.chain(chunks, itertools.repeat(_FILLER))
            self._write_until_gone(pieces, f.path)

    def _send_endless_listing(self) -> None:
        """A JSON array that never closes: entry after entry, until the client goes away."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self._write_until_gone(itertools.chain([b"["], itertools.repeat(_ENTRY * 100)), None)

    def _write_until_gone(self, pieces: Iterator[bytes], counted: str | None) -> None:
        for data in pieces:
            if self.hub._stopping.is_set():
                break
            try:
                self.wfile.write(data)
            except OSError:  # the client went away: the only way this body ends
                return
            if counted is not None:
                self.hub._count_sent(counted, len(data))
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _stream(self, f: _File, start: int, end: int, faults: dict[Fault, _Rule]) -> None:
        drop, slow, stall, wrong = (faults.get(kind) for kind in BODY_FAULTS)
        stop = end
        for ending in (drop, stall):
            if ending is not None:
                stop = min(stop, start + ending.after_bytes)
        rate = slow.bytes_per_second if slow else 0
        size = min(CHUNK, max(1, rate // 20)) if rate else CHUNK
        sent = 0
        with contextlib.closing(f.chunks(start, stop, size)) as chunks:
            for data in chunks:
                if wrong is not None:
                    cut = max(0, wrong.after_bytes - sent)
                    data = data[:cut] + data[cut:].translate(_FLIP)
                try:
                    self.wfile.write(data)
                except OSError:  # the client went away
                    self.close_connection = True
                    return
                self.hub._count_sent(f.path, len(data))
                sent += len(data)
                if rate and self.hub._stopping.wait(len(data) / rate):
                    break
        if stall is not None:
            self._stay_silent()
        if drop is not None or stall is not None or self.hub._stopping.is_set():
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    def _stay_silent(self) -> None:
        """Send nothing until the client hangs up (it sends nothing while it reads a body, so a
        readable socket means end of stream) or the hub stops."""
        while not self.hub._stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                return

    def _start(self, status: int, length: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send_json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(data).encode()
        self._start(status, len(body), {"Content-Type": "application/json"} | (headers or {}))
        if self.command == "GET":
            self.wfile.write(body)

    def _send_error(self, error: _HubError) -> None:
        headers = {"X-Error-Message": error.message}
        if error.code:
            headers["X-Error-Code"] = error.code
        if error.commit:
            headers["X-Repo-Commit"] = error.commit
        self._send_json({"error": error.message}, error.status, headers)


# -- GGUF headers and the seed repos ---------------------------------------------------------


def gguf_header(
    arch: str,
    *,
    name: str,
    block_count: int,
    context_length: int,
    embedding_length: int,
    head_count: int,
    head_count_kv: int,
    file_type: int,
    chat_template: str | None,
    key_length: int | None = None,
    vocab_size: int | None = None,
) -> bytes:
    """A GGUF v3 header with metadata only (no tensors), padded to the 32-byte alignment.

    `key_length` (also written as value_length) and `vocab_size` are written when given, as
    llama.cpp's converter does for models whose head size isn't embedding / heads.
    """
    u32 = {
        "general.file_type": file_type,
        f"{arch}.block_count": block_count,
        f"{arch}.context_length": context_length,
        f"{arch}.embedding_length": embedding_length,
        f"{arch}.attention.head_count": head_count,
        f"{arch}.attention.head_count_kv": head_count_kv,
    }
    if key_length is not None:
        u32[f"{arch}.attention.key_length"] = key_length
        u32[f"{arch}.attention.value_length"] = key_length
    if vocab_size is not None:
        u32[f"{arch}.vocab_size"] = vocab_size
    strings = {"general.architecture": arch, "general.name": name}
    if chat_template is not None:
        strings["tokenizer.chat_template"] = chat_template
    out = bytearray(b"GGUF" + _pack("<IQQ", 3, 0, len(u32) + len(strings)))
    for key, text in strings.items():
        out += _gguf_string(key) + _pack("<I", 8) + _gguf_string(text)
    for key, number in u32.items():
        out += _gguf_string(key) + _pack("<II", 4, number)
    return bytes(out) + b"\0" * (-len(out) % 32)


def _pack(fmt: str, *values: int) -> bytes:
    return struct.pack(fmt, *values)


def _gguf_string(text: str) -> bytes:
    data = text.encode()
    return _pack("<Q", len(data)) + data


_TEMPLATES = Path(__file__).parent / "fixtures" / "templates"

# repo -> (file name prefix, arch, general.name, (layers, hidden, heads, kv heads, context),
#          chat template file or None, [(quant as in the file name, size in bytes)])
_GB, _MIB = 10**9, 2**20
_SHAPE_ARGS = (
    "block_count", "embedding_length", "head_count", "head_count_kv", "context_length",
    "key_length", "vocab_size",
)  # fmt: skip
# (layers, embedding, heads, kv heads, context, head size, vocab). The 4B models are width-pruned
# Llama 3.1 8B: 3072 wide but head size 128 (the "kv_channels" of seed 004's Transformers PR).
_NANO4B = (32, 3072, 32, 8, 131072, 128, 128256)  # Llama-3.1-Nemotron-Nano-4B-v1.1 config.json
_NANO8B = (32, 4096, 32, 8, 131072, 128, 128256)  # Llama 3.1 8B
_ACE7B = (28, 3584, 28, 4, 131072, 128, 152064)  # Qwen2.5-Math-7B based
SEEDS: dict[str, tuple[str, str, str, tuple[int, ...], str | None, list[tuple[str, int]]]] = {
    # 000_c9f880c9b9d4ba25.txt. The card's table drops the "nvidia_" prefix; its download
    # commands (and the repo) name files "nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-Q4_K_M.gguf".
    "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF": (
        "nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1", "llama", "Llama 3.1 Nemotron Nano 4B v1.1",
        _NANO4B, "nemotron_llama31.jinja",
        [(q, round(gb * _GB)) for q, gb in [
            ("bf16", 9.03), ("Q8_0", 4.80), ("Q6_K_L", 3.90), ("Q6_K", 3.71), ("Q5_K_L", 3.47),
            ("Q5_K_M", 3.23), ("Q5_K_S", 3.16), ("Q4_K_L", 3.07), ("Q4_1", 2.91),
            ("Q3_K_XL", 2.81), ("Q4_K_M", 2.78), ("Q4_K_S", 2.66), ("Q4_0", 2.66),
            ("IQ4_NL", 2.66), ("IQ4_XS", 2.54), ("Q3_K_L", 2.46), ("Q3_K_M", 2.30),
            ("Q2_K_L", 2.22), ("IQ3_M", 2.18), ("Q3_K_S", 2.10), ("IQ3_XS", 2.03),
            ("IQ3_XXS", 1.88), ("Q2_K", 1.84), ("IQ2_M", 1.72),
        ]],
    ),
    # 001_63260c6d010c6088.txt (003 is the same card in Chinese). The card names its files but
    # gives no sizes: these are estimates from Llama-3.1-8B quants of the same kind
    # (q4_k / q6_k keep Q8_0 embeddings, so they are sized like bartowski's Q4_K_L / Q6_K_L).
    "Mungert/Llama-3.1-Nemotron-Nano-8B-v1-GGUF": (
        "Llama-3.1-Nemotron-Nano-8B-v1", "llama", "Llama 3.1 Nemotron Nano 8B v1",
        _NANO8B, "nemotron_llama31.jinja",
        [(q, round(gb * _GB)) for q, gb in [
            ("bf16", 16.07), ("f16", 16.07), ("bf16-q8_0", 9.52), ("f16-q8_0", 9.52),
            ("q4_k", 5.31), ("q4_k_s", 4.69), ("q6_k", 6.85), ("q8_0", 8.54),
            ("iq3_xs", 3.52), ("iq3_m", 3.78), ("q4_0", 4.66),
        ]],
    ),
    # 002_4b79dfd7794f36c1.txt (its links show the real "nvidia_" file names).
    "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF": (
        "nvidia_AceReason-Nemotron-1.1-7B", "qwen2", "AceReason Nemotron 1.1 7B",
        _ACE7B, "chatml_think.jinja",
        [(q, round(gb * _GB)) for q, gb in [
            ("bf16", 15.24), ("Q8_0", 8.10), ("Q6_K_L", 6.52), ("Q6_K", 6.25), ("Q5_K_L", 5.78),
            ("Q5_K_M", 5.44), ("Q5_K_S", 5.32), ("Q4_K_L", 5.09), ("Q4_1", 4.87),
            ("Q4_K_M", 4.68), ("Q3_K_XL", 4.57), ("Q4_K_S", 4.46), ("Q4_0", 4.44),
            ("IQ4_NL", 4.44), ("IQ4_XS", 4.22), ("Q3_K_L", 4.09), ("Q3_K_M", 3.81),
            ("IQ3_M", 3.57), ("Q2_K_L", 3.55), ("Q3_K_S", 3.49), ("IQ3_XS", 3.35),
            ("IQ3_XXS", 3.11), ("Q2_K", 3.02), ("IQ2_M", 2.78),
        ]],
    ),
    # 004_4970001965120dda.txt: a perplexity table with sizes in "MB" that are MiB (F16 8616 MiB
    # = 4.51B params x 2 bytes). The card names no files: assumed "{model}-{QUANT}.gguf", the
    # uploader's usual naming. A base model: no chat template.
    "ThomasBaruzier/Llama-3.1-Minitron-4B-Width-Base-GGUF": (
        "Llama-3.1-Minitron-4B-Width-Base", "llama", "Llama 3.1 Minitron 4B Width Base",
        _NANO4B, None,
        [(q, mib * _MIB) for q, mib in [
            ("IQ1_S", 1158), ("IQ1_M", 1227), ("IQ2_XXS", 1343), ("IQ2_XS", 1448),
            ("IQ2_S", 1551), ("IQ2_M", 1643), ("Q2_K_S", 1654), ("Q2_K", 1755),
            ("IQ3_XXS", 1794), ("IQ3_XS", 1934), ("Q3_K_S", 2005), ("IQ3_S", 2017),
            ("IQ3_M", 2083), ("Q3_K_M", 2191), ("Q3_K_L", 2351), ("IQ4_XS", 2419),
            ("Q4_0", 2533), ("IQ4_NL", 2538), ("Q4_K_S", 2541), ("Q4_K_M", 2650),
            ("Q4_1", 2772), ("Q5_K_S", 3017), ("Q5_0", 3024), ("Q5_K_M", 3081),
            ("Q5_1", 3263), ("Q6_K", 3539), ("Q8_0", 4581), ("F16", 8616),
        ]],
    ),
}  # fmt: skip
# No seed card lists split files (every "Split" column says false), so there are none here.

# Quants whose llama.cpp file type is another's: _L/_XL keep Q8_0 embed/output weights,
# Mungert's "q4_k"/"q6_k" likewise, "bf16-q8_0" keeps BF16 ones.
_FILE_TYPE_OF = {
    "Q6_K_L": "Q6_K", "Q5_K_L": "Q5_K_M", "Q4_K_L": "Q4_K_M", "Q3_K_XL": "Q3_K_L",
    "Q2_K_L": "Q2_K", "Q4_K": "Q4_K_M", "BF16-Q8_0": "Q8_0", "F16-Q8_0": "Q8_0",
}  # fmt: skip


def file_type(quant: str) -> int:
    """llama.cpp's `general.file_type` for a quant name as written in a file name."""
    from gguf import LlamaFileType

    name = _FILE_TYPE_OF.get(quant.upper(), quant.upper())
    return int(LlamaFileType[f"MOSTLY_{name}"])


def seed_repos() -> dict[str, dict[str, tuple[int, bytes]]]:
    """The four seed repos: {repo: {file: (declared size, GGUF header)}}, for add_listing_repo."""
    repos: dict[str, dict[str, tuple[int, bytes]]] = {}
    for repo_id, (prefix, arch, name, shape, template, quants) in SEEDS.items():
        chat = (_TEMPLATES / template).read_text(encoding="utf-8") if template else None
        shape_args = dict(zip(_SHAPE_ARGS, shape, strict=True))
        repos[repo_id] = {
            f"{prefix}-{quant}.gguf": (
                size,
                gguf_header(
                    arch, name=name, file_type=file_type(quant), chat_template=chat, **shape_args
                ),
            )
            for quant, size in quants
        }
    return repos
