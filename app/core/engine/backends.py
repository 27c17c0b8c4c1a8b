"""Loading llama.cpp's compute backends (CPU variants, GPU engines) before anything else runs.

The engine we ship is built with `GGML_BACKEND_DL=ON GGML_CPU_ALL_VARIANTS=ON`: every backend is a
library of its own (`libggml-cpu-haswell.so`, `libggml-cuda.so`, ...) and llama.cpp uses none
until they are loaded. llama-cpp-python never loads them (its issue #2069: "no backends are
loaded"), so Quantdesk does, once, before any model load or device query:
`ggml_backend_load_all_from_path` through **the libggml that libllama links against**
(`libggml.so.0`; another copy has a registry of its own). ggml then picks the best CPU variant for
this processor and registers each GPU engine whose library loads.

A backend file that is missing, corrupt, or made for another build is skipped with a reason
(`EngineInfo.skipped`), and the app keeps working on the CPU. With an ordinary static build there
is nothing to load, and that is fine.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.core._util.translation import QT_TRANSLATE_NOOP, Translate, as_written
from app.core.engine.ggml import (
    MODULE_PREFIX,
    MODULE_SUFFIX,
    ggml_libraries,
    gpu_backend_key,
    llama_lib_folder,
    registry_names,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

# Where a PyInstaller bundle keeps the backend libraries (installers/quantdesk.spec).
BUNDLE_BACKENDS = "ggml-backends"
_lock = threading.Lock()
_loaded: EngineInfo | None = None


class NamedGpu(Protocol):
    """What `EngineInfo.describe` needs of a GPU (the machine layer's `GpuInfo` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def backend(self) -> str: ...


@dataclass(frozen=True)
class EngineInfo:
    """What the engine can compute with, and why any backend file was left out.

    Attributes:
        backends: [{"name": "CPU", "path": ".../libggml-cpu-haswell.so"}, ...] in the registry.
        cpu_variant: the CPU build ggml chose ("haswell", "sse42", ...), "native" for an
            ordinary build made for the builder's CPU, or None if unknown.
        gpu_offload: a GPU engine is registered.
        skipped: [{"path": ..., "reason": ...}] backend files that were not used.
        folders: where backend files were looked for.
        pending_restart: engine pack folders installed while another GPU engine was in use;
            they are loaded at the next start.
    """

    backends: list[dict[str, str]] = field(default_factory=list)
    cpu_variant: str | None = None
    gpu_offload: bool = False
    skipped: list[dict[str, str]] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    pending_restart: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backends": self.backends,
            "cpu_variant": self.cpu_variant,
            "gpu_offload": self.gpu_offload,
            "skipped": self.skipped,
            "folders": self.folders,
            "pending_restart": self.pending_restart,
        }

    def describe(self, gpus: Iterable[NamedGpu] = (), translate: Translate = as_written) -> str:
        """'CPU engine: AVX2 build (haswell); GPU engine: Vulkan on NVIDIA GeForce RTX 3070',
        for the wizard and `hw`. `gpus`: the detected GPUs, to name the cards each engine runs.
        `translate`: the UI's, for the person's language (context "Engine")."""
        words = CPU_VARIANT_WORDS.get(self.cpu_variant or "")
        if self.cpu_variant == "native":
            cpu = translate(QT_TRANSLATE_NOOP("Engine", "CPU engine: one built-in build"))
        elif self.cpu_variant and words:
            cpu = translate(QT_TRANSLATE_NOOP("Engine", "CPU engine: {words} build ({variant})"))
            cpu = cpu.format(words=translate(words), variant=self.cpu_variant)
        elif self.cpu_variant:
            cpu = translate(QT_TRANSLATE_NOOP("Engine", "CPU engine: {variant} build"))
            cpu = cpu.format(variant=self.cpu_variant)
        else:
            cpu = translate(QT_TRANSLATE_NOOP("Engine", "CPU engine"))
        engines = []
        for backend in self.backends:
            if backend["name"].upper() in NOT_GPU_BACKENDS:
                continue
            cards = [gpu.name for gpu in gpus if gpu.backend == gpu_backend_key(backend["name"])]
            if cards:
                on_cards = translate(QT_TRANSLATE_NOOP("Engine", "{engine} on {cards}"))
                engines.append(on_cards.format(engine=backend["name"], cards=", ".join(cards)))
            else:
                engines.append(backend["name"])
        if engines:
            gpu = translate(QT_TRANSLATE_NOOP("Engine", "GPU engine: {engines}"))
            gpu = gpu.format(engines="; ".join(engines))
        else:
            gpu = translate(QT_TRANSLATE_NOOP("Engine", "no GPU engine"))
        return f"{cpu}; {gpu}"


# ggml's CPU variants, by the instruction sets a person may have heard of.
CPU_VARIANT_WORDS = {
    "x64": QT_TRANSLATE_NOOP("Engine", "basic x86-64"),
    "sse42": "SSE4.2",
    "sandybridge": "AVX",
    "ivybridge": "AVX",
    "piledriver": "AVX + FMA",
    "haswell": "AVX2",
    "alderlake": "AVX2 + VNNI",
    "skylakex": "AVX-512",
    "cannonlake": "AVX-512",
    "cascadelake": "AVX-512",
    "cooperlake": "AVX-512",
    "icelake": "AVX-512",
    "zen4": "AVX-512",
    "sapphirerapids": "AVX-512 + AMX",
}
# Registered backends that compute on the CPU, not on a GPU.
NOT_GPU_BACKENDS = {"CPU", "BLAS", "RPC"}


def backend_folders() -> list[Path]:
    """Folders that may hold backend libraries: the bundle's, a development install's, then
    the GPU engine packs downloaded in Settings (app/core/engine/packs.py)."""
    # Packs first: llama.cpp uses the first engine registered for a card, and a CUDA pack is
    # installed because it beats the Vulkan engine the bundle carries for the same card.
    from app.core.engine.packs import pack_folders

    folders = list(pack_folders())
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(Path(bundle) / BUNDLE_BACKENDS)
    extra = os.environ.get("QUANTDESK_BACKENDS")  # tests, and packagers trying a build
    if extra:
        folders.append(Path(extra))
    lib = llama_lib_folder()
    if lib is not None:
        # llama-cpp-python's CMake install puts the DL backends in site-packages/bin.
        folders.append(lib.parents[1] / "bin")
    return [folder for folder in dict.fromkeys(folders) if folder.is_dir()]


def ensure_backends() -> EngineInfo:
    """Load the backends once; thread-safe. Later calls return the same result, except that a
    folder that appeared since (a GPU engine pack just installed) is loaded then, so a pack is
    used from the next model load without a restart: unless a GPU engine is registered already,
    which would keep the card (llama.cpp uses the first engine for a card); then the pack is
    used from the next start (`pending_restart`)."""
    global _loaded
    with _lock:
        folders = backend_folders()
        if _loaded is None:
            _loaded = _load_backends(folders)
            log.info("engine backends=%s skipped=%s", _loaded.backends, _loaded.skipped)
        else:
            new = [folder for folder in folders if str(folder) not in _loaded.folders]
            if new and _loaded.gpu_offload:
                _loaded = replace(_loaded, pending_restart=[str(folder) for folder in new])
            elif new:
                _loaded = _merged(_loaded, _load_backends(new))
                log.info("engine backends=%s after loading %s", _loaded.backends, new)
        return _loaded


def _merged(before: EngineInfo, added: EngineInfo) -> EngineInfo:
    return EngineInfo(
        backends=added.backends,  # the whole registry, read after loading
        cpu_variant=before.cpu_variant or added.cpu_variant,
        gpu_offload=added.gpu_offload,
        skipped=before.skipped + added.skipped,
        folders=before.folders + added.folders,
    )


def loaded_engine() -> EngineInfo | None:
    """The backends if they are loaded already, else None (never loads: safe on the GUI thread)."""
    return _loaded


def _load_backends(folders: list[Path]) -> EngineInfo:
    # llama-cpp-python prints every llama.cpp log line to stderr until a model is loaded with
    # verbose=False; its logger's level is what it checks. Our own log gets the summary.
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    ggml = ggml_libraries().ggml
    skipped: list[dict[str, str]] = []
    for folder in folders:
        files = _backend_files(folder)
        if not files:
            continue
        _preload_runtime_libraries(folder)
        for path in files:
            # Only GPU engines are tried here: a CPU variant for a newer processor must never be
            # loaded by hand (ggml itself picks the variant this CPU can run).
            reason = None if _is_cpu(path) else _unloadable(path)
            if reason:
                skipped.append({"path": str(path), "reason": reason})
        if any(_is_cpu(path) for path in files) or not _has_cpu():
            ggml.ggml_backend_load_all_from_path(str(folder).encode())
        else:
            # A CPU is registered already: load only the other engines from this folder.
            for path in files:
                if not _is_cpu(path) and not any(s["path"] == str(path) for s in skipped):
                    ggml.ggml_backend_load(str(path).encode())
    backends = [{"name": name} for name in registry_names()]
    loaded_files = _loaded_backend_files()
    names = {backend["name"].upper() for backend in backends}
    for path in (p for folder in folders for p in _backend_files(folder)):
        if _is_cpu(path) or any(s["path"] == str(path) for s in skipped):
            continue
        if _registry_name(path).upper() not in names:
            skipped.append({
                "path": str(path),
                "reason": "llama.cpp refused it (made for another llama.cpp version, or its "
                "GPU driver is missing)",
            })  # fmt: skip
    for backend in backends:
        backend["path"] = next(
            (f for f in loaded_files if _registry_name(Path(f)).upper() == backend["name"].upper()),
            "built in",
        )
    return EngineInfo(
        backends=backends,
        cpu_variant=_cpu_variant(loaded_files, backends),
        gpu_offload=any(b["name"].upper() not in NOT_GPU_BACKENDS for b in backends),
        skipped=skipped,
        folders=[str(folder) for folder in folders],
    )


def _preload_runtime_libraries(folder: Path) -> None:
    """A GPU engine pack carries its runtime beside the backend (libcudart, libcublas, ...):
    load those first, by path, so the backend's dependencies resolve to them. Repeated until
    nothing more loads, since they depend on each other in an order we don't know."""
    pending = [
        path
        for path in sorted(folder.iterdir())
        if path.is_file()
        and (path.suffix == MODULE_SUFFIX or f"{MODULE_SUFFIX}." in path.name)
        and not path.name.startswith(f"{MODULE_PREFIX}ggml")
    ]
    while pending:
        loaded = [path for path in pending if _unloadable(path, mode=ctypes.RTLD_GLOBAL) is None]
        if not loaded:
            log.info("runtime libraries left unloaded in %s: %s", folder, pending)
            return
        pending = [path for path in pending if path not in loaded]


def _backend_files(folder: Path) -> list[Path]:
    """`libggml-<name>.so` files that are backends (not libggml-base itself)."""
    pattern = f"{MODULE_PREFIX}ggml-*{MODULE_SUFFIX}"
    return sorted(path for path in folder.glob(pattern) if _backend_name(path) not in ("base", ""))


def _backend_name(path: Path) -> str:
    """`libggml-cpu-haswell.so` -> "cpu-haswell"; `libggml-cuda.so` -> "cuda"."""
    name = path.name
    if MODULE_PREFIX and name.startswith(MODULE_PREFIX):
        name = name[len(MODULE_PREFIX) :]
    name = name.removeprefix("ggml-").split(MODULE_SUFFIX)[0]
    return "CPU" if name.startswith("cpu") else name.upper() if name in ("cuda", "hip") else name


def _registry_name(path: Path) -> str:
    """The name a backend file registers under (ggml-hip registers as "ROCm")."""
    name = _backend_name(path)
    return {"HIP": "ROCm"}.get(name, name)


def _is_cpu(path: Path) -> bool:
    return _backend_name(path) == "CPU"


def _unloadable(path: Path, mode: int = ctypes.DEFAULT_MODE) -> str | None:
    """Why the system loader can't load `path` (corrupt, wrong CPU type, missing driver)."""
    try:
        ctypes.CDLL(str(path), mode=mode)
    except OSError as exc:
        return f"it can't be loaded: {exc}"
    return None


def _loaded_backend_files() -> list[str]:
    """Backend libraries mapped into this process."""
    found = {path for path in _loaded_libraries() if "ggml-" in Path(path).name}
    return sorted(f for f in found if _backend_name(Path(f)) not in ("base", ""))


def _loaded_libraries() -> list[str]:
    """Paths of the shared libraries this process has loaded (Linux, Windows, macOS)."""
    if sys.platform == "darwin":
        dyld = ctypes.CDLL("/usr/lib/libSystem.B.dylib")
        dyld._dyld_image_count.restype = ctypes.c_uint32
        dyld._dyld_get_image_name.restype = ctypes.c_char_p
        dyld._dyld_get_image_name.argtypes = [ctypes.c_uint32]
        names = (dyld._dyld_get_image_name(i) for i in range(dyld._dyld_image_count()))
        return [name.decode(errors="replace") for name in names if name]
    if sys.platform == "win32":
        import psutil

        return [mapping.path for mapping in psutil.Process().memory_maps()]
    try:
        maps = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return [line.split()[-1] for line in maps.splitlines() if "/" in line]


def _cpu_variant(loaded_files: list[str], backends: list[dict[str, str]]) -> str | None:
    for path in loaded_files:
        name = Path(path).name.removeprefix(MODULE_PREFIX).removeprefix("ggml-")
        if name.startswith("cpu-"):
            return name.removeprefix("cpu-").split(MODULE_SUFFIX)[0]
    if any(b["name"].upper() == "CPU" for b in backends):
        return "native"  # an ordinary build: the CPU code is inside libggml, made for the builder's CPU
    return None


def _has_cpu() -> bool:
    return any(name.upper() == "CPU" for name in registry_names())
