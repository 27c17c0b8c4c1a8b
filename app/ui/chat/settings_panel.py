"""Per-conversation settings: system prompt and sampling, with the model card's presets as defaults.

Values the person never touched follow the thinking profile's preset for the current mode (so
switching thinking on and off changes them as the model card says); a value the person changed
is kept for this conversation until "Use the model's defaults".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.chat.prompting import SAMPLING_KEYS, SamplingSettings, effective_sampling
from app.core.chat.reasoning import SwitchKind, ThinkingProfile, Toggle
from app.core.config.preferences import DEFAULT_CONTEXT, MAX_CONTEXT, MIN_CONTEXT
from app.ui.chat.family_words import family_text
from app.ui.style import mute

DEFAULT_REASONING_BUDGET = 0  # 0: no limit
# Keys of the two rows beside the sampling fields (for their labels and tooltips).
REASONING_BUDGET = "reasoning_budget"
CONTEXT_LENGTH = "context_length"
# The panel's narrowest: fields stay usable, and a 1024 px window has room for it.
MIN_WIDTH = 200


def _double(minimum: float, maximum: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


def _integer(minimum: int, maximum: int, step: int = 1) -> QSpinBox:
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setSingleStep(step)
    box.setGroupSeparatorShown(True)
    return box


class ChatSettingsPanel(QWidget):
    """System prompt, sampling, context length and reasoning budget of one conversation.

    Signals:
        changed(): the person changed something (save it with `overrides()` and friends).
        context_length_changed(int): the person chose another context length.
    """

    changed = Signal()
    context_length_changed = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self._profile: ThinkingProfile | None = None
        self._thinking_on = True
        self._effort: str | None = None
        self._overrides: dict[str, Any] = {}
        self._loading = False
        self._shown_context = DEFAULT_CONTEXT
        self._build()

    def _build(self) -> None:
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText(self.tr("Optional instructions for every reply"))
        self.system_prompt.setMaximumHeight(110)
        self.system_prompt.textChanged.connect(self._on_changed)
        self.system_note = QLabel()
        self.system_note.setWordWrap(True)
        mute(self.system_note)
        # The model's thinking family, or why there is no thinking toggle.
        self.thinking_family = QLabel()
        self.thinking_family.setWordWrap(True)
        mute(self.thinking_family)
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {
            "temperature": _double(0.0, 2.0, 0.05),
            "top_p": _double(0.0, 1.0, 0.05),
            "top_k": _integer(0, 200),
            "min_p": _double(0.0, 1.0, 0.01),
            "repeat_penalty": _double(0.8, 2.0, 0.05),
            "max_tokens": _integer(16, 131_072, 256),
        }
        labels = {
            "temperature": self.tr("Temperature (0 = greedy)"),
            "top_p": self.tr("Top P"),
            "top_k": self.tr("Top K"),
            "min_p": self.tr("Min P"),
            "repeat_penalty": self.tr("Repeat penalty"),
            "max_tokens": self.tr("Max reply tokens"),
        }
        tips = self._tooltips()
        self.context_length = _integer(MIN_CONTEXT, MAX_CONTEXT, 1024)
        self.context_length.setValue(DEFAULT_CONTEXT)
        self.context_length.editingFinished.connect(self._on_context_edited)
        self.reasoning_budget = _integer(0, 131_072, 256)
        self.reasoning_budget.setSpecialValueText(self.tr("no limit"))
        self.reasoning_budget.valueChanged.connect(self._on_changed)
        self.reset_button = QPushButton(self.tr("Use the model's defaults"))
        self.reset_button.clicked.connect(self.reset_to_defaults)

        # Why the thinking budget is greyed out, when it is (no model, or one that doesn't think).
        self.budget_note = QLabel()
        self.budget_note.setWordWrap(True)
        mute(self.budget_note)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.labels: dict[str, QLabel] = {}
        for key, box in self.fields.items():
            box.valueChanged.connect(lambda _v, key=key: self._on_field_changed(key))
            self._add_row(form, key, labels[key], box, tips[key])
        self._add_row(
            form,
            REASONING_BUDGET,
            self.tr("Thinking budget (tokens)"),
            self.reasoning_budget,
            tips[REASONING_BUDGET],
        )
        form.addRow(self.budget_note)
        self._add_row(
            form,
            CONTEXT_LENGTH,
            self.tr("Context length (tokens)"),
            self.context_length,
            tips[CONTEXT_LENGTH],
        )
        self._budget_tip = tips[REASONING_BUDGET]

        # Labels go above their fields when the panel is narrow (a 1024 px window).
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)

        content = QWidget()
        layout = QVBoxLayout(content)
        # "Reply settings": the app's own Settings page is another thing.
        self.title = QLabel(self.tr("<b>Reply settings</b>"))
        layout.addWidget(self.title)
        layout.addWidget(self.thinking_family)
        layout.addWidget(QLabel(self.tr("System prompt")))
        layout.addWidget(self.system_prompt)
        layout.addWidget(self.system_note)
        layout.addLayout(form)
        layout.addWidget(self.reset_button)
        layout.addStretch(1)
        # Scrolled, so that opening the panel never asks the window to grow (wider or taller).
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)
        scroll.setMinimumWidth(MIN_WIDTH)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._show_budget_state(None)

    def _tooltips(self) -> dict[str, str]:
        """Each setting in plain words: what it does, and which way to turn it."""
        return {
            "temperature": self.tr(
                "How adventurous the wording is. Low values give focused, predictable replies; "
                "higher ones give more varied, creative ones. At 0 the model always picks its most "
                "likely next word."
            ),
            "top_p": self.tr(
                "The model only chooses among its most likely next words that together make up "
                "this share of the chances. Lower values keep replies on safer ground; 1 leaves "
                "every word in."
            ),
            "top_k": self.tr(
                "The model only chooses among this many of its most likely next words. Fewer make "
                "replies more predictable; 0 turns this limit off."
            ),
            "min_p": self.tr(
                "Leaves out words far less likely than the best one: a word needs at least this "
                "share of the best word's chance. Higher values keep replies focused; 0 turns this "
                "off."
            ),
            "repeat_penalty": self.tr(
                "Makes the model less likely to repeat words it has just used. 1 means no penalty; "
                "a little more (such as 1.1) helps against a reply that goes round in circles."
            ),
            "max_tokens": self.tr(
                "The longest a reply may get, in tokens (a token is about three quarters of a word). "
                "The reply stops there; the model's thinking counts too."
            ),
            REASONING_BUDGET: self.tr(
                "The most tokens the model may spend thinking before it answers. With no limit it "
                "thinks as long as it needs, up to Max reply tokens."
            ),
            CONTEXT_LENGTH: self.tr(
                "How much of the conversation the model keeps in view, in tokens. More needs more "
                "memory; changing it loads the model again."
            ),
        }

    def _add_row(self, form: QFormLayout, key: str, text: str, field: QWidget, tip: str) -> None:
        """A labelled row whose label and field both explain the term when hovered."""
        label = QLabel(text)
        label.setBuddy(field)
        label.setToolTip(tip)
        field.setToolTip(tip)
        self.labels[key] = label
        form.addRow(label, field)

    # --- state -----------------------------------------------------------------------------------

    def load(
        self,
        *,
        system_prompt: str,
        overrides: dict[str, Any],
        reasoning_budget: int | None,
        context_length: int | None = None,
    ) -> None:
        """Show a conversation's settings (no `changed` signal)."""
        self._loading = True
        try:
            if context_length:
                self.show_context_length(context_length)
            self.system_prompt.setPlainText(system_prompt)
            self._overrides = {k: v for k, v in overrides.items() if k in SAMPLING_KEYS}
            self.reasoning_budget.setValue(reasoning_budget or 0)
            self._show_values()
        finally:
            self._loading = False

    def set_profile(
        self, profile: ThinkingProfile | None, thinking_on: bool, effort: str | None = None
    ) -> None:
        """The loaded model's profile and the toggle's state (on/off, or the effort chosen)
        decide the untouched values."""
        self._profile = profile
        self._thinking_on = thinking_on
        self._effort = effort
        self._loading = True
        try:
            self._show_values()
            self._show_budget_state(profile)
            self.system_note.setText(_system_prompt_note(profile))
            self.thinking_family.setText(_thinking_family_text(profile))
            self.thinking_family.setVisible(profile is not None)
        finally:
            self._loading = False

    def _show_budget_state(self, profile: ThinkingProfile | None) -> None:
        """Grey the thinking budget out where it means nothing, and say why."""
        if profile is None:
            why = self.tr("Load a model to set a thinking budget.")
        elif not profile.can_think:
            why = self.tr(
                "This model answers without thinking first, so there is no thinking to limit."
            )
        else:
            why = ""
        self.reasoning_budget.setEnabled(not why)
        self.budget_note.setText(why)
        self.budget_note.setVisible(bool(why))
        self.reasoning_budget.setToolTip(
            f"{why}\n\n{self._budget_tip}" if why else self._budget_tip
        )

    def show_context_length(self, tokens: int) -> None:
        """Show `tokens` without asking for a reload."""
        self._shown_context = tokens
        self.context_length.setValue(tokens)

    def overrides(self) -> dict[str, Any]:
        """The sampling values the person set for this conversation."""
        return dict(self._overrides)

    def reasoning_budget_value(self) -> int | None:
        return self.reasoning_budget.value() or None

    def system_prompt_text(self) -> str:
        return self.system_prompt.toPlainText()

    @Slot()
    def reset_to_defaults(self) -> None:
        self._overrides.clear()
        self._loading = True
        try:
            self._show_values()
        finally:
            self._loading = False
        self.changed.emit()

    def _show_values(self) -> None:
        if self._profile is not None:
            values = effective_sampling(
                self._profile, self._thinking_on, self._overrides, self._effort
            )
        else:
            values = SamplingSettings().replace(**self._overrides)
        for key, box in self.fields.items():
            box.setValue(getattr(values, key))
            font = box.font()
            font.setBold(key in self._overrides)  # the person's own values stand out
            box.setFont(font)

    def _on_field_changed(self, key: str) -> None:
        if self._loading:
            return
        self._overrides[key] = self.fields[key].value()
        font = self.fields[key].font()
        font.setBold(True)
        self.fields[key].setFont(font)
        self.changed.emit()

    @Slot()
    def _on_changed(self) -> None:
        if not self._loading:
            self.changed.emit()

    @Slot()
    def _on_context_edited(self) -> None:
        # editingFinished also fires when focus merely leaves the box: only a new value counts.
        if self.context_length.value() != self._shown_context:
            self._shown_context = self.context_length.value()
            self.context_length_changed.emit(self._shown_context)


def _system_prompt_note(profile: ThinkingProfile | None) -> str:
    if profile is None:
        return ""
    if profile.switch.kind == SwitchKind.SYSTEM_LINE:
        return QCoreApplication.translate(
            "ChatSettingsPanel",
            "This model's thinking switch is its system prompt; your instructions are sent at "
            "the start of your first message, as its model card asks.",
        )
    if profile.switch.kind == SwitchKind.SYSTEM_FLAG:
        return QCoreApplication.translate(
            "ChatSettingsPanel",
            "This model's thinking switch is /think or /no_think at the end of the system "
            "prompt; Quantdesk adds it after your instructions.",
        )
    if profile.switch.kind == SwitchKind.BASE:
        return QCoreApplication.translate(
            "ChatSettingsPanel", "A base model reads this as the start of the text it continues."
        )
    if profile.instructions_in_first_turn:
        return QCoreApplication.translate(
            "ChatSettingsPanel",
            "This model's chat template has no place for a system prompt; your instructions are "
            "sent at the start of your first message.",
        )
    return ""


def _thinking_family_text(profile: ThinkingProfile | None) -> str:
    """The model's thinking family in words, or why the chat has no thinking toggle."""
    if profile is None:
        return ""
    if profile.toggle == Toggle.HIDDEN:
        return QCoreApplication.translate(
            "ChatSettingsPanel",
            "No thinking toggle: this model's chat template has no thinking switch Quantdesk "
            "knows, and it isn't a known reasoning model.",
        )
    if profile.toggle == Toggle.DISABLED:
        return ""  # the chat says why (a base model), beside the greyed-out toggle
    return QCoreApplication.translate("ChatSettingsPanel", "Thinking: {family}").format(
        family=family_text(profile.label)
    )
