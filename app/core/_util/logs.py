"""Logging to the log file under the app's logs folder (and optionally the console)."""

from __future__ import annotations

import logging
import logging.handlers

from app.core.paths import app_paths

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "quantdesk"  # the name our handlers carry on the root logger


def setup_logging(*, console: bool = True, level: int = logging.INFO) -> None:
    """Send Quantdesk's logs to `logs/quantdesk.log` (rotated), and to stderr if `console`."""
    root = logging.getLogger()
    if any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        return
    handlers: list[logging.Handler] = []
    try:
        paths = app_paths().ensure()
        handlers.append(
            logging.handlers.RotatingFileHandler(
                paths.log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
        )
    except OSError:
        pass  # a read-only home must not stop the app; console logging still works
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.set_name(_HANDLER_NAME)  # marks ours, so a second call adds no duplicates
        root.addHandler(handler)
    root.setLevel(level)
