"""llama.cpp's own memory projection for a file: a `no_alloc` dry run in a child process.

With `no_alloc` llama.cpp reads the header, places every tensor and sizes every buffer (KV cache,
compute per device, output) without allocating them or reading weights: 0.1-0.6 s and ~60 MB for
the tiny models. It needs mmap off (`load_mode` NONE; with mmap on it asserts and aborts the
process), so it runs in a child, never in the app's own process, and never on a second thread of
it (two OpenMP pools slow each other). It also works on a sparse stub of a remote file (the
header's bytes, then a hole up to the file's size): `write_stub`.

llama.cpp prints its figures through its log; they are read from these lines (this build's words):

    llama_kv_cache: size =   90.00 MiB (  4096 cells,  30 layers,  1/1 seqs), K (f16): ...
    sched_reserve:        CPU compute buffer size =    99.38 MiB
    llama_context:        CPU  output buffer size =     0.19 MiB

Two contexts are sized: one as the app's engine makes it (what a GPU allocates) and one that
asks for a single row of logits, as a chat does (what the CPU touches: the reservation for 512
rows of logits is never written there).
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core._util.cancel import CancelToken
from app.core._util.child import run_once
from app.core._util.priority import run_at_lower_priority

PROJECT_COMMAND = "__project-memory"
# A dry run reads only the header: tens of seconds would mean a stuck disk or a busy machine.
PROJECT_SECONDS = 120.0
MICRO_BATCH = 512
MIB = 1 << 20
# The child's exit status when the engine can't start there: no projection, the formula stands.
ENGINE_UNAVAILABLE = 75

_KV = re.compile(r"llama_kv_cache: size =\s*([\d.]+) MiB")
_COMPUTE = re.compile(r"\s(\S+) compute buffer size =\s*([\d.]+) MiB")
_OUTPUT = re.compile(r"\s(\S+)\s+output buffer size =\s*([\d.]+) MiB")


@dataclass(frozen=True)
class Projection:
    """llama.cpp's figures for one load of a file at `context` tokens with `gpu_layers` offloaded.

    `compute_bytes` and `touched_compute_bytes` map a buffer's device ("CPU", "CUDA0",
    "CUDA_Host") to bytes: as the app's load reserves it, and with one row of logits.
    """

    context: int
    gpu_layers: int
    kv_bytes: int  # every layer's cache, sliding-window caches included
    compute_bytes: dict[str, int] = field(default_factory=dict)
    touched_compute_bytes: dict[str, int] = field(default_factory=dict)
    output_bytes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Projection:
        return cls(**data)

    @property
    def devices(self) -> set[str]:
        """The devices llama.cpp placed compute on (a GPU shows here only if this engine has it)."""
        return set(self.compute_bytes)


def parse_log(text: str) -> dict[str, object]:
    """The figures in llama.cpp's log of one model load and context creation."""
    return {
        "kv_bytes": sum(_mib(size) for size in _KV.findall(text)),
        "compute_bytes": {device: _mib(size) for device, size in _COMPUTE.findall(text)},
        "output_bytes": {device: _mib(size) for device, size in _OUTPUT.findall(text)},
    }


def _mib(text: str) -> int:
    return round(float(text) * MIB)


def project_memory(
    path: Path, *, context: int, gpu_layers: int = 0, cancel: CancelToken | None = None
) -> Projection:
    """llama.cpp's projection for `path` (a model file or a sparse stub), from a child's dry run.

    Raises:
        ChildWorkError: the child died (llama.cpp aborted on the file), ran past its deadline,
            was stopped, or its engine could not start (`returncode` ENGINE_UNAVAILABLE).
        ValueError: the child answered something that isn't a projection.
    """
    # From a lowered thread the child inherits the lower priority: a window open meanwhile
    # (Discover, the wizard) keeps drawing while llama.cpp plans the load.
    out = run_at_lower_priority(
        lambda: run_once(
            [PROJECT_COMMAND, str(path), str(context), str(gpu_layers)],
            deadline_seconds=PROJECT_SECONDS,
            cancel=cancel,
        )
    )
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise ValueError("the dry run printed no projection")
    return Projection.from_dict(json.loads(lines[-1]))


def write_stub(header_bytes: bytes, size: int, target: Path) -> Path:
    """A sparse file llama.cpp can dry-run: `header_bytes` (the file's first bytes, through its
    tensor infos), then a hole up to the real file's `size` (no disk used for it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as stream:
        stream.write(header_bytes)
        stream.truncate(size)
    return target


def dry_run_here(args: list[str]) -> int:
    """The child's side: `PATH CONTEXT GPU_LAYERS`; prints the projection as one JSON line."""
    path, context, gpu_layers = args[0], int(args[1]), int(args[2])
    try:
        import llama_cpp

        from app.core.engine.backends import ensure_backends

        ensure_backends()
    except Exception as exc:  # noqa: BLE001 - any engine failure: not the file's fault
        print(f"engine unavailable: {exc}", file=sys.stderr)
        return ENGINE_UNAVAILABLE
    logged: list[str] = []

    @llama_cpp.llama_log_callback
    def keep(_level: int, text: bytes, _user: object) -> None:
        logged.append(text.decode("utf-8", errors="replace"))

    llama_cpp.llama_log_set(keep, None)
    params = llama_cpp.llama_model_default_params()
    params.no_alloc = True
    params.load_mode = 0  # LLAMA_LOAD_MODE_NONE: no mmap (with mmap on, no_alloc asserts)
    params.lazy_mode = 0
    params.n_gpu_layers = gpu_layers
    model = llama_cpp.llama_model_load_from_file(path.encode(), params)
    if not model:
        print(f"llama.cpp could not read {path}", file=sys.stderr)
        return 1
    figures = parse_log(_contexts_log(llama_cpp, model, logged, context, outputs=0))
    touched = parse_log(_contexts_log(llama_cpp, model, logged, context, outputs=1))
    projection = Projection(
        context=context,
        gpu_layers=gpu_layers,
        kv_bytes=int(figures["kv_bytes"]),  # type: ignore[call-overload]
        compute_bytes=figures["compute_bytes"],  # type: ignore[arg-type]
        touched_compute_bytes=touched["compute_bytes"],  # type: ignore[arg-type]
        output_bytes=figures["output_bytes"],  # type: ignore[arg-type]
    )
    print(json.dumps(projection.as_dict()), flush=True)
    os._exit(0)  # no teardown of the no_alloc model: nothing of it is needed any more


def _contexts_log(
    llama_cpp: Any, model: Any, logged: list[str], context: int, *, outputs: int
) -> str:
    """The log of sizing one context (as the engine makes it: 512-token batches, f16 KV, no
    flash attention, llama.cpp's full-size sliding-window caches); `outputs` 0 = as many logits
    rows as a batch, 1 = one row, as a chat asks."""
    logged.clear()
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = context
    params.n_batch = MICRO_BATCH
    params.n_ubatch = MICRO_BATCH
    params.n_outputs_max = outputs
    params.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
    ctx = llama_cpp.llama_init_from_model(model, params)
    if not ctx:
        raise RuntimeError("llama.cpp could not size a context")
    text = "".join(logged)
    llama_cpp.llama_free(ctx)
    return text
