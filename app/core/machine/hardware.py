"""What this machine has for running a model: RAM, CPU features, GPUs.

`detect()` probes the machine; everything else takes a `HardwareProfile`, which tests and
`quantdesk recommend --hardware FILE` build from JSON (the same JSON `quantdesk hw --json`
prints, see docs/hardware.md). Detection never raises: a probe that fails (no driver, a
library missing) leaves its part empty and says so in `notes`.

GPUs come from two places: llama.cpp's own backend registry (the devices *this engine* can use:
CUDA, Metal, Vulkan, ROCm/HIP, SYCL), read through ctypes from the `libggml` llama-cpp-python
ships, and NVIDIA's management library (pynvml) for NVIDIA cards the engine build can't use yet.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import platform
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.core._util.platforms import cpu_arch, os_name
from app.core._util.text import printable
from app.core._util.translation import QT_TRANSLATE_NOOP, Translate, as_written
from app.core.errors import HardwareFileError

log = logging.getLogger(__name__)

BACKENDS = ("cuda", "rocm", "metal", "vulkan", "sycl")
X86_FEATURES = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
)
ARM_FEATURES = ("neon", "dotprod", "i8mm", "sve")
# /proc/cpuinfo spellings -> ours.
_LINUX_FLAGS = {
    "avx": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c", "avx512f": "avx512f",
    "avx512bw": "avx512bw", "avx512vl": "avx512vl", "avx512_vnni": "avx512_vnni",
    "avx512_bf16": "avx512_bf16", "asimd": "neon", "neon": "neon", "asimddp": "dotprod",
    "i8mm": "i8mm", "sve": "sve",
}  # fmt: skip


@dataclass(frozen=True)
class CpuInfo:
    arch: str  # "x86_64" or "arm64"
    model: str
    cores: int  # physical cores
    features: tuple[str, ...]

    def has(self, feature: str) -> bool:
        return feature in self.features


@dataclass(frozen=True)
class GpuInfo:
    name: str
    backend: str  # one of BACKENDS
    vram_bytes: int  # what the GPU may use (Apple: the unified-memory share)
    vram_free_bytes: int
    engine_usable: bool = True  # False: seen by the driver, but this engine build can't use it


@dataclass(frozen=True)
class HardwareProfile:
    """A machine, detected or described. `unified_memory`: GPU memory is part of RAM (Apple)."""

    os: str
    cpu: CpuInfo
    ram_bytes: int
    ram_available_bytes: int
    unified_memory: bool = False
    gpus: tuple[GpuInfo, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def has_usable_gpu(self) -> bool:
        """A GPU this engine build can run layers on (else GPU settings mean nothing here)."""
        return any(gpu.engine_usable for gpu in self.gpus)

    @classmethod
    def empty(cls) -> HardwareProfile:
        """A machine with nothing known yet (before detection finishes)."""
        return cls(os="", cpu=CpuInfo("x86_64", "", 1, ()), ram_bytes=0, ram_available_bytes=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "os": self.os,
            "cpu": {
                "arch": self.cpu.arch,
                "model": self.cpu.model,
                "cores": self.cpu.cores,
                "features": list(self.cpu.features),
            },
            "ram_bytes": self.ram_bytes,
            "ram_available_bytes": self.ram_available_bytes,
            "unified_memory": self.unified_memory,
            "gpus": [
                {
                    "name": g.name,
                    "backend": g.backend,
                    "vram_bytes": g.vram_bytes,
                    "vram_free_bytes": g.vram_free_bytes,
                    **({} if g.engine_usable else {"engine_usable": False}),
                }
                for g in self.gpus
            ],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HardwareProfile:
        """Build a profile from `quantdesk hw --json` output (or a hand-written file).

        Raises:
            HardwareFileError: a field is missing or of the wrong kind, named in the message.
        """
        try:
            cpu = data["cpu"]
            gpus = tuple(
                GpuInfo(
                    name=str(g["name"]),
                    backend=_backend(g["backend"]),
                    vram_bytes=int(g["vram_bytes"]),
                    vram_free_bytes=int(g.get("vram_free_bytes", g["vram_bytes"])),
                    engine_usable=bool(g.get("engine_usable", True)),
                )
                for g in data.get("gpus", [])
            )
            return cls(
                os=str(data["os"]),
                cpu=CpuInfo(
                    arch=str(cpu["arch"]),
                    model=str(cpu.get("model", "")),
                    cores=int(cpu["cores"]),
                    features=tuple(str(f).lower() for f in cpu.get("features", [])),
                ),
                ram_bytes=int(data["ram_bytes"]),
                ram_available_bytes=int(data.get("ram_available_bytes", data["ram_bytes"])),
                unified_memory=bool(data.get("unified_memory", False)),
                gpus=gpus,
                notes=tuple(str(n) for n in data.get("notes", [])),
            )
        except KeyError as exc:
            raise HardwareFileError(
                f"The machine description is missing {exc.args[0]!r}."
            ) from None
        except (TypeError, AttributeError) as exc:
            raise HardwareFileError(f"The machine description is malformed: {exc}.") from None


def _backend(name: object) -> str:
    backend = str(name).lower()
    if backend not in BACKENDS:
        raise HardwareFileError(
            f"The machine description names an unknown GPU engine {printable(str(name))!r} "
            f"(one of {', '.join(BACKENDS)})."
        )
    return backend


# --- detection -----------------------------------------------------------------------------------


def detect() -> HardwareProfile:
    """Probe this machine. Never raises: what can't be seen is left out and noted."""
    import psutil

    notes: list[str] = []
    memory = psutil.virtual_memory()
    cpu = _detect_cpu(notes)
    gpus = _detect_gpus(notes)
    unified = sys.platform == "darwin" and cpu.arch == "arm64"
    return HardwareProfile(
        os=os_name(),
        cpu=cpu,
        ram_bytes=int(memory.total),
        ram_available_bytes=int(memory.available),
        unified_memory=unified,
        gpus=tuple(gpus),
        notes=tuple(notes),
    )


def detect_cpu() -> CpuInfo:
    """This machine's CPU alone (cheap: no GPU probe), for decisions made at load time."""
    return _detect_cpu([])


def _detect_cpu(notes: list[str]) -> CpuInfo:
    import psutil

    arch = cpu_arch()
    cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    model, features = "", set[str]()
    try:
        if sys.platform.startswith("linux"):
            model, features = _linux_cpu()
        elif sys.platform == "darwin":
            model, features = _macos_cpu(arch)
        elif sys.platform == "win32":
            model, features = _windows_cpu(arch)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        notes.append(f"CPU instruction sets could not be read ({exc}).")
    if arch == "arm64":
        features.add("neon")  # every arm64 CPU has NEON (Advanced SIMD)
    order = X86_FEATURES + ARM_FEATURES
    return CpuInfo(
        arch, model or platform.processor() or arch, cores, tuple(f for f in order if f in features)
    )


def _linux_cpu() -> tuple[str, set[str]]:
    text = Path("/proc/cpuinfo").read_text(errors="replace")
    model = next(iter(re.findall(r"^(?:model name|Model)\s*:\s*(.+)$", text, re.MULTILINE)), "")
    flags_line = next(iter(re.findall(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.MULTILINE)), "")
    return model.strip(), {_LINUX_FLAGS[f] for f in flags_line.split() if f in _LINUX_FLAGS}


def _sysctl(name: str) -> str:
    result = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    return result.stdout.strip() if result.returncode == 0 else ""


def _macos_cpu(arch: str) -> tuple[str, set[str]]:
    model = _sysctl("machdep.cpu.brand_string")
    if arch == "arm64":
        features = {"neon"}
        for key, feature in (("FEAT_DotProd", "dotprod"), ("FEAT_I8MM", "i8mm")):
            if _sysctl(f"hw.optional.arm.{key}") == "1":
                features.add(feature)
        return model, features
    words = (_sysctl("machdep.cpu.features") + " " + _sysctl("machdep.cpu.leaf7_features")).lower()
    mapping = {"avx1.0": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c", "avx512f": "avx512f",
               "avx512bw": "avx512bw", "avx512vl": "avx512vl", "avx512vnni": "avx512_vnni"}  # fmt: skip
    return model, {ours for word, ours in mapping.items() if word in words.split()}


def _windows_cpu(arch: str) -> tuple[str, set[str]]:
    if sys.platform != "win32":  # tells mypy too: `ctypes.windll` exists on Windows only
        raise OSError("the Windows CPU probe runs on Windows only")
    present = ctypes.windll.kernel32.IsProcessorFeaturePresent
    # PF_* constants from winnt.h.
    checks = (
        {39: "avx", 40: "avx2", 41: "avx512f"} if arch == "x86_64" else {19: "neon", 43: "dotprod"}
    )
    features = {name for code, name in checks.items() if present(code)}
    if "avx2" in features:
        features |= {"fma", "f16c"}  # every AVX2 CPU has them; Windows has no flag for them
    return platform.processor(), features


def _detect_gpus(notes: list[str]) -> list[GpuInfo]:
    gpus = _ggml_devices(notes)
    if not any(g.backend == "cuda" for g in gpus):
        # Cards the driver sees that no engine runs (one the Vulkan engine runs is listed once).
        usable = {g.name.lower() for g in gpus}
        nvidia = [g for g in _nvidia_devices(notes) if g.name.lower() not in usable]
        if nvidia:
            notes.append(
                "NVIDIA GPU found, but no engine of this build can use it: models run on the CPU "
                "until a GPU engine is installed (Settings, GPU engine)."
            )
        gpus += nvidia
    return gpus


def _nvidia_devices(notes: list[str]) -> list[GpuInfo]:
    try:
        with warnings.catch_warnings():  # the `pynvml` wrapper package warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver / no library is the normal case
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            found.append(
                GpuInfo(str(name), "cuda", int(memory.total), int(memory.free), engine_usable=False)
            )
        return found
    except Exception as exc:  # noqa: BLE001 - a half-working driver must not break detection
        notes.append(f"NVIDIA driver answered with an error ({exc}).")
        return []
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def _ggml_devices(notes: list[str]) -> list[GpuInfo]:
    """GPU devices in llama.cpp's backend registry (what the engine can offload to)."""
    try:
        return _read_ggml_devices(notes)
    except Exception as exc:  # noqa: BLE001 - a missing or broken engine must not stop detection
        notes.append(f"llama.cpp's device list could not be read ({type(exc).__name__}: {exc}).")
        return []


def _read_ggml_devices(notes: list[str]) -> list[GpuInfo]:
    from app.core.engine.backends import ensure_backends
    from app.core.engine.ggml import gpu_devices

    engine = ensure_backends()  # GPU engines are devices only once their backend is loaded
    for skipped in engine.skipped:
        notes.append(f"Skipped engine file {skipped['path']}: {skipped['reason']}.")
    found = []
    for device in gpu_devices():
        if device.backend is None:
            notes.append(
                f"Skipped GPU device {device.name} ({device.description}): unknown backend."
            )
            continue
        found.append(
            GpuInfo(device.description or device.name, device.backend, device.total_bytes,
                    device.free_bytes)
        )  # fmt: skip
    return found


def with_corrections(
    profile: HardwareProfile,
    *,
    ram_bytes: int | None = None,
    vram_bytes: dict[int, int] | None = None,
) -> HardwareProfile:
    """`profile` with what a person corrected by hand: RAM, and VRAM per GPU index.

    Detection can miss (a driver that reports no memory, a VM); the person knows better.
    """
    gpus = tuple(
        replace(gpu, vram_bytes=vram_bytes[index], vram_free_bytes=vram_bytes[index])
        if vram_bytes and index in vram_bytes
        else gpu
        for index, gpu in enumerate(profile.gpus)
    )
    return replace(profile, ram_bytes=ram_bytes or profile.ram_bytes, gpus=gpus)


def describe_cpu_features(cpu: CpuInfo, translate: Translate = as_written) -> str:
    """The instruction sets that matter for llama.cpp, in words (through `translate`, the UI's
    for the person's language: context "Machine")."""
    if cpu.arch == "arm64":
        if cpu.has("dotprod"):
            return translate(QT_TRANSLATE_NOOP("Machine", "ARM NEON with dot product"))
        return "ARM NEON"
    wanted = [
        ("avx512f", "AVX-512"),
        ("avx2", "AVX2"),
        ("avx", "AVX"),
        ("fma", "FMA"),
        ("f16c", "F16C"),
    ]
    present = [label for feature, label in wanted if cpu.has(feature)]
    if present:
        return ", ".join(present)
    return translate(QT_TRANSLATE_NOOP("Machine", "no AVX (the slowest engine variant is used)"))
