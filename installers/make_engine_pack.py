"""Make a GPU engine pack (app/core/hub/packs.py): a .tar.gz holding a ggml backend built from
the same llama-cpp-python as the app, the runtime libraries it needs, and the manifest entry.

    python installers/make_engine_pack.py --id cuda12 --name "NVIDIA CUDA engine" \\
        --vendor nvidia --backend build/cuda/bin/libggml-cuda.so \\
        --runtime /usr/local/cuda/lib64/libcudart.so.12 ... --out dist

Writes OUT/quantdesk-ID-VERSION-PLATFORM.tar.gz and OUT/ID.pack.json (one manifest entry; the
release workflow joins the entries into engine-packs.json). Runtime libraries are stored under
their sonames, symlinks resolved, so the pack needs no links.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
from importlib.metadata import version
from pathlib import Path

from app import __version__
from app.core._util.platforms import platform_tag


def make_pack(
    pack_id: str,
    name: str,
    vendor: str,
    backend: Path,
    runtime: list[Path],
    out: Path,
    *,
    engine: str | None = None,
    platform: str | None = None,
) -> tuple[Path, dict[str, object]]:
    platform = platform or platform_tag()
    engine = engine or version("llama_cpp_python")
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"quantdesk-{pack_id}-{__version__}-{platform}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in [backend, *runtime]:
            data = path.resolve().read_bytes()
            info = tarfile.TarInfo(f"{pack_id}/{path.name}")
            info.size, info.mode, info.mtime = len(data), 0o755, 0
            tar.addfile(info, io.BytesIO(data))
    entry = {
        "id": pack_id,
        "name": name,
        "platform": platform,
        "gpu_vendor": vendor,
        "engine": engine,
        "backend": backend.name,
        "file": archive.name,
        "size": archive.stat().st_size,
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
    }
    (out / f"{pack_id}.pack.json").write_text(json.dumps(entry, indent=2) + "\n")
    return archive, entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--vendor", required=True, choices=["nvidia", "amd", "intel"])
    parser.add_argument("--backend", required=True, type=Path)
    parser.add_argument("--runtime", nargs="*", type=Path, default=[])
    parser.add_argument("--out", type=Path, default=Path("dist"))
    parser.add_argument("--engine", help="llama-cpp-python version (default: the installed one)")
    args = parser.parse_args()
    archive, entry = make_pack(
        args.id, args.name, args.vendor, args.backend, args.runtime, args.out, engine=args.engine
    )
    print(f"{archive} {entry['size']} bytes sha256 {entry['sha256']}")


if __name__ == "__main__":
    main()
