"""The first main window: pick a local model, chat with it, stop a reply."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.chat_template import Message
from app.core.engine import GenerationStats, LoadedModel, SamplingSettings
from app.core.library import find_local_models
from app.core.settings import AppPaths
from app.core.units import format_bytes, format_seconds
from app.ui.downloads_panel import DownloadsPanel
from app.ui.messages import error_text
from app.ui.models_page import ModelsPage
from app.ui.workers.engine_worker import EngineThread

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Chat with a local GGUF model; all engine work happens on the engine thread.

    Signals (emitted on the GUI thread, after the window has updated itself):
        model_loaded(object): the `LoadedModel` now in use.
        model_failed(object): the error of a failed load, already shown to the person.
        reply_finished(object): the `GenerationStats` of a reply that ended or was stopped.
        reply_failed(object): the error of a reply that could not be generated.
    """

    model_loaded = Signal(object)
    model_failed = Signal(object)
    reply_finished = Signal(object)
    reply_failed = Signal(object)

    def __init__(self, paths: AppPaths, *, engine_thread: EngineThread | None = None) -> None:
        super().__init__()
        self._paths = paths
        self._engine = engine_thread or EngineThread()
        self._history: list[Message] = []
        self._reply_parts: list[str] = []
        self._model: LoadedModel | None = None
        self._generating = False
        # Sampling for new replies; per-conversation settings come with the chat store.
        self.sampling = SamplingSettings()
        self.setWindowTitle(self.tr("Quantdesk"))
        self.resize(1000, 700)
        self._build_widgets()
        self._connect_engine()
        self.refresh_models()
        self._update_controls()

    # --- layout ----------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.model_picker = QComboBox()
        self.model_picker.setMinimumWidth(420)
        self.model_picker.setPlaceholderText(self.tr("Choose a model file…"))
        self.model_picker.activated.connect(self._on_model_chosen)
        self.open_button = QPushButton(self.tr("Open .gguf…"))
        self.open_button.clicked.connect(self._open_model_file)
        self.model_status = QLabel(self.tr("No model loaded."))
        self.model_status.setWordWrap(True)
        self.model_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        picker_row = QHBoxLayout()
        picker_row.addWidget(QLabel(self.tr("Model:")))
        picker_row.addWidget(self.model_picker, 1)
        picker_row.addWidget(self.open_button)

        self.chat_view = QTextBrowser()
        self.chat_view.setOpenExternalLinks(False)
        self.chat_view.setPlaceholderText(self.tr("Load a model, then type a message below."))

        self.input_box = QPlainTextEdit()
        self.input_box.setPlaceholderText(self.tr("Type a message (Ctrl+Enter to send)"))
        self.input_box.setMaximumHeight(120)
        self.input_box.textChanged.connect(self._update_controls)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send_message)
        self.stop_button = QPushButton(self.tr("Stop"))
        self.stop_button.clicked.connect(self.stop_reply)
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        input_row = QHBoxLayout()
        input_row.addWidget(self.input_box, 1)
        input_row.addLayout(buttons)
        input_panel = QWidget()
        input_panel.setLayout(input_row)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chat_view)
        splitter.addWidget(input_panel)
        splitter.setStretchFactor(0, 1)

        layout = QVBoxLayout()
        layout.addLayout(picker_row)
        layout.addWidget(self.model_status)
        layout.addWidget(splitter, 1)
        self.chat_page = QWidget()
        self.chat_page.setLayout(layout)

        self.models_page = ModelsPage(self._paths)
        self.models_page.chat_requested.connect(self.open_chat)
        self.downloads_panel = DownloadsPanel(self._paths.models)
        self.downloads_panel.chat_requested.connect(self.open_chat)
        self.downloads_panel.download_finished.connect(self._on_download_finished)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.chat_page, self.tr("Chat"))
        self.tabs.addTab(self.models_page, self.tr("Models"))
        self.tabs.addTab(self.downloads_panel, self.tr("Downloads"))
        self.setCentralWidget(self.tabs)

        self.speed_label = QLabel()
        self.statusBar().addWidget(self.speed_label, 1)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.send_message)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self.send_message)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.stop_reply)

    def _connect_engine(self) -> None:
        worker = self._engine.worker
        worker.loaded.connect(self._on_loaded)
        worker.load_failed.connect(self._on_load_failed)
        worker.text.connect(self._on_text)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

    # --- models ----------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """List the `.gguf` files in the models folder in the picker (no model is loaded)."""
        current = self.model_picker.currentData()
        self.model_picker.clear()
        for path in find_local_models(self._paths.models):
            self._add_model_entry(path)
        if current:
            self._select_model_entry(Path(current))

    def _add_model_entry(self, path: Path) -> int:
        index = self.model_picker.findData(str(path))
        if index < 0:
            label = (
                f"{path.name}  ({format_bytes(path.stat().st_size)})"
                if path.exists()
                else path.name
            )
            self.model_picker.addItem(label, str(path))
            index = self.model_picker.count() - 1
        return index

    def _select_model_entry(self, path: Path) -> None:
        index = self.model_picker.findData(str(path))
        if index >= 0:
            self.model_picker.setCurrentIndex(index)

    @Slot(object)
    def open_chat(self, path: Path) -> None:
        """Show the chat and load `path` into it."""
        self.tabs.setCurrentWidget(self.chat_page)
        self.load_model(Path(path))

    @Slot(object)
    def _on_download_finished(self, _result: object) -> None:
        self.refresh_models()
        self.models_page.refresh()

    @Slot()
    def _open_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open a model"), str(self._paths.models), self.tr("GGUF models (*.gguf)")
        )
        if path:
            self.load_model(Path(path))

    @Slot(int)
    def _on_model_chosen(self, index: int) -> None:
        path = self.model_picker.itemData(index)
        if path:
            self.load_model(Path(path))

    def load_model(self, path: Path) -> None:
        """Load `path` on the engine thread; the result arrives as `loaded` or `load_failed`."""
        if self._generating:
            self.stop_reply()
        self._model = None
        self.model_picker.setCurrentIndex(self._add_model_entry(Path(path)))
        self._set_status(self.tr("Loading {name}…").format(name=Path(path).name))
        self._loading = True
        self._update_controls()
        self._engine.worker.load_requested.emit(str(path))

    @Slot(object)
    def _on_loaded(self, model: LoadedModel) -> None:
        self._loading = False
        self._model = model
        self._history.clear()
        self.chat_view.clear()
        self._set_status(
            self.tr("Ready: {name} · {size} · context {ctx} tokens · loaded in {secs}").format(
                name=model.display_name,
                size=format_bytes(model.file_size),
                ctx=model.context_length,
                secs=format_seconds(model.load_seconds),
            )
        )
        self._update_controls()
        self.input_box.setFocus()
        self.model_loaded.emit(model)

    @Slot(object)
    def _on_load_failed(self, error: Exception) -> None:
        self._loading = False
        self._model = None
        self._set_status(error_text(error), error=True)
        self._update_controls()
        self.model_failed.emit(error)

    # --- chat ------------------------------------------------------------------------------------

    @Slot()
    def send_message(self) -> None:
        """Send the typed message and stream the reply into the chat view."""
        text = self.input_box.toPlainText().strip()
        if not text or self._model is None or self._generating:
            return
        self.input_box.clear()
        self._history.append(Message("user", text))
        self._append_turn(self.tr("You"), text)
        self._append_turn(self.tr("Assistant"), "")
        self._reply_parts = []
        self._generating = True
        self._update_controls()
        self.speed_label.setText(self.tr("Generating…"))
        self._engine.worker.generate_requested.emit(list(self._history), self.sampling)

    @Slot()
    def stop_reply(self) -> None:
        """Stop the reply being generated; the text so far stays."""
        if self._generating:
            self._engine.worker.stop()

    @Slot(str)
    def _on_text(self, text: str) -> None:
        self._reply_parts.append(text)
        cursor = self.chat_view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())
        self.chat_view.verticalScrollBar().setValue(self.chat_view.verticalScrollBar().maximum())

    @Slot(object)
    def _on_finished(self, stats: GenerationStats) -> None:
        self._generating = False
        reply = "".join(self._reply_parts)
        if reply:
            self._history.append(Message("assistant", reply))
        note = self.tr(" (stopped)") if stats.finish_reason == "cancelled" else ""
        self.speed_label.setText(
            self.tr("{tps:.1f} tokens/s · {n} tokens · first token {ttft}{note}").format(
                tps=stats.tokens_per_second,
                n=stats.completion_tokens,
                ttft=format_seconds(stats.time_to_first_token or 0.0),
                note=note,
            )
        )
        self._update_controls()
        self.reply_finished.emit(stats)

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self._generating = False
        # The user's message stays in the view and the history; only the reply failed.
        self._set_status(error_text(error), error=True)
        self.speed_label.clear()
        self._update_controls()
        self.reply_failed.emit(error)

    def _append_turn(self, speaker: str, text: str) -> None:
        cursor = self.chat_view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self.chat_view.document().isEmpty():
            cursor.insertBlock()
            cursor.insertBlock()
        bold = QTextCharFormat()
        bold.setFontWeight(QFont.Weight.Bold)
        cursor.insertText(speaker, bold)
        cursor.insertBlock()
        cursor.insertText(text, QTextCharFormat())

    # --- state -----------------------------------------------------------------------------------

    _loading = False

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.model_status.setText(text)
        self.model_status.setStyleSheet("color: #b00020;" if error else "")

    @Slot()
    def _update_controls(self) -> None:
        ready = self._model is not None and not self._loading
        self.send_button.setEnabled(
            ready and not self._generating and bool(self.input_box.toPlainText().strip())
        )
        self.stop_button.setEnabled(self._generating)
        self.model_picker.setEnabled(not self._loading)
        self.open_button.setEnabled(not self._loading)

    @property
    def is_generating(self) -> bool:
        return self._generating

    @property
    def loaded_model(self) -> LoadedModel | None:
        return self._model

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.downloads_panel.shutdown()
        self.models_page.shutdown()
        self._engine.shutdown()
        super().closeEvent(event)
