"""Fixtures for tests that drive the real window."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.core.settings import app_paths
from app.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    """The real main window, shown (offscreen), closed after the test with its threads ended."""
    window = MainWindow(app_paths().ensure())
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()
