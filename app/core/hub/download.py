"""Resumable, verified downloads of Hub files into the model library.

Why not `hf_hub_download`: in `huggingface_hub` 2.x every process writes to its own temporary
file, so after a crash or `kill -9` the next run starts again from byte 0 and the old partial
file stays on disk. A 40 GB model on a flaky link needs better. So `huggingface_hub` gives us
the URLs, token headers and HTTP session, and this module owns the byte transfer:

- one stable partial file per file, named by its sha256 (see `library.py` for the tree), with a
  JSON sidecar; a later run (or process) resumes it with an HTTP Range request;
- a dropped or stalled connection is retried with backoff and resumed; the retry budget refills
  when an attempt brings bytes; a connection slower than `MIN_BYTES_PER_SECOND` over
  `STALL_SECONDS` counts as stalled (a byte every few seconds never trips a read timeout);
- a server that ignores Range makes us start over cleanly, and that restart is a failed attempt
  (with backoff): a server that keeps doing it ends the download instead of looping forever;
- nothing past the listed size is written: a longer body is a failed attempt, and the listed
  bytes are kept only when their sha256 can prove them;
- the sha256 is computed while writing (the partial bytes are re-hashed on resume), and a file
  becomes visible as a model only after size and sha256 match, by an atomic rename;
- pause, resume and cancel come from any thread through `DownloadControl` and take effect at the
  next chunk (64 KiB); cancel deletes the partial file, pause keeps it;
- free space is checked first, and a full disk mid-way stops with `DiskFullError`, keeping the
  bytes so far. 401, 403 and 404 are never retried; 429 waits as long as the server asks.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from app.core._util.enums import TextEnum
from app.core._util.files import FileLock, free_bytes, write_json_atomic
from app.core._util.units import format_bytes, format_seconds
from app.core.errors import (
    ChecksumMismatchError,
    DiskFullError,
    DownloadCancelledError,
    DownloadError,
    DownloadInterruptedError,
    GatedModelError,
    ModelNotFoundError,
    RateLimitedError,
)
from app.core.hub.client import (
    RemoteFile,
    http_timeout,
    hub_errors,
    socket_shutdown,
    transport_errors,
)
from app.core.hub.library import PartialFiles, partial_dir, safe_model_path

log = logging.getLogger(__name__)

HASH_BLOCK_BYTES = 1 << 20
# Waits between attempts after a dropped connection; tests shrink them.
BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
# A connection that delivers nothing for this long counts as dropped, and so does one that brings
# fewer than MIN_BYTES_PER_SECOND on average over this long.
STALL_SECONDS = 30.0
MIN_BYTES_PER_SECOND = 1024
CONNECT_SECONDS = 15.0
PROGRESS_EVERY_SECONDS = 0.1
SPEED_WINDOW_SECONDS = 5.0
# Room left on the disk after a download, for the OS and the chat database.
DISK_MARGIN_BYTES = 100_000_000

ProgressCallback = Callable[["DownloadProgress"], None]


class DownloadState(TextEnum):
    """What a download is doing now."""

    DOWNLOADING = "downloading"
    CHECKING = "checking"  # hashing the bytes kept from an earlier try before resuming
    RETRYING = "retrying"  # the connection dropped; waiting to resume
    PAUSED = "paused"
    VERIFYING = "verifying"  # all bytes here; checking the sha256


@dataclass(frozen=True)
class DownloadProgress:
    """Where a download stands, for a progress bar.

    `speed` is bytes/s averaged over the last few seconds; `eta_seconds` is None when unknown
    (just started, stalled, paused); `state` is one of `DownloadState`'s five.
    """

    filename: str
    bytes_done: int
    total_bytes: int
    speed: float | None
    eta_seconds: float | None
    state: DownloadState = DownloadState.DOWNLOADING

    @property
    def fraction(self) -> float:
        return self.bytes_done / self.total_bytes if self.total_bytes else 1.0


@dataclass(frozen=True)
class DownloadResult:
    repo_id: str
    files: list[str]
    paths: list[Path]
    size_bytes: int
    sha256_verified: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "repo": self.repo_id,
            "files": self.files,
            "paths": [str(p) for p in self.paths],
            "size_bytes": self.size_bytes,
            "sha256_verified": self.sha256_verified,
        }


class DownloadControl:
    """Pause, resume and cancel a download from any thread."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._paused = False
        self._cancelled = False
        self.keep_partial = False
        self._interrupt: Callable[[], None] | None = None

    def set_interrupt(self, interrupt: Callable[[], None] | None) -> None:
        """What to call to wake a transfer blocked on the network (shut its socket down)."""
        with self._condition:
            self._interrupt = interrupt

    def _stop_transfer(self) -> None:
        # Called with the condition held: a read blocked on a stalled link returns at once.
        if self._interrupt is not None:
            with contextlib.suppress(OSError):
                self._interrupt()

    def pause(self) -> None:
        with self._condition:
            self._paused = True
            self._stop_transfer()
            self._condition.notify_all()

    def resume(self) -> None:
        with self._condition:
            self._paused = False
            self._condition.notify_all()

    def cancel(self, *, keep_partial: bool = False) -> None:
        """End the download at the next chunk; the partial file is deleted unless `keep_partial`
        (closing the app keeps it so the next run resumes)."""
        with self._condition:
            self._cancelled = True
            self.keep_partial = keep_partial
            self._stop_transfer()
            self._condition.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def should_stop_transfer(self) -> bool:
        return self._paused or self._cancelled

    def wait_while_paused(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: not self._paused or self._cancelled)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once on cancel or pause."""
        with self._condition:
            self._condition.wait_for(lambda: self._cancelled or self._paused, timeout=seconds)


def download(
    files: list[RemoteFile],
    models_dir: Path,
    *,
    token: str | bool | None = None,
    control: DownloadControl | None = None,
    on_progress: ProgressCallback | None = None,
) -> DownloadResult:
    """Download `files` (one model: a file or all shards of one) into the models tree.

    `token`: a Hugging Face token; None sends the one stored on this machine, False none
    (files that aren't on the Hub).

    Returns:
        Where the verified files now are.

    Raises:
        UnsafePathError: a name would leave the models folder (checked before any byte).
        DiskFullError: not enough free space (checked first, and on ENOSPC mid-way).
        GatedModelError, ModelNotFoundError: 401/403, 404 (never retried).
        ChecksumMismatchError: the bytes don't match the Hub's sha256 (bad copy deleted).
        DownloadInterruptedError: the connection kept failing (partial file kept to resume).
        DownloadCancelledError: `control.cancel()` was called (partial file deleted unless
            `keep_partial`).
    """
    if not files:
        raise DownloadError("Nothing to download.")
    control = control or DownloadControl()
    targets = [safe_model_path(models_dir, f.repo_id, f.path) for f in files]
    partials = partial_dir(models_dir)
    partials.mkdir(parents=True, exist_ok=True)
    cleanup_stale_partials(models_dir)
    _check_free_space(files, targets, partials)
    meter = _ProgressMeter(sum(f.size for f in files), on_progress)
    verified = True
    for remote, target in zip(files, targets, strict=True):
        if already_downloaded(target, remote.size):
            log.info("already downloaded path=%s", target)
            meter.finish_file(remote.size)
            verified = False  # placed by an earlier run; its size matches, not re-hashed now
            continue
        verified &= _FileDownload(remote, target, models_dir, token, control, meter).run()
    return DownloadResult(
        repo_id=files[0].repo_id,
        files=[f.path for f in files],
        paths=targets,
        size_bytes=sum(f.size for f in files),
        sha256_verified=verified,
    )


def already_downloaded(target: Path, size: int) -> bool:
    """The file is in place at its listed size (verified when it arrived; the downloader
    writes it there only after its checksum matched)."""
    return target.is_file() and target.stat().st_size == size


def describe_progress(progress: DownloadProgress) -> str:
    """ "41.0 MiB of 93.8 MiB · 12.5 MiB/s · 5.0 s left"; speed and ETA "—" when unknown."""
    head = f"{format_bytes(progress.bytes_done)} of {format_bytes(progress.total_bytes)}"
    states = {
        DownloadState.PAUSED: "paused",
        DownloadState.RETRYING: "connection lost, retrying…",
        DownloadState.VERIFYING: "verifying…",
        DownloadState.CHECKING: "checking the bytes kept from last time…",
    }
    if progress.state in states:
        return f"{head} · {states[progress.state]}"
    speed = f"{format_bytes(progress.speed)}/s" if progress.speed else "—"
    eta = (
        f"{format_seconds(progress.eta_seconds)} left" if progress.eta_seconds is not None else "—"
    )
    return f"{head} · {speed} · {eta}"


def _check_free_space(files: list[RemoteFile], targets: list[Path], partials: Path) -> None:
    needed = 0
    for remote, target in zip(files, targets, strict=True):
        if already_downloaded(target, remote.size):
            continue
        part = PartialFiles.for_key(partials.parent, _partial_key(remote)).part
        needed += remote.size - (part.stat().st_size if part.is_file() else 0)
    free = free_bytes(partials)
    if needed + DISK_MARGIN_BYTES > free:
        name = files[0].path.rsplit("/", 1)[-1]
        raise DiskFullError(
            f"Couldn't download {name}: {format_bytes(free)} free on the models disk, "
            f"{format_bytes(needed + DISK_MARGIN_BYTES)} needed. Free some space or pick a smaller file.",
            needed_bytes=needed + DISK_MARGIN_BYTES,
            free_bytes=free,
        )


def _partial_key(remote: RemoteFile) -> str:
    if remote.sha256:
        return remote.sha256
    identity = f"{remote.repo_id}\n{remote.revision}\n{remote.path}\n{remote.size}"
    return hashlib.sha256(identity.encode()).hexdigest()


class _ProgressMeter:
    """Combined progress over the files of one download, throttled, with a moving-average speed."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self._callback = callback
        self._finished_bytes = 0
        self._current = 0
        self._samples: deque[tuple[float, int]] = deque()
        self._last_emit = 0.0
        self.filename = ""

    @property
    def done(self) -> int:
        return self._finished_bytes + self._current

    def start_file(self, filename: str, already: int) -> None:
        self.filename = filename
        self._current = already
        self._samples.clear()
        self.emit(DownloadState.DOWNLOADING, force=True)

    def advance(self, current: int) -> None:
        self._current = current
        now = time.monotonic()
        self._samples.append((now, self.done))
        while self._samples and now - self._samples[0][0] > SPEED_WINDOW_SECONDS:
            self._samples.popleft()
        if now - self._last_emit >= PROGRESS_EVERY_SECONDS:
            self.emit(DownloadState.DOWNLOADING)

    def finish_file(self, size: int) -> None:
        self._finished_bytes += size
        self._current = 0

    def speed(self) -> float | None:
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else None

    def emit(self, state: DownloadState, *, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last_emit < PROGRESS_EVERY_SECONDS:
            return
        self._last_emit = now
        speed = self.speed() if state == DownloadState.DOWNLOADING else None
        eta = (self.total - self.done) / speed if speed else None
        self._callback(DownloadProgress(self.filename, self.done, self.total, speed, eta, state))


class _FileDownload:
    """One file: resume its partial, fetch the rest, verify, move into place."""

    def __init__(
        self,
        remote: RemoteFile,
        target: Path,
        models_dir: Path,
        token: str | bool | None,
        control: DownloadControl,
        meter: _ProgressMeter,
    ) -> None:
        self.remote = remote
        self.target = target
        self.files = PartialFiles.for_key(models_dir, _partial_key(remote))
        self.part = self.files.part
        self.sidecar = self.files.sidecar
        self.token = token
        self.control = control
        self.meter = meter
        self.name = remote.path.rsplit("/", 1)[-1]
        self.hasher = hashlib.sha256()
        self.restarted = False  # this attempt started the file over from byte 0

    def run(self) -> bool:
        with _exclusive(self.files, self.name):
            self._adopt_or_reset_partial()
            self.meter.start_file(self.name, self.part.stat().st_size)
            self.hasher = self._hash_kept_bytes()  # sha256 of the bytes so far, kept in step
            self._transfer()
            return self._verify_and_place()

    def _hash_kept_bytes(self) -> hashlib._Hash:
        """Re-hash what an earlier run left (can be gigabytes): cancellable, with progress."""
        hasher = hashlib.sha256()
        with self.part.open("rb") as stream:
            for block in iter(lambda: stream.read(HASH_BLOCK_BYTES), b""):
                hasher.update(block)
                if self.control.cancelled:
                    self._raise_cancelled()
                self.meter.emit(DownloadState.CHECKING)
        return hasher

    def _raise_cancelled(self) -> None:
        if not self.control.keep_partial:
            self._discard()
        raise DownloadCancelledError(f"Download of {self.name} cancelled.")

    # --- partial file ----------------------------------------------------------------------------

    def _adopt_or_reset_partial(self) -> None:
        expected = {
            "repo_id": self.remote.repo_id,
            "path": self.remote.path,
            "revision": self.remote.revision,
            "size": self.remote.size,
            "sha256": self.remote.sha256,
            "destination": str(self.target),
        }
        try:
            recorded = json.loads(self.sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        same_file = recorded is not None and all(
            recorded.get(k) == v for k, v in expected.items() if k != "destination"
        )
        if not same_file or not self.part.is_file() or self.part.stat().st_size > self.remote.size:
            self.part.write_bytes(b"")
        write_json_atomic(self.sidecar, {**expected, "url": self.remote.url})
        if self.part.stat().st_size:
            log.info(
                "resuming download file=%s from=%d", self.remote.path, self.part.stat().st_size
            )

    # --- transfer --------------------------------------------------------------------------------

    def _transfer(self) -> None:
        attempt = 0
        while True:
            done = self.part.stat().st_size
            if done >= self.remote.size:
                return
            if self.control.cancelled:
                self._raise_cancelled()
            if self.control.paused:
                self.meter.emit(DownloadState.PAUSED, force=True)
                self.control.wait_while_paused()
                continue
            self.restarted = False
            try:
                received = self._fetch_from(done)
            except (GatedModelError, ModelNotFoundError):
                raise
            except RateLimitedError as exc:
                attempt = self._wait_before_retry(attempt, exc, exc.retry_after)
                continue
            except _Oversized as exc:
                if self.remote.sha256:
                    log.warning("download oversized file=%s; checking the listed bytes", self.name)
                    return  # every listed byte is here: the sha256 decides
                self._restart()  # nothing can prove the listed bytes: start over
                attempt = self._wait_before_retry(attempt, exc, None)
                continue
            except _RetryableError as exc:
                attempt = self._wait_before_retry(attempt, exc, None)
                continue
            if self.restarted and self.part.stat().st_size < self.remote.size:
                # Bytes arrived, but from zero again: no progress, so no refilled budget.
                restart = _RetryableError("the server ignored the resume point and stopped short")
                attempt = self._wait_before_retry(attempt, restart, None)
            elif received:
                attempt = 0  # bytes arrived: the retry budget refills

    def _wait_before_retry(self, attempt: int, exc: Exception, delay: float | None) -> int:
        if attempt >= len(BACKOFF_SECONDS):
            raise DownloadInterruptedError(
                f"Couldn't download {self.name}: the connection kept failing ({exc}). "
                f"{format_bytes(self.part.stat().st_size)} are kept; resume to continue."
            ) from exc
        wait = delay if delay is not None else BACKOFF_SECONDS[attempt]
        log.warning(
            "download retry file=%s attempt=%d wait=%.1f error=%s",
            self.remote.path,
            attempt + 1,
            wait,
            exc,
        )
        self.meter.emit(DownloadState.RETRYING, force=True)
        self.control.sleep(wait)
        return attempt + 1

    def _fetch_from(self, offset: int) -> int:
        """GET the bytes from `offset` on and append them; returns how many arrived."""
        from huggingface_hub import get_session
        from huggingface_hub.utils import build_hf_headers, hf_raise_for_status

        headers = build_hf_headers(token=self.token)
        if offset:
            headers["Range"] = f"bytes={offset}-"
        timeout = http_timeout(STALL_SECONDS, connect=CONNECT_SECONDS)
        received = 0
        try:
            with get_session().stream(
                "GET", self.remote.url, headers=headers, timeout=timeout
            ) as response:
                self.control.set_interrupt(socket_shutdown(response))
                if response.status_code == 416:
                    self._restart()
                    raise _RetryableError("the server refused the resume point; starting over")
                if response.status_code >= 500:
                    raise _RetryableError(f"server error {response.status_code}")
                with hub_errors(self.remote.repo_id, self.remote.path):
                    hf_raise_for_status(response)
                if offset and (response.status_code == 200 or _range_start(response) != offset):
                    # The server ignored our Range, or answered another one: start over cleanly.
                    log.warning("server ignored Range file=%s; starting over", self.remote.path)
                    self._restart()
                    if response.status_code != 200:
                        raise _RetryableError("the server answered a different range")
                    offset = 0
                # Unbuffered: a full disk fails in write(), never later in close(); whatever
                # did reach the file is re-hashed from disk when the download resumes.
                rate = _RateWatch()
                with self.part.open("ab", buffering=0) as out:
                    for chunk in response.iter_bytes():
                        room = self.remote.size - offset - received
                        piece = chunk[:room]
                        _write_chunk(out, piece, self.name)
                        self.hasher.update(piece)
                        received += len(piece)
                        self.meter.advance(offset + received)
                        if len(chunk) > room:
                            raise _Oversized(
                                "the server sent more than the listed "
                                f"{format_bytes(self.remote.size)}"
                            )
                        if self.control.should_stop_transfer:
                            break
                        rate.check(len(chunk))
        except transport_errors() as exc:  # dropped, refused, stalled: keep what arrived
            if self.control.should_stop_transfer:
                return received  # we shut the socket down ourselves to pause or cancel
            raise _RetryableError(str(exc) or type(exc).__name__) from exc
        finally:
            self.control.set_interrupt(None)
        return received

    def _restart(self) -> None:
        self.part.write_bytes(b"")
        self.hasher = hashlib.sha256()
        self.restarted = True

    # --- finishing -------------------------------------------------------------------------------

    def _verify_and_place(self) -> bool:
        self.meter.emit(DownloadState.VERIFYING, force=True)
        size = self.part.stat().st_size
        if size != self.remote.size:
            self._discard()
            raise DownloadError(
                f"Couldn't download {self.name}: got {format_bytes(size)} of {format_bytes(self.remote.size)}."
            )
        actual = self.hasher.hexdigest()
        if self.remote.sha256 and actual != self.remote.sha256:
            self._discard()
            raise ChecksumMismatchError(self.name, expected=self.remote.sha256, actual=actual)
        with self.part.open("rb+") as stream:
            os.fsync(stream.fileno())
        self.target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.part, self.target)
        self.sidecar.unlink(missing_ok=True)
        self.meter.finish_file(self.remote.size)
        log.info(
            "downloaded path=%s size=%d sha256_verified=%s",
            self.target,
            size,
            bool(self.remote.sha256),
        )
        return bool(self.remote.sha256)

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.sidecar.unlink(missing_ok=True)


class _Reply(Protocol):
    """What `_range_start` reads of an HTTP response (the transport stays `client.py`'s)."""

    @property
    def headers(self) -> Mapping[str, str]: ...


def _range_start(response: _Reply) -> int | None:
    """The first byte a 206 response carries ("Content-Range: bytes 100-199/200" -> 100)."""
    header = response.headers.get("Content-Range", "")
    try:
        return int(header.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


class _RetryableError(Exception):
    """A failure worth another attempt: dropped connection, stall, 5xx."""


class _Oversized(_RetryableError):
    """The body went on past the file's listed size (the excess was not written)."""


class _RateWatch:
    """The minimum-rate stall rule: under MIN_BYTES_PER_SECOND over STALL_SECONDS is a stall.

    A read timeout alone never trips on a server that sends one byte every few seconds.
    """

    def __init__(self) -> None:
        self._since = time.monotonic()
        self._bytes = 0

    def check(self, count: int) -> None:
        self._bytes += count
        elapsed = time.monotonic() - self._since
        if elapsed < STALL_SECONDS:
            return
        if self._bytes < MIN_BYTES_PER_SECOND * elapsed:
            raise _RetryableError(
                f"the connection slowed to {format_bytes(self._bytes / elapsed)}/s"
            )
        self._since, self._bytes = time.monotonic(), 0


def _write_chunk(out: BinaryIO, chunk: bytes, name: str) -> None:
    view = memoryview(chunk)
    try:
        while view:
            written = out.write(view)
            view = view[written or 0 :]
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise DiskFullError(
                f"Couldn't download {name}: the models disk is full. The bytes so far are kept; "
                "free some space and resume.",
                needed_bytes=len(chunk),
                free_bytes=0,
            ) from exc
        raise


@contextlib.contextmanager
def _exclusive(files: PartialFiles, name: str) -> Iterator[None]:
    """One download per file, across threads and processes: a second one is refused."""
    files.lock.parent.mkdir(parents=True, exist_ok=True)
    lock: FileLock | None = files.lock_for_download()
    if lock is None:
        raise DownloadError(f"{name} is already being downloaded (here or by another Quantdesk).")
    try:
        yield
    finally:
        lock.release()


def cleanup_stale_partials(models_dir: Path, *, max_age_days: float = 30) -> list[Path]:
    """Delete partial downloads untouched for `max_age_days`, and bytes without a sidecar;
    never one that a process is downloading right now."""
    folder = partial_dir(models_dir)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    cutoff = time.time() - max_age_days * 86400
    for part in folder.glob("*.part"):
        files = PartialFiles.for_sidecar(part.with_suffix(".json"))
        if files.in_use():
            continue
        if not files.sidecar.exists() or part.stat().st_mtime < cutoff:
            removed += files.remove()
    return removed
