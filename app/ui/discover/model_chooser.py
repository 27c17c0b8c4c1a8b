"""Choosing a model, then a file of it: shared by the first-run wizard and the Discover page.

`ModelList` shows the curated models (offline, each with how it fits this machine, the one that
suits it preselected) and Hugging Face search; `FileChooser` gets a repo's facts once (on a
worker thread: a curated model's ship with the app, other repos' come from the Hub), then re-fits
every file on this machine as the goal or the context length change — pure arithmetic, instant.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QEvent, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core._util.units import format_bytes, format_percent
from app.core.engine.projection import Projection
from app.core.errors import OfflineError
from app.core.fit.measured import NO_CORRECTION, Correction, LoadTable, measured_correction
from app.core.fit.reasons import explain, nothing_fits, speed_sentence, speed_words
from app.core.fit.recommend import Fit, Goal, Option, Recommendation
from app.core.fit.repo_facts import (
    FactsSource,
    RepoFacts,
    advise,
    curated_picks,
    repo_facts,
    suited_model,
)
from app.core.fit.speed import SpeedContext, SpeedRange, option_speed, speed_context
from app.core.hub.catalog import CatalogModel, curated_models, search_gguf_repos
from app.core.hub.library import LocalModel
from app.core.machine.hardware import HardwareProfile
from app.core.paths import AppPaths, app_paths
from app.core.remote.workers import WorkerProbe, answering_workers
from app.ui.library.add_model import AddModelDialog
from app.ui.messages import error_text
from app.ui.style import (
    fit_color,
    fit_words,
    mute,
    muted_color,
    phrase_text,
    plain_text,
    plain_tooltip,
    translated_columns,
)
from app.ui.translations import content_language, core_words
from app.ui.widgets.expander import Expander
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

log = logging.getLogger(__name__)

_MODEL_ROLE = Qt.ItemDataRole.UserRole
CONTEXT_STEPS = (2048, 4096, 8192, 16384, 32768, 65536, 131072)


class ModelList(QWidget):
    """The curated models, Hugging Face search, and importing a local file.

    Signals:
        model_selected(object): the chosen `CatalogModel` (None when the selection is cleared).
        import_requested(object): the `Path` of a model file the person added to the library
            ("Add a model file…").
        search_finished(): a search ended (found, empty or failed; the list says which).
    """

    model_selected = Signal(object)
    import_requested = Signal(object)
    search_finished = Signal()

    def __init__(self, library: Callable[[], AppPaths] = app_paths) -> None:
        """`library`: the folders the library is in now (the session's models folder)."""
        super().__init__()
        self._library = library
        self.add_dialog: AddModelDialog | None = None
        self._jobs = Jobs(self)
        self._searching = False
        self._query = ""
        self._shown: list[CatalogModel] = []
        self._picks: dict[str, Option | None] = {}  # each curated model's file for this machine
        self._suggested: str | None = None  # the curated model that suits this machine
        # The suggestion is preselected once, in the first curated list; after a search the
        # person picks (nothing is selected behind their back).
        self._may_preselect = True
        self.search_box = SearchBox()
        self.search_box.setPlaceholderText(self.tr("Search Hugging Face for GGUF models"))
        self.search_box.returnPressed.connect(self.search)
        self.search_button = QPushButton(self.tr("Search"))
        self.search_button.clicked.connect(self.search)
        self.import_button = QPushButton(self.tr("Add a model file…"))
        self.import_button.setToolTip(self.tr("Use a .gguf file that is already on this computer"))
        self.import_button.clicked.connect(self._choose_file)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.currentItemChanged.connect(self._on_current_changed)
        # A selected entry is drawn on the selection colour: its lines change colour with it.
        self.list.itemSelectionChanged.connect(self._label_entries)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.viewport().installEventFilter(self)
        self.message = QLabel()
        self.message.setWordWrap(True)
        mute(self.message)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_box, 1)
        search_row.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(search_row)
        layout.addWidget(self.message)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.import_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.show_curated()

    def show_curated(self) -> None:
        self._fill(
            curated_models(content_language()),
            self.tr(
                "Recommended models (they can be chosen offline; downloading needs the internet):"
            ),
        )

    def fit_to(self, profile: HardwareProfile, *, goal: str, context: int) -> None:
        """Say how each curated model fits `profile` (its recommended file for `goal` at
        `context` tokens) and, the first time, preselect the one that suits it."""
        curated = curated_models(content_language())
        self._picks = curated_picks(curated, profile, goal=goal, context=context)
        self._suggested = suited_model(curated, self._picks)
        self._label_entries()  # the person's pick, if any, stays selected
        if (
            self._may_preselect
            and self.selected is None
            and self._suggested is not None
            and self._shown_curated()
        ):
            self.select_repo(self._suggested)
        self._may_preselect = False

    @property
    def suggested(self) -> str | None:
        """The repo of the curated model that suits this machine (None: unknown or none)."""
        return self._suggested

    def _shown_curated(self) -> bool:
        return bool(self._shown) and all(model.curated for model in self._shown)

    @Slot()
    def search(self) -> None:
        """Search the Hub on a worker thread; an empty query shows the curated list again."""
        query = self.search_box.text().strip()
        if not query:
            self.show_curated()
            return
        if self._searching:
            return
        self._searching = True
        self._may_preselect = False
        self._clear_selection()  # a new search never keeps the old pick behind the person's back
        self.message.setText(self.tr("Searching Hugging Face for “{q}”…").format(q=query))
        self.search_button.setEnabled(False)
        self._query = query
        task = TaskWorker(lambda: search_gguf_repos(query), name="hub search")
        # Bound methods of this widget, never lambdas: a lambda would run on the worker thread.
        task.finished.connect(self._on_searched)
        task.failed.connect(self._on_search_failed)
        self._jobs.start(task)

    @Slot(object)
    def _on_searched(self, found: list[CatalogModel]) -> None:
        query = self._query
        self._end_search()
        if found:
            self._fill(found, self.tr("GGUF models matching “{q}”:").format(q=query))
        else:
            self._fill([], self.tr("No GGUF models match “{q}”.").format(q=query))
        self.search_finished.emit()

    @Slot(object)
    def _on_search_failed(self, error: Exception) -> None:
        self._end_search()
        if isinstance(error, OfflineError):
            text = self.tr(
                "Hugging Face can't be reached, so search is off. The recommended models below "
                "and files on this computer still work."
            )
        else:
            text = error_text(error)
        self._fill(curated_models(content_language()), text)
        self.search_finished.emit()

    def _end_search(self) -> None:
        self.search_button.setEnabled(True)
        self._searching = False

    def _clear_selection(self) -> None:
        """No model selected (`model_selected(None)` follows if one was)."""
        self.list.setCurrentRow(-1)
        self.list.clearSelection()

    def _fill(self, models: list[CatalogModel], message: str) -> None:
        self.message.setText(message)
        self._clear_selection()
        self.list.clear()
        self._shown = list(models)
        for model in models:
            item = QListWidgetItem()
            item.setData(_MODEL_ROLE, model)
            item.setToolTip(plain_tooltip(model.repo_id))
            self.list.addItem(item)
            label = QLabel()
            label.setContentsMargins(6, 4, 6, 4)
            label.setWordWrap(True)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.list.setItemWidget(item, label)
        self._label_entries()

    def _label_entries(self) -> None:
        """Write each entry's label and screen-reader text (the badges change with the fit)."""
        muted = muted_color(self.list)
        selected_text = self.list.palette().color(QPalette.ColorRole.HighlightedText)
        for row in range(self.list.count()):
            item = self.list.item(row)
            model: CatalogModel = item.data(_MODEL_ROLE)
            badge = self._badge(model)
            # The item's own text stays plain (for search and accessibility); a label shows it.
            text = "\n".join(
                part
                for part in (
                    model.name,
                    model.one_line(core_words("Catalog")),
                    badge,
                    model.summary,
                )
                if part
            )
            item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
            label = self.list.itemWidget(item)
            if isinstance(label, QLabel):
                fit = self._fit_of(model)
                if item.isSelected():  # on the selection's colour, every line in its text colour
                    label.setText(_model_html(model, selected_text, badge, fit, selected_text))
                else:
                    color = fit_color(fit, self.list) if fit is not None else None
                    label.setText(_model_html(model, muted, badge, fit, color))
        self._fit_item_heights()

    def _fit_of(self, model: CatalogModel) -> Fit | None:
        if model.repo_id not in self._picks:
            return None  # not fitted: the machine isn't known yet, or not a curated repo
        pick = self._picks[model.repo_id]
        return pick.fit if pick is not None else Fit.TOO_LARGE

    def _badge(self, model: CatalogModel) -> str:
        """How `model` fits this machine, in words ("" when that isn't known)."""
        fit = self._fit_of(model)
        if fit is None:
            return ""
        pick = self._picks[model.repo_id]
        if pick is None:
            return self.tr("{fit}: no file of it fits this machine.").format(fit=fit_words(fit))
        size = format_bytes(pick.size_bytes).replace(" ", "\u00a0")  # never "2.8" / "GB"
        if model.repo_id == self._suggested:
            return self.tr("{fit} with {quant} ({size}). Suggested for this machine.").format(
                fit=fit_words(fit), quant=pick.quant, size=size
            )
        return self.tr("{fit} with {quant} ({size}).").format(
            fit=fit_words(fit), quant=pick.quant, size=size
        )

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        # A theme switch: the entries name their secondary color in rich text, so write them
        # again in the new one (else a light theme's grey stays on a dark list).
        if event.type() == QEvent.Type.PaletteChange:
            self._label_entries()
        super().changeEvent(event)

    def item_texts(self) -> list[str]:
        """Each entry's text as a screen reader gets it."""
        role = Qt.ItemDataRole.AccessibleTextRole
        return [self.list.item(row).data(role) for row in range(self.list.count())]

    def _fit_item_heights(self) -> None:
        # Word-wrapped labels report a generous size hint: ask for the height at list width.
        width = max(200, self.list.viewport().width() - 4)
        for row in range(self.list.count()):
            item = self.list.item(row)
            label = self.list.itemWidget(item)
            if label is not None:
                item.setSizeHint(QSize(width, label.heightForWidth(width) + 2))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.list.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_item_heights()
        return super().eventFilter(watched, event)

    def select_repo(self, repo_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_MODEL_ROLE).repo_id == repo_id:
                self.list.setCurrentRow(row)
                return

    @property
    def selected(self) -> CatalogModel | None:
        item = self.list.currentItem()
        return item.data(_MODEL_ROLE) if item is not None else None

    @Slot()
    def _choose_file(self) -> AddModelDialog:
        """ "Add a model file…", as everywhere: the file joins the library, then is used."""
        if self.add_dialog is not None:
            self.add_dialog.shutdown()
            self.add_dialog.deleteLater()
        dialog = AddModelDialog(self._library(), self)
        dialog.added.connect(self._on_added)
        self.add_dialog = dialog
        dialog.open()
        return dialog

    @Slot(object)
    def _on_added(self, model: LocalModel) -> None:
        self.import_requested.emit(model.path)

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self.model_selected.emit(current.data(_MODEL_ROLE) if current is not None else None)

    def shutdown(self) -> None:
        if self.add_dialog is not None:
            self.add_dialog.shutdown()
        self._jobs.shutdown()

    def hand_over(self, heir: Jobs) -> None:
        """A closing dialog: the running search goes to `heir`, unwaited (see Jobs.hand_over)."""
        self._jobs.hand_over(heir)


class SearchBox(QLineEdit):
    """A search field where Enter searches (`returnPressed`) and goes no further: in a dialog,
    the key would otherwise go on to press the default button (the wizard's Next)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


def _model_html(
    model: CatalogModel,
    muted: QColor,
    badge: str = "",
    fit: Fit | None = None,
    fit_shade: QColor | None = None,
) -> str:
    """The entry as rich text; its one-line facts in `muted`, the theme's secondary text, and
    how it fits this machine (`badge`) in `fit_shade`, the fit's colour, as the file table
    shows fits."""
    summary = f"<br>{html.escape(model.summary)}" if model.summary else ""
    fits = (
        f"<br><span style='color:{fit_shade.name()}'>{html.escape(badge)}</span>"
        if badge and fit is not None and fit_shade is not None
        else ""
    )
    facts = html.escape(model.one_line(core_words("Catalog")))
    return (
        f"<b>{html.escape(model.name)}</b> &nbsp;<small>{html.escape(model.repo_id)}</small><br>"
        f"<span style='color:{muted.name()}'>{facts}</span>{fits}{summary}"
    )


class FileChooser(QWidget):
    """Every GGUF file of a repo fitted to this machine, with the recommended one selected.

    Signals:
        facts_ready(): the repo's facts arrived and the table is filled.
        facts_failed(object): they couldn't be fetched (the message is shown).
        selection_changed(object): the selected `Option`, or None.
        terms_changed(str, int): the person chose another goal or context length (the goal's
            value, the tokens).
    """

    facts_ready = Signal()
    facts_failed = Signal(object)
    selection_changed = Signal(object)
    terms_changed = Signal(str, int)
    COLUMNS = (
        QT_TRANSLATE_NOOP("FileChooser", "Quant"),
        QT_TRANSLATE_NOOP("FileChooser", "File size"),
        QT_TRANSLATE_NOOP("FileChooser", "Needs"),
        QT_TRANSLATE_NOOP("FileChooser", "Fit"),
        QT_TRANSLATE_NOOP("FileChooser", "GPU layers"),
        QT_TRANSLATE_NOOP("FileChooser", "Quality"),
        QT_TRANSLATE_NOOP("FileChooser", "Speed"),
    )

    def __init__(
        self,
        models_dir: Path,
        hardware: HardwareProfile,
        *,
        context: int,
        goal: Goal | str = Goal.FASTEST,
    ) -> None:
        """`context`, `goal`: what to fit files for at first (the person's last choice)."""
        super().__init__()
        self._models_dir = models_dir
        self._hardware = hardware
        self._facts: RepoFacts | None = None
        self._jobs = Jobs(self)
        self._request = 0  # the latest fetch; results of older ones are dropped
        self.recommendation: Recommendation | None = None
        # This machine's speed facts (bandwidths, benchmarks), gathered off the GUI thread
        # for each new machine; the speeds of the options in the table, row by row.
        self._speed: SpeedContext | None = None
        # What this machine's measured loads put on the estimates (gathered with the speeds).
        self._correction = NO_CORRECTION
        # llama.cpp's dry run of the shown repo's model on this machine (None: the formula).
        self._projection: Projection | None = None
        self._speed_request = 0
        self.speeds: list[SpeedRange | None] = []
        # Other computers (Settings) as last probed: a file too large here may split to them.
        self._worker_addresses: tuple[str, ...] = ()
        self._workers: tuple[WorkerProbe, ...] = ()
        # The person's default is always a stop, so the first fit is at exactly that length,
        # as `quantdesk recommend` and the chat use it.
        self._steps = tuple(sorted({*CONTEXT_STEPS, context}))
        self._build(context, Goal(goal))

    def _build(self, context: int, goal: Goal) -> None:
        self.title = plain_text(QLabel())  # repo ids and Hub errors, as written
        self.title.setWordWrap(True)
        self.goal = QComboBox()
        self.goal.addItem(self.tr("Fastest"), Goal.FASTEST)
        self.goal.addItem(self.tr("Best quality"), Goal.QUALITY)
        self.goal.setCurrentIndex(self.goal.findData(goal))
        self.goal.currentIndexChanged.connect(self._on_terms_chosen)
        self.context_slider = QSlider(Qt.Orientation.Horizontal)
        self.context_slider.setRange(0, len(self._steps) - 1)
        self.context_slider.setPageStep(1)
        self.context_slider.setValue(self._steps.index(context))
        self.context_slider.valueChanged.connect(self._on_terms_chosen)
        self.context_label = QLabel()
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(translated_columns("FileChooser", self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setColumnHidden(GPU_LAYERS_COLUMN, not self._hardware.has_usable_gpu)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # Tab leaves the table (rows are picked with the arrow keys) for "Why this file?".
        self.table.setTabKeyNavigation(False)
        self.table.itemSelectionChanged.connect(self._on_selection)
        # The selected file in one plain sentence; the rules and numbers behind it in `why`.
        self.summary = plain_text(QLabel())
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # How fast replies would come, in words per second (and a warning when slow to read).
        self.speed_line = plain_text(QLabel())
        self.speed_line.setWordWrap(True)
        self.speed_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        controls = QHBoxLayout()
        controls.addWidget(QLabel(self.tr("Goal:")))
        controls.addWidget(self.goal)
        controls.addSpacing(16)
        controls.addWidget(QLabel(self.tr("Context:")))
        controls.addWidget(self.context_slider, 1)
        controls.addWidget(self.context_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(controls)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.speed_line)
        self.why = Expander(self.tr("Why this file?"), self)
        layout.addWidget(self.why)
        self._update_context_label()

    @property
    def context(self) -> int:
        return self._steps[self.context_slider.value()]

    @property
    def fit_goal(self) -> Goal:
        return Goal(self.goal.currentData())

    @Slot()
    def _on_terms_chosen(self) -> None:
        self.refit()
        self.terms_changed.emit(str(self.fit_goal), self.context)

    @property
    def facts(self) -> RepoFacts | None:
        return self._facts

    @Slot(object)
    def set_hardware(self, hardware: HardwareProfile) -> None:
        self._hardware = hardware
        # No GPU the engine can use: a column of GPU layers would only say "—".
        self.table.setColumnHidden(GPU_LAYERS_COLUMN, not hardware.has_usable_gpu)
        self._gather_speed_facts(hardware)
        self.refit()

    def set_workers(self, addresses: tuple[str, ...]) -> None:
        """Other computers a file may be split across (Settings → Other computers): probed on
        a task thread, then every file is fitted again with their memory."""
        if addresses == self._worker_addresses:
            return
        self._worker_addresses = addresses
        if not addresses:
            self._workers = ()
            self.refit()
            return
        task = _WorkersJob(addresses)
        task.finished.connect(self._on_workers_probed)
        self._jobs.start(task)

    @Slot(object)
    def _on_workers_probed(self, probes: tuple[WorkerProbe, ...]) -> None:
        job = self.sender()
        if not isinstance(job, _WorkersJob) or job.addresses != self._worker_addresses:
            return  # probed for a list since changed
        self._workers = probes
        self.refit()

    def _gather_speed_facts(self, hardware: HardwareProfile) -> None:
        """Measure (once per machine, then cached) the RAM's bandwidth and read the stored speed
        tests on a worker thread; the table gains its speeds when that ends."""
        self._speed_request += 1
        if hardware.ram_bytes <= 0:  # nothing known yet (before detection ends)
            return
        paths = app_paths()
        task = _SpeedJob(self._speed_request, lambda: _machine_facts(hardware, paths))
        task.finished.connect(self._on_speed_facts)
        self._jobs.start(task)

    @Slot(object)
    def _on_speed_facts(self, facts: tuple[SpeedContext, Correction]) -> None:
        job = self.sender()
        if not isinstance(job, _SpeedJob) or job.request != self._speed_request:
            return  # gathered for a machine no longer shown
        self._speed, correction = facts
        if correction != self._correction:  # this machine's loads move the estimates
            self._correction = correction
            self.refit()
            return
        self._show_speeds()

    def _show_speeds(self) -> None:
        """Fill the Speed column and line of the table as it stands (no refit: the fit is
        unchanged, and refitting every file again would hold the window up)."""
        recommendation = self.recommendation
        if recommendation is None:
            return
        self.speeds = [self._option_speed(option) for option in recommendation.options]
        for row, speed in enumerate(self.speeds):
            item = self.table.item(row, SPEED_COLUMN)
            if item is not None:
                item.setText(phrase_text(speed_words(speed)) if speed else "—")
        self._show_speed_line(self.selected_option)

    def _show_speed_line(self, option: Option | None) -> None:
        """How fast replies with `option` would come (nothing when unknown)."""
        recommendation = self.recommendation
        speed = None
        if option is not None and recommendation is not None and self.speeds:
            speed = self.speeds[recommendation.options.index(option)]
        if speed is None or recommendation is None:
            self.speed_line.clear()
        else:
            self.speed_line.setText(phrase_text(speed_sentence(speed, goal=recommendation.goal)))

    @Slot(object)
    def set_models_dir(self, folder: Path) -> None:
        """The models folder moved: "already downloaded" is judged against the new one."""
        self._models_dir = Path(folder)

    def show_repo(self, repo_id: str) -> None:
        """Fetch `repo_id`'s files and header on a worker thread, then fill the table. Never
        waits: a fetch still running for an earlier pick goes on, and its result is dropped."""
        if self._facts is not None and self._facts.repo_id == repo_id:
            self.refit()
            self.facts_ready.emit()
            return
        self._facts = None
        self.recommendation = None
        self.table.setRowCount(0)
        self._explain(None)
        self.title.setText(self.tr("Reading {repo} on Hugging Face…").format(repo=repo_id))
        self._request += 1
        models_dir, hardware, context = self._models_dir, self._hardware, self.context
        task = _FactsJob(
            self._request, lambda: _facts_and_projection(repo_id, models_dir, hardware, context)
        )
        task.finished.connect(self._on_facts)
        task.failed.connect(self._on_facts_failed)
        self._jobs.start(task)

    def clear(self) -> None:
        """Show no repo (no model is selected); a fetch still running is dropped when it ends."""
        self._request += 1
        self._facts = None
        self.recommendation = None
        self.table.setRowCount(0)
        self._explain(None)
        self.title.setText(self.tr("Pick a model to see its files."))
        self.selection_changed.emit(None)

    def _is_latest(self) -> bool:
        """The signal being handled comes from the latest fetch (not one the person moved on
        from)."""
        job = self.sender()
        return isinstance(job, _FactsJob) and job.request == self._request

    @Slot(object)
    def _on_facts(self, result: tuple[RepoFacts, Projection | None]) -> None:
        if not self._is_latest():
            return
        facts, self._projection = result
        self._facts = facts
        self.refit()  # first: the title counts the files the table lists
        self.title.setText(self._facts_title(facts))
        self.facts_ready.emit()

    def _facts_title(self, facts: RepoFacts) -> str:
        # The choices the table lists (shards of one model are one choice; files that are not
        # models are not counted), so the number matches the rows a person sees.
        count = len(self.recommendation.options) if self.recommendation else 0
        files = self.tr("one file") if count == 1 else self.tr("%n files", "", count)
        if facts.source is FactsSource.SHIPPED:
            text = self.tr(
                "{repo}: {files}, as listed in Quantdesk (no internet needed to choose). "
                "Estimates are for this machine."
            )
        elif facts.source is FactsSource.SAVED:
            text = self.tr(
                "{repo}: {files}, as saved when Hugging Face was last reached (it can't be "
                "reached now). Estimates are for this machine."
            )
        else:
            text = self.tr("{repo}: {files}. Estimates are for this machine.")
        return text.format(repo=facts.repo_id, files=files)

    @Slot(object)
    def _on_facts_failed(self, error: Exception) -> None:
        if not self._is_latest():
            return
        self.title.setText(error_text(error))
        self.facts_failed.emit(error)

    @Slot()
    def refit(self) -> None:
        """Fit every file again for the current goal and context; select the pick."""
        self._update_context_label()
        if self._facts is None:
            return
        self.recommendation = advise(
            self._facts,
            self._hardware,
            goal=self.goal.currentData(),
            context=self.context,
            # llama.cpp's plan stands for the context it was made at; another is the formula's.
            projection=self._projection,
            correction=self._correction,
            workers=self._workers,
        )
        self._fill_table(self.recommendation)

    def _fill_table(self, recommendation: Recommendation) -> None:
        self.table.blockSignals(True)
        self.speeds = [self._option_speed(option) for option in recommendation.options]
        self.table.setRowCount(len(recommendation.options))
        pick_row = -1
        for row, option in enumerate(recommendation.options):
            if option is recommendation.pick:
                pick_row = row
            quant = option.quant or self.tr("unknown")
            mark = "★ " if option is recommendation.pick else ""
            cells = [
                mark + quant,
                format_bytes(option.size_bytes),
                format_bytes(option.estimated_bytes),
                fit_words(option.fit),
                str(option.gpu_layers) if option.fit in (Fit.GPU, Fit.PARTIAL) else "—",
                format_percent(option.quality)
                if option.quality is not None
                else self.tr("unknown"),
                phrase_text(speed_words(speed)) if (speed := self.speeds[row]) else "—",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3:
                    item.setForeground(fit_color(option.fit, self.table))
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        if pick_row >= 0:
            self.table.selectRow(pick_row)
            self.table.scrollTo(
                self.table.model().index(pick_row, 0), QAbstractItemView.ScrollHint.PositionAtCenter
            )
        else:
            self.table.clearSelection()
        self._on_selection()

    def _option_speed(self, option: Option) -> SpeedRange | None:
        if self._speed is None or self._facts is None or option.fit == Fit.TOO_LARGE:
            return None
        return option_speed(self._facts.shape, option, self._hardware, self._speed)

    def _update_context_label(self) -> None:
        self.context_label.setText(self.tr("{n:,} tokens").format(n=self.context))

    @property
    def selected_option(self) -> Option | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.recommendation is None:
            return None
        return self.recommendation.options[rows[0].row()]

    @Slot()
    def _on_selection(self) -> None:
        option = self.selected_option
        self._explain(option)
        self.selection_changed.emit(option)

    def _explain(self, option: Option | None) -> None:
        """The plain sentence for `option` under the table, its rules and numbers behind "Why
        this file?"; with nothing selected, why nothing was picked (or nothing at all)."""
        recommendation = self.recommendation
        self._show_speed_line(option)
        if recommendation is None:
            self.summary.clear()
            self.why.set_details([])
            return
        if option is None:
            self.summary.setText(phrase_text(nothing_fits(recommendation)))
            self.why.set_details([])
            return
        explanation = explain(recommendation, option)
        summary = phrase_text(explanation.summary)
        self.summary.setText(
            self.tr("★ Recommended for this machine. {summary}").format(summary=summary)
            if option is recommendation.pick
            else self.tr("Your choice. {summary}").format(summary=summary)
        )
        self.why.set_details([phrase_text(detail) for detail in explanation.details])

    def shutdown(self) -> None:
        self._jobs.shutdown()

    def hand_over(self, heir: Jobs) -> None:
        """A closing dialog: the running fetch goes to `heir`, unwaited (see Jobs.hand_over)."""
        self._jobs.hand_over(heir)


GPU_LAYERS_COLUMN = 4
SPEED_COLUMN = 6


def _facts_and_projection(
    repo_id: str, models_dir: Path, hardware: HardwareProfile, context: int
) -> tuple[RepoFacts, Projection | None]:
    """`repo_id`'s facts and llama.cpp's projection of its model here at `context` tokens (its
    header read from a local copy, or from the Hub when the facts came from there)."""
    facts = repo_facts(repo_id, models_dir)
    if hardware.ram_bytes <= 0:  # the machine isn't known yet: nothing to plan a load on
        return facts, None
    from app.core.fit.dry_run import project_facts

    projection = project_facts(
        facts, hardware, context=context, models_dir=models_dir, cache_dir=app_paths().cache
    )
    return facts, projection


def _machine_facts(hardware: HardwareProfile, paths: AppPaths) -> tuple[SpeedContext, Correction]:
    """This machine's speed facts and the correction its measured loads put on estimates."""
    speeds = speed_context(hardware, data_dir=paths.data, cache_dir=paths.cache)
    return speeds, measured_correction(hardware, LoadTable.in_folder(paths.data))


class _WorkersJob(TaskWorker):
    """Probing the other computers of Settings, for the list they were probed for."""

    def __init__(self, addresses: tuple[str, ...]) -> None:
        super().__init__(lambda: answering_workers(addresses), name="probe workers")
        self.addresses = addresses


class _SpeedJob(TaskWorker):
    """Gathering one machine's speed facts, numbered so that only the latest machine's count."""

    def __init__(
        self, request: int, function: Callable[[], tuple[SpeedContext, Correction]]
    ) -> None:
        super().__init__(function, name="speed facts")
        self.request = request


class _FactsJob(TaskWorker):
    """Fetching one repo's facts, numbered so that only the latest pick's result is shown."""

    def __init__(
        self, request: int, function: Callable[[], tuple[RepoFacts, Projection | None]]
    ) -> None:
        super().__init__(function, name="repo facts")
        self.request = request
