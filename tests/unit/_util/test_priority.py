"""Background work that yields the cores to the window: a child process started from a lowered
thread inherits the lower priority; the calling thread keeps its own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.core._util.priority import ENGINE_NICENESS, MAX_NICENESS, run_at_lower_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice is per thread")


def test_a_child_started_at_lower_priority_inherits_it() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    childs = run_at_lower_priority(
        lambda: int(subprocess.check_output([sys.executable, "-c", "import os; print(os.nice(0))"]))
    )
    assert childs == min(MAX_NICENESS, mine + ENGINE_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the caller's thread is as it was


def test_a_failure_reaches_the_caller() -> None:
    def fail() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        run_at_lower_priority(fail)
