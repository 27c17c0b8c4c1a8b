"""Light, dark, or the system's look: the Fusion style with a palette, or the platform's own."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from app.core.config.preferences import THEMES

# The platform's style and palette as they were before the first theme was applied, so that
# going back to "system" restores them.
_system: dict[str, object] = {}


def apply_theme(app: QApplication, theme: str) -> None:
    """Apply "system" (the platform's style and palette), "light" or "dark" (Fusion) at once."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}")
    if not _system:
        _system["style"] = app.style().name()
        _system["palette"] = QPalette(app.palette())
    if theme == "system":
        # Setting a style re-polishes every widget: only when it changes.
        if app.style().name() != _system["style"]:
            app.setStyle(str(_system["style"]))
        palette = _system["palette"]
        assert isinstance(palette, QPalette)
        app.setPalette(palette)
        return
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if theme == "dark" else light_palette())


def current_theme_is_dark(app: QApplication) -> bool:
    """Whether windows are darker than their text (whatever chose the palette)."""
    palette = app.palette()
    return (
        palette.color(QPalette.ColorRole.Window).lightness()
        < palette.color(QPalette.ColorRole.WindowText).lightness()
    )


def light_palette() -> QPalette:
    """Fusion's own light palette."""
    style = QStyleFactory.create("Fusion")
    return QPalette(style.standardPalette())


def dark_palette() -> QPalette:
    """A dark palette with readable disabled text, links and selection."""
    palette = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: QColor(45, 45, 48),
        role.WindowText: QColor(230, 230, 230),
        role.Base: QColor(30, 30, 32),
        role.AlternateBase: QColor(45, 45, 48),
        role.ToolTipBase: QColor(60, 60, 64),
        role.ToolTipText: QColor(230, 230, 230),
        role.PlaceholderText: QColor(140, 140, 140),
        role.Text: QColor(230, 230, 230),
        role.Button: QColor(53, 53, 57),
        role.ButtonText: QColor(230, 230, 230),
        role.BrightText: QColor(255, 90, 90),
        role.Light: QColor(75, 75, 80),
        role.Midlight: QColor(62, 62, 66),
        role.Mid: QColor(40, 40, 43),
        role.Dark: QColor(25, 25, 27),
        role.Shadow: QColor(0, 0, 0),
        role.Highlight: QColor(42, 130, 218),
        role.HighlightedText: QColor(255, 255, 255),
        role.Link: QColor(100, 170, 255),
        role.LinkVisited: QColor(170, 140, 255),
    }
    for color_role, color in colors.items():
        palette.setColor(color_role, color)
    disabled = QPalette.ColorGroup.Disabled
    for color_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, color_role, QColor(125, 125, 125))
    palette.setColor(disabled, role.Base, QColor(40, 40, 43))
    palette.setColor(disabled, role.Highlight, QColor(80, 80, 80))
    palette.setColor(disabled, role.HighlightedText, QColor(160, 160, 160))
    return palette
