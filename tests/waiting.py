"""Waiting for a state in tests without measuring wall-clock time.

On a busy two-core machine a step that takes 50 ms alone can take a second, so a test never
asserts "this took under N seconds". It waits for the state it needs, with a limit generous
enough that only a hang (or a regression that makes the wait many times longer) reaches it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

POLL_SECONDS = 0.01


def wait_until(condition: Callable[[], object], *, timeout: float, what: str) -> None:
    """Return as soon as `condition()` is true; fail the test naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting until {what}")
        time.sleep(POLL_SECONDS)
