"""Discover: the curated models and Hugging Face search, with the wizard's file chooser beside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from app.core.fit.recommend import Fit, Option
from app.core.hub.catalog import CatalogModel
from app.core.hub.library import safe_model_path
from app.core.machine.hardware import HardwareProfile
from app.ui.discover.model_chooser import FileChooser, ModelList
from app.ui.workers.download import DownloadRequest, DownloadWorker

if TYPE_CHECKING:
    from app.core.config.preferences import Preferences
    from app.ui.session import Session


class DiscoverPage(QWidget):
    """Pick a model on the left, a file of it on the right, and download it.

    Signals:
        download_started(object): the `DownloadWorker` of the download just started (or joined).
        chat_requested(object): the `Path` of a local `.gguf` the person picked to use.
        show_downloads_requested(): a download started; the Downloads page follows it.
    """

    download_started = Signal(object)
    chat_requested = Signal(object)
    show_downloads_requested = Signal()

    def __init__(self, session: Session) -> None:
        super().__init__()
        self._session = session
        self.model_list = ModelList(session.paths_with_models_dir)
        self.model_list.model_selected.connect(self._on_model_selected)
        self.model_list.import_requested.connect(self.chat_requested)
        prefs = session.preferences
        self.chooser = FileChooser(
            session.models_dir,
            HardwareProfile.empty(),
            context=prefs.chooser_context_or_default,
            goal=prefs.chooser_goal,
        )
        self.chooser.set_workers(prefs.workers)
        session.preferences_changed.connect(self._on_preferences)
        self.chooser.selection_changed.connect(self._on_option)
        self.chooser.terms_changed.connect(self._on_terms_chosen)
        session.hardware_changed.connect(self.chooser.set_hardware)
        session.hardware_changed.connect(self._fit_models)
        session.models_dir_changed.connect(self.chooser.set_models_dir)
        self.download_button = QPushButton(self.tr("Download"))
        self.download_button.setEnabled(False)
        self.download_button.clicked.connect(self.download_selected)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.chooser, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.download_button)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.model_list)
        splitter.addWidget(right)
        splitter.setSizes([380, 620])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    @Slot(object)
    def _on_preferences(self, prefs: Preferences) -> None:
        self.chooser.set_workers(prefs.workers)  # other computers added or removed in Settings

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        # Fit files to the real machine: known already, or detected once by the session.
        known = self._session.hardware
        if known is not None:
            self.chooser.set_hardware(known)
            self._fit_models(known)
        else:
            self._session.detect_hardware()
        super().showEvent(event)

    @Slot(object)
    def _on_model_selected(self, model: CatalogModel | None) -> None:
        if model is not None:
            self.chooser.show_repo(model.repo_id)
        else:
            self.chooser.clear()  # a new search: the old model's files (and Download) go

    @Slot(object)
    def _fit_models(self, hardware: HardwareProfile) -> None:
        """How each curated model fits, for the chooser's goal and context."""
        self.model_list.fit_to(hardware, goal=self.chooser.fit_goal, context=self.chooser.context)

    @Slot(str, int)
    def _on_terms_chosen(self, goal: str, context: int) -> None:
        """Remembered across restarts; the curated models' badges follow."""
        self._session.update_preferences(chooser_goal=goal, chooser_context=context)
        if self._session.hardware is not None:
            self._fit_models(self._session.hardware)

    @Slot(object)
    def _on_option(self, option: Option | None) -> None:
        self.download_button.setEnabled(option is not None and option.fit != Fit.TOO_LARGE)

    @Slot()
    def download_selected(self) -> DownloadWorker | None:
        """Start downloading the selected file; the Downloads page shows it."""
        model = self.model_list.selected
        option = self.chooser.selected_option
        if model is None or option is None:
            return None
        # The context the file was chosen for is the one it loads with (see MainWindow.load_model).
        if self.chooser.recommendation is not None:
            target = safe_model_path(self._session.models_dir, model.repo_id, option.files[0])
            prefs = self._session.preferences
            self._session.update_preferences(
                model_contexts=prefs.with_model_context(target, self.chooser.recommendation.context)
            )
        worker = self._session.downloads.start(DownloadRequest.for_option(model.repo_id, option))
        self.show_downloads_requested.emit()
        self.download_started.emit(worker)
        return worker

    def shutdown(self) -> None:
        self.model_list.shutdown()
        self.chooser.shutdown()
