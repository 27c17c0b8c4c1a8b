"""The one way to tell the person about a problem, and to log it.

Failures come in two kinds (as qutebrowser's `misc/sql.py` splits `KnownError` from `BugError`):
- a `QuantdeskError` is the environment's doing (a full disk, a lock, the network, a bad file):
  the person sees its sentence, which names the next step; the log gets one warning line.
- anything else is our bug: the log gets its traceback, and the person one line that names the
  log file, never a traceback.

`report` logs once and shows in one place: a page's message area, or a dialog. `install_hooks`
routes exceptions nobody caught (a raising slot, a dying thread) down the same crash path.
`saving_chat` is the guard around every chat-store write made from the GUI.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QWidget,
)

from app.core._util.text import printable
from app.core.errors import HistoryError, QuantdeskError
from app.core.paths import app_paths
from app.ui.style import plain_text, show_as_error

log = logging.getLogger(__name__)

# Set (to anything) for end-to-end runs: uncaught errors go to stderr instead of a dialog that
# nobody is there to close.
NO_ERROR_DIALOGS = "QUANTDESK_NO_ERROR_DIALOGS"


def error_text(error: BaseException) -> str:
    """The sentence to show for `error`, logged: ours as a warning, anything else with its trace.

    Ours are written for people; a bug gets one line naming the log file, never a traceback.
    """
    if isinstance(error, QuantdeskError):
        log.warning("%s", error)
        return str(error)
    log.error("unexpected error: %r", error, exc_info=error)
    return crash_text(error)


def crash_text(error: BaseException) -> str:
    """One line for a bug: what it was, and where the details are."""
    return QCoreApplication.translate(
        "Messages", "Something went wrong in Quantdesk: {error}. The details are in the log: {log}"
    ).format(
        # printable: a bug's message may quote a file's bytes; one clipped line is enough here.
        error=f"{type(error).__name__}: {printable(str(error), 500)}",
        log=app_paths().log_file,
    )


def report(
    error: BaseException, *, label: QLabel | None = None, parent: QWidget | None = None
) -> str:
    """Log `error` once and show it: in `label` (a page's message area) when given, else in a
    dialog over `parent`. Returns the text shown."""
    text = error_text(error)
    if label is not None:
        show_in_label(label, text)
    else:
        show_dialog(parent, text, bug=not isinstance(error, QuantdeskError))
    return text


def show_in_label(label: QLabel, text: str) -> None:
    """A page's message area: the text in the error color, hidden when there is none."""
    plain_text(label)  # errors quote file names and header text
    label.setText(text)
    show_as_error(label)
    label.setVisible(bool(text))


def show_dialog(parent: QWidget | None, text: str, *, bug: bool = False) -> QMessageBox:
    """A window-modal message box that doesn't block the caller (`open`, not `exec`)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical if bug else QMessageBox.Icon.Warning)
    box.setWindowTitle("Quantdesk")
    box.setTextFormat(Qt.TextFormat.PlainText)  # errors quote file names and header text
    box.setText(text)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


# --- the chat store guard ------------------------------------------------------------------------


@dataclass
class Attempt:
    """What a guarded block did: `failed` is set when the chat history refused it."""

    failed: bool = False


# What `saving_chat` says failed, whole sentences for translation, by its `doing`.
_COULD_NOT = {
    "save the chat": QT_TRANSLATE_NOOP("Messages", "Couldn't save the chat: {reason}"),
    "read the chats": QT_TRANSLATE_NOOP("Messages", "Couldn't read the chats: {reason}"),
    "open the chat": QT_TRANSLATE_NOOP("Messages", "Couldn't open the chat: {reason}"),
}


@contextmanager
def saving_chat(show: Callable[[str], None], *, doing: str = "save the chat") -> Iterator[Attempt]:
    """Run chat-store calls; a `HistoryError` becomes "Couldn't save the chat: ...", passed to
    `show`, and the block ends there (`attempt.failed`), so the caller keeps what the person
    typed. Any other error is a bug and passes through to the crash path."""
    attempt = Attempt()
    try:
        yield attempt
    except HistoryError as error:
        attempt.failed = True
        log.warning("couldn't %s: %s", doing, error)
        template = _COULD_NOT.get(doing)
        if template is None:  # a new caller's words: English until it is added above
            show(f"Couldn't {doing}: {error.reason}")
        else:
            show(QCoreApplication.translate("Messages", str(template)).format(reason=error.reason))


# --- notes that stay until read ------------------------------------------------------------------


class NoteBanner(QWidget):
    """Notes from start-up (history moved aside, preferences reset) that stay until the person
    dismisses them: a status line would be overwritten by the first chat update."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notes")
        self.text = plain_text(QLabel())
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss_button = QPushButton(self.tr("Got it"))
        self.dismiss_button.clicked.connect(self.dismiss)
        # The one thing a note may offer to do (`offer`), hidden when there is none.
        self.action_button = QPushButton()
        self.action_button.clicked.connect(self._act)
        self.action_button.hide()
        self._action: Callable[[], None] | None = None
        row = QHBoxLayout(self)
        row.addWidget(self.text, 1)
        row.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self._notes: list[str] = []
        self.hide()

    def add(self, note: str) -> None:
        """Show one more note (logged too), below those not yet dismissed; a note already
        shown is not repeated (the same failure met again, at each load)."""
        log.warning("note shown: %s", note)
        if note not in self._notes:
            self._notes.append(note)
        self.text.setText("\n\n".join(self._notes))
        self.show()

    def withdraw(self, notes: list[str]) -> None:
        """Take back `notes` that no longer hold (their cause is gone); the others stay."""
        self._notes = [note for note in self._notes if note not in notes]
        if not self._notes:
            self.dismiss()
            return
        self.text.setText("\n\n".join(self._notes))

    def offer(self, note: str, button: str, action: Callable[[], None]) -> None:
        """Show `note` with a button labelled `button` that runs `action` and dismisses the
        notes (a later offer replaces an earlier one's button)."""
        self.add(note)
        self._action = action
        self.action_button.setText(button)
        self.action_button.show()

    @Slot()
    def _act(self) -> None:
        action = self._action
        self.dismiss()
        if action is not None:
            action()

    @Slot()
    def dismiss(self) -> None:
        self._notes.clear()
        self.text.clear()
        self._action = None
        self.action_button.hide()
        self.hide()


# --- uncaught exceptions -------------------------------------------------------------------------


class ErrorHooks(QObject):
    """`sys.excepthook` and `threading.excepthook` for the GUI (napari's
    `NotificationManager.install_hooks`): an exception nobody caught (a raising slot, a worker
    thread dying) is logged with its traceback and shown in a dialog naming the log file.

    Signals:
        shown(str): the text shown (or printed) for an uncaught exception, on the GUI thread.
    """

    shown = Signal(str)
    _arrived = Signal(object)

    def __init__(self, parent_window: Callable[[], QWidget | None] = lambda: None) -> None:
        super().__init__()
        self._parent_window = parent_window
        self._previous_sys = sys.excepthook
        self._previous_threading = threading.excepthook
        self.dialog: QMessageBox | None = None
        # Emitted from any thread; the queued connection shows the dialog on the GUI thread.
        self._arrived.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> ErrorHooks:
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception
        return self

    def uninstall(self) -> None:
        if sys.excepthook == self._on_exception:
            sys.excepthook = self._previous_sys
        if threading.excepthook == self._on_thread_exception:
            threading.excepthook = self._previous_threading

    def _on_exception(
        self,
        kind: type[BaseException],
        error: BaseException,
        traceback: TracebackType | None,
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous_sys(kind, error, traceback)
            return
        self._handle(error.with_traceback(traceback))

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        self._handle(args.exc_value.with_traceback(args.exc_traceback))

    def _handle(self, error: BaseException) -> None:
        # Logged here, on the thread it happened on, so nothing is lost if the GUI is gone.
        if isinstance(error, QuantdeskError):
            log.error("uncaught: %s", error, exc_info=error)
            text = str(error)
        else:
            log.error("uncaught exception: %r", error, exc_info=error)
            text = crash_text(error)
        self._arrived.emit(text)

    @Slot(object)
    def _show(self, text: str) -> None:
        if os.environ.get(NO_ERROR_DIALOGS) or QApplication.instance() is None:
            print(f"quantdesk: {text}", file=sys.stderr)
        elif self.dialog is not None and self.dialog.isVisible():
            # A burst of the same failure: one dialog, the latest text.
            self.dialog.setText(text)
        else:
            self.dialog = show_dialog(self._parent_window(), text, bug=True)
            self.dialog.destroyed.connect(self._forget_dialog)
        self.shown.emit(text)

    @Slot()
    def _forget_dialog(self) -> None:
        self.dialog = None


def install_hooks(parent_window: Callable[[], QWidget | None] = lambda: None) -> ErrorHooks:
    """Route every uncaught exception to the log and to the person; returns the hooks, which
    `uninstall()` puts back as they were."""
    return ErrorHooks(parent_window).install()
