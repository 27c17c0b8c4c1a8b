"""Starting the GUI: the application object, logging, and the main window."""

from __future__ import annotations

import logging
import sys

from PySide6.QtWidgets import QApplication

from app import __version__
from app.core.logs import setup_logging
from app.core.settings import app_paths

log = logging.getLogger(__name__)


def run_app(argv: list[str]) -> int:
    """Open the main window and run the event loop until it closes; returns the exit code."""
    setup_logging(console=False)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("Quantdesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("quantdesk")
    paths = app_paths().ensure()
    log.info("starting version=%s models=%s", __version__, paths.models)

    # Imported here so the QApplication exists before any widget module loads.
    from app.ui.main_window import MainWindow

    window = MainWindow(paths)
    window.show()
    code = app.exec()
    log.info("exiting code=%s", code)
    return code


if __name__ == "__main__":
    sys.exit(run_app(sys.argv))
