"""The conversation on screen: one widget per message, appended as the chat grows.

Only the message being streamed changes while a reply arrives; earlier messages are never laid
out again, so a 20,000-token conversation streams as smoothly as a new one. Answers are Markdown
(code blocks included), rendered without raw HTML: model output is untrusted text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication, QTextDocument
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
from app.core.chat.history import MessageState
from app.ui.style import mute

_MARKDOWN_FEATURES = QTextDocument.MarkdownFeature.MarkdownDialectGitHub | (
    QTextDocument.MarkdownFeature.MarkdownNoHTML
)


def markdown_html(text: str) -> str:
    """Markdown as Qt rich text, with any raw HTML in it shown as text, not interpreted."""
    document = QTextDocument()
    document.setMarkdown(text, _MARKDOWN_FEATURES)
    return document.toHtml()


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


def split_blocks(text: str) -> list[str]:
    """`text` cut at blank lines that are outside fenced code blocks.

    Each block renders on its own, so while a reply streams only its last block changes and is
    laid out again; the rest stay as they are (a 4,000-token answer re-rendered whole on every
    update would stall the window for 100+ ms).
    """
    blocks: list[str] = []
    current: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if not line.strip() and not in_fence:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


class BlockText(QWidget):
    """Text shown as a column of labels, one per block (see `split_blocks`); Markdown or plain.

    `set_text` re-renders only the blocks that changed, which while streaming is the last one.
    """

    linkActivated = Signal(str)  # noqa: N815 - QLabel's name, for drop-in use

    def __init__(self, parent: QWidget, *, markdown: bool) -> None:
        super().__init__(parent)
        self._markdown = markdown
        self._text = ""
        self._blocks: list[str] = []
        self._labels: list[QLabel] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name, for drop-in use
        self._text = text
        blocks = split_blocks(text) if text else []
        for index, block in enumerate(blocks):
            if index < len(self._blocks) and self._blocks[index] == block:
                continue
            label = self._label(index)
            label.setText(markdown_html(block) if self._markdown else block)
        for label in self._labels[len(blocks) :]:
            self._layout.removeWidget(label)
            label.deleteLater()
        del self._labels[len(blocks) :]
        self._blocks = blocks

    def text(self) -> str:
        """The text as set (plain), or the rendered rich text of every block (Markdown)."""
        if not self._markdown:
            return self._text
        return "".join(label.text() for label in self._labels)

    def _label(self, index: int) -> QLabel:
        while len(self._labels) <= index:
            label = _text_label(self, markdown=self._markdown)
            label.linkActivated.connect(self.linkActivated)
            self._layout.addWidget(label)
            self._labels.append(label)
        return self._labels[index]

    def setFont(self, font: QFont | str | Sequence[str]) -> None:  # noqa: N802 - QWidget's name
        super().setFont(font)
        for label in self._labels:
            label.setFont(font)


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


class MessageWidget(QFrame):
    """One message: who wrote it, its reasoning (collapsible) and its text, with actions.

    Signals:
        edit_requested(object): this (user) message's widget.
        regenerate_requested(object): this (assistant) message's widget.
    """

    edit_requested = Signal(object)
    regenerate_requested = Signal(object)

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
        self.setObjectName("userMessage" if role == "user" else "assistantMessage")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._build()
        self._render_reasoning()
        self._render_content()
        self._update_reasoning_header()

    def _build(self) -> None:
        title = self.tr("You") if self.role == "user" else self.tr("Assistant")
        self.speaker = QLabel(f"<b>{title}</b>")
        self.note = QLabel()
        mute(self.note)
        self.copy_button = self._action(self.tr("Copy"), self.copy_to_clipboard)
        self.edit_button = self._action(self.tr("Edit"), lambda: self.edit_requested.emit(self))
        self.regenerate_button = self._action(
            self.tr("Regenerate"), lambda: self.regenerate_requested.emit(self)
        )
        self.edit_button.setVisible(self.role == "user")
        self.regenerate_button.setVisible(False)
        header = QHBoxLayout()
        header.addWidget(self.speaker)
        header.addWidget(self.note)
        header.addStretch(1)
        for button in (self.copy_button, self.edit_button, self.regenerate_button):
            header.addWidget(button)

        self.reasoning_toggle = QToolButton(self)
        self.reasoning_toggle.setCheckable(True)
        self.reasoning_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.reasoning_toggle.setAutoRaise(True)
        self.reasoning_toggle.toggled.connect(self._on_reasoning_toggled)
        self.reasoning_label = BlockText(self, markdown=False)
        mute(self.reasoning_label, italic=True)
        self.content_label = BlockText(self, markdown=self.role == "assistant")
        self.content_label.linkActivated.connect(_open_web_link)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
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

    @Slot()
    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self._content)

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


def _open_web_link(url: str) -> None:
    # Only web links open: a model's answer must not launch local files or other schemes.
    link = QUrl(url)
    if link.scheme() in ("http", "https"):
        QDesktopServices.openUrl(link)


class ChatView(QScrollArea):
    """The messages of one conversation, newest at the bottom.

    Follows the newest text while the person is at the bottom; stays put when they scrolled up
    to read.

    Signals:
        edit_requested(object), regenerate_requested(object): from a message's buttons.
    """

    edit_requested = Signal(object)
    regenerate_requested = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._messages: list[MessageWidget] = []
        self._container = QWidget()
        self._layout = QVBoxLayout(self._container)
        self._layout.setSpacing(8)
        self._layout.addStretch(1)
        self._placeholder = QLabel()
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setWordWrap(True)
        mute(self._placeholder)
        self._layout.insertWidget(0, self._placeholder)
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
        if (
            watched is self._container
            and event.type() == QEvent.Type.LayoutRequest
            and self._follow
        ):
            QTimer.singleShot(0, lambda: self.verticalScrollBar().setValue(
                self.verticalScrollBar().maximum()))  # fmt: skip
        return super().eventFilter(watched, event)
