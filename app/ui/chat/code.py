"""A code block in a reply: a tinted panel with the language, a Copy button, and the code
highlighted by Pygments (colours for light and dark palettes, switched live).

Pygments takes ~50 ms to import, too long for the GUI thread (a window opening on a chat with
code, or the first code block of a streaming reply, would stall): it is imported on a plain
thread (`warm_up_highlighting`, also started when a model loads), and code shows plain until
then, coloured as soon as it is ready. This module itself is imported with the first code block,
never on the way to the first paint.
"""

from __future__ import annotations

import logging
import threading
import weakref
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.ui.style import blend, mute

if TYPE_CHECKING:
    from pygments.lexer import Lexer

log = logging.getLogger(__name__)

# Pygments styles whose colours read well on the block's background in each palette.
LIGHT_STYLE = "default"
DARK_STYLE = "github-dark"
# How far the block's background moves from the page's base colour towards its text colour.
BACKGROUND_SHARE = 0.06
# Languages whose lexers the warm-up loads too (the ones small models write most).
COMMON_LANGUAGES = ("python", "bash", "javascript", "json")

# How often the GUI thread looks whether Pygments is ready, while code blocks wait for it.
READY_POLL_MS = 30
# While a block streams, its new lines are coloured at most this often.
RECOLOUR_MS = 200

# One line's highlighted spans: (start column, length, format).
Spans = list[tuple[int, int, QTextCharFormat]]

# Set once Pygments and the common lexers are imported (or failed to: then the GUI thread
# imports what it needs itself).
_ready = threading.Event()
_warm_up_started = threading.Lock()
# Code blocks shown before Pygments was ready, coloured when it is.
_waiting: weakref.WeakSet[CodeBlock] = weakref.WeakSet()
_poll: QTimer | None = None


def warm_up_highlighting() -> None:
    """Import Pygments and the common lexers on a plain thread (once; returns at once)."""
    if _warm_up_started.acquire(blocking=False):
        threading.Thread(target=_warm_up, name="pygments-warm-up", daemon=True).start()


def highlighting_ready() -> bool:
    return _ready.is_set()


def _warm_up() -> None:
    try:
        for language in COMMON_LANGUAGES:
            lexer_for(language)
        _style(LIGHT_STYLE)
        _style(DARK_STYLE)
    except Exception:  # only a head start: the GUI thread imports it again if needed
        log.exception("warming up the code highlighter failed")
    finally:
        _ready.set()


def _colour_when_ready(block: CodeBlock) -> None:
    """Colour `block` once Pygments is ready (GUI thread; polled: no Qt object may be touched
    from the warm-up thread)."""
    global _poll
    warm_up_highlighting()
    _waiting.add(block)
    if _poll is None:
        _poll = QTimer(QCoreApplication.instance())
        _poll.setInterval(READY_POLL_MS)
        _poll.timeout.connect(_colour_waiting)
    _poll.start()


def _colour_waiting() -> None:
    if not _ready.is_set():
        return
    assert _poll is not None
    _poll.stop()
    for block in list(_waiting):
        if isValid(block):  # not deleted meanwhile (another chat opened)
            block.highlight_all()
    _waiting.clear()


@lru_cache(maxsize=64)
def lexer_for(language: str) -> Lexer | None:
    """The Pygments lexer for a fence's language name (`python`, `py`, `c++`…), or None."""
    if not language:
        return None
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        # Newlines kept as written: token offsets must match the text shown.
        return get_lexer_by_name(language.lower(), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=4)
def _style(name: str) -> Any:
    from pygments.styles import get_style_by_name

    return get_style_by_name(name)


# One character format per (style, token type), made on first use.
_FORMATS: dict[tuple[str, Any], QTextCharFormat] = {}


def _format_for(style_name: str, token_type: Any) -> QTextCharFormat:
    text_format = _FORMATS.get((style_name, token_type))
    if text_format is None:
        look = _style(style_name).style_for_token(token_type)
        text_format = QTextCharFormat()
        if look["color"]:
            text_format.setForeground(QColor(f"#{look['color']}"))
        if look["bold"]:
            text_format.setFontWeight(QFont.Weight.Bold)
        if look["italic"]:
            text_format.setFontItalic(True)
        _FORMATS[style_name, token_type] = text_format
    return text_format


def highlight_lines(code: str, lexer: Lexer | None, style_name: str) -> list[Spans]:
    """The coloured spans of each line of `code` (one list per line, empty for plain text)."""
    lines: list[Spans] = [[] for _ in range(code.count("\n") + 1)]
    if lexer is None:
        return lines
    line = column = 0
    for _index, token_type, value in lexer.get_tokens_unprocessed(code):
        text_format = _format_for(style_name, token_type)
        colored = text_format.foreground().style() != Qt.BrushStyle.NoBrush or (
            text_format.fontWeight() == QFont.Weight.Bold or text_format.fontItalic()
        )
        for number, piece in enumerate(value.split("\n")):
            if number:
                line, column = line + 1, 0
            if piece and colored and line < len(lines):
                lines[line].append((column, len(piece), text_format))
            column += len(piece)
    return lines


class PygmentsHighlighter(QSyntaxHighlighter):
    """Colours a code block's document from Pygments tokens.

    Pygments reads the whole code (a string opened on one line may colour the next ones), so
    `set_code` lexes it once and keeps each line's spans; `highlightBlock` only applies them.
    """

    def __init__(self, document: QTextDocument, language: str) -> None:
        super().__init__(document)
        self._language = language
        self._style_name = LIGHT_STYLE
        self._lines: list[Spans] = []

    @property
    def style_name(self) -> str:
        return self._style_name

    def prepare(self, code: str) -> list[int]:
        """Lex `code` (about to be shown); returns the lines whose colours changed."""
        lines = highlight_lines(code, lexer_for(self._language), self._style_name)
        changed = [
            number
            for number, spans in enumerate(lines)
            if number >= len(self._lines) or not _same(spans, self._lines[number])
        ]
        self._lines = lines
        return changed

    def set_dark(self, dark: bool, code: str | None) -> None:
        """Colours for a dark or light page; `code` (None: not coloured yet) is coloured anew."""
        style_name = DARK_STYLE if dark else LIGHT_STYLE
        if style_name != self._style_name:
            self._style_name = style_name
            if code is not None:
                self.prepare(code)
                self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        number = self.currentBlock().blockNumber()
        if number < len(self._lines):
            for start, length, text_format in self._lines[number]:
                self.setFormat(start, length, text_format)


def _same(a: Spans, b: Spans) -> bool:
    return len(a) == len(b) and all(
        x[0] == y[0] and x[1] == y[1] and x[2] == y[2] for x, y in zip(a, b, strict=True)
    )


class _CodeView(QPlainTextEdit):
    """The code itself: read-only, unwrapped, exactly as tall as its lines (the conversation
    scrolls, not the block); long lines scroll sideways."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # The panel paints the background: the editor's own stays see-through.
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(Qt.GlobalColor.transparent))
        self.setPalette(palette)
        self.viewport().setAutoFillBackground(False)
        self.setViewportMargins(6, 0, 6, 0)  # in line with the language above
        self.horizontalScrollBar().rangeChanged.connect(self.fit_height)

    @Slot()
    def fit_height(self) -> None:
        document = self.document()
        line = self.fontMetrics().lineSpacing()
        height = document.blockCount() * line + 2 * int(document.documentMargin())
        if self.horizontalScrollBar().maximum() > 0:
            height += self.horizontalScrollBar().sizeHint().height()
        height += 2 * self.frameWidth()
        if height != self.height():
            self.setFixedHeight(height)


class CodeBlock(QFrame):
    """A fenced code block: language, Copy, and the highlighted code."""

    def __init__(self, parent: QWidget, language: str = "") -> None:
        super().__init__(parent)
        self.language = language
        self._code = ""
        self._recolour: QTimer | None = None
        self.language_label = QLabel(language or self.tr("code"), self)
        mute(self.language_label)
        self.copy_button = QToolButton(self)
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setAutoRaise(True)
        self.copy_button.setToolTip(self.tr("Copy this code"))
        self.copy_button.setAccessibleName(self.tr("Copy code"))
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        self.view = _CodeView(self)
        self.view.setAccessibleName(self.tr("Code"))
        self.highlighter = PygmentsHighlighter(self.view.document(), language)
        header = QHBoxLayout()
        header.setContentsMargins(10, 4, 4, 0)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.view)
        self.highlighter.set_dark(self._is_dark(), None)
        warm_up_highlighting()

    @property
    def code(self) -> str:
        return self._code

    def set_code(self, code: str) -> None:
        """Show `code`; while a reply streams, only what was added is laid out again."""
        if code == self._code:
            return
        old, self._code = self._code, code
        if not _ready.is_set():
            self.view.setPlainText(code)
            self.view.fit_height()
            _colour_when_ready(self)
            return
        if old and code.startswith(old):
            cursor = self.view.textCursor()
            cursor.movePosition(cursor.MoveOperation.End)
            cursor.insertText(code[len(old) :])
            self._colour_later()
        else:
            self.highlighter.prepare(code)
            self.view.setPlainText(code)
        self.view.fit_height()

    def _colour_later(self) -> None:
        """Colour what streamed in a moment from now: Pygments reads the whole block (~0.1 ms a
        line), too much to repeat 30 times a second under a growing block."""
        if self._recolour is None:
            self._recolour = QTimer(self)
            self._recolour.setSingleShot(True)
            self._recolour.setInterval(RECOLOUR_MS)
            self._recolour.timeout.connect(self._recolour_changed_lines)
        if not self._recolour.isActive():
            self._recolour.start()

    @Slot()
    def _recolour_changed_lines(self) -> None:
        document = self.view.document()
        # Earlier lines too: an opened string or comment changes the lines after it.
        for number in self.highlighter.prepare(self._code):
            self.highlighter.rehighlightBlock(document.findBlockByNumber(number))

    def highlight_all(self) -> None:
        """Colour every line anew (Pygments just became ready)."""
        self.highlighter.prepare(self._code)
        self.highlighter.rehighlight()

    @Slot()
    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self._code)

    def _is_dark(self) -> bool:
        palette = self.palette()
        return (
            palette.color(QPalette.ColorRole.Base).lightness()
            < palette.color(QPalette.ColorRole.Text).lightness()
        )

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.PaletteChange:
            self.highlighter.set_dark(self._is_dark(), self._code if _ready.is_set() else None)
        elif event.type() == QEvent.Type.FontChange:
            self.view.fit_height()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(blend(base, text, 2 * BACKGROUND_SHARE))
        painter.setBrush(blend(base, text, BACKGROUND_SHARE))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.end()
