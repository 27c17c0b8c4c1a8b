"""Small look-and-feel helpers shared by the widgets."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.core._util.phrases import Phrase
from app.core.fit.verdicts import Fit

# How far secondary text moves from the text color towards the background: readable, yet
# clearly second to the answer, in light and dark themes alike.
MUTED_SHARE = 0.4
# Error text: a red readable on light backgrounds, and a lighter one for dark backgrounds (no
# single red reads on both: one dark enough for white is too dark for a dark grey).
ERROR_RED_ON_LIGHT = QColor("#b00020")
ERROR_RED_ON_DARK = QColor("#ff8a80")
# The dynamic property that marks a widget shown in the error color (tests and styles read it).
ERROR_PROPERTY = "quantdeskError"


def mute(widget: QWidget, *, italic: bool = False) -> None:
    """Show `widget`'s text as secondary (notes, reasoning), following the current palette,
    also after a theme switch."""
    _follow_palette(widget, "muted", muted_color)
    if italic:
        font = widget.font()
        font.setItalic(True)
        widget.setFont(font)


def _surroundings(widget: QWidget) -> QPalette:
    """The palette `widget` would have without colors of its own: its parent's, or the app's."""
    parent = widget.parentWidget()
    return parent.palette() if parent is not None else QApplication.palette(widget)


def muted_color(widget: QWidget) -> QColor:
    """The color `mute` gives text, for rich text that names its colors."""
    palette = _surroundings(widget)
    return blend(
        palette.color(QPalette.ColorRole.WindowText),
        palette.color(QPalette.ColorRole.Window),
        MUTED_SHARE,
    )


def error_color(widget: QWidget) -> QColor:
    """The error red that reads on `widget`'s background in the current theme."""
    window = _surroundings(widget).color(QPalette.ColorRole.Window)
    return ERROR_RED_ON_DARK if window.lightness() < 128 else ERROR_RED_ON_LIGHT


def show_as_error(widget: QWidget, error: bool = True) -> None:
    """Show `widget`'s text in the error color (or back in the normal one), following theme
    switches."""
    widget.setProperty(ERROR_PROPERTY, error)
    if error:
        _follow_palette(widget, "error", error_color)
    else:
        _unfollow_palette(widget, "error")


def is_shown_as_error(widget: QWidget) -> bool:
    return bool(widget.property(ERROR_PROPERTY))


class _PaletteFollower(QObject):
    """Recolors one widget's text whenever the application's palette changes (a theme switch):
    a color set on a widget's own palette is otherwise kept as it was, so a grey chosen for a
    light window would stay on a dark one."""

    def __init__(self, widget: QWidget, kind: str, color: Callable[[QWidget], QColor]) -> None:
        super().__init__(widget)
        self.setObjectName(f"palette-follower-{kind}")
        self._color = color
        self._recoloring = False
        self.recolor(widget)
        widget.installEventFilter(self)

    def recolor(self, widget: QWidget) -> None:
        color = self._color(widget)
        palette = QPalette(widget.palette())
        palette.setColor(QPalette.ColorRole.WindowText, color)
        palette.setColor(QPalette.ColorRole.Text, color)
        self._recoloring = True  # setPalette sends a PaletteChange of its own
        try:
            widget.setPalette(palette)
        finally:
            self._recoloring = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # A child widget hears of a theme switch as a PaletteChange (its parent's palette
        # changed), a window as an ApplicationPaletteChange.
        kinds = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if event.type() in kinds and not self._recoloring and isinstance(watched, QWidget):
            self.recolor(watched)
        return False


def _follow_palette(widget: QWidget, kind: str, color: Callable[[QWidget], QColor]) -> None:
    # One follower per widget: an error color replaces a muted one and the other way round;
    # the same kind again (an error shown twice) only recolors.
    for follower in _followers(widget):
        if follower.objectName() == f"palette-follower-{kind}":
            follower.recolor(widget)
            return
        _drop(widget, follower)
    _PaletteFollower(widget, kind, color)


def _followers(widget: QWidget) -> list[_PaletteFollower]:
    return [
        follower
        for follower in widget.findChildren(_PaletteFollower)
        if follower.parent() is widget
    ]


def _drop(widget: QWidget, follower: _PaletteFollower) -> None:
    widget.removeEventFilter(follower)
    follower.setParent(None)
    follower.deleteLater()


def _unfollow_palette(widget: QWidget, kind: str) -> None:
    for follower in _followers(widget):
        if follower.objectName() == f"palette-follower-{kind}":
            _drop(widget, follower)
            # Back to the inherited colors (an empty palette sets nothing of its own).
            widget.setPalette(QPalette())


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
    Fit.WORKERS: QT_TRANSLATE_NOOP("Fit", "Split across computers"),
    Fit.TOO_LARGE: QT_TRANSLATE_NOOP("Fit", "Too large"),
}
UNKNOWN_FIT = QT_TRANSLATE_NOOP("Fit", "Unknown")
FIT_COLORS = {
    Fit.GPU: "#1b7f3b",
    Fit.PARTIAL: "#8a6d00",
    Fit.CPU: "#2b5fab",
    Fit.WORKERS: "#6a3d9a",
    Fit.TOO_LARGE: "#b00020",
}
# The same meanings, light enough to read on a dark window (contrast ≥ 4.5 on #2b2b2b-ish).
FIT_COLORS_ON_DARK = {
    Fit.GPU: "#6fd08c",
    Fit.PARTIAL: "#e6c84f",
    Fit.CPU: "#8db4f5",
    Fit.WORKERS: "#c9a6f0",
    Fit.TOO_LARGE: "#ff7a8a",
}


def fit_color(fit: Fit, widget: QWidget) -> QColor:
    """The colour of a fit badge that reads on `widget`'s background in the current theme."""
    window = _surroundings(widget).color(QPalette.ColorRole.Window)
    colors = FIT_COLORS_ON_DARK if window.lightness() < 128 else FIT_COLORS
    return QColor(colors[fit])


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


def phrase_text(phrase: Phrase) -> str:
    """A sentence the core wrote (`Phrase`), in the person's language: its template and the
    phrases inside it are translated under the context they were marked with."""
    return phrase.render(lambda context, text: QCoreApplication.translate(context, text))


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
