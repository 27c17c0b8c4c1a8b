"""The Models page: the local library with name, quant and size; chat, delete or remove, add a
model file, open the folder."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QT_TRANSLATE_NOOP, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
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
from app.core.config.preferences import Preferences
from app.core.fit.measured import LoadRow, LoadTable
from app.core.fit.recommend import Fit, local_fit
from app.core.hub.library import (
    LocalModel,
    delete_model,
    disk_usage,
    header_quant,
    import_model,
    list_models,
    with_header_quant,
)
from app.core.machine.hardware import HardwareProfile
from app.core.paths import AppPaths
from app.core.remote.workers import answering_workers
from app.ui.library.add_model import AddModelDialog
from app.ui.messages import report
from app.ui.style import fit_words, plain_text, plain_tooltip, show_as_error, translated_columns
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

log = logging.getLogger(__name__)


class ModelsPage(QWidget):
    """Signals:
    chat_requested(object): the `Path` of a model to load in the chat.
    imported(object): the `LocalModel` just added (after the table refreshed).
    import_failed(object): the error of a failed import (already shown).
    deleted(): a model was deleted (after the table refreshed).
    header_quants_read(): quants were read from the headers of files whose names name none
        (the `header_quants` given now hold them).
    """

    chat_requested = Signal(object)
    imported = Signal(object)
    import_failed = Signal(object)
    deleted = Signal()
    header_quants_read = Signal()
    COLUMNS = (
        QT_TRANSLATE_NOOP("ModelsPage", "Model"),
        QT_TRANSLATE_NOOP("ModelsPage", "Repository"),
        QT_TRANSLATE_NOOP("ModelsPage", "Quant"),
        QT_TRANSLATE_NOOP("ModelsPage", "Size"),
        QT_TRANSLATE_NOOP("ModelsPage", "On this machine"),
        QT_TRANSLATE_NOOP("ModelsPage", "Memory"),
    )

    def __init__(
        self, paths: AppPaths, *, header_quants: dict[Path, str | None] | None = None
    ) -> None:
        """`header_quants`: where the quants read from headers are kept (the session's, so the
        other lists that name models show them too)."""
        super().__init__()
        self._paths = paths
        self.models: list[LocalModel] = []
        self._hardware: HardwareProfile | None = None
        self._fits: dict[Path, Fit | None] = {}
        # The latest measured load of each model on this machine (None: never loaded here),
        # read with its fit.
        self._loads: dict[Path, LoadRow | None] = {}
        # The quant in the header of each file whose name names none (None: it names none).
        self._header_quants = header_quants if header_quants is not None else {}
        self._context = 0  # the context length the fits are worked out for
        # The other computers of Settings that may take a model too large for this one.
        self._worker_addresses: tuple[str, ...] = ()
        self._reading: set[Path] = set()  # models whose header a task is reading
        self._jobs = Jobs(self)  # each job leaves the list when its thread ends
        self.add_dialog: AddModelDialog | None = None
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
        self.import_button = QPushButton(self.tr("Add a model file…"))
        self.import_button.setToolTip(self.tr("Use a .gguf file that is already on this computer"))
        self.import_button.clicked.connect(self.show_add_model_dialog)
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
        self._paths = replace(self._paths, models=Path(folder))
        self.refresh()

    def refresh(self) -> None:
        """Re-read the library from disk."""
        self.models = list_models(self._paths)
        self._forget_unlisted()
        self._show_rows()

    def _show_rows(self) -> None:
        """Fill the table from the models listed last (no disk access)."""
        self.table.setRowCount(len(self.models))
        for row, model in enumerate(self.models):
            model = with_header_quant(model, self._header_quants)
            where = model.repo_id or (
                self.tr("used where it is") if model.referenced else self.tr("copied in")
            )
            cells = (
                model.title,
                where,
                model.quant or self.tr("unknown"),
                self.tr("file not found") if model.missing else format_bytes(model.size_bytes),
                self._fit_words(model),
                self._memory_words(model),
            )
            tooltip = (
                self.tr("{path} is no longer there. Remove it from the list, or put it back.")
                if model.missing
                else "{path}"
            ).format(path=str(model.path))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tooltip(tooltip))
                self.table.setItem(row, column, item)
        self._read_headers_later()
        usage = disk_usage(self._paths)
        self.usage_label.setText(
            # What Quantdesk keeps in its folder: files used where they are count elsewhere.
            self.tr(
                "In the models folder: {used} · partial downloads: {partial} · free: {free}"
            ).format(
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
        self._fits.clear()
        self._reading.clear()
        self._show_rows()  # each badge says "…" until its fit is worked out

    @Slot(object)
    def set_preferences(self, prefs: Preferences) -> None:
        """The person's preferences changed: only the other computers matter here."""
        self.set_workers(prefs.workers)

    def set_workers(self, addresses: tuple[str, ...]) -> None:
        """Other computers were added or removed (Settings → Other computers): the badges are
        worked out again, a model too large for this computer alone fitted with theirs."""
        addresses = tuple(addresses)
        if addresses == self._worker_addresses:
            return
        self._worker_addresses = addresses
        self._fits.clear()
        self._reading.clear()
        self._show_rows()

    def _forget_unlisted(self) -> None:
        """Drop what was read for files no longer listed: a file added again under the same
        path may be another model."""
        listed = {m.path for m in self.models if not m.missing}
        for known in (self._fits, self._header_quants):
            for path in known.keys() - listed:
                del known[path]

    def _read_headers_later(self) -> None:
        """Read on a task thread the headers not read yet: for the fit badges (all models for a
        new machine, or one just downloaded or added, else it would show "…" until the app
        restarts), and for the quant of files whose names name none."""
        profile, context, addresses = self._hardware, self._context, self._worker_addresses
        unread = [m for m in self.models if not m.missing and m.path not in self._reading]
        fit = [m for m in unread if profile is not None and m.path not in self._fits]
        quant = [m for m in unread if m.quant is None and m.path not in self._header_quants]
        if not fit and not quant:
            return
        self._reading.update(m.path for m in fit + quant)
        table = LoadTable.in_folder(self._paths.data)
        task = TaskWorker(
            lambda: _read_headers(fit, quant, profile, context, table, addresses),
            name="model headers",
        )
        task.finished.connect(self._on_headers_read)
        self._jobs.start(task)

    @Slot(object)
    def _on_headers_read(self, read: _HeadersRead) -> None:
        self._reading.difference_update(read.fits.keys() | read.quants.keys())
        if read.workers == self._worker_addresses:  # else fitted for computers since changed
            self._fits.update(read.fits)
        self._loads.update(read.loads)
        self._header_quants.update(read.quants)
        self.refresh()
        if read.quants:
            self.header_quants_read.emit()

    def note_loaded(self, path: Path) -> None:
        """`path` was just loaded (and measured): work its row out again."""
        self._fits.pop(Path(path), None)
        self.refresh()

    def _memory_words(self, model: LocalModel) -> str:
        """'estimated 3.6 GiB · measured 3.5 GiB' for a model loaded on this machine."""
        load = None if model.missing else self._loads.get(model.path)
        if load is None or load.measured is None:
            return ""
        if load.estimated is None:
            return self.tr("measured {measured}").format(measured=format_bytes(load.measured))
        return self.tr("estimated {estimated} · measured {measured}").format(
            estimated=format_bytes(load.estimated), measured=format_bytes(load.measured)
        )

    def _fit_words(self, model: LocalModel) -> str:
        if model.missing:
            return ""
        if model.path not in self._fits:
            return "…" if self._hardware is not None else ""
        return fit_words(self._fits[model.path])

    def selected_model(self) -> LocalModel | None:
        rows = self.table.selectionModel().selectedRows()
        return with_header_quant(self.models[rows[0].row()], self._header_quants) if rows else None

    @Slot()
    def _update_buttons(self) -> None:
        model = self.selected_model()
        self.chat_button.setEnabled(model is not None and not model.missing)
        self.delete_button.setEnabled(model is not None)
        # A file used where it is is only taken off the list; its file stays.
        referenced = model is not None and model.referenced
        self.delete_button.setText(
            self.tr("Remove from the list…") if referenced else self.tr("Delete…")
        )

    @Slot()
    def _chat(self) -> None:
        model = self.selected_model()
        if model and not model.missing:
            self.chat_requested.emit(model.path)

    @Slot()
    def _delete(self) -> None:
        model = self.selected_model()
        if model is None:
            return
        if model.missing:
            question = self.tr("Remove {name} from the list? Its file is no longer at {path}.")
        elif model.referenced:
            question = self.tr(
                "Remove {name} from the list? The file itself stays where it is ({path})."
            )
        else:
            question = self.tr("Delete {name} ({size}) from disk?")
        question = question.format(
            name=model.label, size=format_bytes(model.size_bytes), path=str(model.path)
        )
        title = self.tr("Remove model") if model.referenced else self.tr("Delete model")
        answer = QMessageBox.question(self, title, question)
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
    def show_add_model_dialog(self) -> AddModelDialog:
        """ "Add a model file…": the same dialog as everywhere; the new model is listed here."""
        if self.add_dialog is not None:
            self.add_dialog.shutdown()
            self.add_dialog.deleteLater()
        dialog = AddModelDialog(self._paths, self)
        dialog.added.connect(self._on_imported)
        self.add_dialog = dialog
        dialog.open()
        return dialog

    def import_file(self, path: Path, *, copy: bool) -> TaskWorker:
        """Check and add `path` on a worker thread (copying gigabytes takes a while)."""
        show_as_error(self.message, False)
        self.message.setText(self.tr("Adding {name}…").format(name=path.name))
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
        show_as_error(self.message, False)
        self.message.setText(self.tr("Added {name}.").format(name=model.label))
        self.refresh()
        self._select(model.path)
        self.imported.emit(model)

    def _select(self, path: Path) -> None:
        for row, model in enumerate(self.models):
            if model.path == path:
                self.table.selectRow(row)
                return

    @Slot(object)
    def _on_import_failed(self, error: Exception) -> None:
        self.import_button.setEnabled(True)
        report(error, label=self.message)
        self.import_failed.emit(error)

    def shutdown(self) -> None:
        """Cancel imports in progress and wait for every task thread (copies stop within 8 MB)."""
        if self.add_dialog is not None:
            self.add_dialog.shutdown()
        self._jobs.shutdown()

    @Slot()
    def _open_folder(self) -> None:
        self._paths.models.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._paths.models)))


class _HeadersRead(NamedTuple):
    fits: dict[Path, Fit | None]
    quants: dict[Path, str | None]
    loads: dict[Path, LoadRow | None]
    workers: tuple[str, ...]  # the other computers the fits counted


def _read_headers(
    fit: list[LocalModel],
    quant: list[LocalModel],
    profile: HardwareProfile | None,
    context: int,
    table: LoadTable,
    addresses: tuple[str, ...] = (),
) -> _HeadersRead:
    """The fit and latest measured load of each model of `fit` and the header's quant of each
    of `quant` (on a task thread). A fit that can't be worked out is None ("Unknown"): a badge
    never stays "…". The other computers at `addresses` are contacted only when a model is
    too large for this one alone, and then once for all such models."""
    fits: dict[Path, Fit | None] = {}
    for model in fit:
        if profile is None:  # no machine yet: only the quants are read
            break
        try:
            fits[model.path] = local_fit(model.path, profile, context=context)
        except Exception:  # a bug for one file must not leave the others without a badge
            log.exception("couldn't work out the fit of %s", model.path)
            fits[model.path] = None
    too_large = [path for path, fitted in fits.items() if fitted == Fit.TOO_LARGE]
    workers = answering_workers(addresses) if too_large and addresses else ()
    for path in too_large if workers else ():
        assert profile is not None  # a fit was worked out
        try:
            fits[path] = local_fit(path, profile, context=context, workers=workers)
        except Exception:  # keep the badge it had: too large for this computer alone
            log.exception("couldn't work out the split fit of %s", path)
    # Only for files whose names name no quant (rare): their header is read a second time.
    quants: dict[Path, str | None] = {}
    for model in quant:
        try:
            quants[model.path] = header_quant(model.path)
        except Exception:  # nor leave the others without their quant
            log.exception("couldn't read the quant of %s", model.path)
            quants[model.path] = None
    loads = table.last_loads(list(fits))
    return _HeadersRead(fits, quants, loads, addresses)
