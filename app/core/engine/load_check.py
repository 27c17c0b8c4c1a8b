"""Loading a file in a child process first, because llama.cpp aborts on what it can't read.

llama.cpp answers some bad files with a `GGML_ASSERT`, which aborts the whole process: the app
would vanish mid-load. Our header check refuses the values we know of; for the asserts nobody has
foreseen yet, the first time a file is loaded it is loaded first in a child process (the same
program, hidden command `__check-load`: a real CPU load with the smallest context, because the
asserts are in tensor loading, so a vocabulary-only load proves nothing). If the child dies, the
file is refused with the assert line it printed and never reaches the app's own llama.cpp.

The verdict is remembered per file (size, modification time, a hash of its first MiB) in a small
JSON file under the data folder, so each file pays the child load once (about a second for a
small model; the weights are memory-mapped, not read).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from app.core._util.cancel import CancelToken
from app.core._util.child import run_once
from app.core.errors import ChildWorkError, ModelLoadError

log = logging.getLogger(__name__)

CHECK_COMMAND = "__check-load"
VERDICTS_FILE = "load-checks.json"
# A memory-mapped load reads the header and maps the weights; minutes would mean a stuck disk.
CHECK_SECONDS = 300.0
# llama.cpp's smallest useful context: the check is about reading the file, not about memory.
CHECK_CONTEXT = 256
# How much of the file's start is hashed: the header, where a changed file differs.
HASHED_BYTES = 2**20
# The child's exit status when the engine itself can't start there (a broken install): that
# says nothing about the file, so the app's own load goes ahead and reports the engine's error.
ENGINE_UNAVAILABLE = 75
# Stored verdicts beyond this many are dropped, oldest first.
MAX_VERDICTS = 500


@dataclass(frozen=True)
class _Identity:
    """Which file a verdict is about: a changed file is checked again."""

    size: int
    mtime_ns: int
    header_sha256: str


def ensure_loadable(path: Path, verdicts_file: Path, *, cancel: CancelToken | None = None) -> None:
    """Make sure llama.cpp can load `path` without taking this process down.

    Raises:
        ModelLoadError: llama.cpp can't read it (now, or as remembered), with the line it stopped
            at; or the check was stopped or ran out of time (then nothing is remembered).
    """
    path = Path(path)
    identity = _identity(path)
    verdicts = _read_verdicts(verdicts_file)
    key = str(path.resolve())
    known = verdicts.get(key)
    if known is not None and known.get("identity") == asdict(identity):
        if known.get("ok"):
            return
        raise ModelLoadError(path, str(known.get("reason", "llama.cpp can't read this file")))
    try:
        run_once([CHECK_COMMAND, str(path)], deadline_seconds=CHECK_SECONDS, cancel=cancel)
        verdict: dict[str, bool | str] = {"ok": True}
    except ChildWorkError as failure:
        if failure.returncode == ENGINE_UNAVAILABLE:
            log.warning("load check skipped, engine unavailable: %s", failure.last_line)
            return
        if failure.why == "stopped":
            raise ModelLoadError(path, "loading was stopped") from None
        if failure.why == "timeout":
            raise ModelLoadError(
                path, f"llama.cpp took over {CHECK_SECONDS:g} seconds to open it"
            ) from None
        where = failure.last_line or "no message"
        verdict = {"ok": False, "reason": f"llama.cpp can't read this file: it stopped at {where}"}
        log.warning("load check failed path=%s line=%s", path, failure.last_line)
    verdicts.pop(key, None)
    verdicts[key] = {"identity": asdict(identity), **verdict}
    _write_verdicts(verdicts_file, verdicts)
    if not verdict["ok"]:
        raise ModelLoadError(path, str(verdict["reason"]))


def check_load_here(path: str) -> int:
    """The child's side: load `path` on the CPU with the smallest context.

    Returns 0 when llama.cpp came back, loaded or not: a file it refuses with an error is safe
    to try in the app (which then says why). A llama.cpp assert aborts this process instead,
    with its line on stderr.
    """
    try:
        from llama_cpp import Llama

        from app.core.engine.backends import ensure_backends

        ensure_backends()
    except Exception as exc:  # noqa: BLE001 - any engine failure: not the file's fault
        print(f"engine unavailable: {exc}", file=sys.stderr)
        return ENGINE_UNAVAILABLE
    # verbose: llama-cpp-python otherwise points stderr at /dev/null during the load, and the
    # assert line is what the person is told.
    try:
        llama = Llama(model_path=path, n_ctx=CHECK_CONTEXT, n_batch=CHECK_CONTEXT,
                      n_gpu_layers=0, verbose=True)  # fmt: skip
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"refused: {exc}")
        return 0
    llama.close()
    print("loaded")
    return 0


def _identity(path: Path) -> _Identity:
    import hashlib  # OpenSSL's start-up cost, paid by the first load rather than the first paint

    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        digest.update(stream.read(HASHED_BYTES))
    return _Identity(stat.st_size, stat.st_mtime_ns, digest.hexdigest())


def _read_verdicts(verdicts_file: Path) -> dict[str, dict]:
    try:
        data = json.loads(verdicts_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: every file is checked again, nothing worse
    return data if isinstance(data, dict) else {}


def _write_verdicts(verdicts_file: Path, verdicts: dict[str, dict]) -> None:
    kept = dict(list(verdicts.items())[-MAX_VERDICTS:])
    try:
        verdicts_file.parent.mkdir(parents=True, exist_ok=True)
        partial = verdicts_file.with_suffix(".partial")
        partial.write_text(json.dumps(kept, indent=1), encoding="utf-8")
        os.replace(partial, verdicts_file)
    except OSError as exc:
        # Not remembering costs a check next time; it must not fail the load.
        log.warning("couldn't save load checks path=%s error=%s", verdicts_file, exc)
