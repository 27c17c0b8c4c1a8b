"""Cooperative cancellation shared by long jobs (generation, downloads, hashing)."""

from __future__ import annotations

import threading


class CancelToken:
    """A flag one thread sets and a worker checks between steps; safe across threads."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def reset(self) -> None:
        self._event.clear()
