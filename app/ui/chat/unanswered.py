"""The note under a reply that ended inside its thoughts, with no answer: why, and what to do.

Kept apart from the message view (`view.py`): it only adds a label under a finished reply.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel

from app.core.engine.engine import FinishReason
from app.ui.chat.view import MessageWidget
from app.ui.style import mute

CONTEXT = "UnansweredNote"


def _tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def unanswered_text(finish_reason: str | None, *, context_full: bool = False) -> str:
    """Why a reply that has thoughts but no answer ended, and what to do; empty when the
    person stopped it (the reply says "stopped" already)."""
    if finish_reason == FinishReason.CANCELLED:
        return ""
    if finish_reason == FinishReason.LENGTH and context_full:
        return _tr(
            "The model stopped while thinking, before giving an answer: the conversation "
            "filled the model's context. Start a new chat, or raise the context length in "
            "Reply settings."
        )
    if finish_reason == FinishReason.LENGTH:
        return _tr(
            "The model stopped while thinking, before giving an answer: it reached the Max "
            "reply tokens limit. Raise Max reply tokens or set a thinking budget in Reply "
            "settings, or turn Thinking off, then press Regenerate."
        )
    return _tr(
        "The model stopped while thinking, before giving an answer. Press Regenerate to try "
        "again, or turn Thinking off for a direct answer."
    )


class UnansweredNote(QLabel):
    """The muted line under a reply that has no answer."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setObjectName("unansweredNote")
        self.setWordWrap(True)
        mute(self, italic=True)


def note_of(widget: MessageWidget) -> UnansweredNote | None:
    return widget.findChild(UnansweredNote)


def show_unanswered_note(
    widget: MessageWidget, finish_reason: str | None, *, context_full: bool = False
) -> UnansweredNote | None:
    """Under `widget`, say why it has no answer (when it has thoughts and no answer); the
    note, if one is shown."""
    text = unanswered_text(finish_reason, context_full=context_full)
    note = note_of(widget)
    if not text or widget.content or not widget.reasoning:
        if note is not None:
            note.hide()
        return None
    if note is None:
        note = UnansweredNote(text)
        layout = widget.layout()
        if layout is not None:
            layout.addWidget(note)
    note.setText(text)
    note.show()
    return note
