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

from app.core.paths import app_paths  # noqa: E402
from tests.models import base_model, variant  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def wait_for(signal, timeout_ms: int = 60_000) -> None:  # noqa: ANN001
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def wizard_shots() -> None:
    """Each page of the first-run wizard on a faked NVIDIA machine, against the local Hub."""
    from PySide6.QtWidgets import QWizard
    from tests.gui.test_wizard import FILE, MACHINE, REPO

    from app.ui.main_window import MainWindow
    from tests.localhub import Fault, LocalHub, seed_repos

    os.environ["QUANTDESK_HOME"] = tempfile.mkdtemp(prefix="quantdesk-wizard-")
    with LocalHub() as hub:
        os.environ["HF_ENDPOINT"] = hub.url
        hub.add_repo(REPO, {FILE: base_model()})
        for repo_id, files in seed_repos().items():
            hub.add_listing_repo(repo_id, files)
        window = MainWindow(app_paths().ensure(), hardware=MACHINE)
        window.resize(1280, 800)
        window.show()
        wizard = window.show_wizard()
        wizard.resize(1280, 800)
        save(wizard, "wizard-1-welcome.png")
        wizard.next()
        for _ in range(300):  # the engine line fills in once the backends are loaded
            spin(100)
            if "checking" not in wizard.machine_page.summary.text():
                break
        save(wizard, "wizard-2-machine.png")
        wizard.next()
        save(wizard, "wizard-3-model.png")
        models = wizard.model_page.model_list
        models.select_repo("bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF")
        wizard.next()
        wait_for(wizard.file_page.chooser.facts_ready, 30_000)
        save(wizard, "wizard-4-file.png")
        # The download and ready pages with the tiny model (the seed repos hold no real bytes).
        wizard.back()
        models.search_box.setText("SmolLM2")
        models.search()
        wait_for(models.search_finished)
        models.select_repo(REPO)
        wizard.next()
        wait_for(wizard.file_page.chooser.facts_ready, 30_000)
        hub.inject(Fault.SLOW, bytes_per_second=6_000_000, times=None)
        wizard.next()
        spin(5000)
        save(wizard, "wizard-5-download.png")
        hub.clear_faults()
        wait_for(wizard.model_ready, 120_000)
        spin(200)
        save(wizard, "wizard-6-ready.png")
        wizard.button(QWizard.WizardButton.FinishButton).click()
        window.tabs.setCurrentWidget(window.discover_page)
        discover = window.discover_page
        discover.model_list.select_repo("bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF")
        wait_for(discover.chooser.facts_ready, 30_000)
        discover.chooser.goal.setCurrentIndex(1)
        save(window, "discover-page.png")
        window.close()


def main() -> None:
    app = QApplication(sys.argv)
    wizard_shots()
    os.environ["QUANTDESK_HOME"] = tempfile.mkdtemp(prefix="quantdesk-shots-")
    os.environ.pop("HF_ENDPOINT", None)
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
    # As on a machine with an NVIDIA card: the GPU engine box offers the CUDA engine.
    from tests.gui.test_wizard import MACHINE

    window.settings_page.set_hardware(MACHINE)
    window.tabs.setCurrentWidget(window.settings_page)
    save(window, "settings-page.png")
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
