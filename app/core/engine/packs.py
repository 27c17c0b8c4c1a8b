"""GPU engine packs installed on this machine: where they live and which are there.

Installing a pack (manifest, download, unpack) is the Hub layer's job (`app/core/hub/packs.py`);
the engine only needs to know which folders hold backends, so finding the backends never pulls
in the downloads stack.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from app.core.paths import app_paths

PACK_INFO = "pack.json"


def engines_dir() -> Path:
    return app_paths().data / "engines"


def engine_version() -> str | None:
    """The llama-cpp-python version this app runs (packs must be built with the same one)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llama_cpp_python")
    except PackageNotFoundError:
        return None


def installed_packs() -> dict[str, dict[str, object]]:
    """{pack id: what was installed (the manifest entry, plus `folder`)}."""
    root = engines_dir()
    found: dict[str, dict[str, object]] = {}
    if not root.is_dir():
        return found
    for info_file in sorted(root.glob(f"*/{PACK_INFO}")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # half-written by a killed install: not listed, replaced by the next one
        if isinstance(info, dict) and info.get("id") == info_file.parent.name:
            found[info_file.parent.name] = {**info, "folder": str(info_file.parent)}
    return found


def pack_folders() -> list[Path]:
    """Folders of installed packs, for `backends.backend_folders()`."""
    return [Path(str(info["folder"])) for info in installed_packs().values()]


def remove_pack(pack_id: str) -> None:
    folder = engines_dir() / pack_id
    if (folder / PACK_INFO).is_file():
        (folder / PACK_INFO).unlink()  # not listed any more, even if a file below is busy
        shutil.rmtree(folder, ignore_errors=True)
