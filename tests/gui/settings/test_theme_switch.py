"""Switching the theme live keeps every label of the main pages readable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.ui.main_window import MainWindow
from app.ui.style import muted_color
from app.ui.theme import apply_theme

# WCAG's minimum for body text.
READABLE = 4.5


def _luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.red())
        + 0.7152 * channel(color.green())
        + 0.0722 * channel(color.blue())
    )


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def unreadable_labels(window: MainWindow) -> list[str]:
    found = []
    for label in window.findChildren(QLabel):
        if not label.text().strip():
            continue
        palette = label.palette()
        text = palette.color(label.foregroundRole())
        background = palette.color(QPalette.ColorRole.Window)
        ratio = contrast(text, background)
        if ratio < READABLE:
            found.append(f"{label.text()[:40]!r}: {ratio:.1f}")
    return found


def choose_theme(qtbot: QtBot, window: MainWindow, name: str) -> None:
    """Open Settings from the sidebar and pick the theme with the keyboard, as a person does."""
    settings_row = window.pages.indexOf(window.settings_page)
    item = window.sidebar.item(settings_row)
    qtbot.mouseClick(
        window.sidebar.viewport(),
        Qt.MouseButton.LeftButton,
        pos=window.sidebar.visualItemRect(item).center(),
    )
    assert window.pages.currentWidget() is window.settings_page
    combo = window.settings_page.theme_combo
    combo.setFocus()
    key = Qt.Key.Key_Down if combo.findData(name) > combo.currentIndex() else Qt.Key.Key_Up
    while combo.currentData() != name:
        qtbot.keyClick(combo, key)
    QApplication.processEvents()  # widgets learn of the new palette by an event


def test_every_label_stays_readable_from_light_to_dark_and_back(
    qtbot: QtBot, window: MainWindow, qapp: QApplication
) -> None:
    window.chat.show_error("Couldn't load the model.")  # an error line, in the error color
    try:
        for theme in ("light", "dark", "light", "dark"):
            choose_theme(qtbot, window, theme)
            assert unreadable_labels(window) == [], theme
            # Rich text that names its colors is written again in the theme's colors.
            models = window.discover_page.model_list
            entry = models.list.itemWidget(models.list.item(0))
            assert muted_color(models.list).name() in entry.text(), theme
        error = window.chat.error_label.palette().color(QPalette.ColorRole.WindowText)
        background = window.chat.error_label.palette().color(QPalette.ColorRole.Window)
        assert contrast(error, background) >= READABLE
    finally:
        apply_theme(qapp, "system")
