"""Download workers: one QThread per download, reporting by signals."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.errors import DownloadCancelledError, QuantdeskError
from app.core.hub.client import list_repo_files, select_files
from app.core.hub.download import DownloadControl, DownloadProgress, download

if TYPE_CHECKING:
    from app.core.hub.packs import EnginePack

log = logging.getLogger(__name__)


class DownloadWorker(QObject):
    """Resolves a repo's file(s) and downloads them on its own thread.

    Signals:
        progress(object): a `DownloadProgress`, about ten a second.
        finished(object): the `DownloadResult`.
        failed(object): the error (a `QuantdeskError` with a sentence fit to show).
        cancelled(): the person cancelled; the partial file is gone.

    Each job emits exactly one of finished, failed or cancelled. `pause`, `resume` and `cancel`
    may be called from any thread and take effect within a chunk.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(
        self,
        repo_id: str,
        models_dir: Path,
        *,
        quant: str | None = None,
        filename: str | None = None,
    ) -> None:
        super().__init__()
        self.repo_id = repo_id
        self.quant = quant
        self.filename = filename
        self.models_dir = models_dir
        self.control = DownloadControl()
        self._thread = QThread()
        self._thread.setObjectName(f"download {repo_id}")
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)

    @property
    def label(self) -> str:
        return f"{self.repo_id} · {self.filename or self.quant}"

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def cancel(self) -> None:
        self.control.cancel()

    def stop_and_wait(self, timeout_ms: int = 5000) -> bool:
        """End the transfer but keep its bytes, and wait for the thread (the window closes;
        the next run resumes)."""
        self.control.cancel(keep_partial=True)
        return self._thread.wait(timeout_ms)

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Wait for the thread to end (it ends right after its last signal)."""
        return self._thread.wait(timeout_ms)

    @property
    def is_running(self) -> bool:
        return self._thread.isRunning()

    @Slot()
    def _run(self) -> None:
        try:
            result = self._download()
        except DownloadCancelledError:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI
            if not isinstance(exc, QuantdeskError):
                log.exception("unexpected download failure repo=%s", self.repo_id)
            self.failed.emit(exc)
        else:
            self.finished.emit(result)
        finally:
            self._thread.quit()

    def _download(self) -> object:
        """The job, on the worker's thread; subclasses download other things the same way."""
        files = select_files(
            list_repo_files(self.repo_id), quant=self.quant, filename=self.filename
        )
        return download(files, self.models_dir, control=self.control, on_progress=self._report)

    def _report(self, progress: DownloadProgress) -> None:
        self.progress.emit(progress)


class EnginePackWorker(DownloadWorker):
    """Finds the GPU engine pack for this machine in the release's list and installs it
    (download with progress, pause and cancel, sha256, unpack). `finished` carries the pack's
    folder; `pack` is the `EnginePack` once the list was read."""

    def __init__(self, gpu_vendors: set[str]) -> None:
        from app.core.engine.packs import engines_dir
        from app.core.hub.packs import DOWNLOAD_OWNER

        super().__init__(f"{DOWNLOAD_OWNER}/engine-packs", engines_dir())
        self.gpu_vendors = gpu_vendors
        self.pack: EnginePack | None = None

    def _download(self) -> object:
        from app.core.hub.packs import (
            EnginePackError,
            fetch_packs,
            install_pack,
            packs_for_machine,
        )

        packs = packs_for_machine(fetch_packs(), self.gpu_vendors)
        if not packs:
            raise EnginePackError(
                "This release has no GPU engine for this computer's graphics card and system."
            )
        self.pack = packs[0]
        return install_pack(self.pack, control=self.control, on_progress=self._report)
