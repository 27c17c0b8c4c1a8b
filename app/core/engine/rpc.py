"""llama.cpp's RPC backend (ggml-rpc) through ctypes: the server a worker runs, and the client
side that turns a worker's address into devices a model can be loaded onto.

The engine we ship is built with `GGML_RPC=ON` (`scripts/_setup.sh`): the backend is a loadable
library like the GPU engines, and its server is the one `rpc-server` runs
(`ggml_backend_rpc_start_server`, from the same vendored llama.cpp), so no home-made protocol.

The client aborts its process when a worker is unreachable or dies (ggml-rpc's
`RPC_STATUS_ASSERT`): everything here that contacts a worker runs in a child process
(`app/core/remote/workers.py`), or in a process that a worker's death may end; never in the
app's own process.

The RPC protocol has no authentication and no encryption: anyone who can reach a worker's port
can run work on it and read what it holds.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from app.core.engine.ggml import ggml_libraries
from app.core.errors import RemoteWorkerError

# rpc-server's default port.
DEFAULT_PORT = 50052
# ggml_backend_dev_type: CPU = 0 (rpc-server offers the CPU only when there is no GPU).
_DEVICE_TYPE_CPU = 0


@dataclass(frozen=True)
class Device:
    """One device as ggml names it, with its memory in bytes."""

    name: str
    description: str
    free_bytes: int
    total_bytes: int
    handle: int = 0  # ggml_backend_dev_t, in the process that read it; 0 once sent elsewhere

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "free_bytes": self.free_bytes,
            "total_bytes": self.total_bytes,
        }


@cache
def _rpc() -> Any:
    """The RPC backend's registry, its backends loaded first."""
    from app.core.engine.backends import ensure_backends

    ensure_backends()
    libs = ggml_libraries()
    libs.ggml.ggml_backend_reg_by_name.argtypes = [ctypes.c_char_p]
    libs.ggml.ggml_backend_reg_by_name.restype = ctypes.c_void_p
    registry = libs.ggml.ggml_backend_reg_by_name(b"RPC")
    if not registry:
        raise RemoteWorkerError(
            "this build of the engine has no RPC backend, so it can't use other computers"
        )
    return registry


def _function(name: str, restype: Any, *argtypes: Any) -> Any:
    address = ggml_libraries().base.ggml_backend_reg_get_proc_address(_rpc(), name.encode())
    if not address:
        raise RemoteWorkerError(f"this engine's RPC backend lacks {name}")
    return ctypes.CFUNCTYPE(restype, *argtypes)(address)


def _device(handle: int) -> Device:
    base = ggml_libraries().base
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    base.ggml_backend_dev_memory(handle, ctypes.byref(free), ctypes.byref(total))
    return Device(
        name=(base.ggml_backend_dev_name(handle) or b"?").decode(errors="replace"),
        description=(base.ggml_backend_dev_description(handle) or b"").decode(errors="replace"),
        free_bytes=int(free.value),
        total_bytes=int(total.value),
        handle=handle,
    )


def local_devices() -> list[Device]:
    """Every device of this computer's engine (CPU and GPUs), as a worker can offer them."""
    _rpc()
    libs = ggml_libraries()
    handles = [libs.ggml.ggml_backend_dev_get(i) for i in range(libs.ggml.ggml_backend_dev_count())]
    return [_device(handle) for handle in handles]


def offered_devices(names: list[str] | None = None) -> list[Device]:
    """What a worker serves: the devices `names` (ggml's names: "CPU", "CUDA0", "Vulkan0"), or
    by default as `rpc-server` does: its GPUs, else its CPU.

    Raises:
        RemoteWorkerError: a name that is not a device here (the sentence lists the devices).
    """
    devices = local_devices()
    if names:
        by_name = {device.name.lower(): device for device in devices}
        unknown = [name for name in names if name.lower() not in by_name]
        if unknown:
            listed = ", ".join(device.name for device in devices)
            raise RemoteWorkerError(
                f"no device named {', '.join(unknown)} here; this computer has: {listed}"
            )
        return [by_name[name.lower()] for name in names]
    base = ggml_libraries().base
    gpus = [d for d in devices if base.ggml_backend_dev_type(d.handle) != _DEVICE_TYPE_CPU]
    return gpus or [d for d in devices if base.ggml_backend_dev_type(d.handle) == _DEVICE_TYPE_CPU]


def serve(endpoint: str, devices: list[Device], *, threads: int, cache_dir: str | None) -> None:
    """Serve `devices` on `endpoint` ("host:port") until the process ends (llama.cpp's own
    server loop: it never returns). ctypes lets other Python threads run meanwhile."""
    start = _function(
        "ggml_backend_rpc_start_server",
        None,
        ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_void_p),
    )  # fmt: skip
    handles = (ctypes.c_void_p * len(devices))(*(d.handle for d in devices))
    start(
        endpoint.encode(),
        cache_dir.encode() if cache_dir else None,
        threads,
        len(devices),
        handles,
    )


# The workers a split model loaded by this process holds a connection to. llama.cpp's RPC server
# serves one computer at a time, so a probe of one of them would only wait: `remote.workers`
# answers it with what the worker offered before this load (the room another model would have,
# as loading one unloads this first).
_held: set[str] = set()
_held_lock = threading.Lock()


def hold(endpoints: Iterable[str]) -> None:
    """This process now holds a connection to these workers (a split load begins)."""
    with _held_lock:
        _held.update(endpoints)


def release(endpoints: Iterable[str]) -> None:
    """This process no longer holds these workers (the split model is gone)."""
    with _held_lock:
        _held.difference_update(endpoints)


def held(endpoint: str) -> bool:
    with _held_lock:
        return endpoint in _held


def connect(endpoint: str) -> list[Device]:
    """The devices a worker at `endpoint` offers, ready to load layers onto (in this process).

    Aborts the process if the worker can't be reached: see the module's docstring.
    """
    add_server = _function("ggml_backend_rpc_add_server", ctypes.c_void_p, ctypes.c_char_p)
    registry = add_server(endpoint.encode())
    if not registry:
        raise RemoteWorkerError(f"{endpoint} offers no devices")
    base = ggml_libraries().base
    base.ggml_backend_reg_dev_count.argtypes = [ctypes.c_void_p]
    base.ggml_backend_reg_dev_count.restype = ctypes.c_size_t
    base.ggml_backend_reg_dev_get.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    base.ggml_backend_reg_dev_get.restype = ctypes.c_void_p
    count = base.ggml_backend_reg_dev_count(registry)
    return [_device(base.ggml_backend_reg_dev_get(registry, i)) for i in range(count)]


def answers(endpoint: str, *, timeout: float) -> bool:
    """Whether something accepts a connection at `endpoint` ("host:port", IPv6 in brackets)."""
    import socket

    host, _, port = endpoint.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class RemoteLayers:
    """Layers to place on one worker ("host:port"): its devices share them by free memory."""

    endpoint: str
    layers: int


@dataclass(frozen=True)
class DevicePlan:
    """What a load hands llama.cpp: the devices in order, and each one's share of the
    offloaded layers (`tensor_split`). Layers not offloaded, and the output layer, stay on
    this computer's CPU."""

    handles: tuple[int, ...]
    shares: tuple[float, ...]
    layers: int  # offloaded in all (llama.cpp's n_gpu_layers)


def plan_devices(remote: tuple[RemoteLayers, ...]) -> DevicePlan:
    """Connect to each worker and spread its layers over its devices by their free memory.

    llama.cpp offloads the *last* `n_gpu_layers` layers counting the output layer as one: N
    offloaded are N - 1 repeating layers and the output. The output stays on this computer
    instead (`devices_for_next_load` pins its tensors here: per token only the hidden state
    crosses the network, not a row of logits as long as the vocabulary), so N repeating layers
    take N + 1, the one more counted on the last device, which the output unit falls to.
    """
    handles: list[int] = []
    shares: list[float] = []
    for worker in remote:
        devices = connect(worker.endpoint)
        free = sum(device.free_bytes for device in devices) or len(devices)
        for device in devices:
            handles.append(device.handle)
            shares.append(worker.layers * (device.free_bytes or 1) / free)
    if shares:
        shares[-1] += 1  # the output's unit (its tensors stay here)
    offloaded = sum(worker.layers for worker in remote)
    return DevicePlan(tuple(handles), tuple(shares), offloaded + 1 if offloaded else 0)


# The output layer's tensors (and a tied model's embedding, which doubles as its output), kept
# on this computer's CPU in a split load: llama.cpp's regular expressions over tensor names.
OUTPUT_ON_THIS_COMPUTER = (rb"^output", rb"^token_embd\.weight$")


class _TensorPlacement(ctypes.Structure):
    # llama_model_tensor_buft_override: a name pattern and the buffer type its tensors go in.
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


def _cpu_buffer_type() -> int:
    libs = ggml_libraries()  # the registry is in libggml, the device calls in libggml-base
    libs.ggml.ggml_backend_dev_by_type.argtypes = [ctypes.c_int]
    libs.ggml.ggml_backend_dev_by_type.restype = ctypes.c_void_p
    libs.base.ggml_backend_dev_buffer_type.argtypes = [ctypes.c_void_p]
    libs.base.ggml_backend_dev_buffer_type.restype = ctypes.c_void_p
    cpu = libs.ggml.ggml_backend_dev_by_type(_DEVICE_TYPE_CPU)
    return int(libs.base.ggml_backend_dev_buffer_type(cpu))


@contextmanager
def devices_for_next_load(handles: tuple[int, ...]) -> Iterator[None]:
    """Make the `Llama` built inside this block use exactly `handles` as its devices, with the
    output layer on this computer (`plan_devices`).

    llama-cpp-python 0.3.36 has no argument for `llama_model_params.devices` (its field is marked
    unused): `Llama` starts from `llama_model_default_params()`, so the defaults it gets here
    carry the list. Without it llama.cpp would use every registered device, a worker the person
    removed included. Loads happen on the engine's one thread.
    """
    import llama_cpp.llama_cpp as bindings

    original = bindings.llama_model_default_params
    devices = (ctypes.c_void_p * (len(handles) + 1))(*handles, None)  # NULL-terminated
    cpu = _cpu_buffer_type()
    placements = (_TensorPlacement * (len(OUTPUT_ON_THIS_COMPUTER) + 1))(
        *(_TensorPlacement(pattern, cpu) for pattern in OUTPUT_ON_THIS_COMPUTER),
        _TensorPlacement(None, None),  # NULL-terminated
    )

    def with_devices() -> Any:
        params = original()
        params.devices = ctypes.cast(devices, ctypes.c_void_p)
        params.tensor_buft_overrides = ctypes.cast(placements, ctypes.c_void_p)
        return params

    bindings.llama_model_default_params = with_devices
    try:
        yield
    finally:
        bindings.llama_model_default_params = original
