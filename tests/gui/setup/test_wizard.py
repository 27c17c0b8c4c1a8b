"""The first-run wizard walked as a person would: real window, real local Hub, real download,
real engine, down to a streamed reply. Only the hardware is faked (an NVIDIA machine), behind the
same `HardwareProfile` the detector fills."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from app.core.config.preferences import load_preferences
from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from tests.gui.setup.conftest import FILE, REPO
from tests.localhub import LocalHub

GIB = 1 << 30
MACHINE = HardwareProfile(
    os="linux",
    cpu=CpuInfo("x86_64", "Test CPU 8-Core", 8, ("avx", "avx2", "fma", "f16c")),
    ram_bytes=16 * GIB,
    ram_available_bytes=12 * GIB,
    gpus=(GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * GIB, 7 * GIB),),
)


def click_next(qtbot: QtBot, wizard: FirstRunWizard) -> None:
    button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(button.isEnabled, timeout=90_000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_the_wizard_takes_a_new_user_from_nothing_to_a_streamed_reply(
    qtbot: QtBot, hub: LocalHub
) -> None:
    paths = app_paths().ensure()
    window = MainWindow(Session(paths, hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    assert window.needs_wizard()
    wizard = window.show_wizard()
    assert wizard.currentId() == FirstRunWizard.PAGE_WELCOME

    # 2. The machine, in words; the person corrects the VRAM (say the driver reported it wrong).
    click_next(qtbot, wizard)
    page = wizard.machine_page
    qtbot.waitUntil(lambda: "CPU engine" in page.summary.text(), timeout=30_000)
    assert "RTX 3070" in page.summary.text()
    assert "fast path available" in page.summary.text()
    assert "16.0\u00a0GiB RAM" in page.summary.text()  # as the OS counts it
    assert "AVX2" in page.summary.text()
    page.vram[0].setValue(6.0)

    # 3. The curated list works offline; search finds the repo on the (local) Hub.
    click_next(qtbot, wizard)
    models = wizard.model_page.model_list
    names = models.item_texts()
    assert any("Nemotron Nano 4B" in name and "reasoning on/off" in name for name in names)
    assert any("base model" in name for name in names)
    # The one that suits this machine is picked already; a search takes the pick away.
    assert models.selected is not None and "Nemotron-Nano-4B" in models.selected.repo_id
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.keyClicks(models.search_box, "SmolLM2")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.mouseClick(models.search_button, Qt.MouseButton.LeftButton)
    models.select_repo(REPO)
    assert models.selected is not None and models.selected.repo_id == REPO

    # 4. The file: the recommendation preselected with its reasons; goal and context re-fit.
    click_next(qtbot, wizard)
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.selected_option is not None, timeout=20_000)
    option = chooser.selected_option
    assert option.files == (FILE,) and option.quant == "Q4_1"
    assert option.fit == "gpu"
    assert "of its 6.0\u00a0GiB" in chooser.summary.text()  # fitted to the corrected VRAM
    assert "Runs on the GPU" in chooser.table.item(0, 3).text()
    needs_before = chooser.table.item(0, 2).text()
    chooser.context_slider.setValue(chooser.context_slider.value() + 1)
    assert chooser.table.item(0, 2).text() != needs_before  # a bigger context needs more
    chooser.goal.setCurrentIndex(1)  # best quality
    assert chooser.selected_option is not None

    # 5. The real download, with progress, then 6. the model loads and the chat is ready.
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentId() == FirstRunWizard.PAGE_READY, timeout=60_000)
    assert wizard.download_row is not None
    # One download, shown in the wizard and in the Downloads page alike.
    assert [row.worker for row in window.downloads_panel.rows] == [wizard.download_row.worker]
    assert (window.models_dir / REPO / FILE).is_file()
    qtbot.waitUntil(
        lambda: wizard.button(QWizard.WizardButton.FinishButton).isEnabled(), timeout=90_000
    )
    assert "is ready" in wizard.ready_page.status.text()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.chat
    assert window.loaded_model is not None and window.loaded_model.quant == "Q4_1"

    window.chat.settings_panel.fields["max_tokens"].setValue(12)
    qtbot.keyClicks(window.chat.input_box, "Hello!")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000) as finished:
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].completion_tokens > 0
    assert window.chat.chat_view.messages()[-1].content

    preferences, _ = load_preferences(paths.config)
    assert preferences.first_run_done
    assert preferences.vram_override(0) == 6 * GIB  # the correction is remembered
    window.close()

    # A second run skips the wizard and goes straight to the chat.
    again = MainWindow(Session(paths, hardware=MACHINE))
    qtbot.addWidget(again)
    assert not again.needs_wizard()
    assert (
        again.session.hardware is not None and again.session.hardware.gpus[0].vram_bytes == 6 * GIB
    )
    again.close()


def test_offline_the_curated_list_still_works_and_search_says_why(
    qtbot: QtBot, hub: LocalHub
) -> None:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    wizard = window.show_wizard()
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    models = wizard.model_page.model_list
    hub.stop()
    qtbot.keyClicks(models.search_box, "anything")
    with qtbot.waitSignal(models.search_finished, timeout=60_000):
        qtbot.mouseClick(models.search_button, Qt.MouseButton.LeftButton)
    assert "can't be reached" in models.message.text()
    assert models.list.count() == 4  # the curated models are still there
    wizard.reject()
    window.close()


def test_a_local_file_skips_choosing_and_downloading(qtbot: QtBot, tiny_model: Path) -> None:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    wizard = window.show_wizard()
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    wizard.model_page.use_local_file(tiny_model)
    assert wizard.currentId() == FirstRunWizard.PAGE_READY
    with qtbot.waitSignal(wizard.model_ready, timeout=90_000):
        pass
    assert window.loaded_model is not None and window.loaded_model.path == tiny_model
    wizard.accept()
    window.close()


def test_with_a_model_already_there_the_wizard_is_skipped(tiny_model: Path, qtbot: QtBot) -> None:
    paths = app_paths().ensure()
    target = paths.models / "someone" / "repo" / tiny_model.name
    target.parent.mkdir(parents=True)
    target.symlink_to(tiny_model)
    window = MainWindow(Session(paths, hardware=MACHINE))
    qtbot.addWidget(window)
    assert not window.needs_wizard()
    # The Models page says how each file fits this machine.
    window.detect_hardware_later()
    table = window.models_page.table
    qtbot.waitUntil(lambda: table.item(0, 4).text() == "Runs on the GPU", timeout=20_000)
    window.close()


def test_discover_finds_a_model_and_downloads_the_recommended_file(
    qtbot: QtBot, hub: LocalHub
) -> None:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    window.sidebar.setCurrentRow(2)
    page = window.discover_page
    assert window.pages.currentWidget() is page
    qtbot.keyClicks(page.model_list.search_box, "SmolLM2")
    with qtbot.waitSignal(page.model_list.search_finished, timeout=20_000):
        qtbot.keyClick(page.model_list.search_box, Qt.Key.Key_Return)
    with qtbot.waitSignal(page.chooser.facts_ready, timeout=20_000):
        page.model_list.select_repo(REPO)
    assert page.chooser.selected_option is not None
    assert page.download_button.isEnabled()
    with qtbot.waitSignal(window.downloads_panel.download_finished, timeout=60_000):
        qtbot.mouseClick(page.download_button, Qt.MouseButton.LeftButton)
        assert window.pages.currentWidget() is window.downloads_panel
    assert (window.models_dir / REPO / FILE).is_file()
    window.close()


def test_cancel_while_a_repo_is_read_closes_the_wizard_at_once(qtbot: QtBot, hub: LocalHub) -> None:
    from tests.gui.conftest import StallMeter
    from tests.localhub import Fault

    # The repo's header arrives over a slow link (about two seconds): the person gives up.
    hub.inject(Fault.SLOW, path=FILE, bytes_per_second=2_000_000, times=None)
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    wizard = window.show_wizard()
    click_next(qtbot, wizard)
    click_next(qtbot, wizard)
    models = wizard.model_page.model_list
    qtbot.keyClicks(models.search_box, "SmolLM2")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.keyClick(models.search_box, Qt.Key.Key_Return)
    models.select_repo(REPO)
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: any(FILE in path for _m, path, _r in hub.requests), timeout=20_000)

    meter = StallMeter(interval_ms=10)
    meter.start()
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.CancelButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=5_000)
    qtbot.wait(200)
    meter.stop()
    print(f"\nlongest event-loop stall cancelling during a slow read: {meter.longest_ms} ms")
    assert meter.longest_ms < 500  # the read itself takes about 2 s: it was waited for before
    window.close()  # the session waits for the abandoned read at close
