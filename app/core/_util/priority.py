"""Letting the window go first: the engine's threads yield the CPU to the GUI thread.

llama.cpp keeps every core busy while it generates (its worker threads spin between steps). On a
machine with few cores the GUI thread then waits its turn for a core behind them, and the window
stutters while a reply streams (bench/bench_chat_stall.py: the longest stall). A thread of lower
scheduling priority (a higher "nice" value) still gets every cycle nobody else wants, so replies
are as fast on an idle machine, but the GUI thread runs first when it has something to draw.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# How much nicer than the app the engine's threads are: enough that a waking GUI thread preempts
# them at once (Linux gives a thread at nice 5 about a third of the weight of one at 0).
ENGINE_NICENESS = 5
MAX_NICENESS = 19


def lower_this_threads_priority(steps: int = ENGINE_NICENESS) -> bool:
    """Lower the calling thread's priority by `steps` nice levels; True if it was lowered.

    On Linux the nice value is each thread's own, and threads a thread starts inherit it, so
    llama.cpp's worker threads (started from the engine thread) yield too. Elsewhere this does
    nothing here: Qt's `QThread.Priority.LowPriority` (`EngineThread`) covers the engine thread.
    Lowering a priority needs no privilege; raising it back would, so it is never undone.
    """
    if not sys.platform.startswith("linux"):
        return False
    thread_id = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(MAX_NICENESS, current + steps))
    except OSError as error:  # a sandbox may forbid it: replies still work, only less smoothly
        log.warning("couldn't lower the engine thread's priority: %s", error)
        return False
    return True


def run_at_lower_priority(work: Callable[[], T], steps: int = ENGINE_NICENESS) -> T:
    """`work()`'s result, computed in a short-lived thread whose priority is lowered first.

    For background work started from a thread that must keep its priority (a worker pool's
    thread is reused): on Linux a child process started from the lowered thread inherits its
    nice value, so even the child's interpreter start-up yields the cores to the window.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        lower_this_threads_priority(steps)
        try:
            outcome.append(work())
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="lower-priority", daemon=True)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]
