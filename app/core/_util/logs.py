"""Logging to the log file under the app's logs folder (and optionally the console)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from app.core.paths import app_paths

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "quantdesk"  # the name our handlers carry on the root logger
MAX_LOG_BYTES = 2_000_000
KEPT_LOGS = 3  # quantdesk.log.1 … .3


class CappedFileHandler(logging.FileHandler):
    """A log file that is moved aside (`.1`, `.2`, … `.KEPT`) once it passes `max_bytes`.

    What `logging.handlers.RotatingFileHandler` does, here because importing that module pulls
    in `socket`, `pickle` and `queue` (~25 ms, a tenth of the app's start-up over a bare window,
    bench/bench_startup.py) for handlers the app never uses.
    """

    def __init__(
        self, path: Path, *, max_bytes: int = MAX_LOG_BYTES, kept: int = KEPT_LOGS
    ) -> None:
        self.max_bytes = max_bytes
        self.kept = kept
        super().__init__(path, encoding="utf-8")  # opened now: a read-only folder fails here

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._full():
                self._move_aside()
        except OSError:
            self.handleError(record)
        super().emit(record)

    def _full(self) -> bool:
        if self.stream is None:  # closed (a failed move aside): the file as it is on disk
            try:
                return os.path.getsize(self.baseFilename) >= self.max_bytes
            except OSError:
                return False
        return self.stream.tell() >= self.max_bytes

    def _move_aside(self) -> None:
        if self.stream is not None:
            self.stream.close()
            # Reopened by the next emit (as RotatingFileHandler does).
            self.stream = None
        base = self.baseFilename
        for number in range(self.kept - 1, 0, -1):
            older = f"{base}.{number}"
            if os.path.exists(older):
                os.replace(older, f"{base}.{number + 1}")
        os.replace(base, f"{base}.1")


def setup_logging(*, console: bool = True, level: int = logging.INFO) -> None:
    """Send Quantdesk's logs to `logs/quantdesk.log` (rotated), and to stderr if `console`."""
    root = logging.getLogger()
    if any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        return
    handlers: list[logging.Handler] = []
    try:
        paths = app_paths().ensure()
        handlers.append(CappedFileHandler(paths.log_file))
    except OSError:
        pass  # a read-only home must not stop the app; console logging still works
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.set_name(_HANDLER_NAME)  # marks ours, so a second call adds no duplicates
        root.addHandler(handler)
    root.setLevel(level)
