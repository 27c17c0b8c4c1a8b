"""The one way into ggml through ctypes: the libggml and libggml-base that libllama links.

Another copy of the same library would have a backend registry of its own, so every caller
(backend loading, device listing, benches) goes through `ggml_libraries()`, which finds the
copies llama-cpp-python loaded, under each OS's file names:

    Linux    libggml.so.0 / libggml.so          (backend modules: libggml-cpu-haswell.so)
    macOS    libggml.0.dylib / libggml.dylib    (backend modules: libggml-metal.so)
    Windows  ggml.dll (MSVC) / libggml.dll (MinGW)

Backend *modules* end in `.so` on macOS too (ggml's `backend_filename_suffix`); only the
libraries libllama links against are `.dylib` there.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# Loadable backend modules: `libggml-cuda.so`, `ggml-cuda.dll`.
MODULE_SUFFIX = ".dll" if sys.platform == "win32" else ".so"
MODULE_PREFIX = "" if sys.platform == "win32" else "lib"

# ggml_backend_dev_type: CPU = 0, GPU = 1, IGPU (integrated, shares host memory) = 2, ACCEL = 3.
DEVICE_TYPE_GPU = (1, 2)

_init_lock = threading.Lock()


def linked_library_names(name: str) -> tuple[str, ...]:
    """File names that `name` ("ggml", "ggml-base") may have as a linked library, soname first:
    the copy libllama links against is the one with the shared registry."""
    if sys.platform == "win32":
        return (f"{name}.dll", f"lib{name}.dll")
    if sys.platform == "darwin":
        return (f"lib{name}.0.dylib", f"lib{name}.dylib")
    return (f"lib{name}.so.0", f"lib{name}.so")


def llama_lib_folder() -> Path | None:
    """Where llama-cpp-python keeps libllama and libggml, or None without llama-cpp-python."""
    try:
        import llama_cpp
    except ImportError:
        return None
    return Path(llama_cpp.__file__).parent / "lib"


@dataclass(frozen=True)
class GgmlLibraries:
    """libggml (`ggml`: loading, registry, devices) and libggml-base (`base`: names, memory)."""

    ggml: ctypes.CDLL
    base: ctypes.CDLL
    folder: Path


@cache
def ggml_libraries() -> GgmlLibraries:
    """The libraries llama-cpp-python loaded, with every function Quantdesk calls declared.
    Raises OSError when they can't be found (a broken install)."""
    import llama_cpp  # loads libllama, and with it the libggml it links

    with _init_lock:
        llama_cpp.llama_backend_init()
    folder = Path(llama_cpp.__file__).parent / "lib"
    ggml = ctypes.CDLL(str(_find(folder, "ggml")))
    base = ctypes.CDLL(str(_find(folder, "ggml-base")))

    ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
    ggml.ggml_backend_load.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    ggml.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    ggml.ggml_backend_reg_get.restype = ctypes.c_void_p
    ggml.ggml_backend_dev_count.restype = ctypes.c_size_t
    ggml.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    ggml.ggml_backend_dev_get.restype = ctypes.c_void_p
    for function in (
        "ggml_backend_reg_name",
        "ggml_backend_dev_name",
        "ggml_backend_dev_description",
    ):
        getattr(base, function).restype = ctypes.c_char_p
        getattr(base, function).argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_type.restype = ctypes.c_int
    base.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_memory.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    base.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    base.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    return GgmlLibraries(ggml=ggml, base=base, folder=folder)


def _find(folder: Path, name: str) -> Path:
    for candidate in linked_library_names(name):
        if (folder / candidate).exists():
            return folder / candidate
    raise OSError(f"{linked_library_names(name)[0]} not found in {folder}")


def registry_names() -> list[str]:
    """Names of the registered backends ("CPU", "CUDA", "Vulkan", ...), in registry order."""
    libs = ggml_libraries()
    names = []
    for index in range(libs.ggml.ggml_backend_reg_count()):
        name = libs.base.ggml_backend_reg_name(libs.ggml.ggml_backend_reg_get(index))
        names.append(name.decode(errors="replace") if name else "?")
    return names


def gpu_backend_key(name: str) -> str | None:
    """A registry or device name ("CUDA", "CUDA0", "ROCm1", "HIP", "MTL0", "Vulkan0") -> the
    engine key a GPU is listed under ("cuda", "rocm", "metal", "vulkan", "sycl"), or None."""
    lowered = name.lower()
    for prefix, key in (("cuda", "cuda"), ("rocm", "rocm"), ("hip", "rocm"), ("metal", "metal"),
                        ("mtl", "metal"), ("vulkan", "vulkan"), ("sycl", "sycl")):  # fmt: skip
        if lowered.startswith(prefix):
            return key
    return None


@dataclass(frozen=True)
class EngineDevice:
    """A GPU in llama.cpp's device list, in the engine's own words (the machine layer maps it to
    its `GpuInfo`). `backend` is None for an engine Quantdesk doesn't know by name."""

    name: str
    description: str
    backend: str | None
    total_bytes: int
    free_bytes: int


def gpu_devices() -> list[EngineDevice]:
    """The GPU devices registered now (load the backends first: a GPU engine's devices exist
    only once its library is loaded)."""
    libs = ggml_libraries()
    found = []
    for index in range(libs.ggml.ggml_backend_dev_count()):
        device = libs.ggml.ggml_backend_dev_get(index)
        if libs.base.ggml_backend_dev_type(device) not in DEVICE_TYPE_GPU:
            continue
        name = (libs.base.ggml_backend_dev_name(device) or b"?").decode(errors="replace")
        description = (libs.base.ggml_backend_dev_description(device) or b"").decode(
            errors="replace"
        )
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        libs.base.ggml_backend_dev_memory(device, ctypes.byref(free), ctypes.byref(total))
        found.append(
            EngineDevice(
                name, description, gpu_backend_key(name), int(total.value), int(free.value)
            )
        )
    return found
