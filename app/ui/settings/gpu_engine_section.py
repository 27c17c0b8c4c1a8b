"""Settings' "GPU engine" box: the NVIDIA CUDA engine, offered only where an NVIDIA GPU is
detected. It is a separate download (the CUDA runtime is large, and useless on other machines):
the release's list of engine packs is read, the pack for this machine downloaded with progress
and verified, and llama.cpp uses it from the next model load."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from app.core._util.platforms import platform_tag
from app.core._util.units import format_bytes
from app.core.engine import backends
from app.core.engine.packs import installed_packs, remove_pack
from app.core.hub.download import DownloadProgress, describe_progress
from app.core.hub.packs import PACK_PLATFORMS, gpu_vendors
from app.core.machine.hardware import HardwareProfile
from app.ui.messages import error_text
from app.ui.style import mute, plain_text, show_as_error
from app.ui.workers.download import EnginePackWorker
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

# Which vendors have an engine pack: the Linux and Windows bundles carry Vulkan for every GPU;
# CUDA is the faster engine on NVIDIA cards.
PACK_VENDORS = {"nvidia": "NVIDIA CUDA engine"}


class GpuEngineSection(QGroupBox):
    """Signals: installed(object): the pack's folder, after a verified install."""

    installed = Signal(object)

    def __init__(self) -> None:
        super().__init__(self.tr("GPU engine"))
        self._vendors: set[str] = set()
        self._jobs = Jobs(self)
        self._worker: EnginePackWorker | None = None
        self._removing = False
        self.status = plain_text(QLabel())
        self.status.setWordWrap(True)
        self.download_button = QPushButton()
        self.download_button.clicked.connect(self.download_clicked)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.clicked.connect(self.remove_clicked)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_text = plain_text(QLabel())
        mute(self.progress_text)
        self.message = plain_text(QLabel())  # red for errors only (`_show_message`)
        self.message.setWordWrap(True)
        note = QLabel(
            self.tr(
                "Quantdesk runs on every graphics card through Vulkan. On NVIDIA cards the CUDA "
                "engine is faster; it is a separate download because it is large."
            )
        )
        note.setWordWrap(True)
        mute(note)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.download_button, self.remove_button, self.cancel_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        for widget in (self.status, self.progress, self.progress_text, self.message, note):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.hide()  # until a machine with a GPU that has a pack is detected
        self._show_state()

    # --- state -----------------------------------------------------------------------------------

    def set_hardware(self, profile: HardwareProfile) -> None:
        self._vendors = gpu_vendors(profile.gpus) & PACK_VENDORS.keys()
        if platform_tag() not in PACK_PLATFORMS:
            self._vendors = set()  # no pack is built for this OS: nothing to offer
        self.setVisible(bool(self._vendors))
        self._show_state()

    @property
    def pack_name(self) -> str:
        return next((PACK_VENDORS[v] for v in sorted(self._vendors)), "GPU engine")

    def _installed(self) -> dict[str, object] | None:
        packs = installed_packs()
        return next(
            (info for info in packs.values() if info.get("gpu_vendor") in self._vendors), None
        )

    def _show_state(self) -> None:
        busy = self._worker is not None
        info = None if busy else self._installed()
        self.progress.setVisible(busy)
        self.progress_text.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.download_button.setVisible(not busy)
        self.remove_button.setVisible(info is not None and not busy)
        self.message.setVisible(bool(self.message.text()))
        if busy:
            self.status.setText(self.tr("Downloading the {pack}…").format(pack=self.pack_name))
        elif info is None:
            self.status.setText(self.tr("{pack}: not installed.").format(pack=self.pack_name))
            self.download_button.setText(self.tr("Download the {pack}").format(pack=self.pack_name))
        else:
            self.status.setText(self._installed_text(info))
            self.download_button.setText(self.tr("Download again"))

    def _installed_text(self, info: dict[str, object]) -> str:
        engine = backends.loaded_engine()
        in_use = engine is not None and str(info["folder"]) in engine.folders
        skipped = [
            item["reason"]
            for item in (engine.skipped if engine else [])
            if item["path"].startswith(str(info["folder"]))
        ]
        if skipped:
            when = self.tr("it couldn't be used: {reason}").format(reason=skipped[0])
        elif in_use:
            when = self.tr("in use.")
        elif engine is not None and engine.gpu_offload:
            # Another GPU engine holds the card in this run (backends.ensure_backends).
            when = self.tr("used when Quantdesk next starts.")
        else:
            when = self.tr("used from the next model load.")
        return self.tr("{pack} installed ({size}); {when}").format(
            pack=info.get("name", self.pack_name),
            size=format_bytes(int(str(info.get("size", 0)))),
            when=when,
        )

    # --- actions ---------------------------------------------------------------------------------

    @Slot()
    def download_clicked(self) -> None:
        if self._worker is not None:
            return
        self._show_message("")
        self.progress.setValue(0)
        self.progress_text.setText(self.tr("Reading the list of engines…"))
        worker = EnginePackWorker(set(self._vendors))
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self._worker = worker
        self._jobs.start(worker)
        self._show_state()

    @Slot()
    def cancel_clicked(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    @Slot()
    def remove_clicked(self) -> None:
        """Delete the pack (a gigabyte of files) on a task thread."""
        info = self._installed()
        if info is None or self._removing:
            return
        pack_id = str(info["id"])
        self._removing = True
        self.remove_button.setEnabled(False)
        remover = TaskWorker(lambda: remove_pack(pack_id), name="remove engine pack")
        remover.finished.connect(self._on_removed)
        remover.failed.connect(self._on_removed)
        self._jobs.start(remover)

    @Slot(object)
    def _on_removed(self, result: object) -> None:
        self._removing = False
        self.remove_button.setEnabled(True)
        if isinstance(result, Exception):
            self._show_message(error_text(result), error=True)
        else:
            self._show_message(
                self.tr("Removed. A model already loaded keeps the engine until Quantdesk quits.")
            )
        self._show_state()

    def _show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setText(text)
        show_as_error(self.message, error)

    @Slot(object)
    def _on_progress(self, progress: DownloadProgress) -> None:
        self.progress.setValue(int(progress.fraction * 1000))
        self.progress_text.setText(describe_progress(progress))

    @Slot(object)
    def _on_finished(self, folder: object) -> None:
        self._end_worker()
        self.installed.emit(folder)

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self._show_message(error_text(error), error=True)
        self._end_worker()

    @Slot()
    def _on_cancelled(self) -> None:
        self._show_message(self.tr("Download cancelled."))
        self._end_worker()

    def _end_worker(self) -> None:
        self._worker = None
        self._show_state()

    def shutdown(self) -> None:
        """Stop a download (its bytes are kept for the next try) and wait for the threads: a
        thread still running when its object goes away would abort the app."""
        self._jobs.shutdown()
