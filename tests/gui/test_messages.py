"""One path to the person: a raising slot or a dying thread is logged with its traceback and
shown in a dialog naming the log file; our own errors are shown as their sentence."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from app.core.errors import DiskFullError
from app.core.paths import app_paths
from app.ui.messages import NO_ERROR_DIALOGS, ErrorHooks, install_hooks, report
from app.ui.style import plain_tooltip


@pytest.fixture
def hooks() -> Iterator[ErrorHooks]:
    installed = install_hooks()
    yield installed
    installed.uninstall()
    if installed.dialog is not None:
        installed.dialog.close()


def _raise_bug() -> None:
    raise RuntimeError("the slot broke")


@pytest.mark.qt_no_exception_capture
def test_a_raising_slot_is_logged_and_shown(
    qtbot: QtBot, hooks: ErrorHooks, caplog: pytest.LogCaptureFixture
) -> None:
    button = QPushButton("Break")
    qtbot.addWidget(button)
    button.clicked.connect(_raise_bug)
    with qtbot.waitSignal(hooks.shown, timeout=5_000) as shown:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    text = shown.args[0]
    assert text.startswith("Something went wrong in Quantdesk: RuntimeError: the slot broke.")
    assert str(app_paths().log_file) in text
    assert hooks.dialog is not None and hooks.dialog.isVisible()
    assert hooks.dialog.text() == text
    logged = [r for r in caplog.records if r.exc_info and "the slot broke" in str(r.exc_info[1])]
    assert len(logged) == 1  # logged once, with the traceback


def test_a_dying_thread_is_logged_and_shown_on_the_gui_thread(
    qtbot: QtBot, hooks: ErrorHooks, caplog: pytest.LogCaptureFixture
) -> None:
    def work() -> None:
        raise ValueError("the worker broke")

    with qtbot.waitSignal(hooks.shown, timeout=5_000) as shown:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert "ValueError: the worker broke" in shown.args[0]
    assert hooks.dialog is not None and hooks.dialog.isVisible()
    assert any(r.exc_info for r in caplog.records if "the worker broke" in r.getMessage())


def test_without_dialogs_an_uncaught_error_goes_to_stderr(
    qtbot: QtBot,
    hooks: ErrorHooks,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(NO_ERROR_DIALOGS, "1")
    with qtbot.waitSignal(hooks.shown, timeout=5_000):
        thread = threading.Thread(target=_raise_bug)
        thread.start()
        thread.join()
    assert hooks.dialog is None
    assert "quantdesk: Something went wrong in Quantdesk: RuntimeError" in capsys.readouterr().err


def test_report_shows_our_sentence_in_the_page_and_logs_it_once(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    label.show()
    error = DiskFullError("Not enough space: free 1 GB.", needed_bytes=2, free_bytes=1)
    with caplog.at_level(logging.WARNING):
        shown = report(error, label=label)
    assert shown == label.text() == "Not enough space: free 1 GB."
    assert label.isVisible()
    assert [r.getMessage() for r in caplog.records] == ["Not enough space: free 1 GB."]


def test_an_error_quoting_a_file_is_shown_as_written_in_a_label_and_a_dialog(
    qtbot: QtBot,
) -> None:
    """Errors quote names and header text from files; markup in them stays letters."""
    from app.core.errors import ChatTemplateError

    error = ChatTemplateError('unknown tag <b style="color:red">Spoof</b>')
    label = QLabel()
    qtbot.addWidget(label)
    report(error, label=label)
    assert '<b style="color:red">Spoof</b>' in label.text()
    assert label.textFormat() == Qt.TextFormat.PlainText

    parent = QLabel()
    qtbot.addWidget(parent)
    report(error, parent=parent)
    [box] = parent.findChildren(QMessageBox)
    assert '<b style="color:red">Spoof</b>' in box.text()
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.close()


def test_a_tooltip_of_file_data_reads_as_written() -> None:
    from PySide6.QtGui import QTextDocument

    shown = QTextDocument()
    shown.setHtml(plain_tooltip('<b style="color:red">Spoof</b> & co'))
    assert shown.toPlainText() == '<b style="color:red">Spoof</b> & co'
