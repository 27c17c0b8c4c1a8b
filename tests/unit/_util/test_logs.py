"""The log file: moved aside when full, a few kept, and never a reason not to start."""

from __future__ import annotations

import logging
from pathlib import Path

from app.core._util.logs import CappedFileHandler


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test-logs-{id(handler)}")
    logger.propagate = False
    logger.addHandler(handler)
    return logger


def test_a_full_log_is_moved_aside_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    log_file = tmp_path / "quantdesk.log"
    handler = CappedFileHandler(log_file, max_bytes=1000, kept=2)
    logger = _logger(handler)
    for number in range(200):
        logger.warning("line %03d %s", number, "x" * 40)
    handler.close()

    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["quantdesk.log", "quantdesk.log.1", "quantdesk.log.2"]
    for path in tmp_path.iterdir():
        assert path.stat().st_size <= 1000 + 60  # one line past the limit at most
    # The newest lines are in the current file, the ones before them in .1: nothing in between
    # was lost.
    current = log_file.read_text().splitlines()
    previous = (tmp_path / "quantdesk.log.1").read_text().splitlines()
    assert current[-1].startswith("line 199")
    assert int(previous[-1][5:8]) + 1 == int(current[0][5:8])


def test_a_log_already_full_at_start_is_moved_aside_first(tmp_path: Path) -> None:
    log_file = tmp_path / "quantdesk.log"
    log_file.write_text("old\n" * 500)
    handler = CappedFileHandler(log_file, max_bytes=1000)
    _logger(handler).warning("new")
    handler.close()
    assert log_file.read_text() == "new\n"
    assert (tmp_path / "quantdesk.log.1").read_text().startswith("old")
