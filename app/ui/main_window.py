"""The main window: the chat (with its model picker), the local models, and downloads."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app.core._util.units import format_bytes, format_seconds
from app.core.chat.history import open_chat_store
from app.core.config.preferences import Preferences, load_preferences, save_preferences
from app.core.engine.engine import LoadedModel
from app.core.hub.library import find_local_models
from app.core.machine.hardware import HardwareProfile, detect, with_corrections
from app.core.machine.process_memory import describe_process_memory
from app.core.paths import AppPaths
from app.ui.chat.page import ChatPage
from app.ui.chat.view import ChatView
from app.ui.discover.discover_page import DiscoverPage
from app.ui.icons import load_icon
from app.ui.library.downloads_panel import DownloadsPanel
from app.ui.library.models_page import ModelsPage
from app.ui.messages import error_text
from app.ui.settings.settings_page import SettingsPage
from app.ui.setup.wizard import FirstRunWizard
from app.ui.style import ERROR_STYLE
from app.ui.workers.engine import EngineThread, LoadOptions
from app.ui.workers.task import TaskWorker

log = logging.getLogger(__name__)

CHAT_DATABASE = "chats.sqlite3"
MEMORY_REFRESH_MS = 2000


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

    def __init__(
        self,
        paths: AppPaths,
        *,
        engine_thread: EngineThread | None = None,
        hardware: HardwareProfile | None = None,
    ) -> None:
        super().__init__()
        self._paths = paths
        self.preferences, preferences_note = load_preferences(paths.config)
        self._engine = engine_thread or EngineThread()
        self._model: LoadedModel | None = None
        self._hardware = hardware  # a faked machine (tests); else detected by the wizard
        self.wizard: FirstRunWizard | None = None
        self._detect_task: TaskWorker | None = None
        self._store, self._store_note = open_chat_store(paths.data / CHAT_DATABASE)
        self._store_note = self._store_note or preferences_note
        self.setWindowTitle(self.tr("Quantdesk"))
        self.resize(1100, 720)
        self._build_widgets()
        self._build_menu()
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

        self.chat = ChatPage(
            self._store,
            self._engine.worker,
            header,
            default_context=self.preferences.default_context,
        )
        self.chat.reply_finished.connect(self.reply_finished)
        self.chat.reply_failed.connect(self.reply_failed)
        self.chat.status_changed.connect(self._show_chat_status)
        self.chat.context_length_requested.connect(self._reload_with_context)
        self.chat_page = self.chat

        self.models_page = ModelsPage(self._paths_with_models_dir())
        self.models_page.chat_requested.connect(self.open_chat)
        self.downloads_panel = DownloadsPanel(self.models_dir)
        self.downloads_panel.chat_requested.connect(self.open_chat)
        self.downloads_panel.download_finished.connect(self._on_download_finished)
        self.discover_page = DiscoverPage(self)
        self.settings_page = SettingsPage(self._paths_with_models_dir(), self.preferences)
        self.settings_page.preferences_changed.connect(self._on_preferences_changed)
        self.settings_page.models_dir_changed.connect(self._on_models_dir_changed)

        self.tabs = QStackedWidget()  # the pages; the sidebar switches them
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setIconSize(QSize(20, 20))
        pages = [
            (self.chat_page, self.tr("Chats"), "chat"),
            (self.models_page, self.tr("Models"), "models"),
            (self.discover_page, self.tr("Discover"), "discover"),
            (self.downloads_panel, self.tr("Downloads"), "downloads"),
            (self.settings_page, self.tr("Settings"), "settings"),
        ]
        for page, label, icon in pages:
            self.tabs.addWidget(page)
            self.sidebar.addItem(QListWidgetItem(load_icon(icon), label))
        self.sidebar.currentRowChanged.connect(self.tabs.setCurrentIndex)
        self.tabs.currentChanged.connect(self.sidebar.setCurrentRow)
        self.sidebar.setCurrentRow(0)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.speed_label = QLabel()
        self.model_label = QLabel(self.tr("No model"))
        self.memory_label = QLabel()
        self.statusBar().addWidget(self.speed_label, 1)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.memory_label)
        if self._store_note:
            self.speed_label.setText(self._store_note)
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(MEMORY_REFRESH_MS)
        self._memory_timer.timeout.connect(self._show_memory)
        self._memory_timer.start()

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&Quantdesk"))
        menu.addAction(self.tr("Set up a model…"), self.show_wizard)
        menu.addAction(self.tr("Settings"), lambda: self.tabs.setCurrentWidget(self.settings_page))
        menu.addSeparator()
        quit_action = menu.addAction(self.tr("Quit"), self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

    # --- preferences and the first run ----------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        return (
            Path(self.preferences.models_dir) if self.preferences.models_dir else self._paths.models
        )

    def _paths_with_models_dir(self) -> AppPaths:
        return replace(self._paths, models=self.models_dir)

    def update_preferences(self, **changes: object) -> None:
        """Change and save preferences (e.g. the wizard's hardware corrections)."""
        self.preferences = self.preferences.replace(**changes)
        save_preferences(self._paths.config, self.preferences)

    @Slot(object)
    def _on_preferences_changed(self, preferences: Preferences) -> None:
        self.preferences = preferences

    @Slot(object)
    def _on_models_dir_changed(self, folder: Path) -> None:
        self.preferences = self.preferences.replace(models_dir=str(folder))
        self.models_page.set_models_dir(folder)
        self.downloads_panel.set_models_dir(folder)
        self.refresh_models()

    @property
    def hardware(self) -> HardwareProfile | None:
        """This machine as detected (or faked in tests), with the person's corrections."""
        if self._hardware is None:
            return None
        return self._corrected(self._hardware)

    def set_hardware(self, profile: HardwareProfile) -> None:
        """Remember the detected machine (detection runs once, off the GUI thread)."""
        self._hardware = profile
        corrected = self.hardware
        if corrected is not None:
            self.models_page.set_hardware(corrected, context=self.preferences.default_context)
            self.settings_page.set_hardware(corrected)

    def detect_hardware_later(self) -> None:
        """Detect the machine off the GUI thread after start-up (for the fit badges)."""
        if self._hardware is not None:
            self.set_hardware(self._hardware)
            return
        self._detect_task = TaskWorker(detect, name="hardware")
        self._detect_task.finished.connect(self._on_detected)
        self._detect_task.start()

    @Slot(object)
    def _on_detected(self, profile: HardwareProfile) -> None:
        self._detect_task.wait()
        self.set_hardware(profile)

    def _corrected(self, profile: HardwareProfile) -> HardwareProfile:
        vram = {
            index: value
            for index in range(len(profile.gpus))
            if (value := self.preferences.vram_override(index))
        }
        return with_corrections(profile, ram_bytes=self.preferences.ram_override, vram_bytes=vram)

    def needs_wizard(self) -> bool:
        """First run, and no models yet: the wizard leads the way."""
        return not self.preferences.first_run_done and not find_local_models(self.models_dir)

    def show_wizard(self) -> FirstRunWizard:
        """Open the setup wizard (first run, or from the menu)."""
        if self.wizard is None:
            self.wizard = FirstRunWizard(self, hardware=self._hardware)
            self.wizard.finished.connect(self._on_wizard_finished)
        self.wizard.restart()
        self.wizard.show()
        self.wizard.raise_()
        return self.wizard

    @Slot(int)
    def _on_wizard_finished(self, result: int) -> None:
        if result == QWizard.DialogCode.Accepted:
            self.update_preferences(first_run_done=True)
            self.tabs.setCurrentWidget(self.chat_page)
            self.activateWindow()
            self.chat.input_box.setFocus()
        if self.wizard is not None:
            self.wizard.deleteLater()
            self.wizard = None

    def _connect_engine(self) -> None:
        worker = self._engine.worker
        worker.loaded.connect(self._on_loaded)
        worker.load_failed.connect(self._on_load_failed)

    # --- models ----------------------------------------------------------------------------------

    def refresh_models(self) -> None:
        """List the `.gguf` files in the models folder in the picker (no model is loaded)."""
        current = self.model_picker.currentData()
        self.model_picker.clear()
        for path in find_local_models(self.models_dir):
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
            self, self.tr("Open a model"), str(self.models_dir), self.tr("GGUF models (*.gguf)")
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
        self._engine.worker.load_requested.emit(
            str(path),
            LoadOptions(
                context_length=tokens,
                threads=self.preferences.threads,
                gpu_layers=self.preferences.gpu_layers,  # None: automatic, on the engine thread
                hardware=self.hardware,
            ),
        )

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
        self.model_label.setText(
            self.tr("{name} · {quant} · GPU layers {layers}").format(
                name=model.display_name,
                quant=model.quant or self.tr("unknown quant"),
                layers=model.gpu_layers,
            )
        )
        self._show_memory()
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
        self.model_status.setStyleSheet(ERROR_STYLE if error else "")

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

    @Slot()
    def _show_memory(self) -> None:
        """RAM (and VRAM where NVML reports it) this process uses, refreshed every 2 s."""
        self.memory_label.setText(describe_process_memory())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._memory_timer.stop()
        if self._detect_task is not None:
            self._detect_task.wait()
        if self.wizard is not None:
            self.wizard.shutdown()
        self.chat.shutdown()
        self.discover_page.shutdown()
        self.settings_page.shutdown()
        self.downloads_panel.shutdown()
        self.models_page.shutdown()
        self._engine.shutdown()
        self._store.close()
        super().closeEvent(event)
