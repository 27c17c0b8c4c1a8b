"""Discover: the curated models and Hugging Face search, with the wizard's file chooser beside."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from app.core.fit.recommend import Option
from app.core.hub.catalog import CatalogModel
from app.core.machine.hardware import HardwareProfile, detect
from app.ui.discover.model_chooser import FileChooser, ModelList
from app.ui.workers.task import TaskWorker

if TYPE_CHECKING:
    from app.ui.library.downloads_panel import DownloadRow
    from app.ui.main_window import MainWindow


class DiscoverPage(QWidget):
    """Pick a model on the left, a file of it on the right, and download it.

    Signals:
        download_started(object): the `DownloadRow` of the download just started.
    """

    download_started = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self._window = window
        self._detect: TaskWorker | None = None
        self.model_list = ModelList()
        self.model_list.model_selected.connect(self._on_model_selected)
        self.model_list.import_requested.connect(window.open_chat)
        self.chooser = FileChooser(window.models_dir, HardwareProfile.empty())
        self.chooser.selection_changed.connect(self._on_option)
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

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        self._ensure_hardware()
        super().showEvent(event)  # type: ignore[arg-type]

    def _ensure_hardware(self) -> None:
        """Fit files to the real machine: the window's profile, else detected once, off-thread."""
        known = self._window.hardware
        if known is not None:
            self.chooser.set_hardware(known)
            return
        if self._detect is None:
            self._detect = TaskWorker(detect, name="hardware")
            self._detect.finished.connect(self._on_detected)
            self._detect.start()

    def _on_detected(self, profile: HardwareProfile) -> None:
        if self._detect is not None:
            self._detect.wait()
        self._window.set_hardware(profile)
        self.chooser.set_hardware(self._window.hardware or profile)

    @Slot(object)
    def _on_model_selected(self, model: CatalogModel | None) -> None:
        if model is not None:
            self.chooser.show_repo(model.repo_id)

    @Slot(object)
    def _on_option(self, option: Option | None) -> None:
        self.download_button.setEnabled(option is not None and option.fit != "too_large")

    @Slot()
    def download_selected(self) -> DownloadRow | None:
        """Start downloading the selected file; the Downloads page shows it."""
        model = self.model_list.selected
        option = self.chooser.selected_option
        if model is None or option is None:
            return None
        panel = self._window.downloads_panel
        if len(option.files) > 1:
            row = panel.start_download(model.repo_id, quant=option.quant)
        else:
            row = panel.start_download(model.repo_id, filename=option.files[0])
        self._window.tabs.setCurrentWidget(panel)
        self.download_started.emit(row)
        return row

    def shutdown(self) -> None:
        if self._detect is not None:
            self._detect.wait()
        self.model_list.shutdown()
        self.chooser.shutdown()
