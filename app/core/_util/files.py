"""Small file-system helpers shared by the library and downloads."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import IO, Any


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as JSON so that readers see the old file or the new one, never half of it."""
    temporary = path.with_name(f"{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(temporary, path)


def moved_path(path: str | Path, old: Path, new: Path) -> Path | None:
    """Where the file at `path` is once the folder `old` has moved to `new` (the same place
    inside it), or None when `path` was not inside `old`. `old` is matched as written and with
    its links resolved: stored paths may use either spelling."""
    path = Path(path)
    for before in dict.fromkeys((Path(old), Path(old).expanduser().resolve())):
        if path.is_relative_to(before):
            return Path(new) / path.relative_to(before)
    return None


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding `folder` (its nearest existing parent)."""
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return shutil.disk_usage(folder).free


class FileLock:
    """An exclusive, non-blocking lock on a file, held across processes until `release`.

    The lock file itself is never deleted: deleting it while another process waits would let
    a third process lock a new file of the same name and run beside the first. A process that
    dies (even by `kill -9`) releases its lock with it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        """Take the lock; False if another process (or this one) holds it."""
        handle = self.path.open("a+")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            _unlock(self._handle)
            self._handle.close()
            self._handle = None


def is_locked(path: Path) -> bool:
    """Whether some process holds `FileLock(path)` right now."""
    if not path.exists():
        return False
    probe = FileLock(path)
    if probe.acquire():
        probe.release()
        return False
    return True


# `sys.platform`, not `os.name`: mypy understands it and checks only the branch for this system.
if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[str]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[str]) -> None:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle, fcntl.LOCK_UN)
