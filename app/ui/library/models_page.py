"""The Models page: the local library with size and quant; chat, delete, import, open folder."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core._util.cancel import CancelToken
from app.core._util.units import format_bytes
from app.core.fit.recommend import Fit, local_fit
from app.core.hub.library import LocalModel, delete_model, disk_usage, import_model, list_models
from app.core.machine.hardware import HardwareProfile
from app.core.paths import AppPaths
from app.ui.messages import report
from app.ui.style import fit_words, plain_text, plain_tooltip, show_as_error, translated_columns
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

log = logging.getLogger(__name__)


class ModelsPage(QWidget):
    """Signals:
    chat_requested(object): the `Path` of a model to load in the chat.
    imported(object): the `LocalModel` just imported (after the table refreshed).
    import_failed(object): the error of a failed import (already shown).
    deleted(): a model was deleted (after the table refreshed).
    """

    chat_requested = Signal(object)
    imported = Signal(object)
    import_failed = Signal(object)
    deleted = Signal()
    COLUMNS = (
        QT_TRANSLATE_NOOP("ModelsPage", "Model"),
        QT_TRANSLATE_NOOP("ModelsPage", "Repository"),
        QT_TRANSLATE_NOOP("ModelsPage", "Quant"),
        QT_TRANSLATE_NOOP("ModelsPage", "Size"),
        QT_TRANSLATE_NOOP("ModelsPage", "On this machine"),
    )

    def __init__(self, paths: AppPaths) -> None:
        super().__init__()
        self._paths = paths
        self.models: list[LocalModel] = []
        self._hardware: HardwareProfile | None = None
        self._fits: dict[Path, Fit | None] = {}
        self._fitting: set[Path] = set()  # fits being worked out now
        self._context = 0
        self._jobs = Jobs(self)  # each job leaves the list when its thread ends
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(translated_columns("ModelsPage", self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self._chat)
        self.chat_button = QPushButton(self.tr("Chat with it"))
        self.chat_button.clicked.connect(self._chat)
        self.delete_button = QPushButton(self.tr("Delete…"))
        self.delete_button.clicked.connect(self._delete)
        self.import_button = QPushButton(self.tr("Import .gguf…"))
        self.import_button.clicked.connect(self._import)
        self.folder_button = QPushButton(self.tr("Open folder"))
        self.folder_button.clicked.connect(self._open_folder)
        self.usage_label = plain_text(QLabel())
        self.message = plain_text(QLabel())  # model and file names, as written
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (
            self.chat_button,
            self.delete_button,
            self.import_button,
            self.folder_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.usage_label)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self.refresh()

    @Slot()
    def set_models_dir(self, folder: Path) -> None:
        """The models folder moved (Settings): list the new one."""
        from dataclasses import replace

        self._paths = replace(self._paths, models=Path(folder))
        self.refresh()

    def refresh(self) -> None:
        """Re-read the library from disk."""
        self.models = list_models(self._paths)
        self.table.setRowCount(len(self.models))
        for row, model in enumerate(self.models):
            where = model.repo_id or (
                self.tr("referenced") if model.referenced else self.tr("imported")
            )
            cells = (
                model.name,
                where,
                model.quant or self.tr("unknown"),
                format_bytes(model.size_bytes),
                self._fit_words(model),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(str(model.path)))
                self.table.setItem(row, column, item)
        self._fit_new_models()
        usage = disk_usage(self._paths)
        self.usage_label.setText(
            self.tr("Models: {used} · partial downloads: {partial} · free: {free}").format(
                used=format_bytes(usage.models_bytes),
                partial=format_bytes(usage.partial_bytes),
                free=format_bytes(usage.free_bytes),
            )
        )
        self._update_buttons()

    def set_hardware(self, profile: HardwareProfile, *, context: int) -> None:
        """Work out each model's fit badge on a worker thread (headers are read from disk)."""
        self._hardware = profile
        self._context = context
        self._fits.clear()  # another machine (or corrections): every badge again
        self._fit(list(self.models))

    def _fit_new_models(self) -> None:
        """Models that joined the library since the badges were worked out (a download that
        finished, an import) get theirs too."""
        if self._hardware is None:
            return
        new = [m for m in self.models if m.path not in self._fits and m.path not in self._fitting]
        if new:
            self._fit(new)

    def _fit(self, models: list[LocalModel]) -> None:
        profile, context = self._hardware, self._context
        if profile is None or not models:
            return
        self._fitting.update(m.path for m in models)
        task = TaskWorker(lambda: _fits(models, profile, context), name="fit badges")
        task.finished.connect(self._on_fits)
        self._jobs.start(task)

    @Slot(object)
    def _on_fits(self, fits: dict[Path, Fit | None]) -> None:
        self._fitting.difference_update(fits)
        self._fits.update(fits)
        self.refresh()

    def _fit_words(self, model: LocalModel) -> str:
        if model.path not in self._fits:
            return "…" if self._hardware is not None else ""
        return fit_words(self._fits[model.path])

    def selected_model(self) -> LocalModel | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows else None

    @Slot()
    def _update_buttons(self) -> None:
        has = self.selected_model() is not None
        self.chat_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    @Slot()
    def _chat(self) -> None:
        model = self.selected_model()
        if model:
            self.chat_requested.emit(model.path)

    @Slot()
    def _delete(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        question = (
            self.tr("Forget {name}? The file itself stays where it is.")
            if model.referenced
            else self.tr("Delete {name} ({size}) from disk?")
        ).format(name=model.name, size=format_bytes(model.size_bytes))
        answer = QMessageBox.question(self, self.tr("Delete model"), question)
        if answer != QMessageBox.StandardButton.Yes:
            return
        # Deleting a 40 GB file can take a moment: on a worker thread.
        self.delete_button.setEnabled(False)
        worker = TaskWorker(lambda: delete_model(self._paths, model), name="delete")
        worker.finished.connect(self._on_deleted)
        worker.failed.connect(self._on_delete_failed)
        self._jobs.start(worker)

    @Slot(object)
    def _on_deleted(self, _removed: object) -> None:
        self.message.setText("")
        self.refresh()
        self.deleted.emit()

    @Slot(object)
    def _on_delete_failed(self, error: Exception) -> None:
        report(error, label=self.message)
        self.refresh()

    @Slot()
    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import a model"), str(Path.home()), "GGUF (*.gguf)"
        )
        if path:
            self.import_file(Path(path), copy=True)

    def import_file(self, path: Path, *, copy: bool) -> TaskWorker:
        """Check and import `path` on a worker thread (copying gigabytes takes a while)."""
        show_as_error(self.message, False)
        self.message.setText(self.tr("Importing {name}…").format(name=path.name))
        self.import_button.setEnabled(False)
        cancel = CancelToken()
        worker = TaskWorker(
            lambda: import_model(self._paths, path, copy=copy, cancel=cancel),
            name="import",
            stop=cancel.cancel,  # closing the app stops a copy within 8 MB
        )
        worker.finished.connect(self._on_imported)
        worker.failed.connect(self._on_import_failed)
        self._jobs.start(worker)
        return worker

    @Slot(object)
    def _on_imported(self, model: LocalModel) -> None:
        self.import_button.setEnabled(True)
        self.message.setText(self.tr("Imported {name}.").format(name=model.name))
        self.refresh()
        self.imported.emit(model)

    @Slot(object)
    def _on_import_failed(self, error: Exception) -> None:
        self.import_button.setEnabled(True)
        report(error, label=self.message)
        self.import_failed.emit(error)

    def shutdown(self) -> None:
        """Cancel imports in progress and wait for every task thread (copies stop within 8 MB)."""
        self._jobs.shutdown()

    @Slot()
    def _open_folder(self) -> None:
        self._paths.models.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._paths.models)))


def _fits(
    models: list[LocalModel], profile: HardwareProfile, context: int
) -> dict[Path, Fit | None]:
    """Each model's fit (on a task thread). One that can't be worked out is None ("Unknown"):
    a badge never stays "…"."""
    fits: dict[Path, Fit | None] = {}
    for model in models:
        try:
            fits[model.path] = local_fit(model.path, profile, context=context)
        except Exception:  # a bug for one file must not leave the others without a badge
            log.exception("couldn't work out the fit of %s", model.path)
            fits[model.path] = None
    return fits
