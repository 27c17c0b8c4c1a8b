"""Reading a GGUF header on the Hub with HTTP range requests, before any download.

A server is not trusted: each range read holds at most the bytes it asked for (a 206 with no end,
or a 200 that ignores the range, is cut there), has a deadline, and the header may span at most
`MAX_HEADER_BYTES`. A header that can't be read is a `ModelHeaderError` naming the repo and file.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

from app.core.errors import ModelHeaderError
from app.core.gguf.header import GGUFHeader, read_header
from app.core.hub.client import METADATA_TIMEOUT, RemoteFile, fetch_bounded, hub_errors

# Headers are mostly tokenizer tables: 2-8 MB for 128k-150k vocabularies.
BLOCK_BYTES = 4 << 20
MAX_HEADER_BYTES = 64 << 20
# A range read may take METADATA_TIMEOUT, plus the time its bytes need at this slowest rate.
MIN_BYTES_PER_SECOND = 64 << 10


class _RangeReader:
    """A forward-only stream over a remote file, fetched in 4 MiB range requests as needed."""

    def __init__(self, remote: RemoteFile, token: str | None) -> None:
        self._remote = remote
        self._token = token
        self._buffer = bytearray()
        self._position = 0  # read position in _buffer
        self._fetched = 0

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        raise io.UnsupportedOperation("a remote header is read forward only")

    def read(self, size: int = -1) -> bytes:
        # A header is read in many tiny pieces (every token of a 50,000-token vocabulary): move a
        # position through the buffer instead of re-slicing megabytes on each read.
        limit = min(self._remote.size, MAX_HEADER_BYTES)
        while len(self._buffer) - self._position < size and self._fetched < limit:
            del self._buffer[: self._position]
            self._position = 0
            self._buffer += self._fetch(self._fetched, min(BLOCK_BYTES, limit - self._fetched))
        end = len(self._buffer) if size < 0 else self._position + size
        data = bytes(self._buffer[self._position : end])
        self._position += len(data)
        return data

    def _fetch(self, start: int, length: int) -> bytes:
        from huggingface_hub.utils import build_hf_headers

        end = start + length - 1
        headers = build_hf_headers(token=self._token) | {"Range": f"bytes={start}-{end}"}
        deadline = time.monotonic() + METADATA_TIMEOUT + length / MIN_BYTES_PER_SECOND
        with hub_errors(self._remote.repo_id, self._remote.path):
            # Read no more than asked: a 206 up to `length` bytes, however long it goes on; a
            # 200 (the range ignored) up to the range's end, then sliced.
            response = fetch_bounded(
                self._remote.url,
                headers=headers,
                deadline=deadline,
                max_bytes=length,
                whole_file_bytes=end + 1,
                truncate=True,
            )
        data = response.content
        if response.status_code == 200:  # the server ignored the range: keep only what we asked
            data = data[start : end + 1]
        self._fetched = start + len(data)
        if not data:
            self._fetched = self._remote.size
        return data


def read_remote_header(remote: RemoteFile, *, token: str | None = None) -> GGUFHeader:
    """The header of a GGUF file on the Hub, read with range requests (a few MB, no download).

    Raises:
        ModelHeaderError: the bytes are not a readable GGUF header (naming the repo and file).
        HubError and subclasses: the Hub refused or can't be reached.
    """
    try:
        return read_header(_RangeReader(remote, token), size=remote.size)
    except ModelHeaderError as exc:
        raise exc.located(repo_id=remote.repo_id, path=remote.path) from None


def read_header_local_or_remote(
    remote: RemoteFile, local: Path | None, *, token: str | None = None
) -> GGUFHeader:
    """Prefer the header of a local copy on disk; else read it remotely.

    Raises:
        ModelHeaderError: the header can't be read (naming the repo and file).
        HubError and subclasses: the Hub refused or can't be reached.
    """
    if local is not None and local.is_file() and local.stat().st_size == remote.size:
        with local.open("rb") as stream:
            try:
                return read_header(stream, size=remote.size)
            except ModelHeaderError as exc:
                raise exc.located(repo_id=remote.repo_id, path=remote.path) from None
    return read_remote_header(remote, token=token)


def read_remote_header_bytes(
    remote: RemoteFile, *, token: str | None = None
) -> tuple[GGUFHeader, bytes]:
    """The header of a remote file and its bytes up to the tensor data (alignment padding as
    zeros), from one series of range requests: what a sparse stub for llama.cpp's dry run holds.

    Raises:
        ModelHeaderError: the bytes are not a readable GGUF header (naming the repo and file).
        HubError and subclasses: the Hub refused or can't be reached.
    """
    recorder = _Recording(_RangeReader(remote, token))
    try:
        header = read_header(recorder, size=remote.size)
    except ModelHeaderError as exc:
        raise exc.located(repo_id=remote.repo_id, path=remote.path) from None
    return header, bytes(recorder.data[: header.data_offset]).ljust(header.data_offset, b"\0")


class _Recording:
    """A stream that keeps every byte read through it."""

    def __init__(self, stream: _RangeReader) -> None:
        self._stream = stream
        self.data = bytearray()

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0, /) -> int:
        raise io.UnsupportedOperation("a remote header is read forward only")

    def read(self, size: int = -1, /) -> bytes:
        piece = self._stream.read(size)
        self.data += piece
        return piece
