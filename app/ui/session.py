"""The session: the one owner of what the pages share.

Made once at start (`run_app`), handed to `MainWindow`, which builds its pages from it. Pages get
the session (or the parts of it they use), never the window: the preferences (this is their only
writer), the machine (detected once, with the person's corrections), the downloads (one per
file), the engine thread and the chat store. Views follow its signals, the way napari's views
follow their model and qutebrowser's widgets follow `config.instance.changed`.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from app.core.chat.history import ChatStore, open_chat_store, open_readable_copy
from app.core.config.preferences import Preferences, load_preferences, save_preferences
from app.core.errors import HistoryError
from app.core.paths import AppPaths
from app.ui.workers.api import LocalApi
from app.ui.workers.download import DownloadManager
from app.ui.workers.engine import EngineThread
from app.ui.workers.job import Jobs
from app.ui.workers.task import HardwareJob

if TYPE_CHECKING:
    from app.core.machine.hardware import HardwareProfile

log = logging.getLogger(__name__)

CHAT_DATABASE = "chats.sqlite3"


def open_history(path: Path) -> tuple[ChatStore, str | None]:
    """The chat history at `path` and a note for the person, if any.

    When the history can't be opened for writing (a read-only file or folder, a full disk, a
    lock held by another program, a newer Quantdesk's file), the app still opens: the chats
    that can be read are copied into a temporary history for this session (the file itself is
    left as it was), and the note says what is wrong, what to do, and that new messages won't
    be kept.
    """
    try:
        return open_chat_store(path)
    except HistoryError as error:
        log.warning("chat history unavailable path=%s: %s", path, error)
        temporary = Path(tempfile.mkdtemp(prefix="quantdesk-chats-")) / CHAT_DATABASE
        store, copied = open_readable_copy(path, temporary)
        if copied is None or not copied.conversations:
            return store, QCoreApplication.translate(
                "Session",
                "{error} Until then, the chats you have won't be kept after Quantdesk closes.",
            ).format(error=error)
        return store, QCoreApplication.translate(
            "Session",
            "Quantdesk can't write its chat history at {path}: {reason} Until then, your chats "
            "({chats}) are shown from a copy, and what you add won't be kept after Quantdesk "
            "closes.",
        ).format(path=path, reason=error.reason, chats=copied.describe())


def interrupted_reply_note(models: list[str | None]) -> str | None:
    """What to say at start when the last run died during a reply (e.g. llama.cpp aborted)."""
    if not models:
        return None
    unnamed = QCoreApplication.translate("Session", "a model")
    names = sorted({Path(model).name if model else unnamed for model in models})
    return QCoreApplication.translate(
        "Session",
        "Quantdesk closed unexpectedly while {names} was replying. The reply so far is kept, "
        "marked as interrupted.",
    ).format(names=", ".join(names))


class Session(QObject):
    """Shared state of one run of the app.

    `hardware` fakes the detected machine in tests: it stands where the detector's result would
    be, and the person's corrections apply to it all the same.

    Signals (GUI thread, after the session changed):
        preferences_changed(object): the new `Preferences` (already saved, when saving worked).
        preferences_save_failed(object): the `OSError` of a save that failed; the change still
            applies until the app closes.
        hardware_changed(object): the machine (`HardwareProfile`) with the corrections applied.
        hardware_failed(object): detection failed.
        models_dir_changed(object): the `Path` of the models folder, after it changed.
        models_moved(object, object): the old and new `Path` of the models folder after
            Settings moved every file in it (after `models_dir_changed`).
    """

    preferences_changed = Signal(object)
    preferences_save_failed = Signal(object)
    hardware_changed = Signal(object)
    hardware_failed = Signal(object)
    models_dir_changed = Signal(object)
    models_moved = Signal(object, object)

    def __init__(
        self,
        paths: AppPaths,
        *,
        hardware: HardwareProfile | None = None,
        engine: EngineThread | None = None,
    ) -> None:
        super().__init__()
        self.paths = paths
        self._preferences, self.preferences_note = load_preferences(paths.config)
        self._detected = hardware
        self.jobs = Jobs(self)  # the session's own jobs, and those a closed dialog left
        self._detecting = False
        self._closed = False
        self.store: ChatStore
        self.store, self.store_note = open_history(paths.data / CHAT_DATABASE)
        crash = interrupted_reply_note(self.store.interrupted_models)
        if crash:
            self.store_note = " ".join(note for note in (self.store_note, crash) if note)
        self.engine = engine or EngineThread()
        # The local API server (off until the person turns it on), on the same engine thread.
        self.api = LocalApi(self.engine.worker, self)
        self.downloads = DownloadManager(self.models_dir, self)
        # The quant each header names, for files whose names name none: the Models page's task
        # reads them, and every list that names models shows them (`library.with_header_quant`).
        self.header_quants: dict[Path, str | None] = {}

    # --- preferences -----------------------------------------------------------------------------

    @property
    def preferences(self) -> Preferences:
        return self._preferences

    def update_preferences(self, **changes: object) -> Preferences:
        """Apply `changes`, save them, and announce them; the only writer of the file."""
        before = self._preferences
        self._preferences = before.replace(**changes)
        try:
            save_preferences(self.paths.config, self._preferences)
        except OSError as exc:
            log.warning("couldn't save preferences: %s", exc)
            self.preferences_save_failed.emit(exc)
        self.preferences_changed.emit(self._preferences)
        if self._preferences.models_dir != before.models_dir:
            self.downloads.set_models_dir(self.models_dir)
            self.models_dir_changed.emit(self.models_dir)
        if self._preferences.hardware_overrides != before.hardware_overrides:
            self._announce_hardware()
        return self._preferences

    def models_folder_moved(self, old: Path, new: Path) -> None:
        """Every file of the models folder `old` now lives in `new` (Settings moved them): what
        named a file inside it follows (each chat's model, the last model, the context lengths
        remembered per file), then `new` becomes the models folder."""
        try:
            self.store.follow_moved_models(old, new)
        except HistoryError as error:  # the files moved all the same; the log says why
            log.warning("chats still name models in the old folder: %s", error)
        default = self.paths.models.expanduser().resolve()
        self.update_preferences(
            models_dir=None if new == default else str(new),
            **self._preferences.models_moved(old, new),
        )
        self.models_moved.emit(old, new)

    @property
    def models_dir(self) -> Path:
        """The models folder in use: the chosen one, else the default."""
        chosen = self._preferences.models_dir
        return Path(chosen) if chosen else self.paths.models

    def paths_with_models_dir(self) -> AppPaths:
        return replace(self.paths, models=self.models_dir)

    # --- the machine -----------------------------------------------------------------------------

    @property
    def hardware(self) -> HardwareProfile | None:
        """This machine as detected (or faked), with the person's corrections; None until
        detection ended."""
        if self._detected is None:
            return None
        return self._corrected(self._detected)

    @property
    def detected_hardware(self) -> HardwareProfile | None:
        """The machine as detected, before the person's corrections."""
        return self._detected

    def detect_hardware(self) -> None:
        """Detect the machine once, off the GUI thread; `hardware_changed` follows (at once
        when it is known already)."""
        if self._detected is not None:
            self._announce_hardware()
            return
        if self._detecting:
            return
        self._detecting = True
        job = HardwareJob()
        job.finished.connect(self._on_detected)
        job.failed.connect(self._on_detection_failed)
        self.jobs.start(job)

    @Slot(object)
    def _on_detected(self, profile: HardwareProfile) -> None:
        self._detecting = False
        self._detected = profile
        self._announce_hardware()

    @Slot(object)
    def _on_detection_failed(self, error: Exception) -> None:
        self._detecting = False
        self.hardware_failed.emit(error)

    def _announce_hardware(self) -> None:
        corrected = self.hardware
        if corrected is not None:
            self.hardware_changed.emit(corrected)

    def _corrected(self, profile: HardwareProfile) -> HardwareProfile:
        prefs = self._preferences
        vram = {
            index: value
            for index in range(len(profile.gpus))
            if (value := prefs.vram_override(index))
        }
        from app.core.machine.hardware import with_corrections

        return with_corrections(profile, ram_bytes=prefs.ram_override, vram_bytes=vram)

    # --- closing ---------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """End every thread the session owns (downloads keep their bytes), then close the store.
        Once: closing the window twice ends nothing twice."""
        if self._closed:
            return
        self._closed = True
        self.downloads.shutdown()
        self.jobs.shutdown()
        self.api.shutdown()  # before the engine: its jobs run there
        self.engine.shutdown()
        self.store.close()
