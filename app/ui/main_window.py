"""The main window: the chat (with its model picker), the local models, and downloads."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app.core._util.files import moved_path
from app.core._util.units import format_bytes, format_seconds
from app.core.engine.engine import GenerationStats, LoadedModel
from app.core.errors import HistoryError, LoadMemoryError, RemoteWorkerError
from app.core.hub.library import (
    LocalModel,
    describe_model,
    list_models,
    model_label,
    with_header_quant,
)
from app.core.machine.process_memory import describe_process_memory
from app.ui.chat.page import ChatPage, chat_shortcuts
from app.ui.icons import load_icon
from app.ui.messages import NoteBanner, error_text
from app.ui.session import Session
from app.ui.style import plain_text, plain_tooltip, show_as_error
from app.ui.workers.engine import LoadOptions, SpeedTest
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.core._util.cancel import CancelToken
    from app.core.fit.loading import GpuFallback
    from app.core.fit.slowness import SlownessFigures
    from app.core.machine.hardware import HardwareProfile
    from app.ui.chat.why_slow import WhySlowPanel

    # The pages a person sees after the chat, the wizard and the dialogs are imported when
    # first built (`_build_page`), not on the way to the window's first paint.
    from app.ui.discover.discover_page import DiscoverPage
    from app.ui.help import ShortcutsDialog
    from app.ui.library.add_model import AddModelDialog
    from app.ui.library.downloads_panel import DownloadsPanel
    from app.ui.library.models_page import ModelsPage
    from app.ui.settings.settings_page import SettingsPage
    from app.ui.setup.wizard import FirstRunWizard

log = logging.getLogger(__name__)

MEMORY_REFRESH_MS = 2000

# The sidebar's rows, in order. Only the chat is built before the window first paints; each
# other page is built when first shown or asked for, or in the idle moments after the first
# paint (`finish_building_later`), whichever comes first.
CHATS, MODELS, DISCOVER, DOWNLOADS, SETTINGS = range(5)


def _layers_away(model: LoadedModel | None) -> dict[str, int]:
    """The layers `model` holds on each other computer (none when it runs here alone)."""
    return {share.endpoint: share.layers for share in model.remote} if model else {}


def describe_split(model: LoadedModel) -> str:
    """Which computers hold the layers of a split model, and how many each ("" when the model
    runs on this computer alone)."""
    if not model.remote:
        return ""
    return QCoreApplication.translate(
        "MainWindow", "split across this computer ({here} layers) and {others}"
    ).format(
        here=max(0, (model.layer_count or 0) - sum(w.layers for w in model.remote)),
        others=", ".join(f"{w.endpoint} ({w.layers})" for w in model.remote),
    )


def describe_gpu_layers(model: LoadedModel) -> str:
    """Where the model's layers run, in words; empty when none is on a GPU (a machine without
    one, or CPU only): the status bar then says nothing about the GPU."""
    if model.remote:  # short, for the status bar: `describe_split` gives the layers
        return QCoreApplication.translate("MainWindow", "split across {count} computers").format(
            count=len(model.remote) + 1
        )
    if model.gpu_layers == 0:
        return ""
    if model.gpu_layers < 0 or model.layer_count is None or model.gpu_layers >= model.layer_count:
        return QCoreApplication.translate("MainWindow", "all layers on the GPU")
    return QCoreApplication.translate("MainWindow", "{n} of {total} layers on the GPU").format(
        n=model.gpu_layers, total=model.layer_count
    )


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

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._model: LoadedModel | None = None
        self._loading = False
        self.wizard: FirstRunWizard | None = None
        self.add_dialog: AddModelDialog | None = None
        self._closed = False  # a load that ends after the window closed changes nothing
        self._memory_jobs = Jobs(self)  # the status bar's memory figure, sampled off the GUI
        # "Why is it slow?": its window once opened, the figures it is gathered from (this
        # load's first and last replies) and the gathering off the GUI thread.
        self.why_slow_panel: WhySlowPanel | None = None
        self._first_reply: GenerationStats | None = None
        self._last_reply: GenerationStats | None = None
        self._slowness_jobs = Jobs(self)
        self._slowness_request = 0  # the figures shown are those of the latest request
        self._slowness_busy = False  # a gathering runs
        self._slowness_again = False  # asked again meanwhile: gathered again once it ends
        # Both notes, each until the person has read it (a status line would lose them).
        self._start_notes = [n for n in (session.store_note, session.preferences_note) if n]
        self.setWindowTitle(self.tr("Quantdesk"))
        self.resize(1100, 720)
        self._build_widgets()
        self._build_menu()
        self._connect_session()
        self.refresh_models()
        self._update_controls()
        self._load_last_model()

    # --- layout ----------------------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.model_picker = QComboBox()
        # Wide enough for a model's name, narrow enough for a 1024 px window with the reply
        # settings open.
        self.model_picker.setMinimumWidth(200)
        self.model_picker.setPlaceholderText(self.tr("Choose a model file…"))
        self.model_picker.activated.connect(self._on_model_chosen)
        self.add_file_button = QPushButton(self.tr("Add a model file…"))
        self.add_file_button.setToolTip(
            self.tr("Use a .gguf file that is already on this computer")
        )
        self.add_file_button.clicked.connect(self.show_add_model_dialog)
        self.model_status = plain_text(QLabel(self.tr("No model loaded.")))
        self.model_status.setWordWrap(True)
        self.model_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        picker_row = QHBoxLayout()
        picker_row.addWidget(QLabel(self.tr("Model:")))
        picker_row.addWidget(self.model_picker, 1)
        picker_row.addWidget(self.add_file_button)
        header = QWidget()
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(0, 0, 0, 0)
        header_layout.addLayout(picker_row)
        header_layout.addWidget(self.model_status)
        header_layout.addWidget(self._build_model_offer())

        session = self.session
        self.chat = ChatPage(
            session.store,
            session.engine.worker,
            header,
            default_context=session.preferences.default_context,
            model_label=self.chat_model_label,
        )
        self.chat.reply_finished.connect(self._note_reply)
        self.chat.reply_finished.connect(self.reply_finished)
        self.chat.reply_failed.connect(self.reply_failed)
        self.chat.reply_failed.connect(self._on_reply_failed)
        self.chat.status_changed.connect(self._show_chat_status)
        self.chat.context_length_requested.connect(self._reload_with_context)
        self.chat.conversation_shown.connect(self._update_model_offer)
        self.chat.speed_test_wanted.connect(self._start_speed_test)
        empty = self.chat.empty_state
        empty.discover_requested.connect(self.show_discover)
        empty.add_file_requested.connect(self.show_add_model_dialog)
        empty.setup_requested.connect(self.show_wizard)

        self.pages = QStackedWidget()  # the sidebar switches them
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setIconSize(QSize(20, 20))
        rows = [
            (self.tr("Chats"), "chat"),
            (self.tr("Models"), "models"),
            (self.tr("Discover"), "discover"),
            (self.tr("Downloads"), "downloads"),
            (self.tr("Settings"), "settings"),
        ]
        self._built_pages: dict[int, QWidget] = {CHATS: self.chat}
        for index, (label, icon) in enumerate(rows):
            # A stand-in holds each later page's place until the page is built.
            self.pages.addWidget(self.chat if index == CHATS else QWidget())
            self.sidebar.addItem(QListWidgetItem(load_icon(icon), label))
        self.sidebar.currentRowChanged.connect(self._show_row)
        self.pages.currentChanged.connect(self.sidebar.setCurrentRow)
        self.sidebar.setCurrentRow(CHATS)
        self.notes = NoteBanner()
        self._load_notes: list[str] = []  # notes about the current load, withdrawn at the next
        self._model_lost_worker = False  # the model loaded can't reply: a worker went away
        pages_column = QVBoxLayout()
        # A little room at the window's edge: buttons there would otherwise touch it.
        pages_column.setContentsMargins(0, 0, 8, 6)
        pages_column.addWidget(self.notes)
        pages_column.addWidget(self.pages, 1)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addLayout(pages_column, 1)
        self.setCentralWidget(central)

        # The model's own name (general.name) and file names are shown as written, never as HTML.
        self.status_note = plain_text(QLabel())  # the chat's figures and any passing note
        self.model_label = plain_text(QLabel(self.tr("No model")))
        self.memory_label = plain_text(QLabel())
        self.why_slow_button = QPushButton(self.tr("Why is it slow?"))
        self.why_slow_button.setFlat(True)  # a link beside the figures, not a big button
        self.why_slow_button.setAccessibleName(self.tr("Why is it slow?"))
        self.why_slow_button.setToolTip(
            self.tr("What sets the speed of replies here, and the one change most likely to help")
        )
        self.why_slow_button.clicked.connect(self.show_why_slow)
        # Shown while the local API server is on (Settings → Local API server).
        self.api_label = plain_text(QLabel())
        self.api_label.hide()
        session.api.started.connect(self._on_api_started)
        session.api.stopped.connect(self.api_label.hide)
        self.statusBar().addWidget(self.status_note, 1)
        self.statusBar().addPermanentWidget(self.api_label)
        self.statusBar().addPermanentWidget(self.why_slow_button)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.memory_label)
        for note in self._start_notes:
            self.notes.add(note)
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(MEMORY_REFRESH_MS)
        self._memory_timer.timeout.connect(self._sample_memory)
        self._memory_timer.start()

    # --- the pages after the chat, built when first needed --------------------------------------

    @property
    def models_page(self) -> ModelsPage:
        return self._page(MODELS)  # type: ignore[return-value]

    @property
    def discover_page(self) -> DiscoverPage:
        return self._page(DISCOVER)  # type: ignore[return-value]

    @property
    def downloads_panel(self) -> DownloadsPanel:
        return self._page(DOWNLOADS)  # type: ignore[return-value]

    @property
    def settings_page(self) -> SettingsPage:
        return self._page(SETTINGS)  # type: ignore[return-value]

    def _page(self, row: int) -> QWidget:
        """The page of sidebar row `row`, built now if it wasn't yet."""
        page = self._built_pages.get(row)
        if page is None:
            page = self._build_page(row)
            self._built_pages[row] = page
            stand_in = self.pages.widget(row)
            # Swapping the stand-in must not look like the person switching pages.
            blocked = self.pages.blockSignals(True)
            self.pages.insertWidget(row, page)
            if stand_in is not None:
                self.pages.removeWidget(stand_in)
                stand_in.deleteLater()
            self.pages.blockSignals(blocked)
        return page

    def _build_page(self, row: int) -> QWidget:
        session = self.session
        if row == MODELS:
            from app.ui.library.models_page import ModelsPage

            models = ModelsPage(
                session.paths_with_models_dir(), header_quants=session.header_quants
            )
            models.chat_requested.connect(self.open_chat)
            models.imported.connect(self.refresh_models)
            models.deleted.connect(self.refresh_models)
            models.header_quants_read.connect(self.refresh_models)
            models.header_quants_read.connect(self.chat.conversations.refresh)
            models.set_preferences(session.preferences)
            session.preferences_changed.connect(models.set_preferences)
            if session.hardware is not None:
                models.set_hardware(session.hardware, context=session.preferences.default_context)
            return models
        if row == DISCOVER:
            from app.ui.discover.discover_page import DiscoverPage

            discover = DiscoverPage(session)
            discover.chat_requested.connect(self.open_chat)
            discover.chat_requested.connect(self._on_library_changed)  # a file it added
            discover.show_downloads_requested.connect(self.show_downloads)
            return discover
        if row == DOWNLOADS:
            from app.ui.library.downloads_panel import DownloadsPanel

            downloads = DownloadsPanel(session.downloads)
            downloads.chat_requested.connect(self.open_chat)
            downloads.download_finished.connect(self._on_download_finished)
            downloads.discover_requested.connect(self.show_discover)
            return downloads
        if row == SETTINGS:
            from app.ui.settings.settings_page import SettingsPage

            settings = SettingsPage(session)
            if session.hardware is not None:
                settings.set_hardware(session.hardware)
            settings.workers.set_in_use(_layers_away(self._model))
            return settings
        raise ValueError(f"no page for sidebar row {row}")

    def finish_building_later(self) -> None:
        """Build the pages not yet built, one per event-loop turn once the window is up, so
        the first click on each is instant and the first paint waits for none of them."""
        for row in (MODELS, DISCOVER, DOWNLOADS, SETTINGS):
            QTimer.singleShot(0, partial(self._build_unless_closed, row))

    def _build_unless_closed(self, row: int) -> None:
        if not self._closed:
            self._page(row)

    @Slot(int)
    def _show_row(self, row: int) -> None:
        if row >= 0:
            self.pages.setCurrentWidget(self._page(row))

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu(self.tr("&Quantdesk"))
        menu.addAction(self.tr("Set up a model…"), self.show_wizard)
        add_action = menu.addAction(self.tr("Add a model file…"), self.show_add_model_dialog)
        add_action.setShortcut(QKeySequence.StandardKey.Open)
        menu.addAction(self.tr("Settings"), partial(self.sidebar.setCurrentRow, SETTINGS))
        menu.addSeparator()
        quit_action = menu.addAction(self.tr("Quit"), self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        # Every page one keystroke away: Ctrl+1 Chats … Ctrl+5 Settings, in the sidebar's order.
        go = self.menuBar().addMenu(self.tr("&Go"))
        for row in range(self.sidebar.count()):
            action = go.addAction(self.sidebar.item(row).text())
            action.triggered.connect(partial(self.sidebar.setCurrentRow, row))
            action.setShortcut(QKeySequence(f"Ctrl+{row + 1}"))
        self.menu_actions = [quit_action, *go.actions()]
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        shortcuts_action = help_menu.addAction(self.tr("Keyboard shortcuts…"), self.show_shortcuts)
        shortcuts_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.menu_actions.append(shortcuts_action)
        help_menu.addAction(self.tr("About Quantdesk"), self.show_about)
        self.help_menu = help_menu
        self.shortcuts_dialog: ShortcutsDialog | None = None

    @Slot()
    def show_about(self) -> None:
        from app.ui.help import about_box  # not on the way to the first paint

        about_box(self).open()

    def keyboard_shortcuts(self) -> list[tuple[str, str]]:
        """Every shortcut of the window and the chat, as the system writes keys."""
        native = QKeySequence.SequenceFormat.NativeText
        listed = [
            (action.shortcut().toString(native), action.text().replace("&", "").rstrip("…"))
            for action in self.menu_actions
            if not action.shortcut().isEmpty()
        ]
        return [*chat_shortcuts(), *listed]

    @Slot()
    def show_shortcuts(self) -> ShortcutsDialog:
        """Help > Keyboard shortcuts: a window listing them (not modal)."""
        from app.ui.help import ShortcutsDialog  # not on the way to the first paint

        if self.shortcuts_dialog is None:
            self.shortcuts_dialog = ShortcutsDialog(self.keyboard_shortcuts(), self)
        self.shortcuts_dialog.show()
        self.shortcuts_dialog.raise_()
        return self.shortcuts_dialog

    # --- the session and the first run --------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        return self.session.models_dir

    def _connect_session(self) -> None:
        session = self.session
        session.hardware_changed.connect(self._on_hardware)
        session.models_dir_changed.connect(self._on_models_dir_changed)
        session.models_moved.connect(self._on_models_moved)
        worker = session.engine.worker
        worker.loaded.connect(self._on_loaded)
        worker.fell_back.connect(self._on_fell_back)
        worker.workers_left_out.connect(self._on_workers_left_out)
        worker.load_failed.connect(self._on_load_failed)

    @Slot(object)
    def _on_models_dir_changed(self, folder: Path) -> None:
        if MODELS in self._built_pages:  # a page built later lists the new folder
            self.models_page.set_models_dir(folder)
        self.refresh_models()
        self.chat.conversations.refresh()  # a chat's model is named by where it lies

    @Slot(object, object)
    def _on_models_moved(self, old: Path, new: Path) -> None:
        """The loaded model's file moved with the folder (llama.cpp keeps reading it): name it
        where it is now, so the messages sent next record a file that is there."""
        model = self._model
        path = moved_path(model.path, old, new) if model is not None else None
        if model is None or path is None:
            return
        self._model = replace(model, path=path)
        self.chat.set_model(self._model)
        self._select_model_entry(path)
        self.model_label.setToolTip(plain_tooltip(str(path)))
        self._update_model_offer()

    @Slot(object)
    def _on_hardware(self, profile: HardwareProfile) -> None:
        # A page built later takes the machine from the session.
        if MODELS in self._built_pages:
            self.models_page.set_hardware(profile, context=self.session.preferences.default_context)
        if SETTINGS in self._built_pages:
            self.settings_page.set_hardware(profile)

    def detect_hardware_later(self) -> None:
        """Detect the machine off the GUI thread after start-up (for the fit badges)."""
        self.session.detect_hardware()

    def needs_wizard(self) -> bool:
        """First run, and no models yet: the wizard leads the way."""
        prefs = self.session.preferences
        return not prefs.first_run_done and not self._library()

    def show_wizard(self) -> FirstRunWizard:
        """Open the setup wizard (first run, or from the menu)."""
        if self.wizard is None:
            from app.ui.setup.wizard import FirstRunWizard

            self.wizard = FirstRunWizard(self.session, self)
            self.wizard.finished.connect(self._on_wizard_finished)
            self.wizard.load_requested.connect(self._load_from_wizard)
            self.model_loaded.connect(self.wizard.show_model_loaded)
            self.model_failed.connect(self.wizard.show_model_failed)
        self.wizard.restart()
        self.wizard.show()
        self.wizard.raise_()
        return self.wizard

    @Slot(int)
    def _on_wizard_finished(self, result: int) -> None:
        # Finished or cancelled, the chat comes next: with a model, or with its empty state
        # saying how to get one.
        self.pages.setCurrentWidget(self.chat)
        self.activateWindow()
        self._on_library_changed()  # the wizard may have added or downloaded a model
        if result == QWizard.DialogCode.Accepted:
            self.session.update_preferences(first_run_done=True)
            self.chat.input_box.setFocus()
        if self.wizard is not None:
            self.wizard.deleteLater()
            self.wizard = None

    # --- models ----------------------------------------------------------------------------------

    def _library(self) -> list[LocalModel]:
        """The library's models whose files are here (a missing one is shown on Models)."""
        models = list_models(self.session.paths_with_models_dir())
        quants = self.session.header_quants
        return [with_header_quant(m, quants) for m in models if not m.missing]

    def describe(self, path: Path) -> LocalModel:
        """The library's view of a model file: its name, quant (from its header, once the
        Models page has read it, when the file name names none) and where it came from."""
        model = describe_model(self.session.paths_with_models_dir(), Path(path))
        return with_header_quant(model, self.session.header_quants)

    def chat_model_label(self, path: Path) -> str:
        """The library's name for a chat's model, from its path alone (no file is read: the
        conversation list names every chat's model each time it is filled)."""
        return model_label(
            self.session.models_dir,
            path,
            header_quant=self.session.header_quants.get(Path(path)),
        )

    @Slot()
    def refresh_models(self) -> None:
        """List the library's models in the picker (no model is loaded)."""
        current = self.model_picker.currentData()
        self.model_picker.clear()
        for model in self._library():
            self._add_model_entry(model)
        if current:
            self._select_model_entry(Path(current))
        self.chat.empty_state.set_has_models(self.model_picker.count() > 0)

    def _add_model_entry(self, model: LocalModel) -> int:
        """The picker's entry for `model`: its name and quant, the file on hover."""
        index = self.model_picker.findData(str(model.path))
        if index < 0:
            label = model.label
            if not model.missing:
                label = f"{label}  ({format_bytes(model.size_bytes)})"
            self.model_picker.addItem(label, str(model.path))
            index = self.model_picker.count() - 1
            self.model_picker.setItemData(
                index, plain_tooltip(str(model.path)), Qt.ItemDataRole.ToolTipRole
            )
        return index

    def _select_model_entry(self, path: Path) -> None:
        index = self.model_picker.findData(str(path))
        if index >= 0:
            self.model_picker.setCurrentIndex(index)

    @Slot(object)
    def open_chat(self, path: Path) -> None:
        """Show the chat and load `path` into it."""
        self.pages.setCurrentWidget(self.chat)
        self.load_model(Path(path))

    @Slot()
    def show_downloads(self) -> None:
        self.pages.setCurrentWidget(self.downloads_panel)

    @Slot()
    def show_discover(self) -> None:
        self.pages.setCurrentWidget(self.discover_page)

    @Slot(object)
    def _on_download_finished(self, _result: object) -> None:
        self._on_library_changed()

    @Slot(object)
    def _on_library_changed(self, _model: object = None) -> None:
        self.refresh_models()
        if MODELS in self._built_pages:  # a page built later lists the library as it is then
            self.models_page.refresh()

    @Slot()
    def show_add_model_dialog(self) -> AddModelDialog:
        """ "Add a model file…" (menu, picker row, empty chat): the file joins the library, then
        loads in the chat."""
        if self.add_dialog is not None and self.add_dialog.isVisible():
            self.add_dialog.raise_()
            return self.add_dialog
        self._close_add_dialog()
        from app.ui.library.add_model import AddModelDialog

        dialog = AddModelDialog(self.session.paths_with_models_dir(), self)
        dialog.added.connect(self._on_model_added)
        self.add_dialog = dialog
        dialog.open()
        return dialog

    def _close_add_dialog(self) -> None:
        if self.add_dialog is not None:
            self.add_dialog.shutdown()
            self.add_dialog.deleteLater()
            self.add_dialog = None

    @Slot(object)
    def _on_model_added(self, model: LocalModel) -> None:
        self._on_library_changed()
        self.open_chat(model.path)

    def _load_last_model(self) -> None:
        """Load the model of the last run again, unless the person turned that off."""
        prefs = self.session.preferences
        if not (prefs.load_last_model and prefs.last_model):
            return
        path = Path(prefs.last_model)
        if path.is_file():
            self.load_model(path)
            return
        self._set_status(
            self.tr(
                "The model you used last, {name}, is no longer at {path}. Choose another one."
            ).format(name=self.describe(path).label, path=str(path)),
            error=True,
        )

    @Slot(int)
    def _on_model_chosen(self, index: int) -> None:
        path = self.model_picker.itemData(index)
        if path:
            self.load_model(Path(path))

    @Slot(object, object)
    def _load_from_wizard(self, path: Path, context_length: int | None) -> None:
        self.load_model(path, context_length=context_length)

    def load_model(self, path: Path, *, context_length: int | None = None) -> None:
        """Load `path` on the engine thread; the result arrives as `loaded` or `load_failed`.

        A context length given is remembered for the file; without one, the one remembered for
        it (wizard, Discover, an earlier load), else the current chat's setting."""
        if self.chat.is_generating:
            self.chat.stop_reply()
        # Notes about the load before (a computer left out, one that went away) are for this
        # load to find again or not.
        self.notes.withdraw(self._load_notes)
        self._load_notes = []
        # Settings still shows the computers in use until this load ends: probing them while
        # the load places layers on them would only wait.
        self._model = None
        self._first_reply = self._last_reply = None  # figures of the model before
        self.chat.set_model(None)
        entry = self.describe(Path(path))
        self.model_picker.setCurrentIndex(self._add_model_entry(entry))
        loading = self.tr("Loading {name}…").format(name=entry.label)
        self._set_status(loading)
        self._show_model_state(
            loading,
            # No model name here: the hint is rich text (the status bar names the model).
            hint=self.tr(
                "Loading the model… Type your message meanwhile; Send works once it is ready."
            ),
        )
        self._loading = True
        self._update_controls()
        prefs = self.session.preferences
        if context_length:
            prefs = self.session.update_preferences(
                model_contexts=prefs.with_model_context(path, context_length)
            )
        tokens = (
            context_length
            or prefs.model_context(path)
            or self.chat.settings_panel.context_length.value()
        )
        self.session.engine.worker.load_requested.emit(
            str(path),
            LoadOptions(
                context_length=tokens,
                threads=prefs.threads,
                gpu_layers=prefs.gpu_layers,  # None: automatic, on the engine thread
                hardware=self.session.hardware,
                workers=prefs.workers,
            ),
        )

    def loaded_label(self, model: LoadedModel) -> str:
        """The loaded model as people know it: its library name and quant (never the free
        text of `general.name` inside the file)."""
        entry = self.describe(model.path)
        quant = model.quant or entry.quant
        return f"{entry.title} · {quant}" if quant else entry.title

    @Slot(object)
    def _on_loaded(self, model: LoadedModel) -> None:
        if self._closed:
            return
        self._loading = False
        if self._model_lost_worker:  # the chat's "can't reply any more" no longer holds
            self.chat.show_error("")
            self._model_lost_worker = False
        self._model = model
        self._show_workers_in_use()
        label = self.loaded_label(model)
        ready = self.tr(
            "Ready: {name} · {size} · context {ctx:,} tokens · {kind} · loaded in {secs}"
        ).format(
            name=label,
            size=format_bytes(model.file_size),
            ctx=model.context_length,
            kind=model.thinking.label,
            secs=format_seconds(model.load_seconds),
        )
        split = describe_split(model)
        self._set_status(f"{ready} · {split}" if split else ready)
        self._update_controls()
        self.chat.set_model(model)
        parts = [label if model.quant else f"{label} · {self.tr('unknown quant')}"]
        if layers := describe_gpu_layers(model):
            parts.append(layers)
        self._show_model_state(
            " · ".join(parts),
            # Not the model's own name: the hint is rich text, and a name is the file's to choose.
            hint=self.tr("The model is ready. Type a message below to start."),
            title=label,
        )
        self.model_label.setToolTip(
            plain_tooltip("\n".join(filter(None, [str(model.path), split])))
        )
        if self.session.preferences.last_model != str(model.path):
            self.session.update_preferences(last_model=str(model.path))
        self._sample_memory()
        if MODELS in self._built_pages:  # its memory column gains this load's figures
            self.models_page.note_loaded(model.path)
        self._refresh_why_slow()
        self.model_loaded.emit(model)

    @Slot(object)
    def _on_fell_back(self, fallback: GpuFallback) -> None:
        """The GPU had no room for the layers asked: say what the model runs with instead."""
        if self._closed:
            return
        if fallback.loaded == 0:  # "with 0 on the GPU" would read as a fault, not a choice
            note = self.tr(
                "The GPU didn't have enough free memory for %n layer(s) of this model, so it "
                "runs on the CPU alone: replies will be slower.",
                "",
                fallback.requested,
            )
        else:
            note = self.tr(
                "The GPU didn't have enough free memory for %n layer(s) of this model, so it "
                "was loaded with {loaded} on the GPU and the rest on the CPU: replies will be "
                "slower.",
                "",
                fallback.requested,
            ).format(loaded=fallback.loaded)
        self.notes.add(note)

    @Slot(object)
    def _on_workers_left_out(self, errors: list[Exception]) -> None:
        """Other computers that couldn't be used: the load went on without them."""
        if self._closed:
            return
        for error in errors:
            note = self.tr("Loaded without another computer: {reason}").format(
                reason=error_text(error)
            )
            self._load_notes.append(note)
            self.notes.add(note)

    @Slot(object)
    def _show_workers_in_use(self) -> None:
        """Settings → Other computers says which computers the loaded model holds."""
        if SETTINGS in self._built_pages:
            self.settings_page.workers.set_in_use(_layers_away(self._model))

    def _on_reply_failed(self, error: Exception) -> None:
        """A computer holding part of the model went away: the model can't reply any more.
        Say so where the model is named, and offer the load that goes on without it."""
        model = self._model
        if self._closed or not isinstance(error, RemoteWorkerError) or model is None:
            return
        self._model_lost_worker = True
        gone = error.address or self.tr("another computer")
        self._set_status(
            self.tr(
                "{name} can't reply any more: part of it was on {address}, which stopped answering."
            ).format(name=self.loaded_label(model), address=gone),
            error=True,
        )
        note = self.tr(
            "The computer at {address} stopped answering, so the model loaded across it can't "
            "reply any more. Load it again to go on with the computers that answer (or this one "
            "alone)."
        ).format(address=gone)
        self._load_notes.append(note)
        path = model.path
        self.notes.offer(note, self.tr("Load it again"), lambda: self.load_model(path))

    @Slot(object)
    def _on_load_failed(self, error: Exception) -> None:
        if self._closed:
            return
        self._loading = False
        self._model = None
        self._show_workers_in_use()
        self.chat.set_model(None)
        self._set_status(error_text(error), error=True)
        self._show_model_state(
            self.tr("No model"),
            hint=self.tr(
                "That model couldn't be loaded (the reason is above). Choose another one in "
                "the list above, or add a model file."
            ),
        )
        self.model_label.setToolTip("")
        self._update_controls()
        self._refresh_why_slow()
        if isinstance(error, LoadMemoryError):
            self._offer_shorter_context(error)
        self.model_failed.emit(error)

    def _offer_shorter_context(self, error: LoadMemoryError) -> None:
        """Out of memory on the CPU: say so in one sentence and offer the context that fits."""
        tokens = error.suggested_context
        if tokens is None:
            self.notes.add(
                self.tr(
                    "There isn't enough free memory to load {name}, even with a short context. "
                    "Close other programs or choose a smaller file."
                ).format(name=error.path.name)
            )
            return
        self.notes.offer(
            self.tr(
                "There wasn't enough memory for a context of {asked} tokens, so {name} wasn't "
                "loaded. A context of {fits} tokens fits in the memory free now."
            ).format(asked=f"{error.context:,}", name=error.path.name, fits=f"{tokens:,}"),
            self.tr("Load with {fits} tokens").format(fits=f"{tokens:,}"),
            lambda: self.load_model(error.path, context_length=tokens),
        )

    @Slot(str)
    def _show_chat_status(self, text: str) -> None:
        self.status_note.setText(text)

    # --- "Why is it slow?" ------------------------------------------------------------------------

    @Slot(object)
    def _note_reply(self, stats: GenerationStats) -> None:
        """Keep the figures of this load's first reply (the speed at a chat's start) and of
        the last one; a reply stopped before its first token says nothing of the speed."""
        if stats.completion_tokens == 0:
            return
        if self._first_reply is None:
            self._first_reply = stats
        self._last_reply = stats
        self._refresh_why_slow()

    @Slot()
    def show_why_slow(self) -> WhySlowPanel:
        """The status bar's "Why is it slow?": open (or raise) its window, and gather the
        figures afresh."""
        from app.ui.chat.why_slow import WhySlowPanel  # not on the way to the first paint

        if self.why_slow_panel is None:
            self.why_slow_panel = WhySlowPanel(self)
            self.why_slow_panel.action_requested.connect(self._carry_out_suggestion)
        panel = self.why_slow_panel
        panel.show()
        panel.raise_()
        panel.activateWindow()
        self._gather_slowness()
        return panel

    @Slot(str)
    def _carry_out_suggestion(self, action: str) -> None:
        """The "Why is it slow?" button: open the place where the suggested change is made, and
        step out of the way (the panel closes; it opens again from the status bar)."""
        from app.ui.chat import why_slow

        if self.why_slow_panel is not None:
            self.why_slow_panel.close()
        self.activateWindow()  # the panel had the focus; the change is made here
        if action == why_slow.GPU_SETTINGS:
            self.sidebar.setCurrentRow(SETTINGS)
            self.settings_page.gpu_combo.setFocus(Qt.FocusReason.OtherFocusReason)
        elif action == why_slow.NEW_CHAT:
            self.sidebar.setCurrentRow(CHATS)
            self.chat.new_conversation()
        elif action == why_slow.DISCOVER:
            self.sidebar.setCurrentRow(DISCOVER)

    def _refresh_why_slow(self) -> None:
        """A new reply or load while the window is open: show its figures."""
        if self.why_slow_panel is not None and self.why_slow_panel.isVisible():
            self._gather_slowness()

    def _gather_slowness(self) -> None:
        """Measure the figures on a task thread (the GPU driver may take a while to answer; the
        RAM's bandwidth is measured once per machine). One gathering at a time: asked again
        meanwhile (a reply ended), it gathers again when the running one ends, and only the
        latest request's figures are shown."""
        from app.core.fit.slowness import SlownessInputs, gather_figures

        panel = self.why_slow_panel
        if panel is None:
            return
        self._slowness_request += 1
        model = self._model
        if model is None:
            panel.show_no_model()
            return
        panel.show_gathering()
        if self._slowness_busy:
            self._slowness_again = True
            return
        self._slowness_busy = True
        session = self.session
        inputs = SlownessInputs(
            model,
            self._last_reply,
            self._first_reply,
            session.detected_hardware,  # speed tests are kept by the machine as detected
            session.paths.data,
            session.paths.cache,
        )
        job = _SlownessJob(self._slowness_request, partial(gather_figures, inputs))
        job.finished.connect(self._show_slowness)
        job.failed.connect(self._slowness_failed)
        self._slowness_jobs.start(job)

    def _latest_slowness_job(self) -> bool:
        """The job that just ended is the latest asked for, and its window is still there;
        else the next gathering starts, if one was asked for meanwhile."""
        job = self.sender()
        if not isinstance(job, _SlownessJob):
            return False
        self._slowness_busy = False
        if self._closed or self.why_slow_panel is None:
            return False
        if self._slowness_again:
            self._slowness_again = False
            self._gather_slowness()
            return False
        return job.request == self._slowness_request

    @Slot(object)
    def _show_slowness(self, figures: SlownessFigures) -> None:
        from app.core.engine.backends import loaded_engine  # loaded by the model's load
        from app.core.fit.slowness import suggest
        from app.ui.translations import core_words

        if not self._latest_slowness_job() or self.why_slow_panel is None:
            return
        engine = loaded_engine()
        hardware = self.session.hardware
        described = (
            engine.describe(hardware.gpus if hardware else (), core_words("Engine"))
            if engine is not None
            else self.tr("Not known yet.")
        )
        self.why_slow_panel.show_figures(figures, suggest(figures), engine=described)

    @Slot(object)
    def _slowness_failed(self, error: Exception) -> None:
        if self._latest_slowness_job() and self.why_slow_panel is not None:
            self.why_slow_panel.show_failed(error_text(error))

    @Slot(object)
    def _start_speed_test(self, cancel: CancelToken) -> None:
        """The chat's "Measure speed": the engine measures the loaded model and keeps the result
        with this machine's (results are keyed by the machine as detected)."""
        session = self.session
        session.engine.worker.speed_test_requested.emit(
            SpeedTest(
                session.paths.data, session.paths.cache, session.detected_hardware, cancel=cancel
            )
        )

    @Slot(int)
    def _reload_with_context(self, tokens: int) -> None:
        if self._model is not None and not self.chat.is_generating:
            self.load_model(self._model.path, context_length=tokens)

    # --- state -----------------------------------------------------------------------------------

    def _show_model_state(self, label: str, *, hint: str, title: str | None = None) -> None:
        """Every place that names the model says the same thing: the status bar's model, the
        empty chat's hint and the window title; the last reply's figures (speed, context of
        the model before) are cleared."""
        self.model_label.setText(label)
        self.status_note.clear()
        self.chat.chat_view.set_placeholder(hint)
        self.setWindowTitle(
            self.tr("{model} — Quantdesk").format(model=title) if title else self.tr("Quantdesk")
        )

    def _set_status(self, text: str, *, error: bool = False) -> None:
        self.model_status.setText(text)
        show_as_error(self.model_status, error)
        self.model_status.show()

    @Slot()
    def _update_controls(self) -> None:
        self.model_picker.setEnabled(not self._loading)
        self.add_file_button.setEnabled(not self._loading)
        empty = self._model is None and not self._loading
        self.chat.empty_state.setVisible(empty)
        # The empty state says it already; a note (a failed load, a file gone) stays shown.
        self.model_status.setVisible(
            not (empty and self.model_status.text() == self.tr("No model loaded."))
        )
        self._update_model_offer()

    # --- each chat's own model -------------------------------------------------------------------

    def _build_model_offer(self) -> QFrame:
        """The bar that offers a chat's own model when another one (or none) is loaded."""
        self.model_offer = QFrame()
        self.model_offer.setObjectName("modelOffer")
        self.model_offer.setFrameShape(QFrame.Shape.StyledPanel)
        self.model_offer_text = plain_text(QLabel())  # model and file names, as written
        self.model_offer_text.setWordWrap(True)
        self.switch_model_button = QPushButton()
        self.switch_model_button.setAccessibleName(self.tr("Load this chat's model"))
        self.switch_model_button.clicked.connect(self._switch_to_chat_model)
        row = QHBoxLayout(self.model_offer)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.model_offer_text, 1)
        row.addWidget(self.switch_model_button)
        self.model_offer.hide()
        return self.model_offer

    def chat_model(self) -> Path | None:
        """The model the open chat was last with (the store has it: each message records it)."""
        conversation = self.chat.conversation
        if conversation is None:
            return None
        model_path = conversation.model_path
        try:
            model_path = self.session.store.conversation(conversation.id).model_path
        except HistoryError as error:  # the start-up notes already say what is wrong
            log.warning("couldn't read the chat's model: %s", error)
        return Path(model_path) if model_path else None

    @Slot()
    def _update_model_offer(self, *_args: object) -> None:
        wanted = self.chat_model()
        loaded = self._model.path if self._model is not None else None
        if wanted is None or self._loading or self.chat.is_generating or wanted == loaded:
            self.model_offer.hide()
            return
        entry = self.describe(wanted)
        if entry.missing:
            text = self.tr(
                "This chat was with {name}, but its file is no longer at {path}. Choose "
                "another model above, or add the file again."
            ).format(name=entry.label, path=str(wanted))
        elif loaded is None:
            text = self.tr("This chat was with {name}.").format(name=entry.label)
            self.switch_model_button.setText(self.tr("Load it"))
        else:
            text = self.tr("This chat was with {name}; {loaded} is loaded now.").format(
                name=entry.label, loaded=self.describe(loaded).label
            )
            self.switch_model_button.setText(self.tr("Switch to it"))
        self.model_offer_text.setText(text)
        self.model_offer_text.setToolTip(plain_tooltip(str(wanted)))
        self.switch_model_button.setVisible(not entry.missing)
        self.model_offer.show()

    @Slot()
    def _switch_to_chat_model(self) -> None:
        wanted = self.chat_model()
        if wanted is not None:
            self.load_model(wanted)

    @property
    def is_generating(self) -> bool:
        return self.chat.is_generating

    @property
    def loaded_model(self) -> LoadedModel | None:
        return self._model

    @Slot()
    def _sample_memory(self) -> None:
        """RAM (and VRAM where NVML reports it) this process uses, refreshed every 2 s. NVML
        can be slow to answer: it is asked on a task thread, one sample at a time."""
        if len(self._memory_jobs):
            return
        job = TaskWorker(describe_process_memory, name="memory")
        job.finished.connect(self._show_memory)
        self._memory_jobs.start(job)

    @Slot(str)
    def _on_api_started(self, url: str) -> None:
        self.api_label.setText(self.tr("API on {url}").format(url=url))
        self.api_label.setToolTip(
            self.tr("The local API server is on: Settings → Local API server")
        )
        self.api_label.show()

    @Slot(object)
    def _show_memory(self, text: str) -> None:
        self.memory_label.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._closed = True
        self._memory_timer.stop()
        if self.wizard is not None:
            self.wizard.shutdown()
        if self.add_dialog is not None:
            self.add_dialog.shutdown()
        self.chat.shutdown()
        for row in (DISCOVER, SETTINGS, DOWNLOADS, MODELS):  # only those built
            page = self._built_pages.get(row)
            if page is not None:
                page.shutdown()  # type: ignore[attr-defined]
        self._memory_jobs.shutdown()
        self._slowness_jobs.shutdown()
        if self.why_slow_panel is not None:
            self.why_slow_panel.close()
        # The app has one window: closing it ends the session's threads and its chat store.
        self.session.shutdown()
        super().closeEvent(event)


class _SlownessJob(TaskWorker):
    """Gathering the "Why is it slow?" figures, numbered so that only the latest are shown."""

    def __init__(self, request: int, function: Callable[[], SlownessFigures]) -> None:
        super().__init__(function, name="slowness")
        self.request = request
