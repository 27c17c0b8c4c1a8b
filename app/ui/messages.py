"""One way to turn an error into words for a person (and into the log)."""

from __future__ import annotations

import logging

from app.core.errors import QuantdeskError

log = logging.getLogger(__name__)


def error_text(error: BaseException) -> str:
    """The sentence to show for `error`: ours are written for people; others get a safe summary.

    Unexpected errors are logged with their traceback; the person sees one line, never a trace.
    """
    if isinstance(error, QuantdeskError):
        log.warning("%s", error)
        return str(error)
    log.error("unexpected error: %r", error, exc_info=error)
    return f"Something went wrong: {type(error).__name__}: {error}. Details are in the log."
