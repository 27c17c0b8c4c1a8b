"""The conversation on screen: one widget per message, appended as the chat grows.

Only the message being streamed changes while a reply arrives; earlier messages are never laid
out again, so a 20,000-token conversation streams as smoothly as a new one. Answers are Markdown
(tables, lists, inline code), rendered without raw HTML: model output is untrusted text; fenced
code blocks get a panel of their own (`app/ui/chat/code.py`).

The look: turns in one readable column (at most `MEASURE` pixels wide, centred in a wider
window), the person's turns in a tinted bubble set off to the right, the replies on the page
itself. Every colour comes from the palette's roles when painted, so a theme switch (or the
system's) repaints the conversation at once without re-rendering any text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QFont,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core._util.units import format_seconds
from app.core.chat.history import MessageState, StoredMessage
from app.ui.style import blend, mute

if TYPE_CHECKING:
    # Imported with the first code block (app/ui/chat/code.py): not on the way to the first paint.
    from app.ui.chat.code import CodeBlock

# The conversation column's widest measure in pixels: about 80 characters of body text, the
# line length people read comfortably; a wider window centres the column.
MEASURE = 760
# The least room beside the column, and the space between turns.
SIDE_MARGIN = 16
TURN_SPACING = 18
# The person's turns: how far their bubble is set in from the left, and its tint (a share of the
# palette's highlight colour over the page).
USER_INDENT = 56
USER_TINT = 0.14
# Inline `code` and table borders: a grey that reads on light and dark pages alike.
INLINE_CODE_STYLE = "font-family:'monospace'; background-color:rgba(127,127,127,45);"
TABLE_STYLE = 'border="1" style=" border-collapse:collapse; border-color:#8c8c8c;"'

_MARKDOWN_FEATURES = QTextDocument.MarkdownFeature.MarkdownDialectGitHub | (
    QTextDocument.MarkdownFeature.MarkdownNoHTML
)


_INLINE_CODE = re.compile(r"font-family:'monospace';")


def markdown_html(text: str) -> str:
    """Markdown as Qt rich text, with any raw HTML in it shown as text, not interpreted; inline
    code on a grey background."""
    document = QTextDocument()
    document.setMarkdown(text, _MARKDOWN_FEATURES)
    rendered = _INLINE_CODE.sub(INLINE_CODE_STYLE, document.toHtml())
    return rendered.replace('border="1" style=" border-collapse:collapse;"', TABLE_STYLE)


class WrappingLabel(QLabel):
    """A word-wrapped label that remembers its height for each width.

    Qt asks every label in the conversation for its height-for-width whenever the layout
    changes, i.e. on every streamed update, and QLabel lays its text out anew each time: with 80
    messages that was 60-80 ms a update (measured). Remembered heights make it ~4 ms.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._heights: dict[int, int] = {}

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._heights.clear()
        super().setText(text)

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._heights.clear()
        super().changeEvent(event)


@dataclass(frozen=True)
class Segment:
    """A piece of a message shown by one widget: Markdown text, or a fenced code block."""

    text: str
    code: bool = False
    language: str = ""


# A fence opens a code block: three or more backticks (whose info string has none, or it is
# inline code: ```x```) or tildes, indented at most three spaces; the language is its first word.
_FENCE = re.compile(r"^ {0,3}(?:(`{3,})([^`]*)|(~{3,})(.*))$")


def split_segments(text: str) -> list[Segment]:
    """`text` cut into Markdown paragraphs (at blank lines) and fenced code blocks (whole; one
    still open at the end, as while a reply streams, runs to the end).

    Each segment renders on its own, so while a reply streams only its last segment changes and
    is laid out again; the rest stay as they are (a 4,000-token answer re-rendered whole on every
    update would stall the window for 100+ ms).
    """
    segments: list[Segment] = []
    current: list[str] = []
    fence = ""  # the open fence's marker, while inside a code block
    language = ""

    def close_text() -> None:
        if current:
            segments.append(Segment("\n".join(current)))
            current.clear()

    for line in text.split("\n"):
        if fence:
            stripped = line.strip()
            if stripped.startswith(fence) and not stripped.strip(fence[0]):
                segments.append(Segment("\n".join(current), code=True, language=language))
                current.clear()
                fence = ""
            else:
                current.append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            close_text()
            fence = opening.group(1) or opening.group(3)
            info = (opening.group(2) or opening.group(4) or "").split()
            language = info[0] if info else ""
            continue
        if not line.strip():
            close_text()
            continue
        current.append(line)
    if fence:
        segments.append(Segment("\n".join(current), code=True, language=language))
    else:
        close_text()
    return segments


class BlockText(QWidget):
    """Text shown as a column of widgets, one per segment (see `split_segments`): labels for
    Markdown (or plain) paragraphs, `CodeBlock`s for fenced code when `markdown` is on.

    `set_text` re-renders only the segments that changed, which while streaming is the last one.
    """

    linkActivated = Signal(str)  # noqa: N815 - QLabel's name, for drop-in use

    def __init__(self, parent: QWidget, *, markdown: bool) -> None:
        super().__init__(parent)
        self._markdown = markdown
        self._text = ""
        self._segments: list[Segment] = []
        self._widgets: list[QLabel | CodeBlock] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, for drop-in use
        self._text = text
        if not text:
            segments = []
        elif self._markdown:
            segments = split_segments(text)
        else:
            segments = [Segment(block) for block in text.split("\n\n") if block.strip()]
        for index, segment in enumerate(segments):
            if index < len(self._segments) and self._segments[index] == segment:
                continue
            widget = self._widget(index, segment)
            if isinstance(widget, QLabel):
                widget.setText(markdown_html(segment.text) if self._markdown else segment.text)
            else:
                widget.set_code(segment.text)
        self._drop_from(len(segments))
        self._segments = segments

    def text(self) -> str:
        """The text as set (plain), or the rendered rich text of every paragraph (Markdown)."""
        if not self._markdown:
            return self._text
        return "".join(w.text() for w in self._widgets if isinstance(w, QLabel))

    def code_blocks(self) -> list[CodeBlock]:
        return [widget for widget in self._widgets if not isinstance(widget, QLabel)]

    def _widget(self, index: int, segment: Segment) -> QLabel | CodeBlock:
        """The widget for segment `index`, made (with those after it) if the kind differs."""
        if index < len(self._widgets):
            existing = self._widgets[index]
            old = self._segments[index] if index < len(self._segments) else None
            same_kind = old is not None and (old.code, old.language) == (
                segment.code,
                segment.language,
            )
            if same_kind:
                return existing
            self._drop_from(index)
        widget: QLabel | CodeBlock
        if segment.code:
            from app.ui.chat.code import CodeBlock

            widget = CodeBlock(self, segment.language)
        else:
            widget = _text_label(self, markdown=self._markdown)
            widget.linkActivated.connect(self.linkActivated)
            widget.setFont(self.font())
        self._layout.addWidget(widget)
        self._widgets.append(widget)
        return widget

    def _drop_from(self, index: int) -> None:
        for widget in self._widgets[index:]:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        del self._widgets[index:]
        del self._segments[index:]

    def setFont(self, font: QFont | str | Sequence[str]) -> None:  # noqa: N802 - QWidget's name
        super().setFont(font)
        for widget in self._widgets:
            if isinstance(widget, QLabel):
                widget.setFont(font)


def _text_label(parent: QWidget, *, markdown: bool) -> QLabel:
    label = WrappingLabel(parent)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if markdown else Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.LinksAccessibleByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label


class _HeightRememberingLayout(QVBoxLayout):
    """A message's layout that remembers its height for each width until something in it
    changes.

    On every streamed update the scroll area asks each message for its height at two widths
    (with and without its scroll bar), and Qt's layouts remember only the last width: every
    label of every message was asked again, ~1,900 calls an update in a 160-message chat
    (10-20 ms, measured). Qt asks a widget's layout directly, so the layout remembers.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._heights: dict[int, int] = {}

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().heightForWidth(width)
        return height

    def invalidate(self) -> None:
        self._heights.clear()
        super().invalidate()


class MessageWidget(QFrame):
    """One message: who wrote it, its reasoning (collapsible) and its text, with actions; a
    regenerated reply has a "2/3 ‹ ›" switcher between its versions.

    Signals:
        edit_requested(object): this (user) message's widget.
        regenerate_requested(object): this (assistant) message's widget.
        version_requested(object, int): this widget, and the message id of the version to show.
    """

    edit_requested = Signal(object)
    regenerate_requested = Signal(object)
    version_requested = Signal(object, int)

    def __init__(
        self,
        role: str,
        content: str = "",
        *,
        message_id: int | None = None,
        reasoning: str = "",
        reasoning_seconds: float | None = None,
        state: MessageState = MessageState.COMPLETE,
        dropped_turns: int = 0,
    ) -> None:
        super().__init__()
        self.role = role
        self.message_id = message_id
        self.state = state
        self._dropped_turns = dropped_turns
        self._content = content
        self._reasoning = reasoning
        self._reasoning_seconds = reasoning_seconds
        self._version_ids: list[int] = []
        self._versions_enabled = True
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._build()
        self._render_reasoning()
        self._render_content()
        self._update_reasoning_header()

    def _build(self) -> None:
        title = self.tr("You") if self.role == "user" else self.tr("Assistant")
        self.speaker = QLabel(f"<b>{title}</b>")
        self.note = QLabel()
        mute(self.note)
        self.speaker.setAccessibleName(title)
        self.copy_button = self._action(self.tr("Copy"), self.copy_to_clipboard)
        self.copy_button.setAccessibleName(self.tr("Copy message"))
        self.edit_button = self._action(self.tr("Edit"), lambda: self.edit_requested.emit(self))
        self.edit_button.setAccessibleName(self.tr("Edit message"))
        self.regenerate_button = self._action(
            self.tr("Regenerate"), lambda: self.regenerate_requested.emit(self)
        )
        self.regenerate_button.setAccessibleName(self.tr("Regenerate reply"))
        self.edit_button.setVisible(self.role == "user")
        self.regenerate_button.setVisible(False)
        self.previous_version_button = self._action("‹", lambda: self._step_version(-1))
        self.previous_version_button.setToolTip(self.tr("Previous version"))
        self.previous_version_button.setAccessibleName(self.tr("Previous version"))
        self.version_label = QLabel()
        mute(self.version_label)
        self.next_version_button = self._action("›", lambda: self._step_version(1))
        self.next_version_button.setToolTip(self.tr("Next version"))
        self.next_version_button.setAccessibleName(self.tr("Next version"))
        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(self.speaker)
        header.addWidget(self.note)
        header.addStretch(1)
        for widget in (
            self.previous_version_button,
            self.version_label,
            self.next_version_button,
            self.copy_button,
            self.edit_button,
            self.regenerate_button,
        ):
            header.addWidget(widget)
        self._show_switcher()

        self.reasoning_toggle = QToolButton(self)
        self.reasoning_toggle.setCheckable(True)
        self.reasoning_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reasoning_toggle.setAutoRaise(True)
        self.reasoning_toggle.toggled.connect(self._on_reasoning_toggled)
        self.reasoning_label = BlockText(self, markdown=False)
        mute(self.reasoning_label, italic=True)
        self.content_label = BlockText(self, markdown=self.role == "assistant")
        self.content_label.linkActivated.connect(_open_web_link)

        layout = _HeightRememberingLayout(self)
        if self.role == "user":
            layout.setContentsMargins(USER_INDENT + 14, 8, 14, 10)
        else:
            layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.reasoning_toggle)
        layout.addWidget(self.reasoning_label)
        layout.addWidget(self.content_label)

    def _action(self, text: str, slot: object) -> QToolButton:
        # Parented at once: a parentless widget made visible would open as its own window.
        button = QToolButton(self)
        button.setText(text)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # --- content ---------------------------------------------------------------------------------

    @property
    def content(self) -> str:
        return self._content

    @property
    def reasoning(self) -> str:
        return self._reasoning

    @property
    def is_streaming(self) -> bool:
        return self.state == MessageState.STREAMING

    def append(self, reasoning: str, answer: str) -> None:
        """Add streamed text. The reasoning block is open while the model thinks and folds away
        when the answer begins."""
        if reasoning:
            if not self._reasoning:
                self.reasoning_toggle.setChecked(True)
            self._reasoning += reasoning
            self._render_reasoning()
        if answer:
            if not self._content and self._reasoning:
                self.reasoning_toggle.setChecked(False)
            self._content += answer
            self._render_content()
        self._update_reasoning_header()

    def set_dropped_turns(self, count: int) -> None:
        """Say on this reply that the oldest `count` messages were left out to fit the context:
        here it stays in view for as long as the reply does, unlike the status line."""
        self._dropped_turns = count
        self._render_content()

    def finish(self, state: MessageState, reasoning_seconds: float | None) -> None:
        """The reply ended (complete, stopped, failed or interrupted)."""
        self.state = state
        self._reasoning_seconds = reasoning_seconds
        if self._content:
            self.reasoning_toggle.setChecked(False)
        self._render_content()
        self._update_reasoning_header()

    def set_regenerate_visible(self, visible: bool) -> None:
        self.regenerate_button.setVisible(visible and self.role == "assistant")

    def plain_text(self) -> str:
        parts = [self.speaker.text().replace("<b>", "").replace("</b>", "")]
        if self._reasoning:
            parts.append(self.reasoning_toggle.text())
            if self.reasoning_label.isVisibleTo(self):
                parts.append(self._reasoning)
        parts.append(self._content)
        return "\n".join(parts)

    # --- versions (Regenerate) ---

    @property
    def version_ids(self) -> list[int]:
        """The message ids of this reply's versions, oldest first (empty: only one)."""
        return list(self._version_ids)

    def set_versions(self, ids: list[int]) -> None:
        self._version_ids = list(ids) if len(ids) > 1 else []
        self._show_switcher()

    def set_versions_enabled(self, enabled: bool) -> None:
        """No switching while a reply streams: the next prompt must read one known version."""
        self._versions_enabled = enabled
        index = self._version_index()
        self.previous_version_button.setEnabled(enabled and index > 0)
        self.next_version_button.setEnabled(enabled and index < len(self._version_ids) - 1)

    def show_stored(self, message: StoredMessage) -> None:
        """Show another version of this reply, as stored."""
        self.message_id = message.id
        self.state = message.state
        self._content = message.content
        self._reasoning = message.reasoning
        self._reasoning_seconds = message.reasoning_seconds
        self._dropped_turns = int(message.settings.get("dropped_turns") or 0)
        self.reasoning_toggle.setChecked(False)
        self._render_reasoning()
        self._render_content()
        self._update_reasoning_header()
        self._show_switcher()

    def _version_index(self) -> int:
        if self.message_id in self._version_ids:
            return self._version_ids.index(self.message_id)
        return len(self._version_ids) - 1

    def _show_switcher(self) -> None:
        shown = bool(self._version_ids)
        for widget in (self.previous_version_button, self.version_label, self.next_version_button):
            widget.setVisible(shown)
        if not shown:
            return
        index, count = self._version_index() + 1, len(self._version_ids)
        self.version_label.setText(self.tr("{index}/{count}").format(index=index, count=count))
        self.version_label.setAccessibleName(
            self.tr("Version {index} of {count}").format(index=index, count=count)
        )
        self.set_versions_enabled(self._versions_enabled)

    def _step_version(self, step: int) -> None:
        index = self._version_index() + step
        if 0 <= index < len(self._version_ids):
            self.version_requested.emit(self, self._version_ids[index])

    @Slot()
    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self._content)

    def code_blocks(self) -> list[CodeBlock]:
        """The reply's code blocks, in order."""
        return self.content_label.code_blocks()

    def _render_content(self) -> None:
        self.content_label.setText(self._content)
        self.content_label.setVisible(bool(self._content) or self.role == "user")
        notes = {
            MessageState.STOPPED: self.tr("stopped"),
            MessageState.FAILED: self.tr("failed"),
            MessageState.INTERRUPTED: self.tr("interrupted — the app closed during this reply"),
        }
        parts = [notes.get(self.state, "")]
        if self._dropped_turns:
            parts.append(
                self.tr("left out the {n} oldest messages to fit the context").format(
                    n=self._dropped_turns
                )
            )
        self.note.setText(" · ".join(part for part in parts if part))

    def _render_reasoning(self) -> None:
        self.reasoning_label.setText(self._reasoning)

    def _update_reasoning_header(self) -> None:
        has_reasoning = bool(self._reasoning)
        self.reasoning_toggle.setVisible(has_reasoning)
        self.reasoning_label.setVisible(has_reasoning and self.reasoning_toggle.isChecked())
        if not has_reasoning:
            return
        arrow = "▾" if self.reasoning_toggle.isChecked() else "▸"
        if self.state == MessageState.STREAMING and not self._content:
            text = self.tr("Thinking…")
        elif self._reasoning_seconds is not None:
            text = self.tr("Thought for {time}").format(
                time=format_seconds(self._reasoning_seconds)
            )
        else:
            text = self.tr("Thoughts")
        self.reasoning_toggle.setText(f"{arrow} {text}")

    @Slot(bool)
    def _on_reasoning_toggled(self, _checked: bool) -> None:
        self._update_reasoning_header()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """The person's turns in a tinted bubble (from the palette, so a theme switch repaints
        it); replies sit on the page itself."""
        if self.role != "user":
            super().paintEvent(event)
            return
        palette = self.palette()
        tint = blend(
            palette.color(QPalette.ColorRole.Base),
            palette.color(QPalette.ColorRole.Highlight),
            USER_TINT,
        )
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(tint)
        bubble = QRectF(self.rect()).adjusted(USER_INDENT, 0, 0, 0)
        painter.drawRoundedRect(bubble, 12, 12)
        painter.end()


def _open_web_link(url: str) -> None:
    # Only web links open: a model's answer must not launch local files or other schemes.
    link = QUrl(url)
    if link.scheme() in ("http", "https"):
        QDesktopServices.openUrl(link)


class _Page(QWidget):
    """The conversation's background: the palette's page colour (white, or near-black), as
    text views have, painted rather than set as a role (a Base background role would be
    inherited by every label and turn their text to the Text role, unmuting notes)."""

    def __init__(self) -> None:
        super().__init__()
        # Every pixel is painted here, so Qt may scroll the page by moving pixels and paint only
        # the strip that comes into view, instead of every message on screen: while a reply
        # streams, the conversation scrolls with each new line (measured: full repaints were
        # most of the time an update took).
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().color(QPalette.ColorRole.Base))
        painter.end()


class ChatView(QScrollArea):
    """The messages of one conversation, newest at the bottom.

    Follows the newest text while the person is at the bottom; stays put when they scrolled up
    to read. The turns sit in one column at most `MEASURE` pixels wide, centred.

    Signals:
        edit_requested(object), regenerate_requested(object), version_requested(object, int):
            from a message's buttons.
    """

    edit_requested = Signal(object)
    regenerate_requested = Signal(object)
    version_requested = Signal(object, int)

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._messages: list[MessageWidget] = []
        self._container = _Page()
        self._layout = QVBoxLayout(self._container)
        self._layout.setSpacing(TURN_SPACING)
        self._layout.setContentsMargins(SIDE_MARGIN, SIDE_MARGIN, SIDE_MARGIN, SIDE_MARGIN)
        self._layout.addStretch(1)
        self._placeholder = QLabel()
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        mute(self._placeholder)
        self._layout.insertWidget(0, self._placeholder)
        # The page is as tall as its messages at its width (their height-for-width), never as
        # tall as their minimum size hints: a wrapped label's minimum is its height at its
        # narrowest, and a long reply's paragraphs summed that way left a blank tail of screens
        # below the text, where following the newest text scrolled to (the reply looked empty).
        self._container.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.setWidget(self._container)
        self._follow = True
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._container.installEventFilter(self)

    def set_placeholder(self, text: str) -> None:
        self._placeholder.setText(text)
        self._placeholder.setVisible(not self.messages() and bool(text))

    def messages(self) -> list[MessageWidget]:
        # Our own list, not the layout's items: PySide6 6.12 drops a reference to None each time
        # `QLayoutItem.widget()` is asked about the stretch, which crashes the interpreter later.
        return list(self._messages)

    def clear(self) -> None:
        for widget in self._messages:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self._messages.clear()
        self._placeholder.setVisible(bool(self._placeholder.text()))

    def add_message(self, widget: MessageWidget) -> MessageWidget:
        self._placeholder.hide()
        widget.edit_requested.connect(self.edit_requested)
        widget.regenerate_requested.connect(self.regenerate_requested)
        widget.version_requested.connect(self.version_requested)
        self._layout.insertWidget(self._layout.count() - 1, widget)
        self._messages.append(widget)
        self._follow = True
        self.update_actions()
        return widget

    def remove_from(self, widget: MessageWidget) -> None:
        """Remove `widget` and every message after it."""
        messages = self.messages()
        if widget not in messages:
            return
        for later in messages[messages.index(widget) :]:
            self._layout.removeWidget(later)
            later.deleteLater()
        del self._messages[messages.index(widget) :]
        self.update_actions()

    def update_actions(self, *, busy: bool = False) -> None:
        """Regenerate on the last finished answer only; no edits while a reply streams."""
        messages = self.messages()
        for index, widget in enumerate(messages):
            last = index == len(messages) - 1
            widget.set_regenerate_visible(last and not busy and not widget.is_streaming)
            widget.edit_button.setEnabled(not busy)
            widget.set_versions_enabled(not busy)

    def column_width(self) -> int:
        """The width the turns are laid out in (the readable measure, or less)."""
        margins = self._layout.contentsMargins()
        return self._container.width() - margins.left() - margins.right()

    def _fit_column(self, width: int) -> None:
        """Centre a column of at most `MEASURE` pixels in `width`."""
        side = max(SIDE_MARGIN, (width - MEASURE) // 2)
        margins = self._layout.contentsMargins()
        if margins.left() != side:
            self._layout.setContentsMargins(side, SIDE_MARGIN, side, SIDE_MARGIN)

    def plain_text(self) -> str:
        return "\n\n".join(widget.plain_text() for widget in self.messages())

    @Slot(int, int)
    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    @Slot(int)
    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 4

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self._container and event.type() == QEvent.Type.Resize:
            self._fit_column(self._container.width())
        if (
            watched is self._container
            and event.type() == QEvent.Type.LayoutRequest
            and self._follow
        ):
            # With `self` as the context: dropped if the view is gone by then (a closed window).
            QTimer.singleShot(0, self, self._scroll_to_end)
        return super().eventFilter(watched, event)

    @Slot()
    def _scroll_to_end(self) -> None:
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
