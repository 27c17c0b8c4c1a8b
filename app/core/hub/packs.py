"""GPU engine packs: llama.cpp backends too big for every installer (NVIDIA CUDA), downloaded
on request from the release the app came from, verified, and used from the next model load.

A release carries `engine-packs.json` beside its installers:

    {"packs": [{"id": "cuda12", "name": "NVIDIA CUDA engine", "platform": "linux-x86_64",
                "gpu_vendor": "nvidia", "engine": "0.3.36", "backend": "libggml-cuda.so",
                "file": "quantdesk-cuda12-0.1.0-linux-x86_64.tar.gz",
                "size": 123, "sha256": "..."}]}

`file` is relative to the manifest's URL (or absolute). `engine` is the llama-cpp-python
version the backend was built with: a backend from another llama.cpp build is refused by ggml,
so a pack is only offered to the engine it was made for. The archive is downloaded with the
downloads core (resume, retries, sha256 while writing, free-space check), unpacked file by file
(refused whole if any name is absolute or has `..`, or is a link out or a device) into a folder
beside the others, and swapped in by renames. `backends.backend_folders()` lists
installed packs; `backends.ensure_backends()` loads a pack that appeared since the last call.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from app import __version__
from app.core._util.files import free_bytes, write_json_atomic
from app.core._util.platforms import platform_tag
from app.core._util.units import format_bytes
from app.core.engine.packs import PACK_INFO, engine_version, engines_dir
from app.core.errors import (
    DiskFullError,
    DownloadCancelledError,
    DownloadError,
    EnginePackError,
    HubError,
    ModelNotFoundError,
    OfflineError,
    QuantdeskError,
)
from app.core.hub.client import RemoteFile, http_timeout, transport_errors
from app.core.hub.download import DownloadControl, ProgressCallback, download

if TYPE_CHECKING:
    from app.core.machine.hardware import GpuInfo

log = logging.getLogger(__name__)

MANIFEST_URL_ENV = "QUANTDESK_ENGINE_PACKS_URL"
RELEASES_URL = "https://github.com/quantdesk/quantdesk/releases/download"
MANIFEST_NAME = "engine-packs.json"
MANIFEST_MAX_BYTES = 1 << 20
# Where the release workflow builds packs (.github/workflows/release.yml): Settings offers a pack
# only there.
PACK_PLATFORMS = {"linux-x86_64"}
# Downloads go through the models downloader, which files them under owner/name folders.
DOWNLOAD_OWNER = "quantdesk"


@dataclass(frozen=True)
class EnginePack:
    """One pack as the release's manifest lists it (`url` made absolute)."""

    id: str
    name: str
    platform: str
    gpu_vendor: str
    engine: str
    backend: str
    url: str
    size: int
    sha256: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class _PackDownload(RemoteFile):
    """A file at a fixed URL (a release asset), for the downloads core."""

    direct_url: str = ""

    @property
    def url(self) -> str:
        return self.direct_url


def manifest_url() -> str:
    """The manifest of the release this app came from (tests point it at a local server)."""
    return os.environ.get(MANIFEST_URL_ENV) or f"{RELEASES_URL}/v{__version__}/{MANIFEST_NAME}"


# --- the manifest --------------------------------------------------------------------------------


def fetch_packs(url: str | None = None) -> list[EnginePack]:
    """Every pack the release lists. Raises EnginePackError when it can't be read."""
    from huggingface_hub import get_session

    url = url or manifest_url()
    try:
        response = get_session().get(url, timeout=http_timeout(20.0, connect=10.0))
    except transport_errors() as exc:
        raise EnginePackError(
            f"Can't reach the release server for GPU engines ({url}): check your internet "
            "connection."
        ) from exc
    if response.status_code == 404:
        raise EnginePackError(f"This version of Quantdesk ({__version__}) has no GPU engine packs.")
    if response.status_code != 200:
        raise EnginePackError(f"The release server answered {response.status_code} for {url}.")
    if len(response.content) > MANIFEST_MAX_BYTES:
        raise EnginePackError(f"The list of GPU engines at {url} is too large to be real.")
    return parse_manifest(response.content, base_url=url)


def parse_manifest(content: bytes, *, base_url: str) -> list[EnginePack]:
    try:
        entries = json.loads(content)["packs"]
        packs = [
            EnginePack(
                id=str(entry["id"]),
                name=str(entry["name"]),
                platform=str(entry["platform"]),
                gpu_vendor=str(entry["gpu_vendor"]).lower(),
                engine=str(entry["engine"]),
                backend=str(entry["backend"]),
                url=urljoin(base_url, str(entry["file"])),
                size=int(entry["size"]),
                sha256=str(entry["sha256"]).lower(),
            )
            for entry in entries
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise EnginePackError(f"The list of GPU engines at {base_url} is damaged ({exc}).") from exc
    for pack in packs:
        _check_pack(pack)
    return packs


def _check_pack(pack: EnginePack) -> None:
    if not pack.id.replace("-", "").replace("_", "").isalnum() or len(pack.id) > 40:
        raise EnginePackError(f"A GPU engine has an invalid id: {pack.id!r}.")
    if len(pack.sha256) != 64 or any(c not in "0123456789abcdef" for c in pack.sha256):
        raise EnginePackError(f"The {pack.name} has no valid sha256 in the release's list.")
    if pack.size <= 0 or Path(pack.backend).name != pack.backend:
        raise EnginePackError(f"The {pack.name} is described wrongly in the release's list.")
    if not pack.url.startswith(("https://", "http://")) or not pack.filename:
        raise EnginePackError(f"The {pack.name} has no download address.")


def gpu_vendors(gpus: Iterable[GpuInfo]) -> set[str]:
    """ "nvidia", "amd", "intel", "apple" for the GPUs found (by engine or by name)."""
    vendors = set()
    for gpu in gpus:
        name = gpu.name.lower()
        if gpu.backend == "cuda" or any(word in name for word in _NVIDIA_WORDS):
            vendors.add("nvidia")
        elif gpu.backend == "rocm" or "amd" in name or "radeon" in name:
            vendors.add("amd")
        elif "intel" in name:
            vendors.add("intel")
        elif gpu.backend == "metal":
            vendors.add("apple")
    return vendors


_NVIDIA_WORDS = ("nvidia", "geforce", "quadro", "tesla", "rtx")


def packs_for_machine(packs: list[EnginePack], gpu_vendors: set[str]) -> list[EnginePack]:
    """The packs this machine can use: its OS and CPU type, a GPU of the pack's vendor, and
    the engine build the pack was made for."""
    engine = engine_version()
    return [
        pack
        for pack in packs
        if pack.platform == platform_tag()
        and pack.gpu_vendor in {vendor.lower() for vendor in gpu_vendors}
        and pack.engine == engine
    ]


# --- installing ----------------------------------------------------------------------------------


def install_pack(
    pack: EnginePack,
    *,
    control: DownloadControl | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Download, verify and unpack `pack`; returns its folder. A pack already installed is
    replaced only once the new one is complete. Raises EnginePackError, or the downloads
    core's errors (DiskFullError, ChecksumMismatchError, DownloadCancelledError, ...)."""
    _check_pack(pack)
    root = engines_dir()
    downloads = root / "downloads"
    remote = _PackDownload(
        repo_id=f"{DOWNLOAD_OWNER}/{pack.id}",
        path=pack.filename,
        size=pack.size,
        sha256=pack.sha256,
        direct_url=pack.url,
    )
    try:
        # token=False: the Hugging Face token is never sent to another server.
        result = download(
            [remote], downloads, token=False, control=control, on_progress=on_progress
        )
    except HubError as exc:
        raise EnginePackError(f"Couldn't download the {pack.name}: {_server_reason(exc)}") from exc
    archive = result.paths[0]
    control = control or DownloadControl()
    try:
        folder = _unpack(archive, root, pack, control)
    except DownloadCancelledError:
        if not control.keep_partial:  # cancelled by the person, not by the app closing
            archive.unlink(missing_ok=True)
        raise
    archive.unlink(missing_ok=True)  # verified and unpacked: the archive only takes room
    log.info("engine pack installed id=%s folder=%s", pack.id, folder)
    return folder


def _server_reason(exc: HubError) -> str:
    if isinstance(exc, ModelNotFoundError):
        return "the release server doesn't have it (404 or 401)."
    if isinstance(exc, OfflineError):
        return "the release server can't be reached; check your internet connection."
    return str(exc)


def _check_members(tar: tarfile.TarFile) -> None:
    """A pack holds plain files, folders and links to files beside them, under relative names;
    an archive with anything else is refused whole."""
    for member in tar.getmembers():
        name = member.name.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or ":" in name:
            raise tarfile.TarError(f"{member.name!r} points outside the pack")
        if not (member.isfile() or member.isdir() or _internal_link(member)):
            raise tarfile.TarError(f"{member.name!r} is not a plain file")


def _internal_link(member: tarfile.TarInfo) -> bool:
    """A symlink to a file beside it (libcudart.so.12 -> libcudart.so.12.4.127)."""
    return member.issym() and "/" not in member.linkname and member.linkname not in ("", "..")


def _check_room(tar: tarfile.TarFile, root: Path, pack: EnginePack) -> None:
    needed = sum(member.size for member in tar.getmembers() if member.isfile())
    free = free_bytes(root)
    if needed > free:
        raise DiskFullError(
            f"Not enough free space to unpack the {pack.name}: it needs {format_bytes(needed)}, "
            f"{format_bytes(free)} are free.",
            needed_bytes=needed,
            free_bytes=free,
        )


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, into: Path) -> None:
    """Write one checked member ourselves: tarfile's extraction filters exist only from Python
    3.11.4 (Debian 12 has 3.11.2), and we want plain files with plain permissions anyway."""
    target = into / member.name
    if not target.resolve().is_relative_to(into.resolve()):
        raise tarfile.TarError(f"{member.name!r} points outside the pack")
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if member.issym():
        target.symlink_to(member.linkname)
        return
    source = tar.extractfile(member)
    if source is None:
        raise tarfile.TarError(f"{member.name!r} has no content")
    with source, target.open("wb") as out:
        shutil.copyfileobj(source, out, 1 << 20)
    target.chmod(0o755 if member.mode & 0o111 else 0o644)


def _unpack(archive: Path, root: Path, pack: EnginePack, control: DownloadControl) -> Path:
    staging = root / f".{pack.id}.new"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        with tarfile.open(archive) as tar:
            _check_members(tar)
            _check_room(tar, root, pack)
            for member in tar.getmembers():  # one by one: a cancel stops between files
                if control.cancelled:
                    raise DownloadCancelledError(f"Installing the {pack.name} was cancelled.")
                _extract(tar, member, staging)
    except tarfile.TarError as exc:  # FilterError (unsafe member) is one too
        shutil.rmtree(staging, ignore_errors=True)
        raise EnginePackError(f"The {pack.name} archive is damaged or unsafe: {exc}") from exc
    except OSError as exc:  # DownloadCancelledError and DiskFullError are OSErrors too
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, QuantdeskError):
            raise
        raise DownloadError(f"Couldn't unpack the {pack.name}: {exc}") from exc
    backend = next(staging.rglob(pack.backend), None)
    if backend is None:
        shutil.rmtree(staging, ignore_errors=True)
        raise EnginePackError(f"The {pack.name} archive has no {pack.backend}.")
    content = backend.parent  # the folder holding the backend and its runtime libraries
    write_json_atomic(content / PACK_INFO, {**asdict(pack), "installed_from": pack.url})
    target = root / pack.id
    retired = root / f".{pack.id}.old"
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    os.replace(content, target)
    shutil.rmtree(retired, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    return target
