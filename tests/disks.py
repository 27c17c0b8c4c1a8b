"""Real environment failures for tests: a small filesystem to fill, a database another program
has locked. No mocks: SQLite and the app meet the same errors a person's machine gives them."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILL_BLOCK = 64 << 10


@contextlib.contextmanager
def tiny_disk(folder: Path, *, size: str = "4m") -> Iterator[Path]:
    """Mount a real tmpfs of `size` on `folder` (created if absent) for the block's length.

    Needs the right to mount (root, as on this project's test machines); the test is skipped
    otherwise rather than faked.
    """
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"can't mount a small filesystem here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        # Lazy: a file the app still holds open must not turn into a failed teardown.
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a filler file in `folder` until its filesystem is full; returns the filler, whose
    deletion frees the space again."""
    filler = folder / "filler.bin"
    block = b"\0" * FILL_BLOCK
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(block)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                break
    # The last partial block, byte by byte, so not even a small page fits afterwards.
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while out.write(b"\0"):
            pass
    return filler


@contextlib.contextmanager
def locked(database: Path) -> Iterator[sqlite3.Connection]:
    """Another program holding the database's write lock (`BEGIN IMMEDIATE`) for the block."""
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
        other.execute("ROLLBACK")
    finally:
        other.close()


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """Make a file or folder unwritable for the block's length, even for root (the tests run as
    root, for whom permission bits don't bind): the immutable attribute, as `chattr +i` sets.

    The test is skipped where the filesystem or the rights don't allow it, rather than faked.
    """
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"can't make {path} read-only here: {made.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)
