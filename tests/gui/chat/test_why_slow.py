""" "Why is it slow?" in the real window, as a person uses it: the status bar's link opens a
window that says plainly when there is nothing to explain yet, and after a real reply from the
tiny model lists that reply's figures (its speed, the threads, the engine's CPU build) and one
suggestion."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.engine.backends import loaded_engine
from app.core.engine.engine import GenerationStats
from app.core.fit.slowness import Remedy, ReplyFigures, SlownessFigures, SmallerFile, Suggestion
from app.core.fit.speed import BANDWIDTH_FILE, SpeedBasis, SpeedRange, machine_key
from app.core.machine.hardware import HardwareProfile, detect
from app.core.paths import app_paths
from app.ui.chat.why_slow import WhySlowPanel
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.conftest import set_sampling
from tests.gui.setup.test_wizard import MACHINE

LOAD_MS = 120_000


@pytest.fixture
def profile() -> HardwareProfile:
    return detect()


@pytest.fixture
def window(qtbot: QtBot, profile: HardwareProfile) -> Iterator[MainWindow]:
    # This machine's RAM speed as measured before (20 GB/s): the prediction needs no new one.
    cache = app_paths().ensure().cache
    (cache / BANDWIDTH_FILE).write_text(
        json.dumps({"format": 1, "machine": machine_key(profile), "gbps": 20.0})
    )
    window = MainWindow(Session(app_paths().ensure(), hardware=profile))
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def test_why_is_it_slow_lists_the_last_replys_figures_and_one_suggestion(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, tmp_path: Path
) -> None:
    # The model alone in its folder: a smaller file is then named by the rule, not found.
    model_path = Path(shutil.copy(tiny_model, tmp_path / tiny_model.name))
    link = window.why_slow_button
    assert link.text() == "Why is it slow?" and link.accessibleName() == "Why is it slow?"
    assert link.isVisible() and link.focusPolicy() & Qt.FocusPolicy.TabFocus

    # Before any model, from the keyboard: the window says so.
    link.setFocus()
    qtbot.keyClick(link, Qt.Key.Key_Space)
    panel = window.why_slow_panel
    assert panel is not None and panel.isVisible() and not panel.isModal()
    assert panel.status.text().startswith("No model is loaded.")
    assert not panel.suggestion.isVisible()

    # A load while it is open: what the load alone tells, and that no reply is there yet.
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS) as loaded:
        window.load_model(model_path, context_length=2048)
    model = loaded.args[0]
    rows = panel.rows
    qtbot.waitUntil(lambda: rows["reply"].text() == "No reply yet.", timeout=60_000)
    assert panel.status.text().startswith("No reply yet: send a message")
    assert rows["layers"].text() == "All 30 layers on the CPU"
    # Nothing measured points to a cause yet, unless other programs keep the processor busy.
    busy_before = re.fullmatch(r"They used (\d+)\u00a0% of the processor just now\.", rows["cpu"].text())  # fmt: skip
    assert busy_before is not None, rows["cpu"].text()
    assert panel.suggestion.isVisible() == (int(busy_before[1]) >= 50)
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible()

    # A real reply, then the link clicked as a person would.
    set_sampling(window, temperature=0.0, max_tokens=24)
    qtbot.keyClicks(window.chat.input_box, "Name three colors.")
    with qtbot.waitSignal(window.reply_finished, timeout=LOAD_MS) as finished:
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    stats: GenerationStats = finished.args[0]
    assert stats.completion_tokens > 0
    qtbot.mouseClick(link, Qt.MouseButton.LeftButton)
    assert panel.isVisible()
    speed = f"{stats.tokens_per_second:.1f}"
    qtbot.waitUntil(lambda: f"then {speed}\u00a0tokens/s" in rows["reply"].text(), timeout=60_000)

    assert panel.status.text() == "Measured for this model and its last reply."
    assert rows["reply"].text().startswith("First token after ")
    assert f"(reading {stats.prompt_tokens:,}\u00a0tokens)" in rows["reply"].text()
    assert rows["threads"].text() == f"{model.threads} threads"
    engine = loaded_engine()
    assert engine is not None and engine.cpu_variant
    assert engine.cpu_variant in rows["engine"].text() or engine.cpu_variant == "native"
    assert rows["engine"].text().startswith("CPU engine")
    assert (
        rows["context"].text() == f"{stats.context_used:,} of 2,048\u00a0tokens of context in use"
    )
    swap, ram = rows["memory"].text().splitlines()  # no GPU here: no line on its memory
    assert swap == "No swap in use." or swap.startswith("Swap in use: ")
    assert ram.startswith("RAM free: ")
    assert (
        rows["predicted"]
        .text()
        .endswith(
            "\u00a0tokens/s at the start of a chat (estimated from this machine's memory speed; "
            "Measure speed makes it exact)."
        )
    )
    others = re.fullmatch(r"They used (\d+)\u00a0% of the processor just now\.", rows["cpu"].text())
    assert others is not None, rows["cpu"].text()
    # One suggestion, with the figure behind it: on this CPU-only machine with a short chat,
    # other programs keeping the processor busy (a shared test machine often is), else a
    # smaller file (Q4_0 where the CPU repacks it, else Q3_K_M), at this reply's speed.
    suggestion = panel.suggestion.text()
    assert panel.suggestion.isVisible()
    if int(others[1]) >= 50:
        busy = f"Close other programs that keep the processor busy: they used {others[1]}\u00a0%"
        assert suggestion.startswith(busy), suggestion
    else:
        assert suggestion.startswith("Choose a smaller file of this model, such as Q"), suggestion
        assert f"at {speed}\u00a0tokens/s" in suggestion


GIB = 1 << 30


def reply(tps: float, *, ttft: float = 0.3, seconds: float = 5.0, used: int = 300) -> ReplyFigures:
    return ReplyFigures(tps, ttft, seconds, used - 50, 50, used)


BASE = SlownessFigures(
    threads=8,
    cpu_variant="haswell",
    gpu_layers=20,
    layer_count=32,
    context_length=8192,
    gpu_backend="cuda",
    gpu_name="RTX 3070",
    gpu_free_bytes=3 * GIB,
    swap_used_bytes=2 * GIB,
    ram_available_bytes=GIB // 2,
    ram_total_bytes=16 * GIB,
    reply=reply(14.0, used=6000),
    first_reply=reply(20.0),
    predicted=SpeedRange(80.0, 120.0, SpeedBasis.BANDWIDTH),
)


@pytest.mark.parametrize(
    ("suggestion", "changes", "says"),
    [
        (
            Suggestion(Remedy.CLOSE_PROGRAMS),
            {},
            ["Close other programs", "2.0\u00a0GiB", "512.0\u00a0MiB"],
        ),  # fmt: skip
        (
            Suggestion(Remedy.BUSY_CPU),
            {"cpu_busy_share": 0.734},
            ["Close other programs that keep the processor busy", "73\u00a0%", "8 threads"],
        ),
        (
            Suggestion(Remedy.FEWER_GPU_LAYERS),
            {"gpu_shared_bytes": GIB},
            ["Put fewer layers", "1.0\u00a0GiB"],
        ),  # fmt: skip
        (
            Suggestion(Remedy.MORE_GPU_LAYERS),
            {},
            ["Put more layers", "12 layers run", "3.0\u00a0GiB"],
        ),  # fmt: skip
        (Suggestion(Remedy.MORE_GPU_LAYERS), {"gpu_layers": 31}, ["one layer runs"]),
        (
            Suggestion(Remedy.NEW_CHAT),
            {},
            ["Start a new chat", "6,000\u00a0tokens", "20.0", "14.0"],
        ),
        (
            Suggestion(Remedy.SHORTER_PROMPT),
            {"reply": reply(3.0, ttft=6.0, seconds=8.0, used=3000)},
            ["Send shorter", "6.0\u00a0s", "2.0\u00a0s"],
        ),  # fmt: skip
        (
            Suggestion(Remedy.CLOSE_GPU_APPS),
            {"gpu_layers": 32},
            ["Close other programs that use the GPU", "14.0\u00a0tokens/s", "80\u00a0tokens/s"],
        ),  # fmt: skip
        (
            Suggestion(Remedy.SMALLER_FILE, SmallerFile("Q4_0", "m-Q4_0.gguf")),
            {},
            ["m-Q4_0.gguf (Q4_0) is already", "14.0\u00a0tokens/s"],
        ),  # fmt: skip
        (
            Suggestion(Remedy.SMALLER_FILE, SmallerFile("Q3_K_M")),
            {},
            ["such as Q3_K_M", "14.0\u00a0tokens/s"],
        ),  # fmt: skip
        (Suggestion(Remedy.SMALLER_MODEL), {}, ["Choose a smaller model", "14.0\u00a0tokens/s"]),
        (
            Suggestion(Remedy.SMALLER_FILE),
            {},
            ["Choose a smaller file of this model (Discover", "14.0\u00a0tokens/s"],
        ),  # fmt: skip
    ],
)
def test_each_suggestion_says_the_figure_behind_it(
    qtbot: QtBot, suggestion: Suggestion, changes: dict[str, object], says: list[str]
) -> None:
    panel = WhySlowPanel()
    qtbot.addWidget(panel)
    figures = dataclasses.replace(BASE, **changes)
    panel.show_figures(figures, suggestion, engine="CPU engine: AVX2 build (haswell)")
    text = panel.suggestion.text()
    assert all(part in text for part in says), text
    # The split and the GPU's memory are listed from the same figures.
    assert panel.rows["layers"].text() in (
        "20 of 32 layers on RTX 3070, 12 on the CPU",
        "31 of 32 layers on RTX 3070, 1 on the CPU",
        "All 32 layers on RTX 3070",
    )
    assert "GPU memory borrowed from RAM: " in panel.rows["memory"].text()


def test_a_file_or_gpu_name_from_outside_shows_as_one_bounded_line(qtbot: QtBot) -> None:
    panel = WhySlowPanel()
    qtbot.addWidget(panel)
    hostile = "\x1b[31m" + "x" * 50_000 + "\n.gguf"
    figures = dataclasses.replace(BASE, gpu_name="RTX\u202e" + "9" * 50_000)
    panel.show_figures(
        figures, Suggestion(Remedy.SMALLER_FILE, SmallerFile("Q4_0", hostile)), engine="CPU"
    )
    for text in (panel.suggestion.text(), panel.rows["layers"].text()):
        assert len(text) < 2_000 and "\x1b" not in text and "\u202e" not in text, text[:200]
    assert "\n" not in panel.rows["layers"].text()


def test_a_speed_test_of_the_file_is_listed_and_sets_the_chats_start_speed(qtbot: QtBot) -> None:
    panel = WhySlowPanel()
    qtbot.addWidget(panel)
    # A reopened long chat: its first reply here was deep already; the speed test says 25.0.
    figures = dataclasses.replace(BASE, first_reply=reply(20.0, used=5000), tested_speed=25.0)
    panel.show_figures(figures, Suggestion(Remedy.NEW_CHAT), engine="CPU engine")
    assert panel.rows["predicted"].text().splitlines()[-1] == (
        "The speed test of this file here: 25.0\u00a0tokens/s at the start of a chat."
    )
    assert "Replies came at 25.0\u00a0tokens/s at the start, and 14.0" in panel.suggestion.text()


def test_asked_again_while_gathering_it_gathers_one_at_a_time_and_shows_the_latest(
    qtbot: QtBot, window: MainWindow, tiny_model: Path
) -> None:
    # No RAM speed measured yet: the first gathering measures it in a child. A second click
    # meanwhile (an impatient person; a reply ending does the same) doesn't start a second
    # measurement beside it: the figures are gathered again once it ends, and then shown.
    (app_paths().cache / BANDWIDTH_FILE).unlink()
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.load_model(tiny_model, context_length=2048)
    set_sampling(window, temperature=0.0, max_tokens=4)
    qtbot.keyClicks(window.chat.input_box, "Hi")
    with qtbot.waitSignal(window.reply_finished, timeout=LOAD_MS) as finished:
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    working: list[int] = []  # gatherings at work (not yet ended) each time one starts or ends
    jobs = window._slowness_jobs
    jobs.changed.connect(lambda: working.append(sum(not job.done for job in jobs.running)))
    qtbot.mouseClick(window.why_slow_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.why_slow_button, Qt.MouseButton.LeftButton)
    panel = window.why_slow_panel
    assert panel is not None and panel.status.text() == "Measuring…"
    speed = f"{finished.args[0].tokens_per_second:.1f}"
    qtbot.waitUntil(lambda: f"then {speed}\u00a0tokens/s" in panel.rows["reply"].text(), timeout=90_000)  # fmt: skip
    qtbot.waitUntil(lambda: not len(jobs), timeout=10_000)
    assert max(working) == 1 and len(working) >= 3, working  # two, one after the other
    assert panel.status.text() == "Measured for this model and its last reply."


@pytest.mark.parametrize(
    ("suggestion", "changes", "button", "lands_on"),
    [
        (
            Suggestion(Remedy.FEWER_GPU_LAYERS),
            {"gpu_shared_bytes": GIB},
            "Open GPU settings",
            "settings",
        ),  # fmt: skip
        (Suggestion(Remedy.MORE_GPU_LAYERS), {}, "Open GPU settings", "settings"),
        (Suggestion(Remedy.NEW_CHAT), {}, "Start a new chat", "new chat"),
        (
            Suggestion(Remedy.SHORTER_PROMPT),
            {"reply": reply(3.0, ttft=6.0, seconds=8.0, used=3000)},
            "Start a new chat",
            "new chat",
        ),
        (
            Suggestion(Remedy.SMALLER_FILE, SmallerFile("Q3_K_M")),
            {},
            "Find a smaller file",
            "discover",
        ),  # fmt: skip
        (Suggestion(Remedy.SMALLER_MODEL), {}, "Find a smaller file", "discover"),
    ],
)
def test_the_suggestion_is_one_click_away(
    qtbot: QtBot, suggestion: Suggestion, changes: dict[str, object], button: str, lands_on: str
) -> None:
    # A machine with a usable RTX card, so that GPU settings exist to be opened.
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    conversation = window.chat._store.create_conversation(model_path="m.gguf")
    window.chat.open_conversation(conversation.id)
    panel = window.show_why_slow()
    panel.show_figures(dataclasses.replace(BASE, **changes), suggestion, engine="CPU engine")
    action = panel.action_button
    assert action.isVisible() and action.text() == button and action.accessibleName() == button

    qtbot.mouseClick(action, Qt.MouseButton.LeftButton)
    assert not panel.isVisible()  # out of the way of the change
    current = window.pages.currentWidget()
    if lands_on == "settings":
        settings = window.settings_page
        assert current is settings and settings.gpu_combo.isVisible()
        qtbot.waitUntil(settings.gpu_combo.hasFocus)
    elif lands_on == "new chat":
        assert current is window.chat and window.chat._conversation is None
        qtbot.waitUntil(window.chat.input_box.hasFocus)
    else:
        assert current is window.discover_page
    assert window.sidebar.currentRow() == window.pages.indexOf(current)
    window.close()


@pytest.mark.parametrize(
    ("suggestion", "changes"),
    [
        (Suggestion(Remedy.CLOSE_PROGRAMS), {}),
        (Suggestion(Remedy.BUSY_CPU), {"cpu_busy_share": 0.9}),
        (Suggestion(Remedy.CLOSE_GPU_APPS), {"gpu_layers": 32}),
    ],
)
def test_a_change_made_outside_the_app_offers_no_button(
    qtbot: QtBot, suggestion: Suggestion, changes: dict[str, object]
) -> None:
    panel = WhySlowPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_figures(dataclasses.replace(BASE, **changes), suggestion, engine="CPU engine")
    assert panel.suggestion.isVisible() and not panel.action_button.isVisible()
    # A suggestion with a button, then the window cleared: the button goes with it.
    panel.show_figures(BASE, Suggestion(Remedy.NEW_CHAT), engine="CPU engine")
    assert panel.action_button.isVisible()
    panel.show_no_model()
    assert not panel.action_button.isVisible()
