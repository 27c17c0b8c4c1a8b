"""The Downloads panel and Models page, driving real downloads from the local Hub."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.core.hub import download as download_module
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.workers.download import DownloadRequest
from tests.gui.test_gpu_items import NO_GPU
from tests.localhub import Fault, LocalHub

REPO = "tester/Tiny-GGUF"


def test_download_from_the_panel_then_chat_with_it(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model})
    local_hub.inject(Fault.SLOW, bytes_per_second=40_000_000)
    panel = window.downloads_panel
    window.pages.setCurrentWidget(panel)
    qtbot.keyClicks(panel.repo_input, REPO)
    qtbot.keyClicks(panel.quant_input, "Q4_1")
    with qtbot.waitSignal(panel.download_finished, timeout=60_000) as finished:
        qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
        row = panel.rows[0]
        qtbot.waitUntil(lambda: 0 < row.bar.value() < 1000, timeout=20_000)
        assert " of 93.8\u00a0MiB" in row.status.text()
    (target,) = finished.args[0].paths
    assert row.bar.value() == 1000
    assert "verified" in row.status.text()
    assert row.chat_button.isVisible() and not row.cancel_button.isVisible()
    # The finished model shows in the library and the picker, and one click opens a chat with it.
    assert [m.path for m in window.models_page.models] == [target]
    assert window.model_picker.findData(str(target)) >= 0
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        qtbot.mouseClick(row.chat_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.chat


def test_pause_resume_and_cancel_from_the_panel(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download_module, "BACKOFF_SECONDS", (0.05,))
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": b"\x01" * 3_000_000})
    local_hub.inject(Fault.SLOW, bytes_per_second=500_000, times=None)
    row = window.downloads_panel.start_download(REPO, quant="Q4_K_M")
    qtbot.waitUntil(lambda: row.bar.value() > 0, timeout=20_000)
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "paused" in row.status.text(), timeout=5_000)
    assert row.pause_button.text() == "Resume"
    qtbot.mouseClick(row.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "paused" not in row.status.text(), timeout=5_000)
    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Cancelled" in row.status.text(), timeout=2_000)
    assert not list((app_paths().models / ".partial").glob("*.part"))


def test_gated_repo_error_is_shown_in_the_row(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub
) -> None:
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": b"x" * 1000}, gated=True, token="hf_x")
    row = window.downloads_panel.start_download(REPO, quant="Q4_K_M")
    qtbot.waitUntil(lambda: "gated" in row.status.text(), timeout=20_000)
    assert "HF_TOKEN" in row.status.text()


def test_models_page_imports_and_deletes(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, broken_models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    page = window.models_page
    with qtbot.waitSignal(page.import_failed, timeout=10_000):
        page.import_file(broken_models["wrong-magic"], copy=True)
    assert "not a GGUF model" in page.message.text()
    with qtbot.waitSignal(page.imported, timeout=30_000):
        page.import_file(tiny_model, copy=True)
    assert page.table.rowCount() == 1
    assert page.table.item(0, 2).text() == "Q4_1"
    assert page.table.item(0, 3).text() == "93.8\u00a0MiB"
    page.table.selectRow(0)
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(page.deleted, timeout=10_000):
        qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert page.table.rowCount() == 0
    assert tiny_model.exists()


def test_closing_mid_download_keeps_the_bytes_and_the_next_run_resumes(
    qtbot: QtBot, local_hub: LocalHub
) -> None:
    data = bytes(range(256)) * 12_000  # 3 MB
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    local_hub.inject(Fault.SLOW, bytes_per_second=1_000_000, times=1)
    first = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(first)
    row = first.downloads_panel.start_download(REPO, quant="Q4_K_M")
    qtbot.waitUntil(lambda: row.bar.value() > 100, timeout=20_000)
    first.close()  # the app quits mid-download
    assert not row.worker.is_running
    kept = local_hub.bytes_sent["m-Q4_K_M.gguf"]
    assert 0 < kept < len(data)

    second = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(second)
    panel = second.downloads_panel
    (interrupted,) = panel.interrupted_rows
    assert interrupted.partial.repo_id == REPO
    assert "Stopped at" in interrupted.status.text()
    with qtbot.waitSignal(panel.download_finished, timeout=30_000) as finished:
        qtbot.mouseClick(interrupted.resume_button, Qt.MouseButton.LeftButton)
    assert finished.args[0].paths[0].read_bytes() == data
    assert (
        local_hub.bytes_sent["m-Q4_K_M.gguf"] - len(data) < 300_000
    )  # only in-flight bytes resent
    second.close()


def test_a_download_that_lost_its_server_offers_resume(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download_module, "BACKOFF_SECONDS", (0.05, 0.1))
    data = bytes(range(256)) * 12_000
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    local_hub.inject(Fault.SLOW, bytes_per_second=1_000_000, times=None)
    row = window.downloads_panel.start_download(REPO, quant="Q4_K_M")
    qtbot.waitUntil(lambda: row.bar.value() > 100, timeout=20_000)
    local_hub.stop()  # the server goes away mid-file
    qtbot.waitUntil(lambda: not row.retry_button.isHidden(), timeout=20_000)
    assert "resume to continue" in row.status.text()

    with LocalHub() as back:  # it comes back (on a new address)
        back.add_repo(REPO, {"m-Q4_K_M.gguf": data})
        monkeypatch.setenv("HF_ENDPOINT", back.url)
        with qtbot.waitSignal(window.downloads_panel.download_finished, timeout=30_000) as done:
            qtbot.mouseClick(row.retry_button, Qt.MouseButton.LeftButton)
        assert done.args[0].paths[0].read_bytes() == data
        assert back.bytes_sent["m-Q4_K_M.gguf"] < len(data)  # resumed, not restarted


def test_a_second_request_for_the_same_file_joins_the_running_download(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model})
    local_hub.inject(Fault.SLOW, bytes_per_second=20_000_000)
    panel = window.downloads_panel
    row = panel.start_download(REPO, filename="tiny-Q4_1.gguf")
    # The wizard or Discover asks for the same file while it downloads: the same download.
    again = window.session.downloads.start(DownloadRequest(REPO, filename="tiny-Q4_1.gguf"))
    assert again is row.worker
    assert panel.start_download(REPO, filename="tiny-Q4_1.gguf") is row
    assert len(panel.rows) == 1
    with qtbot.waitSignal(panel.download_finished, timeout=60_000) as finished:
        pass
    assert finished.args[0].paths[0].read_bytes() == tiny_model.read_bytes()
    assert local_hub.bytes_sent["tiny-Q4_1.gguf"] == tiny_model.stat().st_size  # sent once


def test_the_empty_page_says_what_appears_here_and_leads_to_discover(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = window.downloads_panel
    window.pages.setCurrentWidget(panel)
    assert panel.empty_label.isVisible()
    assert "Discover" in panel.empty_label.text()
    assert "repo" in panel.empty_label.text()
    qtbot.mouseClick(panel.discover_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is window.discover_page


def test_finished_downloads_can_be_cleared_one_by_one_or_all_at_once(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub
) -> None:
    local_hub.add_repo(REPO, {"a-Q4_K_M.gguf": b"a" * 2000, "b-Q8_0.gguf": b"b" * 3000})
    panel = window.downloads_panel
    window.pages.setCurrentWidget(panel)
    assert not panel.clear_button.isEnabled()  # nothing has ended yet
    for quant in ("Q4_K_M", "Q8_0"):
        panel.repo_input.clear()
        panel.quant_input.clear()
        qtbot.keyClicks(panel.repo_input, REPO)
        qtbot.keyClicks(panel.quant_input, quant)
        with qtbot.waitSignal(panel.download_finished, timeout=20_000):
            qtbot.keyClick(panel.quant_input, Qt.Key.Key_Return)  # Enter starts it too
    first, second = panel.rows[1], panel.rows[0]
    assert not panel.empty_label.isVisible()
    assert panel.clear_button.isEnabled()

    # One row, with its own button: gone from the list and from the session's downloads.
    assert first.remove_button.isVisible()
    qtbot.mouseClick(first.remove_button, Qt.MouseButton.LeftButton)
    assert panel.rows == [second]
    assert first.worker not in window.session.downloads.downloads

    # The rest at once; the files stay in the library, and the page says what it is for again.
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.rows == []
    assert window.session.downloads.downloads == []
    assert panel.empty_label.isVisible()
    assert not panel.clear_button.isEnabled()
    assert len(window.models_page.models) == 2


def test_clear_finished_keeps_a_running_download(
    qtbot: QtBot, window: MainWindow, local_hub: LocalHub
) -> None:
    local_hub.add_repo(REPO, {"a-Q4_K_M.gguf": b"a" * 2000, "big-Q8_0.gguf": b"b" * 3_000_000})
    panel = window.downloads_panel
    with qtbot.waitSignal(panel.download_finished, timeout=20_000):
        done = panel.start_download(REPO, quant="Q4_K_M")
    local_hub.inject(Fault.SLOW, bytes_per_second=500_000, times=None)
    running = panel.start_download(REPO, quant="Q8_0")
    qtbot.waitUntil(lambda: running.bar.value() > 0, timeout=20_000)
    assert not running.remove_button.isVisible()
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.rows == [running]
    assert done.worker not in window.session.downloads.downloads
    qtbot.mouseClick(running.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: running.worker.done, timeout=5_000)


def test_discarding_an_interrupted_download_asks_first(qtbot: QtBot, local_hub: LocalHub) -> None:
    data = bytes(range(256)) * 12_000  # 3 MB
    local_hub.add_repo(REPO, {"m-Q4_K_M.gguf": data})
    local_hub.inject(Fault.SLOW, bytes_per_second=1_000_000, times=1)
    first = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(first)
    row = first.downloads_panel.start_download(REPO, quant="Q4_K_M")
    qtbot.waitUntil(lambda: row.bar.value() > 100, timeout=20_000)
    first.close()  # the app quits mid-download: its bytes are kept
    partials = list((app_paths().models / ".partial").glob("*.part"))
    assert partials

    second = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(second)
    second.show()
    panel = second.downloads_panel
    second.pages.setCurrentWidget(panel)
    (interrupted,) = panel.interrupted_rows
    assert not panel.empty_label.isVisible()

    # Discard asks; Cancel keeps the bytes.
    qtbot.mouseClick(interrupted.discard_button, Qt.MouseButton.LeftButton)
    box = interrupted.confirm_box
    assert box is not None and box.isVisible()
    assert "m-Q4_K_M.gguf" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: interrupted.confirm_box is None, timeout=2_000)
    assert all(p.exists() for p in partials)
    assert interrupted.isVisible()

    # Asked again and confirmed: the bytes go, the row goes, and the page says it is empty.
    qtbot.mouseClick(interrupted.discard_button, Qt.MouseButton.LeftButton)
    box = interrupted.confirm_box
    assert box is not None
    (discard,) = [b for b in box.buttons() if b.text() == "Discard"]
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not any(p.exists() for p in partials), timeout=10_000)
    qtbot.waitUntil(lambda: panel.interrupted_rows == [], timeout=5_000)
    assert panel.empty_label.isVisible()
    second.close()


def test_a_model_downloaded_in_this_run_gets_its_fit_badge(
    qtbot: QtBot, local_hub: LocalHub, tiny_model: Path
) -> None:
    local_hub.add_repo(REPO, {"tiny-Q4_1.gguf": tiny_model})
    window = MainWindow(Session(app_paths().ensure(), hardware=NO_GPU))
    qtbot.addWidget(window)
    window.show()
    window.detect_hardware_later()  # the badges are worked out for the (empty) library
    panel = window.downloads_panel
    window.pages.setCurrentWidget(panel)
    qtbot.keyClicks(panel.repo_input, REPO)
    qtbot.keyClicks(panel.quant_input, "Q4_1")
    with qtbot.waitSignal(panel.download_finished, timeout=60_000):
        qtbot.mouseClick(panel.download_button, Qt.MouseButton.LeftButton)
    page = window.models_page
    window.pages.setCurrentWidget(page)
    assert page.table.rowCount() == 1
    fit = page.COLUMNS.index("On this machine")
    qtbot.waitUntil(lambda: page.table.item(0, fit).text() != "…", timeout=20_000)
    assert page.table.item(0, fit).text() == "Runs on the CPU"
    window.close()
