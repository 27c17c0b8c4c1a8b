"""Small look-and-feel helpers shared by the widgets."""

from __future__ import annotations

import html

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from app.core.fit.recommend import Fit

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
    return blend(
        palette.color(QPalette.ColorRole.WindowText),
        palette.color(QPalette.ColorRole.Window),
        MUTED_SHARE,
    )


def blend(a: QColor, b: QColor, share: float) -> QColor:
    """`a` moved `share` of the way towards `b` (0: a, 1: b)."""
    return QColor(
        round(a.red() * (1 - share) + b.red() * share),
        round(a.green() * (1 - share) + b.green() * share),
        round(a.blue() * (1 - share) + b.blue() * share),
    )


# How a file fits this machine, as the Models page and the file chooser show it. Marked for
# translation here (context "Fit"); `fit_words` translates them.
FIT_WORDS = {
    Fit.GPU: QT_TRANSLATE_NOOP("Fit", "Runs on the GPU"),
    Fit.PARTIAL: QT_TRANSLATE_NOOP("Fit", "Split GPU + CPU"),
    Fit.CPU: QT_TRANSLATE_NOOP("Fit", "Runs on the CPU"),
    Fit.TOO_LARGE: QT_TRANSLATE_NOOP("Fit", "Too large"),
}
UNKNOWN_FIT = QT_TRANSLATE_NOOP("Fit", "Unknown")
FIT_COLORS = {
    Fit.GPU: "#1b7f3b",
    Fit.PARTIAL: "#8a6d00",
    Fit.CPU: "#2b5fab",
    Fit.TOO_LARGE: "#b00020",
}


def fit_words(fit: Fit | None) -> str:
    """How a file fits, in the person's language; None (a header that can't be read): Unknown."""
    # str(): PySide6 types QT_TRANSLATE_NOOP's result as object; it is the text itself.
    return QCoreApplication.translate(
        "Fit", str(FIT_WORDS[fit] if fit is not None else UNKNOWN_FIT)
    )


def translated_columns(context: str, columns: tuple[object, ...]) -> list[str]:
    """Column titles marked with `QT_TRANSLATE_NOOP(context, …)` (typed object by PySide6, the
    text itself at run time), translated."""
    return [QCoreApplication.translate(context, str(column)) for column in columns]


def plain_text(label: QLabel) -> QLabel:
    """Show `label`'s text as written, never as HTML. For every label that can show what a
    file or a server sent (a model's name, a path, an error quoting a header): Qt would render
    text that merely looks like markup as rich text, so a model named
    `<b style="color:red">…</b>` could restyle or spoof the window. Returns `label`."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_tooltip(text: str) -> str:
    """`text` for `setToolTip`, shown as written: a tooltip has no text format of its own, so
    the text is escaped inside a tag that makes Qt read it as (harmless) rich text."""
    return f"<span>{html.escape(text)}</span>" if text else ""
