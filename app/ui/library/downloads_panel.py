"""The Downloads panel: start a download, watch it, pause, resume, cancel, chat with the result."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core._util.units import format_bytes
from app.core.errors import DiskFullError, DownloadInterruptedError
from app.core.gguf.quants import shard_info
from app.core.hub.download import DownloadProgress, DownloadResult, describe_progress
from app.core.hub.library import PartialDownload, list_partial_downloads
from app.ui.messages import error_text, report
from app.ui.style import mute, plain_text
from app.ui.workers.download import DownloadManager, DownloadRequest, DownloadWorker
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

log = logging.getLogger(__name__)


def _shard_group(path: str) -> str:
    info = shard_info(path)
    return info.stem if info else path


class DownloadRow(QFrame):
    """One download: name, bar, numbers, and its buttons.

    Signals:
        chat_requested(object): the `Path` of the finished model to chat with.
        retry_requested(): resume a download that failed with its bytes kept.
        remove_requested(): take this ended download off the list.
    """

    chat_requested = Signal(object)
    retry_requested = Signal()
    remove_requested = Signal()

    def __init__(self, worker: DownloadWorker) -> None:
        super().__init__()
        self.worker = worker
        self.result: DownloadResult | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = plain_text(QLabel(worker.label))  # names from the Hub, as written
        self.title.setStyleSheet("font-weight: bold;")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.status = plain_text(QLabel(self.tr("Starting…")))
        self.status.setWordWrap(True)
        self.pause_button = QPushButton(self.tr("Pause"))
        self.pause_button.clicked.connect(self._toggle_pause)
        # "Cancel download", not "Cancel": the wizard shows this row above its own Cancel.
        self.cancel_button = QPushButton(self.tr("Cancel download"))
        # Not `worker.cancel` itself: a slot of the worker would be queued to its busy thread.
        self.cancel_button.clicked.connect(self._cancel)
        self.chat_button = QPushButton(self.tr("Chat with it"))
        self.chat_button.setVisible(False)
        self.chat_button.clicked.connect(self._chat)
        self.retry_button = QPushButton(self.tr("Resume"))
        self.retry_button.setVisible(False)
        self.retry_button.clicked.connect(self.retry_requested)
        self.remove_button = QPushButton(self.tr("Remove from list"))
        self.remove_button.setToolTip(self.tr("The downloaded file stays in your models."))
        self.remove_button.setVisible(False)
        self.remove_button.clicked.connect(self.remove_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (
            self.pause_button,
            self.cancel_button,
            self.chat_button,
            self.retry_button,
            self.remove_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)

    @Slot()
    def _toggle_pause(self) -> None:
        if self.worker.control.paused:
            self.worker.resume()
            self.pause_button.setText(self.tr("Pause"))
        else:
            self.worker.pause()
            self.pause_button.setText(self.tr("Resume"))

    @Slot()
    def _cancel(self) -> None:
        self.worker.cancel()

    @Slot(object)
    def _on_progress(self, progress: DownloadProgress) -> None:
        self.bar.setValue(int(progress.fraction * 1000))
        self.status.setText(describe_progress(progress))

    @Slot(object)
    def _on_finished(self, result: DownloadResult) -> None:
        self.result = result
        self.bar.setValue(1000)
        verified = self.tr("verified") if result.sha256_verified else self.tr("size checked")
        self.status.setText(
            self.tr("Done · {size} · {verified}").format(
                size=format_bytes(result.size_bytes), verified=verified
            )
        )
        self._ended(show_chat=True)

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        report(error, label=self.status)
        self._ended()
        # The bytes so far were kept: offer to go on from there.
        self.retry_button.setVisible(isinstance(error, DownloadInterruptedError | DiskFullError))

    @Slot()
    def _on_cancelled(self) -> None:
        if self.worker.control.keep_partial:
            self.status.setText(self.tr("Stopped; it resumes from here next time."))
        else:
            self.status.setText(self.tr("Cancelled; the partial file was deleted."))
        self._ended()

    def _ended(self, *, show_chat: bool = False) -> None:
        self.pause_button.setVisible(False)
        self.cancel_button.setVisible(False)
        self.chat_button.setVisible(show_chat)
        self.remove_button.setVisible(True)

    @property
    def is_finished(self) -> bool:
        """Ended for good: done, cancelled, or failed with nothing to resume ("Clear
        finished" takes it off the list; a download that can resume stays)."""
        return self.worker.done and self.retry_button.isHidden()

    @Slot()
    def _chat(self) -> None:
        if self.result:
            self.chat_requested.emit(self.result.paths[0])


class InterruptedRow(QFrame):
    """A download that stopped earlier (app closed or killed): resume it or discard its bytes.

    Signals:
        resume_requested(object): the `PartialDownload` to resume.
        discarded(): its bytes were deleted (the row hid itself).
    """

    resume_requested = Signal(object)
    discarded = Signal()

    def __init__(self, partial: PartialDownload, jobs: Jobs) -> None:
        super().__init__()
        self.partial = partial
        self._jobs = jobs
        self.confirm_box: QMessageBox | None = None  # "Discard …?", while it is open
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = plain_text(QLabel(f"{partial.repo_id} · {partial.path}"))
        title.setStyleSheet("font-weight: bold;")
        bar = QProgressBar()
        bar.setRange(0, 1000)
        bar.setValue(
            int(1000 * partial.bytes_done / partial.size_bytes) if partial.size_bytes else 0
        )
        self.status = QLabel(
            self.tr("Stopped at {done} of {size}; resume continues from there.").format(
                done=format_bytes(partial.bytes_done), size=format_bytes(partial.size_bytes)
            )
        )
        self.resume_button = QPushButton(self.tr("Resume"))
        self.resume_button.clicked.connect(lambda: self.resume_requested.emit(self.partial))
        self.discard_button = QPushButton(self.tr("Discard"))
        self.discard_button.clicked.connect(self._discard)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.discard_button)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(bar)
        layout.addLayout(buttons)

    @Slot()
    def _discard(self) -> None:
        """Ask first, as deleting a chat does: the bytes can't be fetched back without
        downloading them again."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Discard download"))
        box.setTextFormat(Qt.TextFormat.PlainText)  # the file name comes from the Hub
        box.setText(
            self.tr(
                "Discard the partial download of {name}? The {done} downloaded so far are "
                "deleted; downloading it again starts from the beginning."
            ).format(name=self.partial.path, done=format_bytes(self.partial.bytes_done))
        )
        box.addButton(self.tr("Discard"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(self._on_discard_answer)
        self.confirm_box = box
        box.open()  # window-modal, without blocking the event loop

    @Slot()
    def _on_discard_answer(self) -> None:
        box, self.confirm_box = self.confirm_box, None
        if box is None:
            return
        box.deleteLater()
        clicked = box.clickedButton()
        if clicked is None or box.buttonRole(clicked) != QMessageBox.ButtonRole.DestructiveRole:
            return
        # Deleting gigabytes can take a moment: not on the GUI thread.
        self.discard_button.setEnabled(False)
        task = TaskWorker(self.partial.discard, name="discard")
        task.finished.connect(self._on_discarded)
        task.failed.connect(self._on_discard_failed)
        self._jobs.start(task)

    @Slot(object)
    def _on_discarded(self, _result: object) -> None:
        self.hide()
        self.discarded.emit()

    @Slot(object)
    def _on_discard_failed(self, error: Exception) -> None:
        self.discard_button.setEnabled(True)
        self.status.setText(error_text(error))


class DownloadsPanel(QWidget):
    """The downloads of the session's `DownloadManager` (started here, in the wizard or in
    Discover), each with its row; and new ones by repo id and quant (or file).

    Signals:
        chat_requested(object): a finished model's `Path`.
        download_finished(object): a `DownloadResult`, after its row updated.
        discover_requested(): the person wants to find a model to download (Discover).
    """

    chat_requested = Signal(object)
    download_finished = Signal(object)
    discover_requested = Signal()

    def __init__(self, downloads: DownloadManager) -> None:
        super().__init__()
        self._downloads = downloads
        self._jobs = Jobs(self)  # discarding interrupted downloads
        self.rows: list[DownloadRow] = []
        self.repo_input = QLineEdit()
        self.repo_input.setPlaceholderText(self.tr("Hugging Face repo, e.g. bartowski/Model-GGUF"))
        self.quant_input = QLineEdit()
        self.quant_input.setPlaceholderText(self.tr("Quant (Q4_K_M) or file name"))
        self.quant_input.returnPressed.connect(self._start_from_inputs)
        self.download_button = QPushButton(self.tr("Download"))
        self.download_button.clicked.connect(self._start_from_inputs)
        self.clear_button = QPushButton(self.tr("Clear finished"))
        self.clear_button.setToolTip(
            self.tr("Take finished and cancelled downloads off this list; the files stay.")
        )
        self.clear_button.clicked.connect(self.clear_finished)
        form = QHBoxLayout()
        form.addWidget(self.repo_input, 3)
        form.addWidget(self.quant_input, 2)
        form.addWidget(self.download_button)
        form.addWidget(self.clear_button)
        self._list = QVBoxLayout()
        self._list.addStretch(1)
        holder = QWidget()
        holder.setLayout(self._list)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        self.empty_label = QLabel(
            self.tr(
                "Nothing is downloading. Models you download appear here with their progress, "
                "speed and time left; you can pause them, and a download stopped by closing "
                "Quantdesk goes on from where it was.\n\nTo start one, find a model in Discover, "
                "or type a Hugging Face repo and a quant (such as Q4_K_M) above and press "
                "Download."
            )
        )
        self.empty_label.setWordWrap(True)
        mute(self.empty_label)
        self.discover_button = QPushButton(self.tr("Find a model in Discover"))
        self.discover_button.clicked.connect(self.discover_requested)
        self.empty_box = QWidget()
        empty_layout = QVBoxLayout(self.empty_box)
        empty_layout.setContentsMargins(0, 12, 0, 12)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.discover_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.empty_box)
        layout.addWidget(scroll, 1)
        self.interrupted_rows: list[InterruptedRow] = []
        for worker in downloads.downloads:
            self._add_row(worker)
        downloads.started.connect(self._add_row)
        self.show_interrupted()
        self._update_list_state()

    def show_interrupted(self) -> None:
        """List downloads an earlier run left unfinished, each with Resume and Discard."""
        for partial in list_partial_downloads(self._downloads.models_dir):
            row = InterruptedRow(partial, self._jobs)
            row.resume_requested.connect(self._resume)
            row.discarded.connect(self._on_interrupted_discarded)
            self.interrupted_rows.append(row)
            self._list.insertWidget(0, row)
        self._update_list_state()

    @Slot()
    def _on_interrupted_discarded(self) -> None:
        row = self.sender()
        if isinstance(row, InterruptedRow) and row in self.interrupted_rows:
            self.interrupted_rows.remove(row)
            row.deleteLater()
        self._update_list_state()

    @Slot(object)
    def _resume(self, partial: PartialDownload) -> None:
        # Shards of one split model resume together, as one download.
        group = _shard_group(partial.path)
        for row in list(self.interrupted_rows):
            if row.partial.repo_id == partial.repo_id and _shard_group(row.partial.path) == group:
                self.interrupted_rows.remove(row)
                row.hide()
                row.deleteLater()
        self.start_download(partial.repo_id, filename=partial.path)

    @Slot()
    def _start_from_inputs(self) -> None:
        repo = self.repo_input.text().strip()
        choice = self.quant_input.text().strip()
        if repo and choice:
            self._downloads.start(DownloadRequest.from_text(repo, choice))

    def start_download(
        self, repo_id: str, *, quant: str | None = None, filename: str | None = None
    ) -> DownloadRow:
        """Start a download (or join the one already writing that file); its row."""
        worker = self._downloads.start(DownloadRequest(repo_id, quant=quant, filename=filename))
        return self.row_for(worker)

    def row_for(self, worker: DownloadWorker) -> DownloadRow:
        return next(row for row in self.rows if row.worker is worker)

    @Slot(object)
    def _add_row(self, worker: DownloadWorker) -> None:
        row = DownloadRow(worker)
        row.chat_requested.connect(self.chat_requested)
        row.retry_requested.connect(self._retry)
        row.remove_requested.connect(self._on_remove_requested)
        worker.finished.connect(self.download_finished)
        for ending in (worker.finished, worker.failed, worker.cancelled):
            ending.connect(self._update_list_state)
        self.rows.append(row)
        self._list.insertWidget(0, row)
        self._update_list_state()

    @Slot()
    def _retry(self) -> None:
        row = self.sender()
        if isinstance(row, DownloadRow):
            self.remove_row(row)  # its new download gets a row of its own
            self._downloads.start(row.worker.request)

    @Slot()
    def _on_remove_requested(self) -> None:
        row = self.sender()
        if isinstance(row, DownloadRow):
            self.remove_row(row)

    def remove_row(self, row: DownloadRow) -> None:
        """Take an ended download off the list, and out of the session's downloads."""
        if not row.worker.done or row not in self.rows:
            return
        self.rows.remove(row)
        self._downloads.forget(row.worker)
        row.hide()
        row.deleteLater()
        self._update_list_state()

    @Slot()
    def clear_finished(self) -> None:
        """Remove every finished, cancelled or failed-for-good download from the list."""
        for row in [row for row in self.rows if row.is_finished]:
            self.remove_row(row)

    @Slot()
    def _update_list_state(self) -> None:
        shown = [row for row in self.rows if not row.isHidden()] + [
            row for row in self.interrupted_rows if not row.isHidden()
        ]
        self.empty_box.setVisible(not shown)
        self.clear_button.setEnabled(any(row.is_finished for row in self.rows))

    def shutdown(self) -> None:
        """Wait for discards in progress (the session stops the downloads themselves)."""
        self._jobs.shutdown()
