"""The Settings page: models folder (moving it moves the files), defaults for loading models,
theme, the Hugging Face token (kept in the OS keychain, never shown again once saved), and the
local API server (`api_section.py`).

Every change is saved at once. The keychain and the folder move can each take a while (a locked
keychain asks the person; a move across disks copies gigabytes): both run on task threads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core._util.cancel import CancelToken
from app.core._util.text import printable
from app.core._util.units import format_bytes
from app.core.config.preferences import (
    ALL_GPU_LAYERS,
    CPU_ONLY,
    MAX_CONTEXT,
    MAX_GPU_LAYERS,
    MIN_CONTEXT,
    Preferences,
)
from app.core.config.secrets import delete_token, keychain_available, load_token, save_token
from app.core.errors import MoveCancelledError
from app.core.hub.library import follow_moved_references
from app.core.hub.models_folder import move_models_folder
from app.core.machine.hardware import HardwareProfile
from app.ui.messages import error_text, report
from app.ui.settings.api_section import ApiServerSection
from app.ui.settings.gpu_engine_section import GpuEngineSection
from app.ui.settings.workers_section import WorkersSection
from app.ui.style import mute, plain_text, show_as_error
from app.ui.theme import apply_theme
from app.ui.translations import LANGUAGE_ENV, forced_language
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

if TYPE_CHECKING:
    from app.ui.session import Session

log = logging.getLogger(__name__)

# The languages offered, each named in itself so a person finds theirs whatever is shown now
# ("system" is named in the language shown).
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}

# GPU offload choices: (key, label); "layers" uses the spin box.
GPU_AUTO, GPU_ALL, GPU_CPU, GPU_LAYERS = "auto", "all", "cpu", "layers"


class _Progress(QObject):
    """Carries progress from the move's thread to the GUI thread (queued)."""

    changed = Signal(object, object)  # done bytes, total bytes (Python ints: may exceed 2**31)


class SettingsPage(QWidget):
    """Shows the session's preferences and changes them through it (the page keeps no copy:
    a change made elsewhere, e.g. by the wizard, shows here at once).

    Signals (on the GUI thread, after the page updated itself):
    models_dir_changed(object): the `Path` of the models folder after a finished move.
    move_failed(object): the error of a refused, failed or cancelled move (already shown).
    token_changed(bool): a token was saved (True) or removed (False).
    token_failed(object): the keychain refused (already shown).
    keychain_checked(bool): whether a keychain is available (the token row is ready).
    """

    models_dir_changed = Signal(object)
    move_failed = Signal(object)
    token_changed = Signal(bool)
    token_failed = Signal(object)
    keychain_checked = Signal(bool)

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self._jobs = Jobs(self)
        self._move_cancel: CancelToken | None = None
        self._move_source: Path | None = None
        self._move_target: Path | None = None
        self._pending_token: bool | None = None
        self._move_progress_relay = _Progress(self)
        self._move_progress_relay.changed.connect(self._on_move_progress)
        self._keychain: bool | None = None
        self._token_stored = False
        self._build()
        self.set_preferences(session.preferences)
        session.preferences_changed.connect(self.set_preferences)
        session.preferences_save_failed.connect(self._on_save_failed)
        self._check_keychain()

    # --- layout ----------------------------------------------------------------------------------

    def _build(self) -> None:
        self.models_dir_label = plain_text(QLabel())
        self.models_dir_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.models_dir_label.setWordWrap(True)
        self.move_button = QPushButton(self.tr("Move…"))
        self.move_button.setToolTip(self.tr("Move the models folder and every file in it"))
        self.move_button.clicked.connect(self._choose_new_folder)
        self.move_progress = QProgressBar()
        self.move_progress.setRange(0, 1000)
        self.move_progress.setTextVisible(False)
        self.move_progress.hide()
        self.cancel_move_button = QPushButton(self.tr("Cancel"))
        self.cancel_move_button.clicked.connect(self.cancel_move)
        self.cancel_move_button.hide()
        self.move_message = plain_text(QLabel())
        self.move_message.setWordWrap(True)
        self.move_message.hide()

        self.context_spin = QSpinBox()
        self.context_spin.setRange(MIN_CONTEXT, MAX_CONTEXT)
        self.context_spin.setSingleStep(1024)
        self.context_spin.setGroupSeparatorShown(True)
        self.context_spin.setSuffix(self.tr(" tokens"))
        self.context_spin.setKeyboardTracking(False)  # save the number typed, not each digit
        self.context_spin.valueChanged.connect(self._on_context_changed)

        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(
            0, max(os.cpu_count() or 1, self.session.preferences.threads or 0)
        )
        self.threads_spin.setSpecialValueText(self.tr("Automatic"))
        self.threads_spin.setKeyboardTracking(False)
        self.threads_spin.valueChanged.connect(self._on_threads_changed)

        self.gpu_combo = QComboBox()
        for key, label in (
            (GPU_AUTO, self.tr("Automatic (from the recommendation)")),
            (GPU_ALL, self.tr("All layers on the GPU")),
            (GPU_CPU, self.tr("CPU only")),
            (GPU_LAYERS, self.tr("A number of layers")),
        ):
            self.gpu_combo.addItem(label, key)
        self.gpu_combo.currentIndexChanged.connect(self._on_gpu_changed)
        self.gpu_layers_spin = QSpinBox()
        self.gpu_layers_spin.setRange(1, MAX_GPU_LAYERS)
        self.gpu_layers_spin.setValue(32)
        self.gpu_layers_spin.setSuffix(self.tr(" layers"))
        self.gpu_layers_spin.setKeyboardTracking(False)
        self.gpu_layers_spin.valueChanged.connect(self._on_gpu_changed)
        self.load_last_check = QCheckBox(self.tr("Load the last model when Quantdesk starts"))
        self.load_last_check.toggled.connect(self._on_load_last_toggled)

        self.theme_combo = QComboBox()
        for key, label in (
            ("system", self.tr("System")),
            ("light", self.tr("Light")),
            ("dark", self.tr("Dark")),
        ):
            self.theme_combo.addItem(label, key)
        self.theme_combo.currentIndexChanged.connect(self._on_theme_changed)

        self.language_combo = QComboBox()
        self.language_combo.addItem(self.tr("System"), "system")
        for key, label in LANGUAGE_NAMES.items():
            self.language_combo.addItem(label, key)
        self.language_combo.currentIndexChanged.connect(self._on_language_changed)
        self.language_note = QLabel(self.tr("Applies the next time Quantdesk starts."))
        mute(self.language_note)
        self.language_note.hide()
        self.language_forced_note = self._language_forced_note()

        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText(self.tr("hf_…"))
        self.token_edit.setClearButtonEnabled(True)
        self.token_edit.textChanged.connect(self._update_token_buttons)
        self.token_edit.returnPressed.connect(self.save_token_clicked)
        self.save_token_button = QPushButton(self.tr("Save"))
        self.save_token_button.clicked.connect(self.save_token_clicked)
        self.remove_token_button = QPushButton(self.tr("Remove"))
        self.remove_token_button.clicked.connect(self.remove_token_clicked)
        self.token_status = QLabel(self.tr("Checking the system keychain…"))
        self.token_status.setWordWrap(True)

        self.message = plain_text(QLabel())
        self.message.setWordWrap(True)
        show_as_error(self.message)
        self.message.hide()

        # Three sections, their labels in one column of one width, so the fields line up.
        models = _Section(self.tr("Models"))
        models.add(self.tr("Models folder"), self.models_dir_label, self.move_button, stretch=True)
        models.add("", self.move_progress, self.cancel_move_button, stretch=True)
        models.add("", self.move_message, stretch=True)
        models.add(self.tr("Default context length"), self.context_spin)
        models.add(self.tr("CPU threads"), self.threads_spin)
        self.gpu_label = models.add(self.tr("GPU offload"), self.gpu_combo, self.gpu_layers_spin)
        models.add("", self.load_last_check)
        models.note(
            self.tr(
                "Used when a model is loaded. A chat's own context length, set in its Reply "
                "settings, comes first."
            )
        )
        look = _Section(self.tr("Appearance"))
        look.add(self.tr("Theme"), self.theme_combo)
        look.add(self.tr("Language"), self.language_combo, self.language_note)
        look.add("", self.language_forced_note, stretch=True)
        hub = _Section(self.tr("Hugging Face"))
        hub.add(
            self.tr("Access token"),
            self.token_edit,
            self.save_token_button,
            self.remove_token_button,
            stretch=True,
        )
        hub.add("", self.token_status, stretch=True)
        hub.note(
            self.tr(
                "Needed only for gated or private models. The token is kept in the system "
                "keychain, never in a settings file or the log."
            )
        )
        sections = (models, look, hub)
        label_width = max(section.label_width() for section in sections)
        for section in sections:
            section.set_label_width(label_width)
        for spin in (self.context_spin, self.threads_spin):
            spin.setMinimumWidth(self.gpu_combo.sizeHint().width())

        self.gpu_engine = GpuEngineSection()  # shown only where a GPU with an engine pack is
        self.workers = WorkersSection()
        self.workers.changed.connect(self._on_workers_changed)
        self.api_section = ApiServerSection(self.session)
        # Scrolls when the sections outgrow a small window (a list of other computers).
        content = QWidget()
        layout = QVBoxLayout(content)
        for section in sections:
            layout.addWidget(section)
        layout.addWidget(self.gpu_engine)
        layout.addWidget(self.api_section)
        layout.addWidget(self.workers)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(content)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        page = QVBoxLayout(self)
        page.setContentsMargins(0, 0, 0, 0)
        page.addWidget(self.scroll_area)
        self._update_token_buttons()

    def set_hardware(self, profile: HardwareProfile) -> None:
        """The detected machine: decides whether the GPU engine box and the GPU offload row
        show (a machine without a GPU the engine can use has nothing to offload)."""
        self.gpu_engine.set_hardware(profile)
        for widget in (self.gpu_label, self.gpu_combo, self.gpu_layers_spin):
            if widget is not None:
                widget.setVisible(profile.has_usable_gpu)

    # --- preferences -----------------------------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        """The models folder in use: the chosen one, else the default."""
        return self.session.models_dir

    @Slot(object)
    def set_preferences(self, prefs: Preferences) -> None:
        """Show `prefs` (the session's, after any change) without changing them again."""
        widgets = (
            self.context_spin,
            self.threads_spin,
            self.gpu_combo,
            self.gpu_layers_spin,
            self.theme_combo,
            self.language_combo,
            self.load_last_check,
        )
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.models_dir_label.setText(str(self.models_dir))
            self.context_spin.setValue(prefs.default_context)
            self.threads_spin.setMaximum(max(self.threads_spin.maximum(), prefs.threads or 0))
            self.threads_spin.setValue(prefs.threads or 0)
            if prefs.gpu_layers is None:
                key = GPU_AUTO
            elif prefs.gpu_layers == ALL_GPU_LAYERS:
                key = GPU_ALL
            elif prefs.gpu_layers == CPU_ONLY:
                key = GPU_CPU
            else:
                key = GPU_LAYERS
                self.gpu_layers_spin.setValue(prefs.gpu_layers)
            self.gpu_combo.setCurrentIndex(self.gpu_combo.findData(key))
            self.theme_combo.setCurrentIndex(self.theme_combo.findData(prefs.theme))
            self.language_combo.setCurrentIndex(self.language_combo.findData(prefs.language))
            self.load_last_check.setChecked(prefs.load_last_model)
            self.workers.set_preferences(prefs)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.gpu_layers_spin.setEnabled(key == GPU_LAYERS)

    def _update(self, **changes: object) -> None:
        """Change the session's preferences (it saves them and tells every page)."""
        self._show_message("")
        self.session.update_preferences(**changes)

    @Slot(object)
    def _on_save_failed(self, error: OSError) -> None:
        self._show_message(
            self.tr(
                "Couldn't save the settings ({reason}); the change applies until Quantdesk closes."
            ).format(reason=error.strerror or str(error))
        )

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @Slot(int)
    def _on_context_changed(self, value: int) -> None:
        self._update(default_context=value)

    @Slot(bool)
    def _on_load_last_toggled(self, checked: bool) -> None:
        self._update(load_last_model=checked)

    @Slot(object)
    def _on_workers_changed(self, workers: tuple[str, ...]) -> None:
        self._update(workers=workers)

    @Slot(int)
    def _on_threads_changed(self, value: int) -> None:
        self._update(threads=value or None)

    @Slot()
    def _on_gpu_changed(self) -> None:
        key = self.gpu_combo.currentData()
        self.gpu_layers_spin.setEnabled(key == GPU_LAYERS)
        layers = {
            GPU_AUTO: None,
            GPU_ALL: ALL_GPU_LAYERS,
            GPU_CPU: CPU_ONLY,
            GPU_LAYERS: self.gpu_layers_spin.value(),
        }[key]
        self._update(gpu_layers=layers)

    @Slot()
    def _on_theme_changed(self) -> None:
        theme = self.theme_combo.currentData()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self._update(theme=theme)

    def _language_forced_note(self) -> QLabel:
        """The note that tells the truth when `QUANTDESK_LANGUAGE` sets this run's language
        (the list then shows the person's choice, not what is shown); hidden otherwise."""
        forced = forced_language()
        # The variable's value is shown as written (plain text): it can be anything.
        note = plain_text(QLabel())
        note.setWordWrap(True)
        mute(note)
        note.setVisible(forced is not None)
        if forced is not None:
            note.setText(
                self.tr(
                    "Set to {language} by {variable} for this run; your choice applies when "
                    "it is not set."
                ).format(language=self._language_name(forced), variable=LANGUAGE_ENV)
            )
        return note

    def _language_name(self, key: str) -> str:
        """A language as the list names it ("简体中文", "System"); a key it lacks, as written."""
        index = self.language_combo.findData(key)
        # An unknown value comes from the environment: clipped and escaped like a file's text.
        return self.language_combo.itemText(index) if index >= 0 else printable(key)

    @Slot()
    def _on_language_changed(self) -> None:
        # The window's texts are set as it is built: a new language shows from the next start.
        self.language_note.show()
        self._update(language=self.language_combo.currentData())

    # --- models folder ---------------------------------------------------------------------------

    @property
    def is_moving(self) -> bool:
        return self._move_cancel is not None

    @Slot()
    def _choose_new_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Choose the new models folder"), str(self.models_dir.parent)
        )
        if folder:
            self.move_models_folder_to(Path(folder))

    def move_models_folder_to(self, path: Path) -> TaskWorker | None:
        """Move every file of the models folder into `path` on a task thread; on success the
        paths that pointed inside the old folder follow the files (`Session.models_folder_moved`),
        the preferences point at `path` and `models_dir_changed` is emitted. None if a move is
        already running."""
        if self.is_moving:
            return None
        source, target = self.models_dir, Path(path)
        library = self.session.paths
        cancel = CancelToken()
        self._move_cancel = cancel
        self._move_source = source
        self._move_target = target
        progress = self._move_progress_relay
        last = [-1]

        def report(done: int, total: int) -> None:  # on the move's thread
            permille = done * 1000 // total if total else 1000
            if permille != last[0]:
                last[0] = permille
                progress.changed.emit(done, total)

        self.move_button.setEnabled(False)
        self.move_progress.setValue(0)
        self.move_progress.show()
        self.cancel_move_button.setEnabled(True)
        self.cancel_move_button.show()
        self._show_move_message(self.tr("Moving the models to {path}…").format(path=target))

        def move() -> int:  # on the move's thread
            moved = move_models_folder(source, target, progress=report, cancel=cancel)
            # Files added by reference from inside the folder moved too: list them there.
            try:
                follow_moved_references(library, source, target.expanduser().resolve())
            except OSError as exc:  # the files did move: the folder must still change
                log.warning("references didn't follow the models folder: %s", exc)
            return moved

        worker = TaskWorker(move, name="move-models")
        # Bound methods of this page, so that Qt queues the results to the GUI thread.
        worker.finished.connect(self._on_moved)
        worker.failed.connect(self._on_move_failed)
        self._jobs.start(worker)
        return worker

    @Slot()
    def cancel_move(self) -> None:
        if self._move_cancel is not None:
            self._move_cancel.cancel()
            self.cancel_move_button.setEnabled(False)
            self._show_move_message(self.tr("Cancelling…"))

    @Slot(object, object)
    def _on_move_progress(self, done: int, total: int) -> None:
        self.move_progress.setValue(done * 1000 // total if total else 1000)
        self.move_progress.setToolTip(
            self.tr("{done} of {total}").format(done=format_bytes(done), total=format_bytes(total))
        )

    def _end_move(self) -> None:
        self._move_cancel = None
        self._move_source = None
        self._move_target = None
        self.move_button.setEnabled(True)
        self.move_progress.hide()
        self.cancel_move_button.hide()

    @Slot(object)
    def _on_moved(self, moved: int) -> None:
        assert self._move_source is not None and self._move_target is not None
        source, target = self._move_source, self._move_target.expanduser().resolve()
        self._end_move()
        self._show_message("")
        self.session.models_folder_moved(source, target)
        self.models_dir_label.setText(str(self.models_dir))
        self._show_move_message(
            self.tr("Moved {size} of models to {path}.").format(
                size=format_bytes(moved), path=target
            )
        )
        self.models_dir_changed.emit(target)

    @Slot(object)
    def _on_move_failed(self, error: Exception) -> None:
        self._end_move()
        self._show_move_message(error_text(error), error=not isinstance(error, MoveCancelledError))
        self.move_failed.emit(error)

    def _show_move_message(self, text: str, *, error: bool = False) -> None:
        self.move_message.setText(text)
        show_as_error(self.move_message, error)
        self.move_message.setVisible(bool(text))

    # --- Hugging Face token ----------------------------------------------------------------------

    def _run(self, function: Callable[[], Any], on_done: Callable[[Any], None], name: str) -> None:
        """`function` on a task thread; `on_done` (a method of this page, so Qt queues it to the
        GUI thread) gets its result, `_on_token_failed` its error."""
        worker = TaskWorker(function, name=name)
        worker.finished.connect(on_done)
        worker.failed.connect(self._on_token_failed)
        self._jobs.start(worker)

    def _check_keychain(self) -> None:
        def check() -> tuple[bool, bool]:
            available = keychain_available()
            return available, available and load_token() is not None

        self._run(check, self._on_keychain_checked, "keychain")

    @Slot(object)
    def _on_keychain_checked(self, result: tuple[bool, bool]) -> None:
        self._keychain, self._token_stored = result
        self._show_token_state()
        self.keychain_checked.emit(self._keychain)

    def _show_token_state(self) -> None:
        if not self._keychain:
            text = self.tr(
                "No system keychain is available, so Quantdesk can't save a token here (it "
                "never keeps one in a plain file). Setting HF_TOKEN or running `hf auth login` "
                "still works."
            )
        elif self._token_stored:
            text = self.tr("Stored in the system keychain.")
        else:
            text = self.tr(
                "No token saved. A saved token is stored in the system keychain; HF_TOKEN or "
                "`hf auth login` also work."
            )
        show_as_error(self.token_status, False)
        self.token_status.setText(text)
        self._update_token_buttons()

    @Slot()
    def _update_token_buttons(self) -> None:
        ready = bool(self._keychain)
        self.token_edit.setEnabled(ready)
        self.save_token_button.setEnabled(ready and bool(self.token_edit.text().strip()))
        self.remove_token_button.setEnabled(ready and self._token_stored)

    @Slot()
    def save_token_clicked(self) -> None:
        token = self.token_edit.text().strip()
        if not token or not self._keychain:
            return
        self.token_edit.clear()  # never kept on screen once saved
        self._set_token_busy(self.tr("Saving the token in the system keychain…"))
        self._pending_token = True
        self._run(lambda: save_token(token), self._on_token_done, "save-token")

    @Slot()
    def remove_token_clicked(self) -> None:
        if not self._keychain:
            return
        self._set_token_busy(self.tr("Removing the token from the system keychain…"))
        self._pending_token = False
        self._run(delete_token, self._on_token_done, "delete-token")

    def _set_token_busy(self, text: str) -> None:
        show_as_error(self.token_status, False)
        self.token_status.setText(text)
        for widget in (self.token_edit, self.save_token_button, self.remove_token_button):
            widget.setEnabled(False)

    @Slot(object)
    def _on_token_done(self, _result: object) -> None:
        stored = bool(self._pending_token)
        self._pending_token = None
        self._token_stored = stored
        self._show_token_state()
        self.token_changed.emit(stored)

    @Slot(object)
    def _on_token_failed(self, error: Exception) -> None:
        self._pending_token = None
        checking = self._keychain is None
        if checking:  # the check itself failed: as good as no keychain
            self._keychain = False
        self._show_token_state()
        report(error, label=self.token_status)
        if checking:
            self.keychain_checked.emit(False)
        self.token_failed.emit(error)

    # --- closing ---------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Cancel a move in progress (each file stays complete in one folder) and wait for
        every task thread."""
        if self._move_cancel is not None:
            self._move_cancel.cancel()
        self.gpu_engine.shutdown()
        self.workers.shutdown()
        self._jobs.shutdown()


class _Section(QGroupBox):
    """A titled box of rows: a label, then the row's widgets; notes under the fields."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self._grid = QGridLayout(self)
        self._grid.setColumnStretch(1, 1)
        self._labels: list[QLabel] = []

    def add(self, label: str, *widgets: QWidget, stretch: bool = False) -> QLabel | None:
        """A row; unless `stretch`, its widgets keep their natural width. Its label, if any."""
        row = self._grid.rowCount()
        text = None
        if label:
            text = QLabel(label)
            text.setBuddy(widgets[0])
            self._labels.append(text)
            self._grid.addWidget(text, row, 0)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        for index, widget in enumerate(widgets):
            line.addWidget(widget, 1 if stretch and index == 0 else 0)
        if not stretch:
            line.addStretch(1)
        self._grid.addLayout(line, row, 1)
        return text

    def note(self, text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        mute(label)
        self._grid.addWidget(label, self._grid.rowCount(), 1)
        return label

    def label_width(self) -> int:
        return max((label.sizeHint().width() for label in self._labels), default=0)

    def set_label_width(self, width: int) -> None:
        self._grid.setColumnMinimumWidth(0, width)
