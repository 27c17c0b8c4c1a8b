"""Quantdesk's own program as a child process, for work that may never end or may abort.

Two things a stranger's file controls can take a process down with it: a chat template (a Jinja
program: it can loop for hours or build a 10 GB string) and llama.cpp itself (a `GGML_ASSERT`
aborts the whole process). Such work runs in a child: the same program started with a hidden
command (`app/cli.py`), under a wall-clock deadline and, where the OS has it, a memory limit the
child sets on itself (`RLIMIT_AS`; setting it from the parent would need `preexec_fn`, which is
unsafe in a process with threads). The child can be killed at any moment (Stop, Close); when it
dies, the failure carries the last line it printed (llama.cpp's assert line).

In development the program is `python -m app`; in the PyInstaller bundle `sys.executable` is the
quantdesk binary itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from app.core._util.cancel import CancelToken
from app.core.errors import ChildWorkError

if TYPE_CHECKING:
    # Imported where a child starts: the renderer is made at import but started by a load.
    import subprocess

# How often a waiting parent looks at the cancel token: Stop acts within this.
POLL_SECONDS = 0.05
# Room for a child's start (imports) on a slow, busy machine: separate from a request's budget.
STARTUP_SECONDS = 60.0
# How much of a dead child's stderr is read back for its last line.
STDERR_TAIL_BYTES = 16_384
# The longest last line a failure quotes: it goes into a sentence for a person.
LAST_LINE_CHARS = 200


def child_command(*args: str) -> list[str]:
    """The command line that runs Quantdesk's program with `args`."""
    if getattr(sys, "frozen", False):
        # On Windows the app's own exe is a windowed program (no standard streams); the bundle's
        # console twin beside it has them (CREATE_NO_WINDOW keeps its console hidden).
        console = Path(sys.executable).with_name("quantdesk-cli.exe")
        if sys.platform == "win32" and console.exists():
            return [str(console), *args]
        return [sys.executable, *args]
    return [sys.executable, "-m", "app", *args]


def set_memory_limit(limit_bytes: int | None) -> None:
    """Cap this process's address space (called by the child on itself); no-op where the OS
    has no RLIMIT_AS (Windows) or refuses it (macOS may)."""
    if not limit_bytes:
        return
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    except (ImportError, ValueError, OSError):
        pass


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        # `-m app` must find this very `app` package, whatever the working folder.
        root = str(Path(__file__).resolve().parents[3])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    env["GGML_NO_BACKTRACE"] = "1"  # an assert prints its line, not a debugger session
    return env


def _popen(args: Sequence[str], *, stdin: Any, stdout: Any, stderr: IO[bytes]) -> subprocess.Popen:
    import subprocess

    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # no console flashing up on Windows
    return subprocess.Popen(
        child_command(*args),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=_child_env(),
        creationflags=flags,
    )


def last_line(stderr: IO[bytes]) -> str:
    """The line a dead child is best remembered by: an assert if it printed one, else its last."""
    stderr.seek(0, os.SEEK_END)
    size = stderr.tell()
    stderr.seek(max(0, size - STDERR_TAIL_BYTES))
    lines = [
        " ".join(line.split())
        for line in stderr.read().decode("utf-8", errors="replace").splitlines()
    ]
    lines = [line for line in lines if line]
    for wanted in ("GGML_ASSERT", "error"):
        for line in reversed(lines):
            if wanted in line.lower() or wanted in line:
                return _clip(line)
    return _clip(lines[-1]) if lines else ""


def _without_build_path(line: str) -> str:
    # "/tmp/pip-wheel-…/vendor/llama.cpp/src/llama-model.cpp:1328: GGML_ASSERT(…)" names a
    # folder of the machine that built llama.cpp: keep the file and line only.
    return re.sub(r"\S*/([^/\s]+:\d+:)", r"\1", line)


def _clip(line: str) -> str:
    line = _without_build_path(line)
    return line if len(line) <= LAST_LINE_CHARS else line[: LAST_LINE_CHARS - 1] + "…"


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


def _kill_and_drain(process: subprocess.Popen) -> None:
    process.kill()
    process.communicate()  # reaps it and closes its pipes


def run_once(
    args: Sequence[str], *, deadline_seconds: float, cancel: CancelToken | None = None
) -> str:
    """Run the program with `args` to its end; return what it printed on stdout.

    Raises:
        ChildWorkError: past the deadline, cancelled, or it exited with a non-zero code.
    """
    import subprocess

    with tempfile.TemporaryFile() as stderr:
        process = _popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        ends_at = time.monotonic() + deadline_seconds
        while True:
            try:
                out, _ = process.communicate(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                # Retrying communicate() keeps what was read so far (subprocess docs).
                if cancel is not None and cancel.cancelled:
                    _kill_and_drain(process)
                    raise ChildWorkError("stopped") from None
                if time.monotonic() > ends_at:
                    _kill_and_drain(process)
                    raise ChildWorkError("timeout", last_line(stderr)) from None
        if process.returncode != 0:
            raise ChildWorkError("died", last_line(stderr), process.returncode)
        return out.decode("utf-8", errors="replace")


class PersistentChild:
    """One long-lived child that answers JSON requests, one line each way.

    Started on the first request and reused (a reply pays no process start); killed when a
    request runs past its deadline or is cancelled, and started afresh by the next request.
    The child prints `{"ready": true}` once it has imported what it needs. Thread-safe: one
    request at a time.
    """

    def __init__(self, args: Sequence[str]) -> None:
        self._args = list(args)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._stderr: IO[bytes] | None = None
        self._awaiting_ready = False  # started, its "ready" line not read yet
        self._busy = False

    def request(
        self,
        payload: dict[str, Any],
        *,
        deadline_seconds: float,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        """Send `payload`, return the child's answer.

        Raises:
            ChildWorkError: past the deadline, cancelled, or the child died (it is then restarted
                by the next request).
        """
        with self._lock:
            self._busy = True
            try:
                process = self._ensure_started(cancel)
                assert process.stdin is not None
                try:
                    process.stdin.write(json.dumps(payload).encode("utf-8") + b"\n")
                    process.stdin.flush()
                except OSError:
                    raise self._failed("died") from None
                return json.loads(self._next_line(deadline_seconds, cancel))
            finally:
                self._busy = False

    @property
    def busy(self) -> bool:
        """A request is in flight (for tests and status: read from any thread)."""
        return self._busy

    def close(self) -> None:
        """End the child (it also ends by itself when this process goes away: stdin closes)."""
        with self._lock:
            self._stop()

    @property
    def pid(self) -> int | None:
        """The running child's process id (None when none runs)."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def prestart(self) -> None:
        """Start the child now, without waiting for it: its imports overlap other work (a model
        load), and the first request only waits for what is left of its start."""
        with self._lock:
            self._spawn_if_needed()

    def _spawn_if_needed(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        import subprocess

        self._stop()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._process = _popen(
            self._args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr
        )
        self._lines = queue.Queue()
        self._awaiting_ready = True
        threading.Thread(
            target=_read_lines,
            args=(self._process.stdout, self._lines),
            name="child-reader",
            daemon=True,
        ).start()

    def _ensure_started(self, cancel: CancelToken | None) -> subprocess.Popen:
        self._spawn_if_needed()
        if self._awaiting_ready:
            ready = json.loads(self._next_line(STARTUP_SECONDS, cancel))
            if not ready.get("ready"):
                raise self._failed("died")
            self._awaiting_ready = False
        assert self._process is not None
        return self._process

    def _next_line(self, deadline_seconds: float, cancel: CancelToken | None) -> bytes:
        ends_at = time.monotonic() + deadline_seconds
        while True:
            try:
                line = self._lines.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if cancel is not None and cancel.cancelled:
                    raise self._failed("stopped") from None
                if time.monotonic() > ends_at:
                    raise self._failed("timeout") from None
                continue
            if not line:  # end of its stdout: the child is gone
                raise self._failed("died")
            return line

    def _failed(self, why: str) -> ChildWorkError:
        line = last_line(self._stderr) if self._stderr is not None and why == "died" else ""
        self._stop()
        return ChildWorkError(why, line)

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            _kill(process)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _read_lines(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    # On its own thread: a blocking readline can't be given a deadline, a queue can. The thread
    # owns the pipe: it closes it at the end (the child exited or was killed).
    with stream:
        for line in iter(stream.readline, b""):
            lines.put(line)
    lines.put(b"")
