"""The Qt binding itself: a broken PySide6 release must fail here, not in a person's chat."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_calls_keep_none_alive(qtbot: QtBot) -> None:
    # PySide6 6.12.0 under Python 3.11 dropped a reference to None on every call returning
    # nothing; a streaming chat makes thousands, and the interpreter then aborted with
    # "deallocating None". pyproject.toml keeps that release out.
    button = QPushButton()
    qtbot.addWidget(button)
    before = sys.getrefcount(None)
    for _ in range(1000):
        button.setEnabled(True)
    assert abs(sys.getrefcount(None) - before) < 50
