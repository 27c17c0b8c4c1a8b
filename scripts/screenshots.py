"""Render Quantdesk's windows offscreen to PNG for docs/ and the README.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py

Uses the real engine on the tiny test model, so the picture shows a real streamed reply.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.core.engine import SamplingSettings  # noqa: E402
from app.core.settings import app_paths  # noqa: E402
from tests.models import base_model  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def wait_for(signal, timeout_ms: int = 60_000) -> None:  # noqa: ANN001
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main() -> None:
    os.environ["QUANTDESK_HOME"] = tempfile.mkdtemp(prefix="quantdesk-shots-")
    app = QApplication(sys.argv)
    from app.ui.main_window import MainWindow

    paths = app_paths().ensure()
    model = base_model()
    link = paths.models / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF" / model.name
    link.parent.mkdir(parents=True)
    link.symlink_to(model)
    window = MainWindow(paths)
    window.resize(1280, 800)
    window.show()
    window.load_model(link)
    wait_for(window.model_loaded)
    window.sampling = SamplingSettings(temperature=0.0, max_tokens=120, seed=1)
    window.input_box.setPlainText("Explain in three sentences why the sky is blue.")
    window.send_message()
    wait_for(window.reply_finished)
    window.input_box.setPlainText("And why are sunsets red?")
    DOCS.mkdir(exist_ok=True)
    window.grab().save(str(DOCS / "main-window.png"))
    print(DOCS / "main-window.png")
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
