"""The thinking families' labels and notes, translatable.

They are data (`app/resources/thinking_families.json`), which Qt's `lupdate` can't read, so each
is listed here for it; `tests/gui/chat/test_thinking_choices.py` checks the list matches the data.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

CONTEXT = "ThinkingFamily"
FAMILY_TEXTS = (
    QT_TRANSLATE_NOOP(
        "ThinkingFamily", "Llama-3.1 Nemotron Nano v1/v1.1, Super v1 (detailed thinking on/off)"
    ),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "This model's thinking switch is its system prompt; your instructions are sent at the start of your first message, as its model card asks.",
    ),
    QT_TRANSLATE_NOOP("ThinkingFamily", "SmolLM3 (/think and /no_think)"),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "SmolLM3 thinks or answers directly as its template's reasoning mode says (/think or /no_think).",
    ),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily", "Nemotron Nano v2, Llama-3.3 Nemotron Super v1.5 (/think and /no_think)"
    ),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "This model's thinking switch is /think or /no_think at the end of the system prompt; Quantdesk adds it after your instructions.",
    ),
    QT_TRANSLATE_NOOP("ThinkingFamily", "gpt-oss (reasoning effort low, medium or high)"),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "gpt-oss always reasons; choose how much: low is fastest, high thinks longest.",
    ),
    QT_TRANSLATE_NOOP("ThinkingFamily", "DeepSeek-V3.1 (thinking on/off)"),
    QT_TRANSLATE_NOOP("ThinkingFamily", "GLM-4.5 and later (thinking on/off)"),
    QT_TRANSLATE_NOOP("ThinkingFamily", "Granite 3.2 and later (thinking on/off)"),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "Granite answers directly unless thinking is on; its thinking instructions take the place of the default system prompt.",
    ),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily", "Magistral and Ministral Reasoning (always reasons, [THINK])"
    ),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "This model always reasons before answering (its default system prompt asks it to; your own system prompt replaces that). Turning thinking off skips the reasoning, and its answers get noticeably worse.",
    ),
    QT_TRANSLATE_NOOP("ThinkingFamily", "Seed-OSS (thinking on/off)"),
    QT_TRANSLATE_NOOP("ThinkingFamily", "Phi-4-reasoning (always reasons)"),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "This model always reasons before answering. Turning thinking off skips the reasoning, and its answers get noticeably worse.",
    ),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "Always-reasoning model (Qwen3 Thinking-2507, DeepSeek-R1 and distills, QwQ, AceReason)",
    ),
    QT_TRANSLATE_NOOP("ThinkingFamily", "Qwen3 hybrid (thinking on/off)"),
    QT_TRANSLATE_NOOP("ThinkingFamily", "Base model (text completion)"),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "This is a base model: it has no chat format and no thinking mode, so it continues the text you write instead of answering it.",
    ),
    QT_TRANSLATE_NOOP("ThinkingFamily", "Chat model"),
    QT_TRANSLATE_NOOP(
        "ThinkingFamily",
        "This model's chat template has no thinking switch Quantdesk knows, and it isn't a known reasoning model, so there is no thinking toggle.",
    ),
)


def family_text(text: str) -> str:
    """A family's label or note in the person's language."""
    return QCoreApplication.translate(CONTEXT, text)
