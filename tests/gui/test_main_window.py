"""The real window, driven like a person would, with the real engine on the real tiny model."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.core.config.preferences import Preferences, save_preferences
from app.core.engine import backends
from app.core.hub.library import import_model
from app.core.machine import process_memory
from app.core.paths import app_paths
from app.ui.main_window import MainWindow, describe_gpu_layers
from app.ui.session import Session
from tests import models
from tests.conftest import BROKEN_REASONS
from tests.gui.conftest import StallMeter, pick_in_model_picker, set_sampling

STALL_LIMIT_MS = 100


def load(qtbot: QtBot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(path)


def test_typed_message_streams_a_reply_without_freezing_and_stop_ends_it(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    load(qtbot, window, tiny_model)
    assert "smollm2" in window.model_status.text().lower()
    set_sampling(window, temperature=0.0, max_tokens=400)
    meter = StallMeter()

    qtbot.keyClicks(window.chat.input_box, "Write a long story about a brave dragon and a knight.")
    assert window.chat.send_button.isEnabled()
    meter.start()
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert window.is_generating
    assert window.chat.stop_button.isEnabled()
    assert window.chat.input_box.toPlainText() == ""

    # Tokens arrive from the real model, batch after batch, into the real chat view.
    prompt_shown = window.chat.chat_view.plain_text()
    assert "Write a long story" in prompt_shown
    seen = [prompt_shown]
    for _ in range(5):
        qtbot.waitUntil(lambda: window.chat.chat_view.plain_text() != seen[-1], timeout=10_000)
        seen.append(window.chat.chat_view.plain_text())
    assert all(later.startswith(earlier) for earlier, later in zip(seen, seen[1:], strict=False))

    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.mouseClick(window.chat.stop_button, Qt.MouseButton.LeftButton)
    meter.stop()
    stats = finished.args[0]
    assert stats.finish_reason == "cancelled"
    assert 0 < stats.completion_tokens < 400
    assert not window.is_generating
    assert not window.chat.stop_button.isEnabled()
    assert "stopped" in window.status_note.text()
    print(f"\nlongest event-loop stall during generation: {meter.longest_ms} ms")
    assert meter.longest_ms < STALL_LIMIT_MS

    # The conversation goes on: the stopped reply is history, and a new message gets an answer.
    set_sampling(window, temperature=0.0, max_tokens=8)
    qtbot.keyClicks(window.chat.input_box, "Thanks!")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000) as finished:
        qtbot.keyClick(
            window.chat.input_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )
    assert finished.args[0].completion_tokens > 0
    stored = window.session.store.messages(window.chat.conversation.id)
    assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]
    assert [m.state for m in stored] == ["complete", "stopped", "complete", "complete"]


def test_escape_stops_the_reply(qtbot: QtBot, window: MainWindow, tiny_model: Path) -> None:
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=400)
    qtbot.keyClicks(window.chat.input_box, "Write a long story about a dragon.")
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    before = window.chat.chat_view.plain_text()
    qtbot.waitUntil(lambda: window.chat.chat_view.plain_text() != before, timeout=10_000)
    with qtbot.waitSignal(window.reply_finished, timeout=10_000) as finished:
        qtbot.keyClick(window.chat.input_box, Qt.Key.Key_Escape)
    assert finished.args[0].finish_reason == "cancelled"


def test_closing_the_window_mid_reply_ends_the_engine_thread_cleanly(
    qtbot: QtBot, tiny_model: Path
) -> None:
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=2000)
    qtbot.keyClicks(window.chat.input_box, "Write a very long story about a dragon.")
    qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    before = window.chat.chat_view.plain_text()
    qtbot.waitUntil(lambda: window.chat.chat_view.plain_text() != before, timeout=10_000)
    started = time.perf_counter()
    window.close()
    assert window.session.engine.thread.isFinished()
    assert time.perf_counter() - started < 5
    assert not window.session.engine.worker.has_model  # unloaded on its own thread


def test_broken_models_show_their_reason_and_the_app_keeps_working(
    qtbot: QtBot, window: MainWindow, broken_models: dict[str, Path], tiny_model: Path
) -> None:
    for kind, path in sorted(broken_models.items()):
        with qtbot.waitSignal(window.model_failed, timeout=30_000):
            window.load_model(path)
        assert BROKEN_REASONS[kind] in window.model_status.text(), kind
        assert path.name in window.model_status.text()
        assert not window.chat.send_button.isEnabled()
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=4)
    qtbot.keyClicks(window.chat.input_box, "Hi")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)


def test_hostile_template_shows_an_error_and_keeps_the_message(
    qtbot: QtBot, window: MainWindow, hostile_model: Path
) -> None:
    load(qtbot, window, hostile_model)
    qtbot.keyClicks(window.chat.input_box, "Hello there")
    with qtbot.waitSignal(window.reply_failed, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    assert "chat template can't be used" in window.chat.error_label.text()
    assert "Hello there" in window.chat.chat_view.plain_text()
    assert not window.is_generating
    assert not Path("/tmp/quantdesk-pwned").exists()


def test_model_picker_lists_local_models(qtbot: QtBot, tiny_model: Path) -> None:
    paths = app_paths().ensure()
    target = paths.models / "HuggingFaceTB" / "SmolLM2-135M-Instruct" / tiny_model.name
    target.parent.mkdir(parents=True)
    target.symlink_to(tiny_model)
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    assert window.model_picker.count() == 1
    # The repo's name and the quant; the file itself on hover.
    assert window.model_picker.itemText(0).startswith("SmolLM2 135M Instruct · Q4_1")
    tooltip = window.model_picker.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert tiny_model.name in tooltip
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        pick_in_model_picker(qtbot, window, 0)
    window.close()


def test_app_opens_offscreen_and_stays_up(quantdesk_home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    try:
        time.sleep(4)
        assert process.poll() is None, process.communicate()
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=30)
    assert "Traceback" not in err
    assert (quantdesk_home / "logs" / "quantdesk.log").read_text().count("starting version=") == 1


def test_status_bar_says_where_the_layers_run_in_words(qtbot: QtBot, tiny_model: Path) -> None:
    paths = app_paths().ensure()
    save_preferences(paths.config, Preferences(gpu_layers=-1))  # "All layers on the GPU"
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    load(qtbot, window, tiny_model)
    model = window.loaded_model
    assert model is not None and model.layer_count == 30
    label = window.model_label.text()
    assert "-1" not in label
    engine = backends.loaded_engine()
    if engine is not None and engine.gpu_offload:
        assert "all layers on the GPU" in label
    else:  # no GPU engine here: nothing about GPU layers
        assert model.gpu_layers == 0 and "GPU" not in label
    # What a machine with a GPU reads, for the counts llama.cpp reports there.
    assert describe_gpu_layers(replace(model, gpu_layers=30)) == "all layers on the GPU"
    assert describe_gpu_layers(replace(model, gpu_layers=12)) == "12 of 30\u00a0layers on the GPU"
    assert describe_gpu_layers(replace(model, gpu_layers=0)) == ""
    window.close()


def test_memory_figure_is_sampled_off_the_gui_thread(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    sampled_on: list[threading.Thread] = []
    real = process_memory.process_ram_bytes

    def recording() -> int:  # the real figure; only where it was asked is noted
        sampled_on.append(threading.current_thread())
        return real()

    monkeypatch.setattr(process_memory, "process_ram_bytes", recording)
    # Wait for a sample taken after the patch (the window may have sampled once already).
    qtbot.waitUntil(lambda: bool(sampled_on), timeout=10_000)
    qtbot.waitUntil(lambda: window.memory_label.text().startswith("RAM"), timeout=10_000)
    assert threading.main_thread() not in sampled_on


def test_a_model_is_named_by_its_repo_and_quant_never_by_the_name_inside_the_file(
    qtbot: QtBot, tiny_model: Path
) -> None:
    paths = app_paths().ensure()
    target = paths.models / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF" / tiny_model.name
    target.parent.mkdir(parents=True)
    target.symlink_to(tiny_model)
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_loaded, timeout=90_000) as loaded:
        pick_in_model_picker(qtbot, window, 0)
    inside = loaded.args[0].display_name  # general.name: free text ("Smollm2 135M 8k ...")
    assert inside != "SmolLM2 135M Instruct"
    window.models_page.refresh()
    named = {
        "status line": window.model_status.text(),
        "status bar": window.model_label.text(),
        "window title": window.windowTitle(),
        "model picker": window.model_picker.itemText(0),
        "Models page": window.models_page.table.item(0, 0).text(),
    }
    for where, text in named.items():
        assert "SmolLM2 135M Instruct" in text, where
        assert inside not in text, where
    assert "SmolLM2 135M Instruct · Q4_1" in window.model_label.text()
    # The file itself on hover.
    assert tiny_model.name in window.model_label.toolTip()
    assert tiny_model.name in window.models_page.table.item(0, 0).toolTip()
    window.close()


def test_names_are_shown_as_written_and_never_the_markup_inside_the_file(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    """`general.name` comes from the file: never shown (it is free text, and shown as HTML it
    could restyle or spoof the window). A file name can look like markup too: shown as written."""
    link = tmp_path / "<i>Spoof<u>-Q4_1.gguf"
    link.symlink_to(models.variant("markup-name"))
    load(qtbot, window, link)
    assert not [label for label in window.findChildren(QLabel) if "color:red" in label.text()]
    showing = [label for label in window.findChildren(QLabel) if "Spoof" in label.text()]
    assert window.model_status in showing and window.model_label in showing
    for label in showing:
        assert "<i>Spoof<u>" in label.text()
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName() or label.text()
    # What a person sees: the tags as letters, so the label is as wide as the whole text.
    plain = QLabel(window.model_label.text())
    plain.setTextFormat(Qt.TextFormat.PlainText)
    assert window.model_label.sizeHint().width() == plain.sizeHint().width()


def _thread_niceness() -> dict[int, tuple[str, int]]:
    """Each thread of this process: its name and nice value (Linux /proc)."""
    threads = {}
    for task in Path("/proc/self/task").iterdir():
        stat = (task / "stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        threads[int(task.name)] = ((task / "comm").read_text().strip(), int(fields[16]))
    return threads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_llama_cpp_threads_yield_the_cpu_to_the_window(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    """While a reply streams, llama.cpp's threads keep the cores busy; at the GUI thread's
    priority they would make the window wait its turn (bench/bench_chat_stall.py). The engine
    thread and every thread llama.cpp starts from it run at a lower priority (higher nice)."""
    before = _thread_niceness()
    gui_nice = before[threading.get_native_id()][1]
    window.session.update_preferences(threads=2)  # llama.cpp starts a worker thread
    load(qtbot, window, tiny_model)
    set_sampling(window, temperature=0.0, max_tokens=16)
    qtbot.keyClicks(window.chat.input_box, "Count to ten.")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.keyClick(
            window.chat.input_box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier
        )

    assert window.session.engine.worker.priority_lowered
    after = _thread_niceness()
    engine_threads = {tid: nice for tid, (name, nice) in after.items() if name == "engine"}
    # The engine thread and llama.cpp's worker threads (named after the thread that started them).
    assert len(engine_threads) >= 2, after
    assert all(nice >= gui_nice + 5 for nice in engine_threads.values()), after
    assert after[threading.get_native_id()][1] == gui_nice  # the window keeps its priority


def test_the_loaded_model_follows_a_move_of_the_models_folder(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, tmp_path: Path
) -> None:
    copied = import_model(window.session.paths, tiny_model, copy=True).path
    window.refresh_models()
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        pick_in_model_picker(qtbot, window, 0)
    set_sampling(window, temperature=0.0, max_tokens=4)
    qtbot.keyClicks(window.chat.input_box, "Hello")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)

    target = (tmp_path / "bigger-disk" / "models").resolve()
    with qtbot.waitSignal(window.session.models_moved, timeout=30_000):
        window.settings_page.move_models_folder_to(target)
    now = target / copied.relative_to(window.session.paths.models)
    assert window.loaded_model is not None and window.loaded_model.path == now
    assert not window.model_offer.isVisible()  # the chat's model is the one loaded
    qtbot.keyClicks(window.chat.input_box, "Again")
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    conversation = window.chat.conversation
    assert conversation is not None
    stored = window.session.store.messages(conversation.id)
    assert {m.model_path for m in stored} == {str(now)}
    assert window.model_picker.currentData() == str(now)
