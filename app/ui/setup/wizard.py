"""The first-run wizard: from double-click to chatting with the right model for this machine.

Welcome → your machine (detected, correctable) → choose a model (curated, search, or a local
file) → choose the file (recommended quant preselected, fit badges, goal, context) → download
(the real download, which goes on in the Downloads page if the wizard is closed) → ready (the
model loads in the main window; the chat opens with the thinking toggle at the model's default).

The wizard never does slow work on the GUI thread: hardware detection, Hub requests and the
download run on worker threads, and the model loads on the main window's engine thread.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from app.core._util.files import free_bytes
from app.core._util.text import printable
from app.core._util.units import format_bytes
from app.core.chat.reasoning import Toggle
from app.core.engine.backends import EngineInfo, ensure_backends, loaded_engine
from app.core.engine.engine import LoadedModel
from app.core.fit.recommend import Fit, Option
from app.core.hub.catalog import CatalogModel
from app.core.hub.download import already_downloaded
from app.core.hub.library import describe_model, safe_model_path
from app.core.machine.hardware import GpuInfo, HardwareProfile, describe_cpu_features
from app.ui.chat.family_words import family_text
from app.ui.discover.model_chooser import FileChooser, ModelList
from app.ui.library.downloads_panel import DownloadRow
from app.ui.messages import error_text
from app.ui.style import mute, plain_text
from app.ui.translations import core_words
from app.ui.workers.download import DownloadRequest, DownloadWorker
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.ui.session import Session

# RAM and GPU memory are corrected in GiB, the unit every size in the app is shown in
# (`app/core/_util/units.py`); the unit is a symbol, the same in every language.
GIB = 1 << 30
GIB_SUFFIX = "\u00a0GiB"


def _fitting_size(width: int, height: int) -> QSize:
    """`width`×`height`, made smaller where the screen's free area (without panels and docks)
    is: on a 1024×640 screen the wizard's buttons must stay on screen."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return QSize(width, height)
    room = screen.availableGeometry()
    margin = 48  # the title bar and a little air
    return QSize(min(width, room.width() - margin), min(height, room.height() - margin))


class FirstRunWizard(QWizard):
    """The six steps, over the session's machine, downloads and preferences.

    Signals:
        hardware_ready(object): the detected (and corrected) `HardwareProfile`.
        load_requested(object, object): the `Path` of the model to load in the chat and the
            context length chosen for it (None: none was, for a local file); the window loads
            it and answers with `show_model_loaded` or `show_model_failed`.
        model_ready(object): the `LoadedModel` the chat now uses (the wizard can finish).
    """

    hardware_ready = Signal(object)
    load_requested = Signal(object, object)
    model_ready = Signal(object)

    PAGE_WELCOME, PAGE_MACHINE, PAGE_MODEL, PAGE_FILE, PAGE_DOWNLOAD, PAGE_READY = range(6)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._hardware: HardwareProfile | None = None
        self.jobs = Jobs(self)
        self.local_file: Path | None = None  # a file on disk to use instead of a download
        self.download_row: DownloadRow | None = None
        self.setWindowTitle(self.tr("Welcome to Quantdesk"))
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("Start chatting"))
        self.resize(_fitting_size(900, 640))
        self.welcome_page = WelcomePage(self)
        self.setPage(self.PAGE_WELCOME, self.welcome_page)
        self.machine_page = MachinePage(self)
        self.setPage(self.PAGE_MACHINE, self.machine_page)
        self.model_page = ModelPage(self)
        self.setPage(self.PAGE_MODEL, self.model_page)
        prefs = session.preferences
        self.file_page = FilePage(
            self,
            session.models_dir,
            context=prefs.chooser_context_or_default,
            goal=prefs.chooser_goal,
        )
        self.setPage(self.PAGE_FILE, self.file_page)
        self.download_page = DownloadPage(self)
        self.setPage(self.PAGE_DOWNLOAD, self.download_page)
        self.ready_page = ReadyPage(self)
        self.setPage(self.PAGE_READY, self.ready_page)
        session.hardware_changed.connect(self._set_detected)
        session.hardware_failed.connect(self.machine_page.show_error)
        session.models_dir_changed.connect(self.file_page.chooser.set_models_dir)

    # --- hardware --------------------------------------------------------------------------------

    def detect_hardware(self) -> None:
        """The session detects the machine (once, off the GUI thread); `hardware_ready`
        follows."""
        self.session.detect_hardware()

    @Slot(object)
    def _set_detected(self, profile: HardwareProfile) -> None:
        self._hardware = profile
        self.hardware_ready.emit(profile)

    def correct_hardware(self, *, ram_bytes: int | None, vram_bytes: dict[int, int]) -> None:
        """Apply and remember what the person corrected on the machine page."""
        detected = self.session.detected_hardware
        if detected is None:
            return
        overrides: dict[str, object] = {}
        if ram_bytes and ram_bytes != detected.ram_bytes:
            overrides["ram_bytes"] = ram_bytes
        changed = {
            str(i): v
            for i, v in vram_bytes.items()
            if i < len(detected.gpus) and v != detected.gpus[i].vram_bytes
        }
        if changed:
            overrides["vram_bytes"] = changed
        self.session.update_preferences(hardware_overrides=overrides)
        self._hardware = self.session.hardware

    @property
    def hardware(self) -> HardwareProfile | None:
        return self._hardware

    # --- the model -------------------------------------------------------------------------------

    def model_path(self) -> Path | None:
        """The file to load: the local file, or the chosen option's first file on disk."""
        if self.local_file is not None:
            return self.local_file
        option = self.file_page.chooser.selected_option
        model = self.model_page.model_list.selected
        if option is None or model is None:
            return None
        return safe_model_path(self.session.models_dir, model.repo_id, option.files[0])

    def chosen_context(self) -> int | None:
        """The context length the file was chosen for (what the fit was worked out at), or
        None for a local file (nothing was chosen)."""
        if self.local_file is not None:
            return None
        chooser = self.file_page.chooser
        return chooser.recommendation.context if chooser.recommendation else chooser.context

    def start_loading(self) -> None:
        path = self.model_path()
        if path is not None:
            self.load_requested.emit(path, self.chosen_context())

    @Slot(str, int)
    def remember_terms(self, goal: str, context: int) -> None:
        """Remembered across restarts; the curated models' badges follow (seen going Back)."""
        self.session.update_preferences(chooser_goal=goal, chooser_context=context)
        if self._hardware is not None:
            self.model_page.model_list.fit_to(self._hardware, goal=goal, context=context)

    @Slot(object)
    def show_model_loaded(self, model: LoadedModel) -> None:
        if self.currentId() == self.PAGE_READY:
            self.ready_page.show_loaded(model)
            self.model_ready.emit(model)

    @Slot(object)
    def show_model_failed(self, error: Exception) -> None:
        if self.currentId() == self.PAGE_READY:
            self.ready_page.show_failed(error)

    def shutdown(self) -> None:
        """End the wizard's worker threads (a running download goes on in the Downloads page)."""
        self.jobs.shutdown()
        self.model_page.model_list.shutdown()
        self.file_page.chooser.shutdown()

    def done(self, result: int) -> None:
        """QWizard's: the dialog closes at once; a Hub call still running (a search, a repo's
        facts) is handed to the session, which waits for it only when the app closes."""
        heir = self.session.jobs
        self.jobs.hand_over(heir)
        self.model_page.model_list.hand_over(heir)
        self.file_page.chooser.hand_over(heir)
        super().done(result)


class WelcomePage(QWizardPage):
    """What is about to happen, in three steps, and what it needs (disk space, time)."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(self.tr("Run a language model on this computer"))
        self.setSubTitle(
            self.tr(
                "Quantdesk finds the right version of a model for your machine, downloads it, "
                "and lets you chat with it. Everything runs here: your conversations never "
                "leave this computer."
            )
        )
        steps_title = QLabel(self.tr("<b>What happens next</b>"))
        self.steps = [
            self.tr(
                "1. Your machine: Quantdesk looks at your memory, graphics card and processor, "
                "and you can correct what it finds."
            ),
            self.tr(
                "2. A model: pick one of the recommended models, search Hugging Face, or use a "
                "model file you already have. Quantdesk stars the file that suits your machine "
                "and says why."
            ),
            self.tr(
                "3. Download and chat: the file is downloaded and checked, then loaded, and the "
                "chat opens."
            ),
        ]
        needs_title = QLabel(self.tr("<b>What you need</b>"))
        self.needs = [
            self.tr(
                "• Free disk space for the model: most files are 1 to 10 GiB, and each file's size "
                "is shown before anything is downloaded."
            ),
            self.tr(
                "• An internet connection for the download (only for it: chatting works offline), "
                "and a few minutes to an hour, depending on your connection and the model."
            ),
        ]
        self.space = plain_text(QLabel())  # a folder path, as written
        self.space.setWordWrap(True)
        mute(self.space)
        layout = QVBoxLayout(self)
        layout.addWidget(steps_title)
        for text in self.steps:
            layout.addWidget(_wrapped(text))
        layout.addSpacing(12)
        layout.addWidget(needs_title)
        for text in self.needs:
            layout.addWidget(_wrapped(text))
        layout.addWidget(self.space)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        # Asking the disk can take a moment on a network folder: on a task thread.
        folder = self._wizard.session.models_dir
        task = TaskWorker(lambda: free_bytes(folder), name="free space")
        task.finished.connect(self._show_space)
        self._wizard.jobs.start(task)

    @Slot(object)
    def _show_space(self, free: int) -> None:
        self.space.setText(
            self.tr("You have {free} free for models in {folder}.").format(
                free=format_bytes(free), folder=self._wizard.session.models_dir
            )
        )


def _wrapped(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class MachinePage(QWizardPage):
    """What was detected, in plain words, with RAM and VRAM correctable by hand."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(self.tr("Your machine"))
        self.setSubTitle(self.tr("What Quantdesk found. Correct anything it got wrong."))
        self.summary = QLabel(self.tr("Looking at your hardware…"))
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.ram = QDoubleSpinBox()
        self.ram.setRange(1, 4096)
        self.ram.setSuffix(GIB_SUFFIX)
        self.ram.setDecimals(1)
        self.ram.setMaximumWidth(140)
        self.form = QFormLayout()
        self.form.addRow(self.tr("Memory (RAM)"), self.ram)
        self.vram: list[QDoubleSpinBox] = []
        self.note = plain_text(QLabel())
        self.note.setWordWrap(True)
        mute(self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self.form)
        layout.addWidget(self.note)
        layout.addStretch(1)
        wizard.hardware_ready.connect(self._show)
        self._ready = False
        self._machine_text = ""
        self._gpus: tuple[GpuInfo, ...] = ()

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        self._wizard.detect_hardware()

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self._ready

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        self._wizard.correct_hardware(
            ram_bytes=round(self.ram.value() * GIB),
            vram_bytes={i: round(box.value() * GIB) for i, box in enumerate(self.vram)},
        )
        return True

    def _show(self, profile: HardwareProfile) -> None:
        self._machine_text = describe_machine(profile)
        self._gpus = profile.gpus
        engine = loaded_engine()  # detection loaded it on its thread; else load it off the GUI
        if engine is None:
            task = TaskWorker(ensure_backends, name="engine backends")
            task.finished.connect(self._show_engine)
            self._wizard.jobs.start(task)
            self.summary.setText(self._machine_text + "<br>" + self.tr("<b>Engine:</b> checking…"))
        else:
            self._show_engine(engine)
        self.ram.setValue(profile.ram_bytes / GIB)
        for box in self.vram:
            self.form.removeRow(box)
        self.vram = []
        for gpu in profile.gpus:
            box = QDoubleSpinBox()
            box.setRange(0, 1024)
            box.setSuffix(GIB_SUFFIX)
            box.setDecimals(1)
            box.setValue(gpu.vram_bytes / GIB)
            box.setMaximumWidth(140)
            self.form.addRow(self.tr("{gpu} memory").format(gpu=gpu.name), box)
            self.vram.append(box)
        self.note.setText(
            self.tr(
                "Your corrections are remembered. Quantdesk keeps about 1\u00a0GiB of GPU memory free "
                "and leaves some RAM to your other apps."
            )
        )
        self._ready = True
        self.completeChanged.emit()

    @Slot(object)
    def _show_engine(self, engine: EngineInfo) -> None:
        described = engine.describe(self._gpus, core_words("Engine"))
        self.summary.setText(
            self._machine_text
            + "<br>"
            + self.tr("<b>Engine:</b> {engine}").format(engine=html.escape(described))
        )

    def show_error(self, error: Exception) -> None:
        self.summary.setText(
            self.tr("Couldn't detect your hardware ({error}). Enter your memory below.").format(
                error=html.escape(error_text(error))  # the summary is rich text
            )
        )


def describe_machine(profile: HardwareProfile) -> str:
    """The machine in plain words, one line a part, as rich text."""

    lines = [
        QCoreApplication.translate("MachinePage", "<b>Memory:</b> {ram} RAM").format(
            ram=format_bytes(profile.ram_bytes)
        )
    ]
    for gpu in profile.gpus:
        if gpu.engine_usable:
            speed = QCoreApplication.translate("MachinePage", "fast path available")
        else:
            speed = QCoreApplication.translate(
                "MachinePage", "this engine build can't use it yet; the CPU is used"
            )
        if profile.unified_memory:
            line = QCoreApplication.translate(
                "MachinePage", "<b>GPU:</b> {name}, {vram} (shared with the system) — {speed}"
            )
        else:
            line = QCoreApplication.translate("MachinePage", "<b>GPU:</b> {name}, {vram} — {speed}")
        lines.append(
            line.format(
                name=html.escape(printable(gpu.name)),
                vram=format_bytes(gpu.vram_bytes),
                speed=speed,
            )
        )
    if not profile.gpus:
        lines.append(
            QCoreApplication.translate(
                "MachinePage", "<b>GPU:</b> none found — models run on the CPU"
            )
        )
    cpu = profile.cpu
    lines.append(
        QCoreApplication.translate(
            "MachinePage", "<b>CPU:</b> {name}, {cores} cores — {features}"
        ).format(
            name=html.escape(printable(cpu.model or cpu.arch)),
            cores=cpu.cores,
            features=html.escape(describe_cpu_features(cpu, core_words("Machine"))),
        )
    )
    return "<br>".join(lines)


class ModelPage(QWizardPage):
    """The curated list, Hub search, or a .gguf file already on this computer."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(self.tr("Choose a model"))
        self.setSubTitle(
            self.tr("Pick one of these, search Hugging Face, or use a file you already have.")
        )
        self.model_list = ModelList(wizard.session.paths_with_models_dir)
        self.model_list.model_selected.connect(self._on_selected)
        self.model_list.import_requested.connect(self.use_local_file)
        layout = QVBoxLayout(self)
        layout.addWidget(self.model_list)

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        # The machine is known by now (its page waits for it): say how each curated model fits
        # it, for the goal and context the file page will use, and preselect the one that suits.
        hardware = self._wizard.hardware
        if hardware is not None:
            chooser = self._wizard.file_page.chooser
            self.model_list.fit_to(hardware, goal=chooser.fit_goal, context=chooser.context)

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self.model_list.selected is not None or self._wizard.local_file is not None

    def nextId(self) -> int:  # noqa: N802 - Qt's name
        if self._wizard.local_file is not None:
            return FirstRunWizard.PAGE_READY  # nothing to choose or download
        return FirstRunWizard.PAGE_FILE

    def _on_selected(self, _model: CatalogModel | None) -> None:
        self._wizard.local_file = None
        self.completeChanged.emit()

    def use_local_file(self, path: Path) -> None:
        """Use a `.gguf` already on this computer: straight to loading it."""
        self._wizard.local_file = Path(path)
        self.completeChanged.emit()
        self._wizard.next()


class FilePage(QWizardPage):
    """Which file of the chosen model, fitted to this machine."""

    def __init__(
        self, wizard: FirstRunWizard, models_dir: Path, *, context: int, goal: str
    ) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle(self.tr("Choose the file"))
        self.setSubTitle(
            self.tr(
                "Models come in several sizes (quantizations). The one marked ★ fits your "
                'machine best; below the table, one line says why and "Why this file?" '
                "shows the details."
            )
        )
        self.chooser = FileChooser(models_dir, HardwareProfile.empty(), context=context, goal=goal)
        self.chooser.selection_changed.connect(lambda _o: self.completeChanged.emit())
        self.chooser.terms_changed.connect(wizard.remember_terms)
        layout = QVBoxLayout(self)
        layout.addWidget(self.chooser)

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        if self._wizard.hardware is not None:
            self.chooser.set_hardware(self._wizard.hardware)
        model = self._wizard.model_page.model_list.selected
        if model is not None:
            self.chooser.show_repo(model.repo_id)

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        option = self.chooser.selected_option
        return option is not None and option.fit != Fit.TOO_LARGE

    def nextId(self) -> int:  # noqa: N802 - Qt's name
        path = self._wizard.model_path()
        option = self.chooser.selected_option
        if path is not None and option is not None and _already_downloaded(path, option):
            return FirstRunWizard.PAGE_READY
        return FirstRunWizard.PAGE_DOWNLOAD


def _already_downloaded(path: Path, option: Option) -> bool:
    # The downloader's own rule for "this file is here already" (shards are left to it).
    return len(option.files) == 1 and already_downloaded(path, option.size_bytes)


class DownloadPage(QWizardPage):
    """The real download, with progress, speed, time left, pause and cancel."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._done = False
        self._worker: DownloadWorker | None = None
        self.setTitle(self.tr("Downloading"))
        self.setSubTitle(
            self.tr(
                "The file is checked against Hugging Face's checksum when it arrives. You can "
                "close this window: the download goes on in Downloads."
            )
        )
        # The row has "Cancel download"; the wizard's own Cancel only closes the wizard here
        # (the download goes on), so it says so, and the page has one Cancel.
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("Close"))
        self.layout_ = QVBoxLayout(self)
        self.status = plain_text(QLabel())  # model names and errors, as written
        self.status.setWordWrap(True)
        self.layout_.addWidget(self.status)
        self.layout_.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        self._done = False
        model = self._wizard.model_page.model_list.selected
        option = self._wizard.file_page.chooser.selected_option
        if model is None or option is None:
            return
        # The session's downloads: the Downloads page shows it too, and picking the same file
        # again joins the download already running.
        request = DownloadRequest.for_option(model.repo_id, option)
        self._watch(self._wizard.session.downloads.start(request))

    def _watch(self, worker: DownloadWorker) -> None:
        if worker is self._worker:
            return  # back and forth to the same running download: already shown
        if self._wizard.download_row is not None:
            self._wizard.download_row.hide()
        self._worker = worker
        row = DownloadRow(worker)
        self._wizard.download_row = row
        self.layout_.insertWidget(0, row)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self.status.setText(self.tr("Downloading {name}…").format(name=worker.label))

    @Slot(object)
    def _on_finished(self, _result: object) -> None:
        self._done = True
        self.status.setText(self.tr("Downloaded and verified."))
        self.completeChanged.emit()
        if self._wizard.currentPage() is self:
            self._wizard.next()

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self.status.setText(
            error_text(error) + " " + self.tr("Go back to try again or choose another file.")
        )

    @Slot()
    def _on_cancelled(self) -> None:
        self.status.setText(self.tr("Cancelled. Go back to choose another file."))

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self._done


class ReadyPage(QWizardPage):
    """Loads the model in the main window and says when the chat is ready."""

    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._loaded = False
        self.setTitle(self.tr("Getting ready"))
        self.setSubTitle(self.tr("Loading the model into memory, then the chat opens."))
        self.status = plain_text(QLabel())  # model names and errors, as written
        self.status.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # loading reports no steps: a busy indicator
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt's name
        self._loaded = False
        path = self._wizard.model_path()
        self.status.setText(
            self.tr("Loading {name} into memory…").format(name=path.name if path else "")
        )
        self.busy.show()
        self._wizard.start_loading()

    def show_loaded(self, model: LoadedModel) -> None:
        self._loaded = True
        self.busy.hide()
        thinking = model.thinking
        if thinking.can_think:
            mode = self.tr("on") if thinking.default_on else self.tr("off")
            extra = self.tr(" Thinking starts {mode}; switch it next to Send.").format(mode=mode)
        elif thinking.toggle == Toggle.DISABLED and thinking.note:  # a base model: say why
            extra = " " + family_text(thinking.note)
        else:
            extra = ""
        self.status.setText(
            self.tr("{name} is ready ({ctx:,} tokens of context).").format(
                # The library's name (catalog or repo), never the free text inside the file.
                name=describe_model(self._wizard.session.paths_with_models_dir(), model.path).label,
                ctx=model.context_length,
            )
            + extra
        )
        self.completeChanged.emit()

    def show_failed(self, error: Exception) -> None:
        self.busy.hide()
        self.status.setText(
            error_text(error) + " " + self.tr("Go back to choose another model or file.")
        )

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self._loaded
