"""Adding a model file that is already on this computer: one dialog, one name, everywhere.

The menu, the chat's empty state, the model picker, the Models page and the wizard's "a file I
already have" all open `AddModelDialog`. The person types or browses to a `.gguf` and chooses
how it joins the library: by reference (the file stays where it is; the library remembers its
path in the data folder) or as a copy in the models folder. Either way it is checked before
anything is written, listed on the Models page, and still there after a restart.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.core._util.cancel import CancelToken
from app.core.hub.library import LocalModel, import_model
from app.core.paths import AppPaths
from app.ui.messages import report
from app.ui.style import mute, plain_text, show_as_error
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker


class AddModelDialog(QDialog):
    """Choose a `.gguf` file and add it to the library (checked, then referenced or copied on a
    worker thread: copying gigabytes takes a while).

    Signals:
        added(object): the `LocalModel` now in the library; the dialog then closes.
        failed(object): the file couldn't be added (the reason is shown in the dialog, which
            stays open for another try).
    """

    added = Signal(object)
    failed = Signal(object)

    def __init__(self, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._paths = paths
        self._jobs = Jobs(self)
        self._cancel: CancelToken | None = None
        self.file_dialog: QFileDialog | None = None
        self.setWindowTitle(self.tr("Add a model file"))
        intro = QLabel(
            self.tr(
                "Choose a .gguf model file on this computer. It joins your models and is "
                "still there the next time Quantdesk starts."
            )
        )
        intro.setWordWrap(True)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(self.tr("Path to a .gguf file"))
        self.path_edit.setAccessibleName(self.tr("Model file"))
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.textChanged.connect(self._update_add_button)
        self.path_edit.returnPressed.connect(self.add)  # Enter in the path box adds
        self.browse_button = QPushButton(self.tr("Browse…"))
        self.browse_button.clicked.connect(self.browse)
        self.keep_button = QRadioButton(
            self.tr("Use it where it is (the file stays in its folder)")
        )
        self.copy_button = QRadioButton(self.tr("Copy it into the models folder"))
        self.keep_button.setChecked(True)  # no second copy of gigabytes unless asked for
        self._how = QButtonGroup(self)
        self._how.addButton(self.keep_button)
        self._how.addButton(self.copy_button)
        self.copy_note = plain_text(QLabel(str(paths.models)))
        self.copy_note.setWordWrap(True)
        self.copy_note.setIndent(24)  # under its option's text: where the copy goes
        mute(self.copy_note)
        self.message = plain_text(QLabel())  # errors quote file names
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton(
            self.tr("Add"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.add_button.setDefault(True)
        self.buttons.accepted.connect(self.add)
        self.buttons.rejected.connect(self.reject)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(path_row)
        layout.addWidget(self.keep_button)
        layout.addWidget(self.copy_button)
        layout.addWidget(self.copy_note)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self._update_add_button()

    @property
    def chosen_path(self) -> Path | None:
        text = self.path_edit.text().strip()
        return Path(text).expanduser() if text else None

    @Slot()
    def browse(self) -> None:
        """Qt's file dialog over this one (window-modal, never blocking the GUI thread)."""
        start = self._browse_start()
        dialog = QFileDialog(
            self, self.tr("Choose a model file"), str(start), self.tr("GGUF models (*.gguf)")
        )
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.path_edit.setText)
        self.file_dialog = dialog
        dialog.open()

    def _browse_start(self) -> Path:
        """The folder typed so far (or the typed file's folder), else the home folder."""
        typed = self.chosen_path
        for folder in (typed, typed.parent) if typed else ():
            if folder.is_dir():
                return folder
        return Path.home()

    @Slot()
    def add(self) -> None:
        """Check the file and add it the way the person chose."""
        path = self.chosen_path
        if path is None or self._jobs.running:
            return
        copy = self.copy_button.isChecked()
        self._set_busy(True)
        show_as_error(self.message, False)
        self.message.setText(
            (
                self.tr("Copying {name} into the models folder…")
                if copy
                else self.tr("Checking {name}…")
            ).format(name=path.name)
        )
        self.message.show()
        cancel = CancelToken()
        self._cancel = cancel
        paths = self._paths
        job = TaskWorker(
            lambda: import_model(paths, path, copy=copy, cancel=cancel),
            name="add model",
            stop=cancel.cancel,  # closing stops a copy within 8 MB
        )
        job.finished.connect(self._on_added)
        job.failed.connect(self._on_failed)
        self._jobs.start(job)

    @Slot(object)
    def _on_added(self, model: LocalModel) -> None:
        self._set_busy(False)
        self.added.emit(model)
        super().accept()

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self._set_busy(False)
        if self._cancel is not None and self._cancel.cancelled:
            return  # the person closed the dialog during a copy: nothing to say
        report(error, label=self.message)
        self.failed.emit(error)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.path_edit, self.browse_button, self.keep_button, self.copy_button):
            widget.setEnabled(not busy)
        self._update_add_button(busy=busy)

    @Slot()
    def _update_add_button(self, *_args: object, busy: bool | None = None) -> None:
        running = bool(self._jobs.running) if busy is None else busy
        self.add_button.setEnabled(self.chosen_path is not None and not running)

    def accept(self) -> None:
        """Enter in the path box, or the Add button: add (the dialog closes once added)."""
        self.add()

    def reject(self) -> None:
        """Cancel, Escape or closing: a copy in progress stops, its partial file removed."""
        self.shutdown()
        super().reject()

    def shutdown(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
        self._jobs.shutdown()
