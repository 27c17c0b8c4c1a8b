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

from app.core.settings import app_paths  # noqa: E402
from tests.models import base_model, variant  # noqa: E402

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
    set_sampling(window, temperature=0.0, max_tokens=160)
    window.input_box.setPlainText("Write a Python function that reverses a string.")
    window.send_message()
    wait_for(window.reply_finished)
    window.input_box.setPlainText("And one that counts the vowels?")
    DOCS.mkdir(exist_ok=True)
    save(window, "main-window.png")

    # A reasoning model (the AceReason-style test variant): thoughts apart from the answer.
    window.chat.new_conversation()
    window.load_model(variant("chatml-think"))
    wait_for(window.model_loaded)
    set_sampling(window, temperature=0.0, max_tokens=90)
    window.chat.settings_panel.reasoning_budget.setValue(40)
    window.chat.settings_button.setChecked(True)
    window.input_box.setPlainText("Why is the sky blue?")
    window.send_message()
    wait_for(window.reply_finished)
    window.chat_view.messages()[-1].reasoning_toggle.setChecked(True)
    save(window, "chat-thinking.png")
    window.chat.settings_button.setChecked(False)

    from tests.localhub import Fault, LocalHub

    with LocalHub() as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        hub.add_repo(
            "bartowski/SmolLM2-135M-Instruct-GGUF", {"SmolLM2-135M-Instruct-Q4_1.gguf": model}
        )
        hub.add_repo("tester/Tiny-Copy-GGUF", {"tiny-copy-Q4_1.gguf": model})
        panel = window.downloads_panel
        window.tabs.setCurrentWidget(panel)
        first = panel.start_download("tester/Tiny-Copy-GGUF", quant="Q4_1")
        wait_for(first.worker.finished)
        hub.inject(Fault.SLOW, bytes_per_second=8_000_000, times=None)
        second = panel.start_download("bartowski/SmolLM2-135M-Instruct-GGUF", quant="Q4_1")
        spin(4000)
        save(window, "downloads-panel.png")
        second.worker.cancel()
        wait_for(second.worker.cancelled, 5000)
    window.models_page.refresh()
    window.tabs.setCurrentWidget(window.models_page)
    window.models_page.table.selectRow(0)
    spin(200)
    save(window, "models-page.png")
    window.close()
    app.quit()


def set_sampling(window, **values: float) -> None:  # noqa: ANN001
    for key, value in values.items():
        window.chat.settings_panel.fields[key].setValue(value)


def save(window, name: str) -> None:  # noqa: ANN001
    spin(100)
    window.grab().save(str(DOCS / name))
    print(DOCS / name)


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


if __name__ == "__main__":
    main()
