"""Small look-and-feel helpers shared by the widgets."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

# How far secondary text moves from the text color towards the background: readable, yet
# clearly second to the answer, in light and dark themes alike.
MUTED_SHARE = 0.4
# Error text: a red readable on light and dark backgrounds.
ERROR_STYLE = "color: #b00020;"


def mute(widget: QWidget, *, italic: bool = False) -> None:
    """Show `widget`'s text as secondary (notes, reasoning), following the current palette."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, muted_color(widget))
    widget.setPalette(palette)
    if italic:
        font = widget.font()
        font.setItalic(True)
        widget.setFont(font)


def muted_color(widget: QWidget) -> QColor:
    """The color `mute` gives text, for rich text that names its colors."""
    palette = widget.palette()
    return _blend(
        palette.color(QPalette.ColorRole.WindowText),
        palette.color(QPalette.ColorRole.Window),
        MUTED_SHARE,
    )


def _blend(a: QColor, b: QColor, share: float) -> QColor:
    return QColor(
        round(a.red() * (1 - share) + b.red() * share),
        round(a.green() * (1 - share) + b.green() * share),
        round(a.blue() * (1 - share) + b.blue() * share),
    )


# How a file fits this machine, as the Models page and the file chooser show it.
FIT_WORDS = {
    "gpu": "Runs on the GPU",
    "partial": "Split GPU + CPU",
    "cpu": "Runs on the CPU",
    "too_large": "Too large",
}
FIT_COLORS = {"gpu": "#1b7f3b", "partial": "#8a6d00", "cpu": "#2b5fab", "too_large": "#b00020"}
