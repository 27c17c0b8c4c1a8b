"""The chat: conversations, the message view, the input with the thinking toggle, and settings.

Every message the person sends is written to the chat database before it is sent to the model;
the reply is written by the engine thread as it streams (`EngineWorker`), so a killed app loses
nothing that was on screen. The model itself is loaded by the main window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core._util.cancel import CancelToken
from app.core.chat.history import ChatStore, Conversation, MessageState, StoredMessage
from app.core.chat.prompting import ReplyRecord, ReplyRequest, turns_for_model
from app.core.chat.reasoning import ThinkingProfile, Toggle
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.engine.engine import FinishReason, GenerationStats, LoadedModel
from app.core.errors import ContextOverflowError, HistoryError
from app.ui.chat.conversation_list import ConversationList
from app.ui.chat.empty_state import EmptyChatState
from app.ui.chat.family_words import family_text
from app.ui.chat.settings_panel import ChatSettingsPanel
from app.ui.chat.unanswered import show_unanswered_note
from app.ui.chat.view import ChatView, MessageWidget
from app.ui.messages import Attempt, error_text, report, saving_chat, show_in_label
from app.ui.style import mute, plain_text, plain_tooltip, show_as_error
from app.ui.workers.engine import (
    EngineWorker,
    ReplyFinished,
    ReplyStarted,
    StreamUpdate,
)

if TYPE_CHECKING:
    from app.core.fit.speed import SpeedMeasurement

log = logging.getLogger(__name__)

# Settings keys stored with a conversation beside the sampling overrides.
REASONING_BUDGET_KEY = "reasoning_budget"
CONTEXT_LENGTH_KEY = "context_length"
# Past this share of the context, the status line warns before the next message overflows it.
NEARLY_FULL = 0.8

# The chat's keyboard shortcuts and what they do: the page binds them from this table and
# Help > Keyboard shortcuts lists it, so the list can't drift from the keys.
CHAT_SHORTCUTS: tuple[tuple[str, object], ...] = (  # PySide6 types NOOP as object
    ("Ctrl+Return", QT_TRANSLATE_NOOP("ChatPage", "Send the message")),
    ("Escape", QT_TRANSLATE_NOOP("ChatPage", "Stop the reply, or cancel an edit")),
    ("Ctrl+N", QT_TRANSLATE_NOOP("ChatPage", "Start a new chat")),
    ("Ctrl+K", QT_TRANSLATE_NOOP("ChatPage", "Search the chats")),
)


def chat_shortcuts() -> list[tuple[str, str]]:
    """The chat's shortcuts as the person's system writes keys, with what each does."""
    return [
        (
            QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText),
            QCoreApplication.translate("ChatPage", str(what)),
        )
        for keys, what in CHAT_SHORTCUTS
    ]


class ChatPage(QWidget):
    """Conversations with the loaded model; all generation happens on the engine thread.

    Signals (GUI thread, after the page has updated itself):
        reply_finished(object): the `GenerationStats` of a reply that ended or was stopped.
        reply_failed(object): the error of a reply that could not be generated.
        status_changed(str): a line for the status bar (speed, context use).
        context_length_requested(int): the person chose another context length (reload).
        conversation_shown(object): the `Conversation` now shown (None: a new, empty chat).
        speed_test_wanted(object): the person asked to measure the model's speed, with the
            `CancelToken` Stop sets (the window, which knows the machine and the data folder,
            sends the engine a `SpeedTest`).
    """

    reply_finished = Signal(object)
    reply_failed = Signal(object)
    status_changed = Signal(str)
    context_length_requested = Signal(int)
    conversation_shown = Signal(object)
    speed_test_wanted = Signal(object)

    def __init__(
        self,
        store: ChatStore,
        worker: EngineWorker,
        header: QWidget,
        *,
        default_context: int = DEFAULT_CONTEXT,
        model_label: Callable[[Path], str] | None = None,
    ) -> None:
        """`model_label` names each chat's model in the conversation list (see
        `ConversationList`)."""
        super().__init__()
        self._model_label = model_label
        self._default_context = default_context
        self._store = store
        self._worker = worker
        self._model: LoadedModel | None = None
        self._conversation: Conversation | None = None
        self._generating = False
        self._measuring = False  # a speed test runs on the engine thread
        self._streaming: MessageWidget | None = None
        self._editing: MessageWidget | None = None
        self._cancel = CancelToken()
        self._closed = False
        self.overflow_box: QMessageBox | None = None
        # The overflow box's two choices, while it is open.
        self.drop_oldest_button: QPushButton | None = None
        self.new_chat_button: QPushButton | None = None
        self._context_length = 0  # of the reply streaming now, for the status line
        self._streaming_had_no_answer = False
        # While a new version of a reply streams: the version shown before, and every version.
        self._replacing: tuple[int, list[int]] | None = None
        # The reply a Regenerate that overflowed the context would replace.
        self._overflow_replacing: MessageWidget | None = None
        self._build(header)
        self._connect_worker()
        self._open_latest_conversation()
        self._update_controls()

    # --- layout ----------------------------------------------------------------------------------

    def _build(self, header: QWidget) -> None:
        self.conversations = ConversationList(self._store, model_label=self._model_label)
        self.conversations.problem.connect(self.show_error)
        self.conversations.selected.connect(self.open_conversation)
        self.conversations.new_requested.connect(self.new_conversation)
        self.conversations.deleted.connect(self._on_conversation_deleted)

        self.chat_view = ChatView()
        # No hint while no model is loaded: the window's empty state says what to do then.
        self.chat_view.edit_requested.connect(self.start_edit)
        self.chat_view.regenerate_requested.connect(self.regenerate)
        self.chat_view.version_requested.connect(self.show_version)

        self.error_label = plain_text(QLabel())
        self.error_label.setWordWrap(True)
        show_as_error(self.error_label)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.edit_banner = QLabel()
        self.edit_banner.setWordWrap(True)
        self.edit_banner.hide()
        self.input_box = QPlainTextEdit()
        self.input_box.setPlaceholderText(self.tr("Type a message (Ctrl+Enter to send)"))
        self.input_box.setMaximumHeight(120)
        self.input_box.setAccessibleName(self.tr("Message"))
        # Tab leaves the box for Send, as in every form; a tab character is rarely meant here.
        self.input_box.setTabChangesFocus(True)
        self.input_box.textChanged.connect(self._update_controls)
        self.thinking_toggle = QCheckBox(self.tr("Thinking"))
        self.thinking_toggle.toggled.connect(self._on_thinking_toggled)
        # For families whose switch is a reasoning effort (gpt-oss), the toggle is this choice.
        self.effort_box = QComboBox()
        self.effort_box.setAccessibleName(self.tr("Reasoning effort"))
        self.effort_box.currentIndexChanged.connect(self._on_effort_chosen)
        self.effort_box.hide()
        self.thinking_note = QLabel()
        self.thinking_note.setWordWrap(True)
        mute(self.thinking_note)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setDefault(True)
        self.send_button.setAccessibleName(self.tr("Send message"))
        self.send_button.clicked.connect(self.send_message)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.setAccessibleName(self.tr("Stop the reply"))
        self.stop_button.clicked.connect(self.stop_reply)
        # "Reply settings": the sidebar's Settings is the app's own.
        self.settings_button = QPushButton(self.tr("Reply settings"))
        self.settings_button.setAccessibleName(self.tr("Reply settings"))
        self.settings_button.setCheckable(True)
        self.settings_button.setToolTip(
            self.tr("System prompt, sampling and context length of this chat")
        )
        self.speed_button = QPushButton(self.tr("Measure speed"))
        self.speed_button.setAccessibleName(self.tr("Measure speed"))
        self.speed_button.setToolTip(
            self.tr(
                "Measure how fast this model reads and writes on this machine (about ten "
                "seconds). Speeds shown for other files are then based on it."
            )
        )
        self.speed_button.clicked.connect(self.measure_speed)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.thinking_toggle)
        buttons.addWidget(self.effort_box)
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.speed_button)
        buttons.addStretch(1)
        input_row = QHBoxLayout()
        input_row.addWidget(self.input_box, 1)
        input_row.addLayout(buttons)

        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.addWidget(header)
        self.empty_state = EmptyChatState()  # the window shows it while no model is loaded
        self.empty_state.hide()
        center_layout.addWidget(self.empty_state)
        center_layout.addWidget(self.chat_view, 1)
        center_layout.addWidget(self.thinking_note)
        center_layout.addWidget(self.error_label)
        center_layout.addWidget(self.edit_banner)
        center_layout.addLayout(input_row)

        self.settings_panel = ChatSettingsPanel()
        self.settings_panel.changed.connect(self._save_settings)
        self.settings_panel.context_length_changed.connect(self._on_context_length_chosen)
        self.settings_panel.hide()
        self.settings_button.toggled.connect(self.settings_panel.setVisible)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.conversations)
        splitter.addWidget(center)
        splitter.addWidget(self.settings_panel)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 760, 280])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        actions = {
            "Ctrl+Return": self.send_message,
            "Escape": self._on_escape,
            "Ctrl+N": self.new_conversation,
            "Ctrl+K": lambda: self.conversations.search_box.setFocus(),
        }
        for keys, _what in CHAT_SHORTCUTS:
            QShortcut(QKeySequence(keys), self, actions[keys])
        # The keypad's Enter too (listed once, as Ctrl+Return).
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.send_message)
        # Message box, then its buttons in reading order.
        QWidget.setTabOrder(self.input_box, self.send_button)
        QWidget.setTabOrder(self.send_button, self.stop_button)
        QWidget.setTabOrder(self.stop_button, self.thinking_toggle)
        QWidget.setTabOrder(self.thinking_toggle, self.effort_box)
        QWidget.setTabOrder(self.effort_box, self.settings_button)
        QWidget.setTabOrder(self.settings_button, self.speed_button)

    def _connect_worker(self) -> None:
        self._worker.started.connect(self._on_started)
        self._worker.streamed.connect(self._on_streamed)
        self._worker.finished.connect(self._on_finished)
        self._worker.failed.connect(self._on_failed)
        self._worker.speed_test_progress.connect(self._on_speed_progress)
        self._worker.speed_tested.connect(self._on_speed_tested)
        self._worker.speed_test_failed.connect(self._on_speed_test_failed)

    def shutdown(self) -> None:
        """The window is closing: stop the reply and ignore whatever the engine still sends."""
        if self._closed:
            return
        self._cancel.cancel()
        self._closed = True
        for signal, slot in (
            (self._worker.started, self._on_started),
            (self._worker.streamed, self._on_streamed),
            (self._worker.finished, self._on_finished),
            (self._worker.failed, self._on_failed),
            (self._worker.speed_test_progress, self._on_speed_progress),
            (self._worker.speed_tested, self._on_speed_tested),
            (self._worker.speed_test_failed, self._on_speed_test_failed),
        ):
            signal.disconnect(slot)

    # --- the model -------------------------------------------------------------------------------

    def set_model(self, model: LoadedModel | None) -> None:
        """The model replies come from (None while loading or after a failure)."""
        self._model = model
        if model is not None:
            # What llama.cpp really gave (a model trained on less gets less).
            self.settings_panel.show_context_length(model.context_length)
            from app.ui.chat.code import warm_up_highlighting  # not before the first paint

            warm_up_highlighting()  # before the first reply can hold a code block
        self._apply_profile()
        self._update_controls()
        if model is not None:
            self.input_box.setFocus()

    @property
    def profile(self) -> ThinkingProfile | None:
        return self._model.thinking if self._model else None

    def _apply_profile(self) -> None:
        profile = self.profile
        toggle = profile.toggle if profile else Toggle.HIDDEN
        self.thinking_toggle.blockSignals(True)
        self.thinking_toggle.setVisible(toggle not in (Toggle.HIDDEN, Toggle.EFFORT))
        self.thinking_toggle.setEnabled(toggle != Toggle.DISABLED)
        self.thinking_toggle.setChecked(self._thinking_wanted())
        self.thinking_toggle.blockSignals(False)
        self._show_effort_choices(profile if toggle == Toggle.EFFORT else None)
        self._update_thinking_note()
        self.settings_panel.set_profile(profile, self.thinking_on, self.effort)

    def _show_effort_choices(self, profile: ThinkingProfile | None) -> None:
        """The family's effort levels in the effort box (hidden for on/off families)."""
        self.effort_box.blockSignals(True)
        self.effort_box.clear()
        if profile is not None:
            for level in profile.choices:
                self.effort_box.addItem(_effort_label(level), level)
            stored = self._conversation.thinking if self._conversation else None
            wanted = profile.effort_level(stored)
            self.effort_box.setCurrentIndex(max(0, self.effort_box.findData(wanted)))
        self.effort_box.setVisible(profile is not None)
        self.effort_box.blockSignals(False)

    @property
    def effort(self) -> str | None:
        """The chosen reasoning effort, for families that take one (None otherwise)."""
        if self.effort_box.isHidden() or self.effort_box.count() == 0:
            return None
        return str(self.effort_box.currentData())

    def _thinking_wanted(self) -> bool:
        profile = self.profile
        if profile is None or not profile.can_think:
            return False
        stored = self._conversation.thinking if self._conversation else None
        return profile.default_on if stored is None else stored != "off"

    @property
    def thinking_on(self) -> bool:
        profile = self.profile
        if profile is not None and profile.toggle == Toggle.EFFORT:
            return True  # it always reasons; the effort box says how much
        return self.thinking_toggle.isChecked() and self.thinking_toggle.isEnabled()

    def _update_thinking_note(self) -> None:
        profile = self.profile
        # Say why the toggle is greyed out, or what skipping an always-on reasoning costs.
        shown = profile is not None and (
            profile.toggle in (Toggle.DISABLED, Toggle.EFFORT)
            or (profile.toggle == Toggle.SKIPPABLE and not self.thinking_on)
        )
        words = family_text(profile.note) if profile is not None and profile.note else ""
        note = words if shown else ""
        self.thinking_note.setText(note)
        self.thinking_note.setVisible(bool(note))
        self.thinking_toggle.setToolTip(plain_tooltip(words))
        self.effort_box.setToolTip(plain_tooltip(words))

    @Slot(int)
    def _on_effort_chosen(self, _index: int) -> None:
        self._update_thinking_note()
        self.settings_panel.set_profile(self.profile, self.thinking_on, self.effort)
        if self._conversation is not None and self.effort is not None:
            with self._saving():
                self._store.update_conversation(self._conversation.id, thinking=self.effort)
                self._conversation = self._store.conversation(self._conversation.id)

    @Slot(bool)
    def _on_thinking_toggled(self, checked: bool) -> None:
        self._update_thinking_note()
        self.settings_panel.set_profile(self.profile, self.thinking_on, self.effort)
        if self._conversation is not None:
            with self._saving():
                self._store.update_conversation(
                    self._conversation.id, thinking="on" if checked else "off"
                )
                self._conversation = self._store.conversation(self._conversation.id)

    # --- conversations ---------------------------------------------------------------------------

    def _open_latest_conversation(self) -> None:
        latest = []
        with self._saving(doing="read the chats"):
            latest = self._store.list_conversations()
        if latest:
            self.open_conversation(latest[0].id)
        else:
            self._show_conversation(None)

    @Slot(int)
    def open_conversation(self, conversation_id: int) -> None:
        """Show a stored conversation (not while a reply streams into another one)."""
        if self._generating:
            self.conversations.show_conversation(self._conversation_id())
            return
        self._cancel_edit()
        with self._saving(doing="open the chat") as reading:
            conversation = self._store.conversation(conversation_id)
        if not reading.failed:
            self._show_conversation(conversation)

    @Slot()
    def new_conversation(self) -> None:
        """An empty chat; it is stored when its first message is sent."""
        if self._generating:
            return
        self._cancel_edit()
        self._show_conversation(None)
        self.input_box.setFocus()

    def _show_conversation(self, conversation: Conversation | None) -> None:
        self._cancel_edit()
        self._conversation = conversation
        self.chat_view.clear()
        self.conversations.show_conversation(conversation.id if conversation else None)
        settings = conversation.settings if conversation else {}
        self.settings_panel.load(
            system_prompt=conversation.system_prompt if conversation else "",
            overrides=settings,
            reasoning_budget=settings.get(REASONING_BUDGET_KEY),
            context_length=settings.get(CONTEXT_LENGTH_KEY)
            or (self._model.context_length if self._model else self._default_context),
        )
        stored: list[StoredMessage] = []
        versions: dict[int, list[int]] = {}
        if conversation is not None:
            with self._saving(doing="open the chat"):
                stored = self._store.messages(conversation.id)
                versions = self._store.version_ids(conversation.id)
            for message in stored:
                widget = self.chat_view.add_message(_message_widget(message, versions))
                if message.role == "assistant" and message.state == MessageState.COMPLETE:
                    show_unanswered_note(widget, message.stats.get("finish_reason"))
        self._apply_profile()
        self._update_controls()
        self.conversation_shown.emit(conversation)

    def _conversation_id(self) -> int | None:
        return self._conversation.id if self._conversation else None

    def _ensure_conversation(self) -> Conversation:
        """The open chat, stored now if it is new (raises HistoryError: call under `_saving`)."""
        if self._conversation is None:
            self._conversation = self._store.create_conversation(
                system_prompt=self.settings_panel.system_prompt_text(),
                settings=self._settings_to_store(),
                thinking=self._thinking_state(),
                model_path=str(self._model.path) if self._model else None,
            )
        return self._conversation

    @Slot(int)
    def _on_conversation_deleted(self, conversation_id: int) -> None:
        if conversation_id == self._conversation_id():
            self._show_conversation(None)

    @Slot()
    def _save_settings(self) -> None:
        self.settings_panel.set_profile(self.profile, self.thinking_on, self.effort)
        if self._conversation is None:
            return
        with self._saving():
            self._store.update_conversation(
                self._conversation.id,
                system_prompt=self.settings_panel.system_prompt_text(),
                settings=self._settings_to_store(),
            )
            self._conversation = self._store.conversation(self._conversation.id)

    def _settings_to_store(self) -> dict[str, object]:
        settings: dict[str, object] = dict(self.settings_panel.overrides())
        budget = self.settings_panel.reasoning_budget_value()
        if budget:
            settings[REASONING_BUDGET_KEY] = budget
        settings[CONTEXT_LENGTH_KEY] = self.settings_panel.context_length.value()
        return settings

    def _thinking_state(self) -> str | None:
        profile = self.profile
        if profile is None or not profile.can_think:
            return None
        return self.effort or ("on" if self.thinking_on else "off")

    @Slot(int)
    def _on_context_length_chosen(self, tokens: int) -> None:
        self._save_settings()
        if self._model is not None and tokens != self._model.context_length:
            self.context_length_requested.emit(tokens)

    # --- sending ---------------------------------------------------------------------------------

    @Slot()
    def send_message(self) -> None:
        """Store the typed message (replacing the one being edited) and ask for a reply."""
        text = self.input_box.toPlainText().strip()
        if not text or self._model is None or self._generating:
            return
        model_path = str(self._model.path)
        with self._saving() as saving:
            if self._editing is not None:
                self._drop_from(self._editing)
                self._cancel_edit()
            conversation = self._ensure_conversation()
            stored = self._store.add_message(conversation.id, "user", text, model_path=model_path)
            self._conversation = self._store.conversation(conversation.id)  # titled by it
        if saving.failed:
            # What the person typed stays in the box, to send again once the disk or lock allows.
            if self.input_box.toPlainText().strip() != text:
                self.input_box.setPlainText(text)
            return
        self.input_box.clear()
        self.chat_view.add_message(MessageWidget("user", text, message_id=stored.id))
        self.conversations.refresh()
        self.conversations.show_conversation(conversation.id)
        self._request_reply(drop_oldest=False)

    @Slot(object)
    def regenerate(self, widget: MessageWidget) -> None:
        """Ask for another version of the last answer; the earlier ones stay, a "‹ ›" away."""
        if self._generating or self._model is None or widget.role != "assistant":
            return
        if widget.message_id is None:  # never stored: nothing to keep
            with self._saving() as saving:
                self._drop_from(widget)
            if not saving.failed:
                self._request_reply(drop_oldest=False)
            return
        self._request_reply(drop_oldest=False, replacing=widget)

    @Slot(object, int)
    def show_version(self, widget: MessageWidget, message_id: int) -> None:
        """Show another version of a reply; the next prompt reads the one shown."""
        if self._generating:
            return
        with self._saving() as saving:
            self._store.show_version(message_id)
            message = self._store.message(message_id)
        if not saving.failed:
            widget.show_stored(message)

    @Slot(object)
    def start_edit(self, widget: MessageWidget) -> None:
        """Put a sent message back in the input box; Send replaces it and what followed."""
        if self._generating or widget.role != "user":
            return
        self._editing = widget
        self.input_box.setPlainText(widget.content)
        self.input_box.setFocus()
        self.edit_banner.setText(
            self.tr("Editing a message: Send replaces it and every message after it. Esc cancels.")
        )
        self.edit_banner.show()

    def _cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.edit_banner.hide()
            self.input_box.clear()

    def _drop_from(self, widget: MessageWidget) -> None:
        """Delete `widget`'s message and what followed (raises HistoryError: call under
        `_saving`; the view then stays as it was)."""
        if widget.message_id is not None:
            self._store.delete_messages_from(widget.message_id)
        self.chat_view.remove_from(widget)

    def _request_reply(self, *, drop_oldest: bool, replacing: MessageWidget | None = None) -> None:
        """Ask the engine thread for the next reply; with `replacing`, for another version of
        that (last) reply, which the prompt then leaves out."""
        with self._saving() as saving:
            conversation = self._ensure_conversation()
            messages = self._store.messages(conversation.id)
        if saving.failed:
            return
        if replacing is not None:
            messages = [m for m in messages if m.id != replacing.message_id]
        request = ReplyRequest(
            turns=turns_for_model(messages),
            system_prompt=self.settings_panel.system_prompt_text(),
            thinking_on=self.thinking_on,
            effort=self.effort,
            overrides=self.settings_panel.overrides(),
            reasoning_budget=self.settings_panel.reasoning_budget_value(),
            drop_oldest=drop_oldest,
            cancel=self._new_cancel_token(),
            record=ReplyRecord(
                self._store.path,
                conversation.id,
                str(self._model.path) if self._model else None,
                version_of=replacing.message_id if replacing is not None else None,
            ),
        )
        self.show_error("")
        self._replacing = None
        self._overflow_replacing = None
        if replacing is not None and replacing.message_id is not None:
            # The version shown until now, and all of them: the new one streams in its place.
            self._replacing = (
                replacing.message_id,
                replacing.version_ids or [replacing.message_id],
            )
            self.chat_view.remove_from(replacing)
        self._streaming = self.chat_view.add_message(
            MessageWidget("assistant", state=MessageState.STREAMING)
        )
        self._generating = True
        self._update_controls()
        self.status_changed.emit(self.tr("Reading the conversation…"))
        self._worker.reply_requested.emit(request)

    def _new_cancel_token(self) -> CancelToken:
        # One token per reply: a Stop pressed before the engine thread picks the request up
        # still counts, and can't leak into the next reply.
        self._cancel = CancelToken()
        return self._cancel

    @Slot()
    def stop_reply(self) -> None:
        """Stop the reply being generated (the text so far stays, and is stored), or the speed
        test."""
        if self._generating or self._measuring:
            self._cancel.cancel()

    @Slot()
    def _on_escape(self) -> None:
        if self._generating:
            self.stop_reply()
        else:
            self._cancel_edit()

    # --- measuring speed ------------------------------------------------------------------------

    @Slot()
    def measure_speed(self) -> None:
        """About ten seconds on the engine thread measuring the loaded model's speed; the status
        line follows it, Stop ends it."""
        if self._model is None or self._generating or self._measuring:
            return
        self._measuring = True
        self._cancel = CancelToken()
        self._update_controls()
        self.status_changed.emit(self.tr("Measuring speed…"))
        self.speed_test_wanted.emit(self._cancel)

    @Slot(float)
    def _on_speed_progress(self, fraction: float) -> None:
        self.status_changed.emit(
            self.tr("Measuring speed… {percent}\u00a0%").format(percent=round(fraction * 100))
        )

    @Slot(object)
    def _on_speed_tested(self, measurement: SpeedMeasurement) -> None:
        self._measuring = False
        self._update_controls()
        self.status_changed.emit(
            self.tr(
                "Measured on this machine: writes {writing:.1f}\u00a0tokens/s, reads a prompt "
                "at {reading:.0f}\u00a0tokens/s, first token after {first:.1f}\u00a0s."
            ).format(
                writing=measurement.generation_tokens_per_second,
                reading=measurement.prompt_tokens_per_second,
                first=measurement.time_to_first_token,
            )
        )

    @Slot(object)
    def _on_speed_test_failed(self, error: Exception) -> None:
        self._measuring = False
        self._update_controls()
        self.status_changed.emit(error_text(error))

    # --- the reply -------------------------------------------------------------------------------

    @Slot(object)
    def _on_started(self, started: ReplyStarted) -> None:
        if self._closed:  # a late signal from the engine after the window closed
            return
        if self._streaming is not None:
            self._streaming.message_id = started.message_id
            if self._replacing is not None and started.message_id is not None:
                self._streaming.set_versions([*self._replacing[1], started.message_id])
                self._streaming.set_versions_enabled(False)  # until the reply ends
        if started.dropped_turns:
            # Said on the reply itself: the status line is rewritten ~30 times a second.
            log.info("left out %d oldest messages to fit the context", started.dropped_turns)
            if self._streaming is not None:
                self._streaming.set_dropped_turns(started.dropped_turns)
        self._context_length = started.context_length

    @Slot(object)
    def _on_streamed(self, update: StreamUpdate) -> None:
        if self._closed:  # a late signal from the engine after the window closed
            return
        if self._streaming is not None:
            self._streaming.append(update.reasoning, update.answer)
        speed = update.tokens / update.seconds if update.seconds > 0 else 0.0
        phase = self.tr("Thinking") if update.in_reasoning else self.tr("Generating")
        self.status_changed.emit(
            self.tr("{phase}… {tps:.1f} tokens/s · context {used:,} of {ctx:,}").format(
                phase=phase, tps=speed, used=update.context_used, ctx=self._context_length
            )
        )

    @Slot(object)
    def _on_finished(self, result: ReplyFinished) -> None:
        if self._closed:  # a late signal from the engine after the window closed
            return
        stats = result.stats
        state = stats.finish_reason.message_state
        self._streaming_had_no_answer = bool(result.reasoning) and not result.answer
        widget, self._streaming = self._streaming, None
        replacing, self._replacing = self._replacing, None
        if widget is not None and replacing is not None and result.message_id is None:
            # Stopped before the new version began: the one shown before comes back.
            self.chat_view.remove_from(widget)
            self._restore_version(None, *replacing)
        elif widget is not None:
            widget.finish(state, result.reasoning_seconds)
            show_unanswered_note(
                widget,
                stats.finish_reason,
                context_full=stats.context_used >= self._context_length,
            )
        self._generating = False
        self.status_changed.emit(self._finished_line(stats))
        self._after_reply()
        self.reply_finished.emit(stats)

    def _finished_line(self, stats: GenerationStats) -> str:
        line = self.tr("{tps:.1f} tokens/s · {n} tokens · context {used:,} of {ctx:,}").format(
            tps=stats.tokens_per_second,
            n=stats.completion_tokens,
            used=stats.context_used,
            ctx=self._context_length,
        )
        if stats.finish_reason == FinishReason.CANCELLED:
            line += self.tr(" (stopped)")
        elif stats.finish_reason == FinishReason.LENGTH and self._streaming_had_no_answer:
            line += self.tr(
                " · the reply ran out of tokens while thinking: raise Max reply tokens or set a "
                "thinking budget in Reply settings"
            )
        elif (
            stats.finish_reason == FinishReason.LENGTH
            and stats.context_used >= self._context_length
        ):
            line += self.tr(" · the context is full: start a new chat or raise the context length")
        elif stats.context_used >= NEARLY_FULL * self._context_length:
            line += self.tr(" · the context is nearly full")
        return line

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        if self._closed:  # a late signal from the engine after the window closed
            return
        widget, self._streaming = self._streaming, None
        replacing, self._replacing = self._replacing, None
        restored: MessageWidget | None = None
        if widget is not None:
            if widget.content or widget.reasoning:
                widget.finish(MessageState.FAILED, None)
            else:
                self.chat_view.remove_from(widget)
                if replacing is not None:
                    restored = self._restore_version(widget.message_id, *replacing)
        # Leaving out the oldest messages then asks again for a new version of this reply.
        self._overflow_replacing = restored if isinstance(error, ContextOverflowError) else None
        self._generating = False
        self._after_reply()
        if isinstance(error, ContextOverflowError):
            self._offer_overflow_choices(error)
        if isinstance(error, HistoryError):
            # The engine thread stores each piece before it is shown, so the reply stopped at
            # the first piece that couldn't be stored: what is on screen is what was kept.
            log.warning("couldn't save the reply: %s", error)
            self.show_error(
                self.tr("Couldn't save the reply, so it stopped here: {reason}").format(
                    reason=error.reason
                )
            )
        else:
            report(error, label=self.error_label)
        self.status_changed.emit("")
        self.reply_failed.emit(error)

    def _restore_version(
        self, failed: int | None, shown: int, versions: list[int]
    ) -> MessageWidget | None:
        """A new version failed before any text: forget it and show again the one shown
        before, so a failed Regenerate never costs the reply the person had."""
        with self._saving() as saving:
            if failed is not None:
                self._store.discard_version(failed)
            self._store.show_version(shown)
            message = self._store.message(shown)
        if saving.failed:
            return None
        return self.chat_view.add_message(_message_widget(message, {shown: versions}))

    def show_error(self, text: str) -> None:
        """A problem with the last reply, shown above the input until the next message."""
        show_in_label(self.error_label, text)

    def _saving(self, *, doing: str = "save the chat") -> AbstractContextManager[Attempt]:
        """The guard around every chat-store call from this page: a HistoryError (full disk,
        locked database, a chat deleted elsewhere) becomes a sentence above the input box."""
        return saving_chat(self.show_error, doing=doing)

    def _after_reply(self) -> None:
        # Stop is about to be disabled: give the keyboard to the input box first (a disabled
        # focus widget leaves the window without focus, and shortcuts stop working).
        self.input_box.setFocus()
        self._update_controls()
        self.conversations.refresh()

    def _offer_overflow_choices(self, error: ContextOverflowError) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("The conversation is too long"))
        box.setText(str(error))  # ours, already logged by `report`
        self.drop_oldest_button = box.addButton(
            self.tr("Leave out the oldest messages"), QMessageBox.ButtonRole.AcceptRole
        )
        self.new_chat_button = box.addButton(
            self.tr("Start a new chat"), QMessageBox.ButtonRole.ActionRole
        )
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.buttonClicked.connect(self._on_overflow_choice)
        self.overflow_box = box
        box.open()

    @Slot(object)
    def _on_overflow_choice(self, button: object) -> None:
        box, self.overflow_box = self.overflow_box, None
        if box is not None:
            box.deleteLater()
        if button is self.drop_oldest_button:
            # The older messages stay in the history; they are only not sent to the model.
            self._request_reply(drop_oldest=True, replacing=self._overflow_replacing)
        elif button is self.new_chat_button:
            last = self._last_user_text()
            self.new_conversation()
            self.input_box.setPlainText(last)

    def _last_user_text(self) -> str:
        for widget in reversed(self.chat_view.messages()):
            if widget.role == "user":
                return widget.content
        return ""

    # --- state -----------------------------------------------------------------------------------

    @Slot()
    def _update_controls(self) -> None:
        ready = self._model is not None
        typed = bool(self.input_box.toPlainText().strip())
        self.send_button.setEnabled(
            ready and not self._generating and not self._measuring and typed
        )
        # A greyed Send says why.
        if not ready:
            why = self.tr("Load a model first: choose one in the Model list above.")
        elif self._generating:
            why = self.tr("A reply is being written; Stop ends it.")
        elif self._measuring:
            why = self.tr("The speed is being measured; Stop ends it.")
        elif not typed:
            why = self.tr("Type a message first.")
        else:
            why = self.tr("Send the message (Ctrl+Enter).")
        self.send_button.setToolTip(why)
        self.stop_button.setEnabled(self._generating or self._measuring)
        self.speed_button.setEnabled(ready and not self._generating and not self._measuring)
        self.conversations.set_busy(self._generating)
        self.chat_view.update_actions(busy=self._generating or not ready)

    @property
    def is_generating(self) -> bool:
        return self._generating

    @property
    def conversation(self) -> Conversation | None:
        return self._conversation

    @property
    def store_path(self) -> Path:
        return self._store.path


def _message_widget(message: StoredMessage, versions: dict[int, list[int]]) -> MessageWidget:
    """A stored message on screen; `versions` holds the ids of each regenerated reply's
    versions by its first version's id (`ChatStore.version_ids`)."""
    widget = MessageWidget(
        message.role,
        message.content,
        message_id=message.id,
        reasoning=message.reasoning,
        reasoning_seconds=message.reasoning_seconds,
        state=message.state,
        dropped_turns=int(message.settings.get("dropped_turns") or 0),
    )
    if message.version_of is not None:
        widget.set_versions(versions.get(message.version_of, []))
    return widget


def _effort_label(level: str) -> str:
    """A reasoning effort level in words, for the effort box."""
    labels = {
        "low": QCoreApplication.translate("ChatPage", "Thinking: low"),
        "medium": QCoreApplication.translate("ChatPage", "Thinking: medium"),
        "high": QCoreApplication.translate("ChatPage", "Thinking: high"),
    }
    return labels.get(level, level)
