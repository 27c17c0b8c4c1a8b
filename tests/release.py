"""A release on the local server: the GPU engine packs list and a pack archive, made of real
shared libraries of this system (no GPU runtime here)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from app.core._util.platforms import platform_tag
from app.core.engine.packs import engine_version
from tests.localhub import LocalHub

RELEASE = "quantdesk/release"
ARCHIVE = "quantdesk-cuda12-0.1.0-linux-x86_64.tar.gz"


def real_library(name: str) -> Path:
    """A real shared library of this system (what a pack's files are: ELF libraries)."""
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib"):
        path = Path(folder) / name
        if path.is_file():
            return path
    pytest.skip(f"{name} not found on this system")


def make_archive(
    members: dict[str, bytes | Path], *, unsafe: tarfile.TarInfo | None = None
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
        if unsafe is not None:
            tar.addfile(unsafe, io.BytesIO(b"x" * unsafe.size) if unsafe.size else None)
    return buffer.getvalue()


def cuda_pack_archive() -> bytes:
    # libz stands in for libggml-cuda.so (loads, but registers no backend); libbz2 for the
    # CUDA runtime the pack carries beside it.
    return make_archive({
        "cuda12/libggml-cuda.so": real_library("libz.so.1"),
        "cuda12/libcudart.so.12": real_library("libbz2.so.1.0"),
        "cuda12/LICENSE.txt": b"test pack\n",
    })  # fmt: skip


def manifest(archive: bytes, **overrides: object) -> bytes:
    entry = {
        "id": "cuda12",
        "name": "NVIDIA CUDA engine",
        "platform": platform_tag(),
        "gpu_vendor": "nvidia",
        "engine": engine_version(),
        "backend": "libggml-cuda.so",
        "file": ARCHIVE,
        "size": len(archive),
        "sha256": hashlib.sha256(archive).hexdigest(),
        **overrides,
    }
    return json.dumps({"packs": [entry]}).encode()


def publish(hub: LocalHub, archive: bytes, **overrides: object) -> str:
    """The release on the local server; returns the manifest's URL."""
    hub.add_repo(RELEASE, {"engine-packs.json": manifest(archive, **overrides), ARCHIVE: archive})
    return f"{hub.url}/{RELEASE}/resolve/main/engine-packs.json"
