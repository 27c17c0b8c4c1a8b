"""Downloads as jobs, and the one manager that runs them: one download per file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from app.core.errors import DownloadCancelledError
from app.ui.workers.job import Job, Jobs

if TYPE_CHECKING:
    from app.core.fit.recommend import Option
    from app.core.hub.download import DownloadProgress
    from app.core.hub.packs import EnginePack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DownloadRequest:
    """What to download from a repo: one file (all its shards if it is split), or a quant."""

    repo_id: str
    quant: str | None = None
    filename: str | None = None

    @classmethod
    def for_option(cls, repo_id: str, option: Option) -> DownloadRequest:
        """The request for a recommended option: a split model by its quant (the shards come
        together), a single file by its name (a quant may match several files)."""
        if len(option.files) > 1:
            return cls(repo_id, quant=option.quant)
        return cls(repo_id, filename=option.files[0])

    @classmethod
    def from_text(cls, repo_id: str, choice: str) -> DownloadRequest:
        """What a person typed: a file name ends in .gguf, anything else is a quant."""
        if choice.lower().endswith(".gguf"):
            return cls(repo_id, filename=choice)
        return cls(repo_id, quant=choice)

    @property
    def label(self) -> str:
        return f"{self.repo_id} · {self.filename or self.quant}"

    def key(self, models_dir: Path) -> tuple[str, str, str]:
        """Two requests with one key write the same file(s)."""
        choice = self.filename if self.filename else f"quant:{(self.quant or '').upper()}"
        return (str(Path(models_dir).expanduser().resolve()), self.repo_id, choice)


class DownloadWorker(Job):
    """Resolves a repo's file(s) and downloads them into `models_dir`.

    `progress` carries a `DownloadProgress` about ten times a second, `finished` the
    `DownloadResult`; `cancelled` means the person cancelled and the partial file is gone.
    `pause`, `resume` and `cancel` may be called from any thread and take effect within a chunk.
    """

    cancel_errors = (DownloadCancelledError,)

    def __init__(self, request: DownloadRequest, models_dir: Path) -> None:
        super().__init__(f"download {request.repo_id}")
        self.request = request
        self.models_dir = models_dir
        # The downloader is imported with the first download, not on the way to the first paint.
        from app.core.hub.download import DownloadControl

        self.control = DownloadControl()

    @property
    def repo_id(self) -> str:
        return self.request.repo_id

    @property
    def label(self) -> str:
        return self.request.label

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def cancel(self) -> None:
        self.control.cancel()

    def stop(self) -> None:
        """End the transfer but keep its bytes (the window closes; the next run resumes)."""
        self.control.cancel(keep_partial=True)

    def run(self) -> object:
        from app.core.hub.client import list_repo_files, select_files
        from app.core.hub.download import download

        request = self.request
        files = select_files(
            list_repo_files(request.repo_id), quant=request.quant, filename=request.filename
        )
        return download(files, self.models_dir, control=self.control, on_progress=self._report)

    def _report(self, progress: DownloadProgress) -> None:
        self.progress.emit(progress)


class EnginePackWorker(Job):
    """Finds the GPU engine pack for this machine in the release's list and installs it
    (download with progress, pause and cancel, sha256, unpack). `finished` carries the pack's
    folder; `pack` is the `EnginePack` once the list was read."""

    cancel_errors = (DownloadCancelledError,)

    def __init__(self, gpu_vendors: set[str]) -> None:
        super().__init__("engine pack")
        self.gpu_vendors = gpu_vendors
        from app.core.hub.download import DownloadControl

        self.control = DownloadControl()
        self.pack: EnginePack | None = None

    def cancel(self) -> None:
        self.control.cancel()

    def stop(self) -> None:
        self.control.cancel(keep_partial=True)

    def run(self) -> object:
        from app.core.errors import EnginePackError
        from app.core.hub.packs import (
            fetch_packs,
            install_pack,
            packs_for_machine,
        )

        packs = packs_for_machine(fetch_packs(), self.gpu_vendors)
        if not packs:
            raise EnginePackError(
                QCoreApplication.translate(
                    "DownloadManager",
                    "This release has no GPU engine for this computer's graphics card and system.",
                )
            )
        self.pack = packs[0]
        return install_pack(self.pack, control=self.control, on_progress=self.progress.emit)


class DownloadManager(QObject):
    """Every model download of this run. A request for a file that is already downloading
    joins that download instead of starting a second writer of the same file.

    Signals (GUI thread):
        started(object): the `DownloadWorker` of a new download (not of a joined one).
        finished(object): a download's `DownloadResult`.
    """

    started = Signal(object)
    finished = Signal(object)

    def __init__(self, models_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._models_dir = Path(models_dir)
        self._jobs = Jobs(self)
        # This run's, newest last (the panel's rows), until the person clears an ended one.
        self.downloads: list[DownloadWorker] = []

    @property
    def models_dir(self) -> Path:
        return self._models_dir

    def set_models_dir(self, folder: Path) -> None:
        """New downloads go to the moved models folder."""
        self._models_dir = Path(folder)

    def find(self, request: DownloadRequest) -> DownloadWorker | None:
        """The running download of `request`'s file(s), if any."""
        key = request.key(self._models_dir)
        for worker in self._jobs.running:
            if (
                isinstance(worker, DownloadWorker)
                and not worker.done
                and worker.request.key(worker.models_dir) == key
            ):
                return worker
        return None

    def start(self, request: DownloadRequest) -> DownloadWorker:
        """Start `request` on its own thread, or return the download already writing it."""
        running = self.find(request)
        if running is not None:
            return running
        worker = DownloadWorker(request, self._models_dir)
        worker.finished.connect(self._on_finished)
        self.downloads.append(worker)
        self.started.emit(worker)  # before it runs: views connect before any signal of it
        self._jobs.start(worker)
        return worker

    def forget(self, worker: DownloadWorker) -> bool:
        """Drop an ended download from this run's list (the person cleared its row); a
        running one stays. Whether it was dropped."""
        if not worker.done or worker not in self.downloads:
            return False
        self.downloads.remove(worker)
        return True

    def cancel(self, request: DownloadRequest) -> bool:
        """Cancel `request`'s running download (its partial file is deleted); False if none."""
        worker = self.find(request)
        if worker is not None:
            worker.cancel()
        return worker is not None

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self.finished.emit(result)

    def shutdown(self) -> None:
        """Stop running downloads (their bytes stay, to resume next time) and wait for them."""
        self._jobs.shutdown()
