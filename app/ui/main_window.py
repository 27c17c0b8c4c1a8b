"""The main window: the chat (with its model picker), the local models, and downloads."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.engine import LoadedModel
from app.core.history import open_chat_store
from app.core.library import find_local_models
from app.core.settings import AppPaths
from app.core.units import format_bytes, format_seconds
from app.ui.chat_page import ChatPage
from app.ui.chat_view import ChatView
from app.ui.downloads_panel import DownloadsPanel
from app.ui.messages import error_text
from app.ui.models_page import ModelsPage
from app.ui.workers.engine_worker import EngineThread

log = logging.getLogger(__name__)

CHAT_DATABASE = "chats.sqlite3"


class MainWindow(QMainWindow):
    """Chat with a local GGUF model; all engine work happens on the engine thread.

    Signals (emitted on the GUI thread, after the window has updated itself):
        (the reply signals come from the chat page: `self.chat`)
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
        self._model: LoadedModel | None = None
        self._store, self._store_note = open_chat_store(paths.data / CHAT_DATABASE)
        self.setWindowTitle(self.tr("Quantdesk"))
        self.resize(1000, 700)
        self._build_widgets()
        self._connect_engine()
        self.refresh_models()
        self._update_controls()

    # --- layout ----------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.model_picker = QComboBox()
        self.model_picker.setMinimumWidth(320)
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
        header = QWidget()
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(0, 0, 0, 0)
        header_layout.addLayout(picker_row)
        header_layout.addWidget(self.model_status)

        self.chat = ChatPage(self._store, self._engine.worker, header)
        self.chat.reply_finished.connect(self.reply_finished)
        self.chat.reply_failed.connect(self.reply_failed)
        self.chat.status_changed.connect(self._show_chat_status)
        self.chat.context_length_requested.connect(self._reload_with_context)
        self.chat_page = self.chat

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
        if self._store_note:
            self.speed_label.setText(self._store_note)

    def _connect_engine(self) -> None:
        worker = self._engine.worker
        worker.loaded.connect(self._on_loaded)
        worker.load_failed.connect(self._on_load_failed)

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

    def load_model(self, path: Path, *, context_length: int | None = None) -> None:
        """Load `path` on the engine thread; the result arrives as `loaded` or `load_failed`.

        The context length is the current chat's setting unless given."""
        if self.chat.is_generating:
            self.chat.stop_reply()
        self._model = None
        self.chat.set_model(None)
        self.model_picker.setCurrentIndex(self._add_model_entry(Path(path)))
        self._set_status(self.tr("Loading {name}…").format(name=Path(path).name))
        self._loading = True
        self._update_controls()
        tokens = context_length or self.chat.settings_panel.context_length.value()
        self._engine.worker.load_requested.emit(str(path), tokens)

    @Slot(object)
    def _on_loaded(self, model: LoadedModel) -> None:
        self._loading = False
        self._model = model
        self._set_status(
            self.tr(
                "Ready: {name} · {size} · context {ctx} tokens · {kind} · loaded in {secs}"
            ).format(
                name=model.display_name,
                size=format_bytes(model.file_size),
                ctx=model.context_length,
                kind=model.thinking.label,
                secs=format_seconds(model.load_seconds),
            )
        )
        self._update_controls()
        self.chat.set_model(model)
        self.model_loaded.emit(model)

    @Slot(object)
    def _on_load_failed(self, error: Exception) -> None:
        self._loading = False
        self._model = None
        self.chat.set_model(None)
        self._set_status(error_text(error), error=True)
        self._update_controls()
        self.model_failed.emit(error)

    @Slot(str)
    def _show_chat_status(self, text: str) -> None:
        self.speed_label.setText(text)

    @Slot(int)
    def _reload_with_context(self, tokens: int) -> None:
        if self._model is not None and not self.chat.is_generating:
            self.load_model(self._model.path, context_length=tokens)

    # --- chat (the chat page's controls, for the tests and the benches) --------------------------

    @property
    def input_box(self) -> QPlainTextEdit:
        return self.chat.input_box

    @property
    def send_button(self) -> QPushButton:
        return self.chat.send_button

    @property
    def stop_button(self) -> QPushButton:
        return self.chat.stop_button

    @property
    def chat_view(self) -> ChatView:
        return self.chat.chat_view

    def send_message(self) -> None:
        self.chat.send_message()

    def stop_reply(self) -> None:
        self.chat.stop_reply()

    # --- state -----------------------------------------------------------------------------------

    _loading = False

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.model_status.setText(text)
        self.model_status.setStyleSheet("color: #b00020;" if error else "")

    @Slot()
    def _update_controls(self) -> None:
        self.model_picker.setEnabled(not self._loading)
        self.open_button.setEnabled(not self._loading)

    @property
    def is_generating(self) -> bool:
        return self.chat.is_generating

    @property
    def loaded_model(self) -> LoadedModel | None:
        return self._model

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.downloads_panel.shutdown()
        self.models_page.shutdown()
        self._engine.shutdown()
        self._store.close()
        super().closeEvent(event)
