""" "Why is it slow?": the figures of the loaded model and its last reply, and the one change most
likely to make replies faster.

`suggest(figures)` is the rule: a pure function from what was *measured* (this load, the last
reply, the machine's memory now) to one `Suggestion`. The checks go from the cause that slows
everything most to the least:

1. swap in use while RAM is nearly full: the model's memory is being paged to disk
   (or the GPU borrowing system memory): nothing else matters until that stops;
   then other programs keeping the processor busy, while layers run on it;
2. a GPU the engine can use, layers left on the CPU, and room for more on the GPU;
3. a long conversation: generation at this depth well below its speed at a chat's start (this
   load's first reply, or a speed test of this file), as every token reads the whole KV cache;
4. the first token took longer than the writing after a long prompt (it is all read before
   anything shows);
5. on the GPU, well below what this file should do there: something else is using the GPU;
6. otherwise the machine reads the weights as fast as it can: a smaller file (one on disk, else
   one named by the seeds' rule) is what makes it faster, or a smaller model when the file is
   already at the smallest quant worth using.

`gather_figures` collects what the rule needs; it may wait on the GPU driver and measure the
RAM's bandwidth once per machine (`speed.ram_bandwidth`): call it off the GUI thread.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core._util.enums import TextEnum
from app.core.gguf.quants import parse_quant

if TYPE_CHECKING:
    from app.core.engine.engine import GenerationStats, LoadedModel
    from app.core.engine.rpc import RemoteLayers
    from app.core.fit.speed import SpeedRange
    from app.core.machine.hardware import HardwareProfile

log = logging.getLogger(__name__)

MIB = 1 << 20
# Swap counts as a cause only while RAM is nearly full too: pages swapped out long ago by an
# idle program don't slow the model, a model that doesn't fit in what is left does.
SWAP_IN_USE_BYTES = 256 * MIB
RAM_NEARLY_FULL_SHARE = 0.10
# Other programs keep the processor busy past this share of it (sampled while the model is idle,
# for `CPU_SAMPLE_SECONDS`): the model's CPU threads wait for their turn.
BUSY_CPU_SHARE = 0.5
CPU_SAMPLE_SECONDS = 0.5
# GPU memory borrowed from system RAM (Windows' "shared GPU memory") past this is a spill.
GPU_SPILL_BYTES = 256 * MIB
# Room kept free on the GPU beyond one more layer (its share of the compute buffers grows too).
GPU_LAYER_MARGIN_BYTES = 256 * MIB
# "Slowed by depth": at least this many tokens of context, and at most this share of the speed
# measured at the chat's start (the study saw 13-31 % slower at 8k tokens).
DEEP_CONTEXT_TOKENS = 1024
SLOWED_SHARE = 0.75
# The first token "dominates" when it took longer than writing the reply, and at least this long,
# after a prompt at least this long (a short prompt read slowly is not the prompt's fault: a
# busy machine, or the first reply after a load paging the weights in).
SLOW_START_SECONDS = 2.0
LONG_PROMPT_TOKENS = 512
# On a GPU, "well below the prediction": under this share of its low end.
BELOW_PREDICTION_SHARE = 0.75
# A smaller file is worth naming when it is at least this much smaller than the loaded one.
SMALLER_SHARE = 0.92

# Bits per weight of the quants the rule names, and a few more it may start from (llama.cpp's
# quantize table; the _L/_XL spellings keep Q8_0 embeddings, close enough here).
BITS_PER_WEIGHT: dict[str, float] = {
    "F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.56, "Q6_K_L": 6.56,
    "Q5_1": 6.0, "Q5_K_M": 5.69, "Q5_K_L": 5.69, "Q5_K_S": 5.54, "Q5_0": 5.5, "Q4_1": 5.0,
    "Q4_K_M": 4.89, "Q4_K_L": 4.89, "Q4_K_S": 4.58, "Q4_0": 4.5, "IQ4_NL": 4.5, "IQ4_XS": 4.25,
    "Q3_K_L": 4.27, "Q3_K_XL": 4.27, "Q3_K_M": 3.91, "IQ3_M": 3.66, "Q3_K_S": 3.5,
}  # fmt: skip


class Remedy(TextEnum):
    """The one change the panel suggests."""

    CLOSE_PROGRAMS = "close other programs"  # swap in use: free RAM, or a smaller file
    BUSY_CPU = "busy processor"  # other programs keep the CPU busy
    FEWER_GPU_LAYERS = "fewer GPU layers"  # the GPU spills into system memory
    MORE_GPU_LAYERS = "more GPU layers"
    NEW_CHAT = "new chat"  # a long conversation slowed generation
    SHORTER_PROMPT = "shorter prompt"  # reading the prompt took longer than the writing
    CLOSE_GPU_APPS = "close other GPU apps"  # measured well below the prediction on the GPU
    SMALLER_FILE = "smaller file"  # a named smaller quant
    SMALLER_MODEL = "smaller model"  # already at the smallest quant worth using


@dataclass(frozen=True)
class ReplyFigures:
    """One reply's timings, as the engine measured them."""

    tokens_per_second: float  # generation, after the first token
    time_to_first_token: float | None  # seconds, reading the prompt included
    seconds: float  # the whole reply
    prompt_tokens: int
    completion_tokens: int
    context_used: int  # tokens in the context when it ended

    @classmethod
    def from_stats(cls, stats: GenerationStats) -> ReplyFigures:
        return cls(
            stats.tokens_per_second,
            stats.time_to_first_token,
            stats.seconds,
            stats.prompt_tokens,
            stats.completion_tokens,
            stats.context_used,
        )

    @property
    def writing_seconds(self) -> float:
        """The time spent writing, after the first token."""
        return max(0.0, self.seconds - (self.time_to_first_token or 0.0))


@dataclass(frozen=True)
class SmallerFile:
    """A smaller quant to suggest: a file already on this computer (`file_name`), or a quant
    to look for (`file_name` None)."""

    quant: str
    file_name: str | None = None


@dataclass(frozen=True)
class SlownessFigures:
    """What was measured about the loaded model, its last reply and the machine now.

    `None` means not known (no GPU engine, a driver that doesn't say, no reply yet)."""

    threads: int
    cpu_variant: str | None  # ggml's CPU build ("haswell"), "native", or None
    gpu_layers: int  # layers on a GPU: 0 none, -1 all (count unknown)
    layer_count: int | None
    context_length: int
    gpu_backend: str | None = None  # the GPU engine layers run on or could ("cuda"); None: none
    gpu_name: str | None = None
    gpu_free_bytes: int | None = None
    gpu_shared_bytes: int | None = None  # GPU memory borrowed from RAM; None: not reported
    layer_bytes: int | None = None  # one layer's weights (what one more GPU layer needs)
    swap_used_bytes: int | None = None
    ram_available_bytes: int | None = None
    ram_total_bytes: int | None = None
    cpu_busy_share: float | None = None  # of the whole CPU, used by other programs just now
    reply: ReplyFigures | None = None  # the last reply
    first_reply: ReplyFigures | None = None  # this load's first reply (the chat's start)
    tested_speed: float | None = None  # tokens/s at depth 0 in a speed test of this file here
    predicted: SpeedRange | None = None  # this file on this machine (`speed.predict_speed`)
    smaller: SmallerFile | None = None
    # The file's quant is known and already the smallest worth using (Q3_K_M and below).
    smallest_quant: bool = False
    # The layers other computers hold (a model split across them); () on this computer alone.
    remote: tuple[RemoteLayers, ...] = ()

    @property
    def layers_on_gpu(self) -> int:
        """Layers on the GPU, -1 read as all of them."""
        if self.gpu_layers < 0:
            return self.layer_count or 0
        return min(self.gpu_layers, self.layer_count or self.gpu_layers)

    @property
    def layers_on_cpu(self) -> int | None:
        if self.layer_count is None:
            return None if self.gpu_layers else 0
        return self.layer_count - self.layers_on_gpu

    @property
    def all_on_gpu(self) -> bool:
        return self.gpu_layers < 0 or (self.gpu_layers > 0 and self.layers_on_cpu == 0)

    @property
    def context_depth(self) -> int:
        """Tokens in the context after the last reply (0 before any)."""
        return self.reply.context_used if self.reply is not None else 0


@dataclass(frozen=True)
class Suggestion:
    """The change most likely to help, and the file it names (`SMALLER_FILE`; None: the loaded
    file's quant is one the rule doesn't place, so no smaller one is named)."""

    remedy: Remedy
    smaller: SmallerFile | None = None


# --- the rule -------------------------------------------------------------------------------------


def suggest(figures: SlownessFigures) -> Suggestion | None:
    """The one change most likely to make replies faster, from measured `figures` (see the
    module's docstring for the order); None before a reply when nothing in the load or the
    machine points to a cause (a speed has to be measured to say more)."""
    if _swapping(figures):
        return Suggestion(Remedy.CLOSE_PROGRAMS, figures.smaller)
    busy = figures.cpu_busy_share
    if busy is not None and busy >= BUSY_CPU_SHARE and not figures.all_on_gpu:
        return Suggestion(Remedy.BUSY_CPU)
    if figures.gpu_shared_bytes is not None and figures.gpu_shared_bytes >= GPU_SPILL_BYTES:
        return Suggestion(Remedy.FEWER_GPU_LAYERS)
    if _room_for_more_gpu_layers(figures):
        return Suggestion(Remedy.MORE_GPU_LAYERS)
    reply = figures.reply
    if reply is None:
        return None
    if slowed_by_depth(figures):
        return Suggestion(Remedy.NEW_CHAT)
    ttft = reply.time_to_first_token
    if (
        ttft is not None
        and ttft >= SLOW_START_SECONDS
        and ttft > reply.writing_seconds
        and reply.prompt_tokens >= LONG_PROMPT_TOKENS
    ):
        return Suggestion(Remedy.SHORTER_PROMPT)
    predicted = figures.predicted
    if (
        figures.all_on_gpu
        and predicted is not None
        and reply.tokens_per_second < BELOW_PREDICTION_SHARE * predicted.low
    ):
        return Suggestion(Remedy.CLOSE_GPU_APPS)
    if figures.smallest_quant:
        return Suggestion(Remedy.SMALLER_MODEL)
    return Suggestion(Remedy.SMALLER_FILE, figures.smaller)  # None: a quant the rule can't place


def _swapping(figures: SlownessFigures) -> bool:
    if figures.swap_used_bytes is None or figures.swap_used_bytes < SWAP_IN_USE_BYTES:
        return False
    if figures.ram_available_bytes is None or not figures.ram_total_bytes:
        return True  # swap in use, and nothing says RAM has room: the likeliest cause
    return figures.ram_available_bytes < RAM_NEARLY_FULL_SHARE * figures.ram_total_bytes


def _room_for_more_gpu_layers(figures: SlownessFigures) -> bool:
    on_cpu = figures.layers_on_cpu
    if figures.gpu_backend is None or not on_cpu or figures.gpu_free_bytes is None:
        return False
    needed = (figures.layer_bytes or 0) + GPU_LAYER_MARGIN_BYTES
    return figures.gpu_free_bytes >= needed


def start_speed(figures: SlownessFigures) -> float | None:
    """Generation speed at a chat's start: this load's first reply when it was at most half as
    deep as the last one, else a speed test of this file here (at depth 0); None: not known."""
    reply, first = figures.reply, figures.first_reply
    if (
        reply is not None
        and first is not None
        and first.context_used * 2 <= reply.context_used
        and first.tokens_per_second > 0
    ):
        return first.tokens_per_second
    return figures.tested_speed or None


def slowed_by_depth(figures: SlownessFigures) -> bool:
    """The last reply, deep in a long conversation, wrote well below the speed at a chat's
    start (`start_speed`)."""
    reply, start = figures.reply, start_speed(figures)
    if reply is None or start is None or reply.context_used < DEEP_CONTEXT_TOKENS:
        return False
    return reply.tokens_per_second <= SLOWED_SHARE * start


# --- a smaller file -------------------------------------------------------------------------------


def smaller_quant_by_rule(
    quant: str | None, *, repacks_q4_0: bool, iquants_fast: bool
) -> str | None:
    """The next quant down worth using (the seeds' rule): K-quants; at four bits Q4_0 on a CPU
    that repacks it (faster there), below four bits IQ3_M where I-quants are fast (CUDA, ROCm).
    None when `quant` is unknown or already at the smallest worth using."""
    bits = BITS_PER_WEIGHT.get(quant.upper()) if quant else None
    if bits is None:
        return None
    ladder = ["Q8_0", "Q6_K", "Q5_K_M", "Q4_0" if repacks_q4_0 else "Q4_K_M"]
    ladder.append("IQ3_M" if iquants_fast else "Q3_K_M")
    for candidate in ladder:
        if BITS_PER_WEIGHT[candidate] <= SMALLER_SHARE * bits:
            return candidate
    return None


def smaller_file_on_disk(path: Path, *, quant: str | None = None) -> SmallerFile | None:
    """Another quant of the same model beside `path` (the same name but the quant): the one of
    `quant` when given, else the largest at least `SMALLER_SHARE` smaller (the least quality
    given up for the speed)."""
    loaded_quant = parse_quant(path.name)
    if loaded_quant is None:
        return None
    stem = _without_quant(path.name, loaded_quant)
    try:
        size = path.stat().st_size
        siblings = [p for p in path.parent.glob("*.gguf") if p != path and p.is_file()]
        sizes = {p: p.stat().st_size for p in siblings}
    except OSError as exc:  # a folder gone or unreadable: the rule names a quant instead
        log.info("couldn't list the files beside path=%s error=%s", path, exc)
        return None
    found = [
        (sizes[p], p, other)
        for p in siblings
        if (other := parse_quant(p.name)) is not None
        and _without_quant(p.name, other) == stem
        and (other == quant.upper() if quant else sizes[p] <= SMALLER_SHARE * size)
    ]
    if not found:
        return None
    _size, best, best_quant = max(found, key=lambda row: row[0])
    return SmallerFile(best_quant, best.name)


def _without_quant(name: str, quant: str) -> str:
    lowered = name.lower()
    index = lowered.rfind(quant.lower())
    return lowered[:index] + lowered[index + len(quant) :] if index >= 0 else lowered


# --- gathering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlownessInputs:
    """What the window knows when the panel opens (no probing done yet)."""

    model: LoadedModel
    reply: GenerationStats | None
    first_reply: GenerationStats | None
    profile: HardwareProfile | None  # the machine as detected (speed figures are kept by it)
    data_dir: Path
    cache_dir: Path


def gather_figures(inputs: SlownessInputs) -> SlownessFigures:
    """Measure what `suggest` needs: swap and RAM now (psutil), the GPU's free memory (the
    engine's device query), the engine's CPU build, this file's predicted speed, and a smaller
    file. Blocks on the driver and, once per machine, on a RAM bandwidth measurement."""
    import psutil

    from app.core.engine.backends import loaded_engine

    model = inputs.model
    engine = loaded_engine()
    cpu_busy = _others_cpu_share()  # first: nothing of this gathering runs yet
    swap = psutil.swap_memory()
    ram = psutil.virtual_memory()
    gpu_backend, gpu_name, gpu_free = _gpu_now(inputs.profile, engine_has_gpu=bool(engine and engine.gpu_offload))  # fmt: skip
    layer_bytes = model.file_size // model.layer_count if model.layer_count else None
    smaller = _smaller(model, inputs.profile, gpu_backend)
    return SlownessFigures(
        threads=model.threads,
        cpu_variant=engine.cpu_variant if engine is not None else None,
        gpu_layers=model.gpu_layers,
        layer_count=model.layer_count,
        context_length=model.context_length,
        gpu_backend=gpu_backend,
        gpu_name=gpu_name,
        gpu_free_bytes=gpu_free,
        gpu_shared_bytes=None,  # no backend on our list reports it, nor NVML
        layer_bytes=layer_bytes,
        swap_used_bytes=int(swap.used),
        ram_available_bytes=int(ram.available),
        ram_total_bytes=int(ram.total),
        cpu_busy_share=cpu_busy,
        reply=ReplyFigures.from_stats(inputs.reply) if inputs.reply else None,
        first_reply=ReplyFigures.from_stats(inputs.first_reply) if inputs.first_reply else None,
        tested_speed=_tested_speed(inputs, gpu_backend),
        # This computer's prediction leaves out the network each token of a split waits on.
        predicted=None if model.remote else _predicted(inputs, gpu_backend),
        smaller=smaller,
        smallest_quant=smaller is None
        and model.quant is not None
        and model.quant.upper() in BITS_PER_WEIGHT,
        remote=model.remote,
    )


def _others_cpu_share() -> float:
    """The share of the whole processor other programs used over the last `CPU_SAMPLE_SECONDS`
    (all of it used, less this process's part: the model is idle between replies)."""
    import psutil

    me = psutil.Process()
    me.cpu_percent(None)
    psutil.cpu_percent(None)
    time.sleep(CPU_SAMPLE_SECONDS)
    everything = psutil.cpu_percent(None) / 100
    mine = me.cpu_percent(None) / 100 / (psutil.cpu_count() or 1)
    return min(1.0, max(0.0, everything - mine))


def _gpu_now(
    profile: HardwareProfile | None, *, engine_has_gpu: bool
) -> tuple[str | None, str | None, int | None]:
    """(backend, name, free bytes now) of the largest GPU the engine can use; all None without
    one. The free memory is asked now (the load took some); the machine as detected names the
    card, or the engine's device list while detection hasn't finished."""
    if not engine_has_gpu:
        return None, None, None
    from app.core.engine.ggml import EngineDevice, gpu_devices

    try:
        devices: list[EngineDevice] = [d for d in gpu_devices() if d.backend is not None]
    except OSError as exc:  # the engine's library can't be asked: the figure from detection
        log.info("GPU memory query failed error=%s", exc)
        devices = []
    usable = [g for g in profile.gpus if g.engine_usable] if profile is not None else []
    gpu = max(usable, key=lambda g: g.vram_bytes, default=None)
    if gpu is not None:
        free = next((d.free_bytes for d in devices if d.backend == gpu.backend), None)
        return gpu.backend, gpu.name, gpu.vram_free_bytes if free is None else free
    device = max(devices, key=lambda d: d.total_bytes, default=None)
    if device is None:
        return None, None, None
    return device.backend, device.description or device.name, device.free_bytes


def _tested_speed(inputs: SlownessInputs, gpu_backend: str | None) -> float | None:
    """Generation tokens/s at depth 0 of the latest speed test of this very file on this
    machine and backend (Measure speed, `quantdesk bench`); None before any."""
    if inputs.profile is None:
        return None
    from app.core.fit.speed import load_measurements, machine_key

    model = inputs.model
    backend = gpu_backend if gpu_backend and model.gpu_layers else "cpu"
    key = (machine_key(inputs.profile), backend, model.path.name, model.file_size)
    tests = [
        m
        for m in load_measurements(inputs.data_dir)
        if (m.machine, m.backend, m.file, m.file_size) == key
    ]
    latest = max(tests, key=lambda m: m.measured_at, default=None)
    return latest.generation_tokens_per_second if latest is not None else None


def _predicted(inputs: SlownessInputs, gpu_backend: str | None) -> SpeedRange | None:
    """This file's predicted generation speed on this machine, where its layers are."""
    if inputs.profile is None:
        return None
    from app.core.errors import ModelFileError
    from app.core.fit.memory import ModelShape
    from app.core.fit.speed import predict_speed, speed_context
    from app.core.gguf.header import check_model_file

    model = inputs.model
    try:
        shape = ModelShape.from_header(check_model_file(model.path), model.file_size)
    except ModelFileError as exc:  # the file moved or changed since the load
        log.info("no speed prediction path=%s error=%s", model.path, exc)
        return None
    context = speed_context(inputs.profile, data_dir=inputs.data_dir, cache_dir=inputs.cache_dir)
    gpu_layers = model.gpu_layers if gpu_backend else 0
    if gpu_layers < 0:
        gpu_layers = shape.layers
    return predict_speed(
        shape,
        gpu_layers=gpu_layers,
        backend=gpu_backend if gpu_layers else None,
        bandwidths=context.bandwidths,
        calibration=context.calibration(gpu_backend if gpu_layers and gpu_backend else "cpu"),
    )


def _smaller(
    model: LoadedModel, profile: HardwareProfile | None, gpu_backend: str | None
) -> SmallerFile | None:
    on_disk = smaller_file_on_disk(model.path)
    if on_disk is not None:
        return on_disk
    from app.core.fit.recommend import repacks_q4_0

    runs_on_cpu = model.gpu_layers == 0 or gpu_backend is None
    quant = smaller_quant_by_rule(
        model.quant,
        repacks_q4_0=runs_on_cpu and profile is not None and repacks_q4_0(profile),
        iquants_fast=not runs_on_cpu and gpu_backend in ("cuda", "rocm"),
    )
    if quant is None:
        return None
    # The rule's quant may be on disk though hardly smaller (a tiny model's embeddings).
    return smaller_file_on_disk(model.path, quant=quant) or SmallerFile(quant)
