"""The chat's Reply settings panel: its name, its words, its greyed control, its width."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QPushButton, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow

TERMS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens")


def hover_tooltip(qtbot: QtBot, widget: QWidget) -> str:
    """Rest the mouse on `widget` (a tooltip event, as Qt sends after a pause): what shows."""
    QToolTip.hideText()
    center = widget.rect().center()
    event = QHelpEvent(QEvent.Type.ToolTip, center, widget.mapToGlobal(center))
    QApplication.sendEvent(widget, event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=2_000)
    return QToolTip.text()


def open_panel(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.mouseClick(window.chat.settings_button, Qt.MouseButton.LeftButton)
    assert window.chat.settings_panel.isVisible()


def test_the_chat_panel_is_called_reply_settings_not_settings(
    qtbot: QtBot, window: MainWindow
) -> None:
    assert window.chat.settings_button.text() == "Reply settings"
    open_panel(qtbot, window)
    assert "Reply settings" in window.chat.settings_panel.title.text()
    # "Settings" alone names one thing: the app's page in the sidebar.
    named = [b for b in window.chat.findChildren(QPushButton) if b.text() == "Settings"]
    assert named == []


def test_every_term_explains_itself_on_hover(qtbot: QtBot, window: MainWindow) -> None:
    open_panel(qtbot, window)
    panel = window.chat.settings_panel
    tips = {}
    for key in (*TERMS, "reasoning_budget", "context_length"):
        tips[key] = hover_tooltip(qtbot, panel.labels[key])
        assert len(tips[key]) > 40, key  # a sentence, not a repeat of the label
    assert len(set(tips.values())) == len(tips)  # each its own explanation
    assert hover_tooltip(qtbot, panel.fields["top_k"]) == tips["top_k"]
    assert "0 turns this limit off" in tips["top_k"]


def test_a_greyed_thinking_budget_says_why(
    qtbot: QtBot, window: MainWindow, tiny_model: Path, think_model: Path
) -> None:
    open_panel(qtbot, window)
    panel = window.chat.settings_panel
    budget = panel.reasoning_budget
    assert not budget.isEnabled()
    assert panel.budget_note.isVisible() and "Load a model" in panel.budget_note.text()
    assert "Load a model" in hover_tooltip(qtbot, budget)

    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(tiny_model)  # answers without thinking
    assert not budget.isEnabled()
    assert "without thinking" in panel.budget_note.text()

    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(think_model)
    assert budget.isEnabled()
    assert not panel.budget_note.isVisible()


def test_opening_the_panel_in_a_1024_wide_window_keeps_its_size(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(1024, 640)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=2_000)
    open_panel(qtbot, window)
    qtbot.wait(100)  # the layout settles in posted events
    assert (window.width(), window.height()) == (1024, 640)
    assert window.chat.settings_panel.width() >= 200  # and the panel is usable
    assert window.chat.chat_view.width() > 300


def test_a_greyed_send_button_says_why(qtbot: QtBot, window: MainWindow, tiny_model: Path) -> None:
    send = window.chat.send_button
    assert not send.isEnabled()
    assert "Load a model" in hover_tooltip(qtbot, send)
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        window.load_model(tiny_model)
    assert not send.isEnabled() and "Type a message" in hover_tooltip(qtbot, send)
    qtbot.keyClicks(window.chat.input_box, "Hi")
    assert send.isEnabled()
