"""How fast a model file would generate on a machine, before it is downloaded.

Token generation reads every weight the token passes through once, so its time is set by memory
bandwidth (the study: /work/shared/reference/speed-prediction.md, "Proposed model"):

    t_token = sum over devices d of  W_d / (eta_d x BW_d)  +  t0 (the backend's fixed cost)

- W_d: bytes read per token on device d: the `blk.*` layers on it (a mixture-of-experts layer
  reads only its used experts: `ModelShape.active_layer_share`) and the output head where it sits
  (the token embedding is a lookup, not read; a model whose head *is* the embedding reads it
  whole as its head). Per-device times add for a split.
- BW_d: the GPU's bandwidth (NVML's bus width x memory clock; a table of common GPUs and Apple
  chips), the CPU's RAM bandwidth measured here with a short multi-threaded read.
- eta, t0: per backend, from the study's calibration rows. Before calibration the answer is a
  range over the backend's eta and t0 ranges ("bandwidth"); after `quantdesk bench` on this
  machine, predictions are scaled by measured / predicted and shown as +-10 %
  ("measured on this machine").

Predictions are for the start of a chat (depth 0): a long conversation reads its KV cache too and
runs slower (the study measured 13-31 % at 8k tokens).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import threading
import time
import warnings
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core._util.enums import TextEnum
from app.core._util.files import write_json_atomic
from app.core._util.priority import lower_this_threads_priority, run_at_lower_priority
from app.core.fit.measured import engine_version
from app.core.fit.memory import ModelShape
from app.core.fit.recommend import Option, machine_budget
from app.core.fit.verdicts import Fit
from app.core.machine.hardware import GpuInfo, HardwareProfile

if TYPE_CHECKING:
    from app.core.engine.benchmark import BenchmarkResult
    from app.core.engine.engine import LoadedModel

log = logging.getLogger(__name__)

# Plain-words speed: English prose runs about 0.75 words per token (OpenAI's rule of thumb of
# ~100 tokens per 75 words; SmolLM2's and Llama's BPE vocabularies are in that range).
WORDS_PER_TOKEN = 0.75
# Below this many words per second a reply is slower than a person reads aloud (~2.5 words/s):
# "Best quality" warns about it.
SLOW_WORDS_PER_SECOND = 3.0
# After calibration a prediction is shown as +-10 % (the study's held-out error on Metal was a
# median 4 %, max 14 %).
CALIBRATED_SPREAD = 0.10
MEASUREMENTS_FILE = "speed-measurements.json"
BANDWIDTH_FILE = "ram-bandwidth.json"
MEASURE_COMMAND = "__measure-ram"  # the hidden command the RAM is measured in (`app/cli.py`)
MEASURE_SECONDS = 60.0  # the child's start on a busy machine included
FILE_FORMAT = 1


class SpeedBasis(TextEnum):
    """Where a predicted speed comes from."""

    BANDWIDTH = "bandwidth"  # bytes per token over the device's bandwidth (a wide range)
    MEASURED = "measured on this machine"  # scaled by `quantdesk bench` here (+-10 %)


@dataclass(frozen=True)
class BackendSpeed:
    """One backend's share of its bandwidth reached (eta) and fixed cost per token (t0, s):
    central values and the range seen in the study's calibration rows."""

    eta: float
    eta_low: float
    eta_high: float
    t0: float
    t0_low: float
    t0_high: float


# From the study's table "Proposed model" (CUDA: the 2025 scoreboard fit; Metal: M1/M2 fits,
# checked held-out on M3/M4). The CPU's eta is of a *measured* read bandwidth (0.5-0.8 in the
# study); its t0 is the Python binding's ~1 ms per token measured here (measured-here.md).
BACKEND_SPEED: dict[str, BackendSpeed] = {
    "cuda": BackendSpeed(0.85, 0.75, 1.0, 1.0e-3, 0.5e-3, 3e-3),
    "rocm": BackendSpeed(0.83, 0.6, 0.95, 1.2e-3, 0.5e-3, 3e-3),
    "vulkan": BackendSpeed(0.83, 0.6, 0.95, 1.2e-3, 0.5e-3, 3e-3),
    "sycl": BackendSpeed(0.5, 0.39, 0.59, 1.2e-3, 0.5e-3, 3e-3),
    "metal": BackendSpeed(0.94, 0.84, 0.98, 5e-3, 3.3e-3, 8.3e-3),
    "cpu": BackendSpeed(0.7, 0.5, 0.8, 1e-3, 0.5e-3, 2e-3),
}

# On a CPU, decoding is bound by the dot products as much as by RAM: a byte of each weight type
# costs its own time to unpack and multiply (8-bit and 16-bit bytes hold fewer weights, with
# simpler kernels). CPU time per byte read, relative to a K-quant byte; fitted on this project's
# 2-vCPU AVX2 machine to SmolLM2-135M requantized to each type at 30, 20 and 10 layers, then
# checked held out on Gemma-3-270M (docs/performance.md, "Speed per weight type"). A type not
# measured counts 1. The range before calibration spans these and 1 (a CPU bound by RAM alone).
CPU_BYTE_COST: dict[str, float] = {
    "F16": 0.53, "BF16": 0.58, "Q8_0": 0.69,
    "Q4_0": 0.85, "IQ4_NL": 0.80, "IQ4_XS": 1.09, "Q4_1": 1.04, "Q5_0": 1.05, "Q5_1": 0.98,
    "Q2_K": 1.0, "Q3_K": 1.0, "Q4_K": 1.0, "Q5_K": 1.0, "Q6_K": 1.0,
}  # fmt: skip

# Memory bandwidth in GB/s of common GPUs (makers' data sheets, as TechPowerUp lists them), for
# machines where NVML can't be asked (AMD, Intel, a machine described in a file). Matched as
# words inside the device's name, longest first ("RTX 4060 Ti" before "RTX 4060").
GPU_BANDWIDTH_GBPS: dict[str, float] = {
    "RTX 5090": 1792, "RTX 5080": 960, "RTX 5070 Ti": 896, "RTX 5070": 672,
    "RTX 5060 Ti": 448, "RTX 5060": 448,
    "RTX 4090": 1008, "RTX 4080": 717, "RTX 4070 Ti": 504, "RTX 4070": 504,
    "RTX 4060 Ti": 288, "RTX 4060": 272,
    "RTX 3090 Ti": 1008, "RTX 3090": 936, "RTX 3080 Ti": 912, "RTX 3080": 760,
    "RTX 3070 Ti": 608, "RTX 3070": 448, "RTX 3060 Ti": 448, "RTX 3060": 360, "RTX 3050": 224,
    "RTX 2080 Ti": 616, "RTX 2080": 448, "RTX 2070": 448, "RTX 2060": 336,
    "GTX 1080 Ti": 484, "GTX 1080": 320, "GTX 1070": 256, "GTX 1660": 192, "GTX 1650": 128,
    "Tesla P40": 347, "Tesla T4": 320, "A100": 1555, "H100": 3350, "H200": 4800, "L40S": 864,
    "L4": 300, "A10": 600, "RTX A6000": 768, "RTX 6000 Ada": 960,
    "RX 7900 XTX": 960, "RX 7900 XT": 800, "RX 7800 XT": 624, "RX 7700 XT": 432,
    "RX 7600": 288, "RX 6900 XT": 512, "RX 6800 XT": 512, "RX 6800": 512, "RX 6700 XT": 384,
    "RX 6600": 224, "RX 5700 XT": 448, "Arc A770": 512, "Arc B580": 456,
    # Apple silicon (unified memory; the binned Max chips are the lower figure).
    "M1 Ultra": 800, "M1 Max": 400, "M1 Pro": 200, "M1": 68,
    "M2 Ultra": 800, "M2 Max": 400, "M2 Pro": 200, "M2": 100,
    "M3 Ultra": 800, "M3 Max": 300, "M3 Pro": 150, "M3": 100,
    "M4 Max": 410, "M4 Pro": 273, "M4": 120,
    "M5 Max": 460, "M5 Pro": 307, "M5": 153,
}  # fmt: skip


@dataclass(frozen=True)
class SpeedRange:
    """Predicted generation speed in tokens per second, low to high, and where it came from."""

    low: float
    high: float
    basis: SpeedBasis

    def as_dict(self) -> dict[str, Any]:
        return {"low": round(self.low, 1), "high": round(self.high, 1), "basis": str(self.basis)}

    def words(self) -> tuple[int, int]:
        """The range in words per second (`WORDS_PER_TOKEN`), rounded, at least 1."""
        return (
            max(1, round(self.low * WORDS_PER_TOKEN)),
            max(1, round(self.high * WORDS_PER_TOKEN)),
        )

    @property
    def middle(self) -> float:
        """The range's geometric middle (tokens/s): as far from either end by ratio."""
        return (self.low * self.high) ** 0.5

    @property
    def slow_to_read(self) -> bool:
        """The middle of the range is slower than a person reads. Not the high end: before a
        speed test the range spans a CPU bound by its RAM and one bound by its arithmetic
        (`CPU_BYTE_COST`), and its high end is the hopeful one."""
        return self.middle * WORDS_PER_TOKEN < SLOW_WORDS_PER_SECOND


@dataclass(frozen=True)
class Bandwidths:
    """What a machine's devices can read, in GB/s (None: not known)."""

    ram_gbps: float | None
    gpu_gbps: float | None = None


@dataclass(frozen=True)
class Calibration:
    """A benchmark on this machine: measured time per token over the predicted (central) one."""

    scale: float
    file: str  # the file measured (for the reasons)


# --- bytes per token -----------------------------------------------------------------------------


def bytes_read_per_token(shape: ModelShape, gpu_layers: int) -> tuple[int, int]:
    """(bytes on the GPU, bytes in RAM) one generated token reads with the last `gpu_layers`
    layers offloaded; the output head sits on the GPU only at full offload (as in memory.py)."""
    gpu_layers = max(0, min(gpu_layers, shape.layers))
    active_layer = shape.layer_bytes * shape.active_layer_share
    head = shape.embed_bytes if shape.tied_output else shape.output_bytes
    full = gpu_layers == shape.layers and gpu_layers > 0
    on_gpu = active_layer * gpu_layers + (head if full else 0)
    in_ram = active_layer * (shape.layers - gpu_layers) + (0 if full else head)
    return int(on_gpu), int(in_ram)


def main_weight_type(quant: str) -> str:
    """The ggml type most of a file of `quant` is stored as ("Q4_K_M" -> "Q4_K")."""
    label = quant.upper()
    if match := re.match(r"^(Q\d)_K", label):
        return f"{match[1]}_K"
    return label


def with_quant_types(shape: ModelShape, quant: str | None) -> ModelShape:
    """`shape` as another quant of its model would store it: the layers as `quant`'s main type,
    the head as llama.cpp's quantizer leaves it (Q6_K, or the file's type for 8- and 16-bit
    files). The shape itself when `quant` is its own file's or not known."""
    if not quant or quant.upper() == shape.quant.upper():
        return shape
    main = main_weight_type(quant)
    head = main if main in ("Q8_0", "F16", "BF16", "F32") else "Q6_K"
    return replace(shape, layer_types=((main, 1.0),), head_type=head, quant=quant)


def cpu_cost_factors(shape: ModelShape) -> tuple[float, float]:
    """(a layer byte's, a head byte's) CPU cost relative to a K-quant byte (`CPU_BYTE_COST`)."""
    layer = sum(CPU_BYTE_COST.get(name, 1.0) * share for name, share in shape.layer_types)
    return (layer or 1.0), CPU_BYTE_COST.get(shape.head_type, 1.0)


def _cpu_cost_bytes(shape: ModelShape, gpu_layers: int) -> tuple[float, float, float]:
    """The RAM side's bytes per token weighted by their CPU cost: (fastest, central, slowest),
    the extremes counting every byte at min/max of its type's cost and 1."""
    gpu_layers = max(0, min(gpu_layers, shape.layers))
    full = gpu_layers == shape.layers and gpu_layers > 0
    layers = shape.layer_bytes * shape.active_layer_share * (shape.layers - gpu_layers)
    head = 0 if full else (shape.embed_bytes if shape.tied_output else shape.output_bytes)
    layer_cost, head_cost = cpu_cost_factors(shape)
    return (
        layers * min(layer_cost, 1.0) + head * min(head_cost, 1.0),
        layers * layer_cost + head * head_cost,
        layers * max(layer_cost, 1.0) + head * max(head_cost, 1.0),
    )


# --- prediction ----------------------------------------------------------------------------------


def predict_speed(
    shape: ModelShape,
    *,
    gpu_layers: int,
    backend: str | None,
    bandwidths: Bandwidths,
    calibration: Calibration | None = None,
) -> SpeedRange | None:
    """Generation speed of `shape` with `gpu_layers` layers on the `backend` GPU (the rest on the
    CPU); None when a device it uses has no known bandwidth."""
    times = _token_times(shape, gpu_layers, backend, bandwidths)
    if times is None:
        return None
    low_t, central_t, high_t = times
    if calibration is not None:
        measured = central_t * calibration.scale
        return SpeedRange(
            (1 - CALIBRATED_SPREAD) / measured,
            (1 + CALIBRATED_SPREAD) / measured,
            SpeedBasis.MEASURED,
        )
    return SpeedRange(1 / high_t, 1 / low_t, SpeedBasis.BANDWIDTH)


def predicted_seconds_per_token(
    shape: ModelShape, *, gpu_layers: int, backend: str | None, bandwidths: Bandwidths
) -> float | None:
    """The central predicted time per token (what a benchmark is compared with)."""
    times = _token_times(shape, gpu_layers, backend, bandwidths)
    return times[1] if times else None


def _token_times(
    shape: ModelShape, gpu_layers: int, backend: str | None, bandwidths: Bandwidths
) -> tuple[float, float, float] | None:
    """(fastest, central, slowest) seconds per token."""
    gpu_layers = gpu_layers if backend else 0
    on_gpu, in_ram = bytes_read_per_token(shape, gpu_layers)
    # Per part: (bytes when fastest, central, slowest; bandwidth; the backend's constants).
    parts: list[tuple[tuple[float, float, float], float, BackendSpeed]] = []
    if in_ram:
        if not bandwidths.ram_gbps:
            return None
        parts.append((_cpu_cost_bytes(shape, gpu_layers), bandwidths.ram_gbps, BACKEND_SPEED["cpu"]))  # fmt: skip
    if on_gpu and backend:
        if not bandwidths.gpu_gbps:
            return None
        parts.append(((on_gpu, on_gpu, on_gpu), bandwidths.gpu_gbps, BACKEND_SPEED.get(backend, BACKEND_SPEED["vulkan"])))  # fmt: skip
    if not parts:
        return None
    # The fixed cost is paid once per token, by the backend that ends it (the GPU's in a split).
    fixed = parts[-1][2]

    def seconds(which: int, eta_of: str, t0: float) -> float:
        return t0 + sum(
            sizes[which] / (getattr(speed, eta_of) * gbps * 1e9) for sizes, gbps, speed in parts
        )

    return (
        seconds(0, "eta_high", fixed.t0_low),
        seconds(1, "eta", fixed.t0),
        seconds(2, "eta_low", fixed.t0_high),
    )


# --- bandwidth -----------------------------------------------------------------------------------


def table_bandwidth(name: str) -> float | None:
    """A GPU's (or Apple chip's) bandwidth from `GPU_BANDWIDTH_GBPS`, by its marketing name."""
    for key in sorted(GPU_BANDWIDTH_GBPS, key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", name, re.IGNORECASE):
            return GPU_BANDWIDTH_GBPS[key]
    return None


def gpu_bandwidth(gpu: GpuInfo, profile: HardwareProfile | None = None) -> float | None:
    """The GPU's bandwidth: NVML's bus width x memory clock for an NVIDIA card in this machine
    (kept only when within 2x of the table, which catches drivers that report half clocks),
    else the table; Apple's GPU by the chip's name."""
    table = table_bandwidth(gpu.name)
    if table is None and gpu.backend == "metal" and profile is not None:
        table = table_bandwidth(profile.cpu.model)
    if gpu.backend == "cuda":
        nvml = _nvml_bandwidths().get(gpu.name)
        if nvml and (table is None or table / 2 <= nvml <= table * 2):
            return nvml
    return table


@lru_cache(maxsize=1)
def _nvml_bandwidths() -> dict[str, float]:
    """{device name: GB/s} from NVML: 2 (double data rate) x max memory MHz x bus bits / 8."""
    try:
        with warnings.catch_warnings():  # the `pynvml` wrapper package warns it is deprecated
            warnings.simplefilter("ignore", FutureWarning)
            import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver / no library is the normal case
        return {}
    found: dict[str, float] = {}
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            bits = pynvml.nvmlDeviceGetMemoryBusWidth(handle)
            mhz = pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM)
            name = pynvml.nvmlDeviceGetName(handle)  # bytes in older pynvml releases
            name = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
            found[name] = 2 * mhz * bits / 8 / 1000
    except Exception as exc:  # noqa: BLE001 - a half-working driver: use the table
        log.info("NVML bandwidth query failed error=%s", exc)
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()
    return found


def measure_ram_bandwidth(threads: int, *, mib_per_thread: int = 64, rounds: int = 3) -> float:
    """RAM read bandwidth in GB/s: `threads` threads each reduce their own array (numpy releases
    the GIL), the best of `rounds`. About 0.3 s on a 2-core machine. Arrays far larger than the
    caches, so what is timed is memory, not cache. The threads run at a lower priority, as the
    engine's do (`priority.py`): a window open meanwhile keeps drawing."""
    import numpy as np

    count = mib_per_thread * (1 << 20) // 4
    workers = max(1, threads)
    ready = threading.Barrier(workers + 1)
    go = threading.Barrier(workers + 1)
    done = threading.Barrier(workers + 1)

    def read() -> None:
        lower_this_threads_priority()
        array = np.ones(count, dtype=np.int32)
        ready.wait()
        for _ in range(rounds):
            go.wait()
            array.max()  # the fastest whole-array read numpy has here (int32 max: ~9 GB/s/core)
            done.wait()

    threads_started = [threading.Thread(target=read, daemon=True) for _ in range(workers)]
    for thread in threads_started:
        thread.start()
    ready.wait()
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        go.wait()
        done.wait()
        elapsed = time.perf_counter() - started
        best = max(best, workers * count * 4 / elapsed / 1e9)
    for thread in threads_started:
        thread.join()
    return best


def measure_ram_bandwidth_apart(threads: int) -> float:
    """`measure_ram_bandwidth` in a child process (`quantdesk __measure-ram`): importing numpy
    and filling its arrays hold the interpreter's lock for tens of milliseconds, which in the
    app's process would stall the window (bench/bench_chat_stall.py's limit is 50 ms). Measured
    here instead when the child can't run."""
    from app.core._util.child import run_once
    from app.core.errors import ChildWorkError

    try:
        # Started from a lowered thread, the child (its interpreter's start-up included) runs
        # at the engine's lower priority: a window open meanwhile keeps drawing.
        out = run_at_lower_priority(
            lambda: run_once([MEASURE_COMMAND, str(threads)], deadline_seconds=MEASURE_SECONDS)
        )
        return float(out.strip().splitlines()[-1])
    except (ChildWorkError, ValueError, IndexError) as exc:
        log.warning("RAM bandwidth child failed, measuring here error=%s", exc)
        return measure_ram_bandwidth(threads)


def measure_ram_here(args: list[str]) -> int:
    """The child's side of `measure_ram_bandwidth_apart`: print the GB/s."""
    print(f"{measure_ram_bandwidth(int(args[0]) if args else 1):.3f}")
    return 0


def machine_key(profile: HardwareProfile) -> str:
    """A short id of this machine: its system, CPU and GPUs (what sets its speed). Not the
    memory sizes: the person may correct those by hand, and the machine stays the same."""
    text = "|".join([
        profile.os,
        profile.cpu.model,
        str(profile.cpu.cores),
        *sorted(g.name for g in profile.gpus),
    ])  # fmt: skip
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def ram_bandwidth(profile: HardwareProfile, cache_dir: Path) -> float:
    """This machine's RAM bandwidth (GB/s), measured once and kept in `cache_dir` per machine.
    Call it off the GUI thread: the first call reads memory for about a third of a second."""
    path = cache_dir / BANDWIDTH_FILE
    key = machine_key(profile)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("machine") == key and float(saved["gbps"]) > 0:
            return float(saved["gbps"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    gbps = measure_ram_bandwidth_apart(max(1, profile.cpu.cores))
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, {"format": FILE_FORMAT, "machine": key, "gbps": round(gbps, 2)})
    except OSError as exc:  # a cache: the figure is still good for now
        log.warning("couldn't save RAM bandwidth path=%s error=%s", path, exc)
    return gbps


def machine_bandwidths(profile: HardwareProfile, ram_gbps: float | None) -> Bandwidths:
    """The bandwidths of `profile`'s devices: `ram_gbps` as measured (None for a machine
    described in a file: its RAM is not this one's) and its largest usable GPU's."""
    gpu = max(
        (g for g in profile.gpus if g.engine_usable), key=lambda g: g.vram_bytes, default=None
    )
    return Bandwidths(ram_gbps, gpu_bandwidth(gpu, profile) if gpu else None)


# --- measurements on this machine ---------------------------------------------------------------


@dataclass(frozen=True)
class SpeedMeasurement:
    """One `quantdesk bench` run, stored per machine, backend, engine build and file."""

    machine: str
    backend: str  # "cpu", or the GPU backend when layers were offloaded
    build: str
    file: str  # the file's name
    file_size: int
    gpu_layers: int
    threads: int
    prompt_tokens_per_second: float
    generation_tokens_per_second: float  # at depth 0
    generation_tokens_per_second_deep: float | None  # at `deep_depth` tokens of context
    deep_depth: int | None
    time_to_first_token: float  # seconds, for a `prompt_tokens`-token prompt
    prompt_tokens: int
    predicted_seconds_per_token: float | None  # the bandwidth model's central figure
    measured_at: float

    @property
    def scale(self) -> float | None:
        """Measured time per token over the predicted one (None without a prediction)."""
        if not self.predicted_seconds_per_token or self.generation_tokens_per_second <= 0:
            return None
        return (1 / self.generation_tokens_per_second) / self.predicted_seconds_per_token

    def key(self) -> tuple[str, str, str, str, int]:
        return (self.machine, self.backend, self.build, self.file, self.file_size)


def load_measurements(data_dir: Path) -> list[SpeedMeasurement]:
    """Every stored benchmark (none when the file is missing or unreadable)."""
    path = data_dir / MEASUREMENTS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FILE_FORMAT:
            return []
        return [SpeedMeasurement(**row) for row in data["runs"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("speed measurements unreadable path=%s error=%s", path, exc)
        return []


def save_measurement(data_dir: Path, measurement: SpeedMeasurement) -> None:
    """Keep `measurement`, replacing an earlier one of the same machine, backend, build and file
    (an atomic write: a crash leaves the old file or the new one)."""
    runs = [m for m in load_measurements(data_dir) if m.key() != measurement.key()]
    runs.append(measurement)
    data_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        data_dir / MEASUREMENTS_FILE, {"format": FILE_FORMAT, "runs": [asdict(m) for m in runs]}
    )


def calibration_for(
    measurements: list[SpeedMeasurement], *, machine: str, backend: str, build: str | None = None
) -> Calibration | None:
    """The latest benchmark on this machine and backend (and engine build, when given) as a
    calibration; None before any."""
    usable = [
        m
        for m in measurements
        if m.machine == machine
        and m.backend == backend
        and (build is None or m.build == build)
        and m.scale is not None
    ]
    if not usable:
        return None
    latest = max(usable, key=lambda m: m.measured_at)
    assert latest.scale is not None
    return Calibration(latest.scale, latest.file)


# --- one machine's predictions --------------------------------------------------------------------


@lru_cache(maxsize=1)
def engine_build() -> str:
    """The engine build speeds are measured with (`measured.engine_version`)."""
    return f"llama-cpp-python {engine_version()}"


@dataclass(frozen=True)
class SpeedContext:
    """What predicting speeds on one machine needs, gathered once (off the GUI thread: the RAM
    bandwidth may be measured)."""

    bandwidths: Bandwidths
    machine: str
    build: str
    measurements: tuple[SpeedMeasurement, ...] = ()

    def calibration(self, backend: str) -> Calibration | None:
        return calibration_for(
            list(self.measurements), machine=self.machine, backend=backend, build=self.build
        )


def speed_context(
    profile: HardwareProfile, *, data_dir: Path, cache_dir: Path, this_machine: bool = True
) -> SpeedContext:
    """`profile`'s speed facts: its bandwidths (RAM measured and cached when `this_machine`;
    a machine described in a file has no RAM figure) and the benchmarks stored in `data_dir`."""
    ram = ram_bandwidth(profile, cache_dir) if this_machine else None
    measurements = tuple(load_measurements(data_dir)) if this_machine else ()
    return SpeedContext(
        machine_bandwidths(profile, ram), machine_key(profile), engine_build(), measurements
    )


def option_speed(
    shape: ModelShape, option: Option, profile: HardwareProfile, context: SpeedContext
) -> SpeedRange | None:
    """The predicted generation speed of a recommendation's `option` (another quant of the model
    `shape` describes), where its fit puts it."""
    gpu = machine_budget(profile).gpu
    on_gpu = option.fit in (Fit.GPU, Fit.PARTIAL) and gpu is not None
    backend = gpu.backend if on_gpu and gpu is not None else None
    speed = predict_speed(
        with_quant_types(shape.with_file_size(option.size_bytes), option.quant),
        gpu_layers=option.gpu_layers if on_gpu else 0,
        backend=backend,
        bandwidths=context.bandwidths,
        calibration=context.calibration(backend or "cpu"),
    )
    if speed is None or not option.network_seconds_per_token:
        return speed
    # Split across computers: the layers read as they would here (the workers' memory speed is
    # not known; taken as this machine's), plus the network's round trips on every token.
    network = option.network_seconds_per_token
    return replace(speed, low=1 / (1 / speed.low + network), high=1 / (1 / speed.high + network))


def record_benchmark(
    model: LoadedModel,
    result: BenchmarkResult,
    profile: HardwareProfile,
    *,
    data_dir: Path,
    cache_dir: Path,
) -> SpeedMeasurement:
    """Store `result` (a benchmark of the loaded `model` on the machine `profile`) with the
    bandwidth model's prediction for the same file, so later predictions here are scaled by it."""
    from app.core.gguf.header import check_model_file

    shape = ModelShape.from_header(check_model_file(model.path), model.file_size)
    gpu = next((g for g in profile.gpus if g.engine_usable), None)
    backend = gpu.backend if gpu is not None and model.gpu_layers > 0 else None
    predicted = predicted_seconds_per_token(
        shape,
        gpu_layers=model.gpu_layers,
        backend=backend,
        bandwidths=machine_bandwidths(profile, ram_bandwidth(profile, cache_dir)),
    )
    measurement = SpeedMeasurement(
        machine=machine_key(profile),
        backend=backend or "cpu",
        build=engine_build(),
        file=model.path.name,
        file_size=model.file_size,
        gpu_layers=model.gpu_layers,
        threads=model.threads,
        prompt_tokens_per_second=result.prompt_tokens_per_second,
        generation_tokens_per_second=result.generation_tokens_per_second,
        generation_tokens_per_second_deep=result.generation_tokens_per_second_deep,
        deep_depth=result.deep_depth,
        time_to_first_token=result.time_to_first_token,
        prompt_tokens=result.prompt_tokens,
        predicted_seconds_per_token=predicted,
        measured_at=time.time(),
    )
    save_measurement(data_dir, measurement)
    return measurement
