"""Starting the GUI: the application object, logging, and the main window."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app import __version__
from app.core._util.logs import setup_logging
from app.core.paths import app_paths
from app.resources import ICONS
from app.ui.gc_guard import GuiThreadGarbageCollector
from app.ui.messages import NO_ERROR_DIALOGS, error_text, install_hooks

log = logging.getLogger(__name__)

APP_ICON = ICONS / "quantdesk.svg"


def no_display_reason() -> str | None:
    """On Linux without a display, Qt would abort with a core dump; say so plainly instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "quantdesk: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). "
        "Start it from a desktop session, use `quantdesk chat MODEL --prompt TEXT` without a "
        "window, or set QT_QPA_PLATFORM=offscreen."
    )


STARTUP_PROBE = "QUANTDESK_STARTUP_PROBE"
# The installed desktop entry's name without ".desktop" (installers/linux/): on Wayland the
# window's app id, which is how the desktop finds the icon and groups windows.
DESKTOP_ID = "app.quantdesk.Quantdesk"


class _FirstPaintProbe(QObject):
    """For bench/bench_startup.py: print seconds from process start to the first paint, exit."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            import psutil

            launched = float(os.environ.get("LAUNCHED_AT") or psutil.Process().create_time())
            print(f"painted {time.time() - launched:.3f}", flush=True)
            os._exit(0)
        return False


def _report_first_paint(window: QObject) -> None:
    probe = _FirstPaintProbe(window)
    window.installEventFilter(probe)


class _AfterFirstPaint(QObject):
    """Runs a callback once the window has painted for the first time (from the event loop, not
    inside the paint), then removes itself."""

    def __init__(self, window: QWidget, callback: Callable[[], object]) -> None:
        super().__init__(window)
        self._callback = callback
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._callback)
        return False


SMOKE_SCREENSHOT = "QUANTDESK_SMOKE_SCREENSHOT"


def _screenshot_then_quit(app: QApplication, window: QWidget, target: str, after_ms: int) -> None:
    """For installer smoke tests: after the app has run a while (start-up workers done), save
    what a person sees (the main window, and the wizard over it on a first run) and quit."""
    from PySide6.QtGui import QPainter

    def shoot() -> None:
        image = window.grab().toImage()
        painter = QPainter(image)
        for other in app.topLevelWidgets():
            if other is not window and other.isVisible() and other.isWindow():
                painter.drawPixmap(other.pos() - window.pos(), other.grab())
        painter.end()
        # PySide6's stub says the format is bytes; the binding takes only a str.
        saved = image.save(target, "PNG")  # type: ignore[call-overload]
        print(f"screenshot {target} {image.width()}x{image.height()} saved={saved}", flush=True)
        app.exit(0 if saved else 3)

    QTimer.singleShot(after_ms, shoot)


def _explain_start_failure(error: Exception) -> None:
    """The window couldn't be built: say so in a dialog (logged, naming the log file) and wait
    until the person has read it, since the app then exits."""
    text = error_text(error)
    if os.environ.get(NO_ERROR_DIALOGS):
        print(f"quantdesk: {text}", file=sys.stderr)
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "Quantdesk", f"Quantdesk can't start. {text}")
    box.exec()


def run_app(argv: list[str]) -> int:
    """Open the main window and run the event loop until it closes; returns the exit code."""
    reason = no_display_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    setup_logging(console=False)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    app.setApplicationName("Quantdesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_ID)
    if APP_ICON.is_file():
        app.setWindowIcon(QIcon(str(APP_ICON)))
    paths = app_paths().ensure()
    log.info("starting version=%s models=%s", __version__, paths.models)

    # Imported here so the QApplication exists before any widget module loads.
    from app.ui.main_window import MainWindow
    from app.ui.session import Session
    from app.ui.theme import apply_theme
    from app.ui.translations import chosen_language, install_translators

    collector = GuiThreadGarbageCollector(app)
    window: MainWindow | None = None
    # From here on, an exception nobody catches (a raising slot, a dying thread) is logged and
    # shown, never lost on a stderr that a double-clicked app doesn't have.
    hooks = install_hooks(lambda: window)
    try:
        session = Session(paths)  # the one owner of shared state; the window's close ends it
        # Before any widget is built: each takes its texts from the translators as it is made.
        install_translators(app, chosen_language(session.preferences.language))
        # Before the widgets too: a style or palette set afterwards re-polishes every one.
        apply_theme(app, session.preferences.theme)
        window = MainWindow(session)
    except Exception as error:  # noqa: BLE001 - a start-up bug is shown, not printed
        _explain_start_failure(error)
        hooks.uninstall()
        collector.stop()
        return 1
    if os.environ.get(STARTUP_PROBE):
        _report_first_paint(window)
    window.show()
    # Built once the window is on screen: the wizard (~35 ms of widgets) on a first run, then the
    # pages after the chat, one per event-loop turn. The window shows first.
    if window.needs_wizard():
        _AfterFirstPaint(window, window.show_wizard)
    _AfterFirstPaint(window, window.finish_building_later)
    # Off the GUI thread, but it holds the interpreter now and then: after the first paint too.
    _AfterFirstPaint(window, window.detect_hardware_later)
    if os.environ.get(SMOKE_SCREENSHOT):
        seconds = float(os.environ.get("QUANTDESK_SMOKE_SECONDS", "5"))
        _screenshot_then_quit(app, window, os.environ[SMOKE_SCREENSHOT], int(seconds * 1000))
    code = app.exec()
    window.close()
    hooks.uninstall()
    collector.stop()
    log.info("exiting code=%s", code)
    return code


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
