"""Starting the GUI: the application object, logging, and the main window."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import __version__
from app.core.logs import setup_logging
from app.core.settings import app_paths
from app.ui.gc_guard import GuiThreadGarbageCollector

log = logging.getLogger(__name__)

# The icon in the source tree; installed bundles put it beside the app (packaging issue).
APP_ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "quantdesk.svg"


def _no_display_reason() -> str | None:
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


def run_app(argv: list[str]) -> int:
    """Open the main window and run the event loop until it closes; returns the exit code."""
    reason = _no_display_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    setup_logging(console=False)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Quantdesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("quantdesk")
    if APP_ICON.is_file():
        app.setWindowIcon(QIcon(str(APP_ICON)))
    paths = app_paths().ensure()
    log.info("starting version=%s models=%s", __version__, paths.models)

    # Imported here so the QApplication exists before any widget module loads.
    from app.ui.main_window import MainWindow
    from app.ui.theme import apply_theme

    collector = GuiThreadGarbageCollector(app)
    window = MainWindow(paths)
    apply_theme(app, window.preferences.theme)
    if os.environ.get(STARTUP_PROBE):
        _report_first_paint(window)
    window.show()
    if window.needs_wizard():
        window.show_wizard()
    window.detect_hardware_later()
    code = app.exec()
    window.close()
    collector.stop()
    log.info("exiting code=%s", code)
    return code


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
