"""Which file of a GGUF repo to run on a machine: the fit arithmetic and the choice.

The words that explain a fit or a pick are `reasons.py`'s (`explain`).

Rules (the project's DESIGN.md, "Domain rules", from the seed cards):
- fastest: the whole model on the GPU — a file that fits the GPU's usable memory with its KV
  cache and llama.cpp's 1 GiB per-device margin (so a file 1-2 GB under the VRAM).
- quality: the best quant that fits RAM + VRAM, split with a computed number of GPU layers.
- CPU only: RAM is the budget, minus what the OS and other apps keep (said, with the figure).
- K-quants by default. Below 4 bits with CUDA/ROCm prefer I-quants (better quality per size);
  on the CPU (and Metal/Vulkan) I-quants are slower than K-quants of similar size: prefer
  K-quants. On ARM and AVX2 CPUs Q4_0 (and IQ4_NL on ARM) are repacked online: faster on CPU.
- Apple silicon: unified memory; Metal may use only its share (the GPU's reported size), and
  the GPU and CPU parts come from the same RAM.
- Quality figures: seed 004's perplexity table (`quality.py`). Unknown quants are never picked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.core._util.enums import TextEnum
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.engine.projection import Projection
from app.core.engine.rpc import RemoteLayers
from app.core.fit.measured import NO_CORRECTION, Correction, corrected
from app.core.fit.memory import GIB, MemoryEstimate, ModelShape, estimate_from_projection
from app.core.fit.memory import estimate_memory as formula_estimate
from app.core.fit.quality import accuracy_percent, bits_class, is_i_quant
from app.core.fit.verdicts import Fit
from app.core.gguf.header import check_model_file
from app.core.gguf.quants import shard_info
from app.core.hub.client import RemoteFile
from app.core.machine.hardware import GpuInfo, HardwareProfile
from app.core.remote.workers import WorkerProbe, split_layers

# llama.cpp's --fit keeps this much free on each GPU.
GPU_MARGIN_BYTES = GIB
# Quality figures closer than this (percentage points of seed 004's accuracy) count as equal.
SAME_QUALITY_POINTS = 0.1
# Below this accuracy (seed 004: IQ3_XXS 81 %, Q2_K 73 %, IQ2_XXS 46 %) a model loses too much to
# be picked just because it is fast; such files are still listed, and picked when nothing else fits.
ACCEPTABLE_QUALITY = 80.0


class Goal(TextEnum):
    """What a pick is for."""

    FASTEST = "fastest"
    QUALITY = "quality"


GOALS = tuple(Goal)


@dataclass(frozen=True)
class Budget:
    """What a machine can give a model, and how that was worked out (for the reasons)."""

    gpu: GpuInfo | None
    vram_bytes: int  # usable on the GPU after the margin
    ram_bytes: int  # usable in RAM after the OS reserve
    os_reserve_bytes: int
    shared_pool: bool  # unified memory: GPU and RAM parts come from one pool of `ram_bytes`


@dataclass(frozen=True)
class Option:
    """One choice in a repo: a file (or all shards of one), with its fit on this machine."""

    files: tuple[str, ...]
    quant: str | None
    size_bytes: int
    fit: Fit
    gpu_layers: int
    estimate: MemoryEstimate | None
    quality: float | None
    # Where the memory figure came from: llama.cpp's own dry run on this machine, or the formula
    # (a GPU the engine here can't dry-run, hardware described by hand, no dry run to hand).
    projection_source: str = "formula"
    # With `Fit.WORKERS`: the layers each other computer takes, and those this one keeps.
    remote: tuple[RemoteLayers, ...] = ()
    layers_here: int = 0
    # What the network adds to every token of such a split (the workers' measured round trips).
    network_seconds_per_token: float = 0.0

    @property
    def estimated_bytes(self) -> int:
        return self.estimate.total_bytes if self.estimate else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "quant": self.quant,
            "size_bytes": self.size_bytes,
            "fit": self.fit,
            "gpu_layers": self.gpu_layers,
            "estimated_bytes": self.estimated_bytes,
            "quality": self.quality,
            "projection_source": self.projection_source,
            "layers_on": self.layers_on,
        }

    @property
    def layers_on(self) -> dict[str, int] | None:
        """Where a split's repeating layers go: "this computer" and each worker's address."""
        if not self.remote:
            return None
        return {"this computer": self.layers_here, **{w.endpoint: w.layers for w in self.remote}}


@dataclass(frozen=True)
class Recommendation:
    """Every choice of a repo fitted to `profile` at `context` tokens, and the pick for `goal`
    (None when nothing known fits). `layers`: the model's repeating layers (for the reasons)."""

    repo_id: str
    goal: Goal
    context: int
    pick: Option | None
    options: list[Option]
    profile: HardwareProfile
    layers: int
    # What this machine's measured loads put on every estimate (`measured.py`).
    correction: Correction = NO_CORRECTION

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo_id,
            "goal": self.goal,
            "context": self.context,
            "pick": self.pick.as_dict() if self.pick else None,
            "options": [o.as_dict() for o in self.options],
            "memory_correction": self.correction.as_dict(),
        }


def os_reserve_bytes(ram_bytes: int) -> int:
    """RAM left to the OS and other apps: 2-4 GB (a quarter of RAM, within those bounds)."""
    return int(min(4e9, max(2e9, ram_bytes / 4)))


def machine_budget(profile: HardwareProfile) -> Budget:
    reserve = os_reserve_bytes(profile.ram_bytes)
    ram = max(0, profile.ram_bytes - reserve)
    gpu = max(
        (g for g in profile.gpus if g.engine_usable), key=lambda g: g.vram_bytes, default=None
    )
    vram = max(0, gpu.vram_bytes - GPU_MARGIN_BYTES) if gpu else 0
    if profile.unified_memory and gpu is not None:
        vram = min(vram, ram)
    return Budget(gpu, vram, ram, reserve, shared_pool=profile.unified_memory)


def group_options(files: list[RemoteFile]) -> list[tuple[tuple[str, ...], str | None, int]]:
    """GGUF files grouped into choices: (paths, quant, summed size); shards form one choice."""
    groups: dict[str, list[RemoteFile]] = {}
    for f in files:
        if not f.path.lower().endswith(".gguf") or "mmproj" in f.path.lower():
            continue
        info = shard_info(f.path)
        groups.setdefault(info.stem if info else f.path, []).append(f)
    choices = []
    for members in groups.values():
        members.sort(key=lambda f: f.path)
        choices.append(
            (tuple(f.path for f in members), members[0].quant, sum(f.size for f in members))
        )
    return sorted(choices, key=lambda c: c[2])


def header_file(files: list[RemoteFile]) -> RemoteFile | None:
    """The file whose header describes the model: the smallest model file, never a vision
    projector (mmproj), and for a split model its first shard (only that one has the metadata)."""
    choices = group_options(files)
    if not choices:
        return None
    paths, _quant, _size = choices[0]
    return next(f for f in files if f.path == paths[0])


def fit_option(
    shape: ModelShape,
    size: int,
    budget: Budget,
    context: int,
    *,
    projection: Projection | None = None,
) -> tuple[Fit, int, MemoryEstimate]:
    """Where a file of `size` bytes runs: whole on the GPU, split, on the CPU, or not at all.

    With llama.cpp's `projection` for this model (a dry run on this machine), the loads it
    stands for use its KV and compute figures; the others use the formula."""
    shape = shape.with_file_size(size)
    backend = budget.gpu.backend if budget.gpu else None

    def estimate_memory(
        shape: ModelShape, *, context: int, gpu_layers: int = 0, backend: str | None = None
    ) -> MemoryEstimate:
        """The formula's estimate, or llama.cpp's where its projection stands for this load."""
        projected = projection and estimate_from_projection(
            shape, projection, context=context, gpu_layers=gpu_layers, backend=backend
        )
        return projected or formula_estimate(
            shape, context=context, gpu_layers=gpu_layers, backend=backend
        )

    def fits(estimate: MemoryEstimate) -> bool:
        if budget.shared_pool:
            return (
                estimate.vram_bytes <= budget.vram_bytes
                and estimate.total_bytes <= budget.ram_bytes
            )
        return estimate.vram_bytes <= budget.vram_bytes and estimate.ram_bytes <= budget.ram_bytes

    if backend is not None:
        full = estimate_memory(shape, context=context, gpu_layers=shape.layers, backend=backend)
        if fits(full):
            return Fit.GPU, shape.layers, full
        for layers in range(shape.layers - 1, 0, -1):
            split = estimate_memory(shape, context=context, gpu_layers=layers, backend=backend)
            if fits(split):
                return Fit.PARTIAL, layers, split
    cpu = estimate_memory(shape, context=context)
    if cpu.ram_bytes <= budget.ram_bytes:
        return Fit.CPU, 0, cpu
    return Fit.TOO_LARGE, 0, cpu


# Each token waits for one answer from each worker: its layers' output (the hidden state, 4 bytes
# per embedding value) read back; the input and the compute request are sent without waiting.
# Measured: `strace -e recvfrom` on a split load, 24 tokens, 24 reads of 2,304 bytes (SmolLM2's
# 576 floats) per worker; docs/performance.md.
ROUND_TRIPS_PER_TOKEN = 1
# What a worker keeps beyond the layers it takes: its compute scratch and llama.cpp's own
# buffers, and room for the rest of that computer (a share of its free memory, at least 512 MiB).
WORKER_RESERVE_SHARE = 0.10
WORKER_RESERVE_MIN_BYTES = 512 << 20


def split_fit(
    shape: ModelShape, cpu: MemoryEstimate, budget: Budget, workers: tuple[WorkerProbe, ...]
) -> tuple[RemoteLayers, ...] | None:
    """The layers each worker takes of a model too large for this computer alone (`cpu`: its
    estimate here), or None when even shared it doesn't fit. Layers are shared by free memory
    as the load shares them (`split_layers`); each layer carries its weights and its part of
    the KV cache; this computer keeps the rest: the embeddings, the output layer, the compute
    scratch."""
    if not workers or shape.layers <= 0:
        return None
    per_layer = _split_layer_bytes(shape, cpu)
    fixed_here = _kept_here(shape, cpu)
    # Shared by the room left after what stays here anyway, as the load shares them.
    remote = split_layers(shape.layers, int(budget.ram_bytes - fixed_here), workers)
    if fixed_here + per_layer * (shape.layers - sum(w.layers for w in remote)) > budget.ram_bytes:
        return None
    taken = {share.endpoint: share.layers for share in remote}
    for worker in workers:
        usable = worker.free_bytes - max(
            WORKER_RESERVE_MIN_BYTES, int(worker.free_bytes * WORKER_RESERVE_SHARE)
        )
        if per_layer * taken.get(worker.address.endpoint, 0) > usable:
            return None
    return remote or None


def _split_layer_bytes(shape: ModelShape, cpu: MemoryEstimate) -> float:
    """One repeating layer in a split: its weights and its part of the KV cache."""
    return shape.layer_bytes + cpu.kv_bytes / shape.layers


def _kept_here(shape: ModelShape, cpu: MemoryEstimate) -> float:
    """What this computer holds in a split whatever its share of layers: the embeddings, the
    output layer and the compute scratch (`cpu`: the whole model's estimate here)."""
    return max(0.0, cpu.ram_bytes - _split_layer_bytes(shape, cpu) * shape.layers)


def kept_here_bytes(path: Path, *, context: int) -> int:
    """`_kept_here` for a model file at `context` tokens, for a split load to share the layers
    as the fit did (0 when the header can't be read: the load reports the file's problem)."""
    try:
        header = check_model_file(path)
        shape = ModelShape.from_header(header, path.stat().st_size)
    except (OSError, ValueError):
        return 0
    if shape.layers <= 0:
        return 0
    trained = shape.trained_context
    estimate = formula_estimate(shape, context=min(context, trained) if trained else context)
    return int(_kept_here(shape, estimate))


def recommend(
    repo_id: str,
    files: list[RemoteFile],
    shape: ModelShape,
    profile: HardwareProfile,
    *,
    goal: Goal | str = Goal.FASTEST,
    context: int | None = None,
    header_quants: dict[str, str] | None = None,
    projection: Projection | None = None,
    correction: Correction = NO_CORRECTION,
    workers: tuple[WorkerProbe, ...] = (),
) -> Recommendation:
    """Fit every choice of the repo on `profile` and pick one for `goal` (`reasons.explain`
    says why).

    `context` defaults to `DEFAULT_CONTEXT`; callers pass the person's default context length,
    so the CLI and the GUI fit at the same length. It is capped at what the model was trained
    for, as the engine caps it when loading.
    `header_quants` maps file paths to the quant their GGUF header names (`general.file_type`),
    for files whose names don't say it.
    `projection`: llama.cpp's dry run of this model on this machine at `context` (see
    `fit_option`); each option says which source its figure came from.
    `correction`: what this machine's measured loads put on every estimate (`measured.py`).
    `workers`: other computers (probed) that may take the layers of a file too large for this
    one (`Fit.WORKERS`); the pick takes such a file only when nothing fits here alone.
    """
    if goal not in GOALS:
        raise ValueError(f"goal must be one of {', '.join(GOALS)}")
    goal = Goal(goal)
    context = context or DEFAULT_CONTEXT
    if shape.trained_context:
        context = min(context, shape.trained_context)
    budget = machine_budget(profile)
    options = []
    for paths, quant, size in group_options(files):
        quant = quant or (header_quants or {}).get(paths[0])
        fit, layers, estimate = _corrected_fit(
            shape, size, budget, context, correction.factor, projection
        )
        source = "llama.cpp" if estimate.projected else "formula"
        option = Option(paths, quant, size, fit, layers, estimate, accuracy_percent(quant), source)
        if fit == Fit.TOO_LARGE and workers:
            remote = split_fit(shape.with_file_size(size), estimate, budget, workers)
            if remote:
                here = shape.layers - sum(w.layers for w in remote)
                used = {share.endpoint for share in remote}
                network = ROUND_TRIPS_PER_TOKEN * sum(
                    w.round_trip_seconds for w in workers if w.address.endpoint in used
                )
                option = replace(
                    option,
                    fit=Fit.WORKERS,
                    remote=remote,
                    layers_here=here,
                    network_seconds_per_token=network,
                )
        options.append(option)
    pick = _pick(options, budget, profile, goal)
    return Recommendation(repo_id, goal, context, pick, options, profile, shape.layers, correction)


def _corrected_fit(
    shape: ModelShape,
    size: int,
    budget: Budget,
    context: int,
    factor: float,
    projection: Projection | None,
) -> tuple[Fit, int, MemoryEstimate]:
    """`fit_option` with every estimate raised by `factor`: the same as fitting the plain
    estimates into budgets shrunk by it."""
    if factor == 1.0:
        return fit_option(shape, size, budget, context, projection=projection)
    shrunk = replace(
        budget, vram_bytes=int(budget.vram_bytes / factor), ram_bytes=int(budget.ram_bytes / factor)
    )
    fit, layers, estimate = fit_option(shape, size, shrunk, context, projection=projection)
    return fit, layers, corrected(estimate, factor)


# --- choosing ------------------------------------------------------------------------------------


def _cpu_only(budget: Budget) -> bool:
    return budget.gpu is None


def iquants_fast(budget: Budget) -> bool:
    """I-quants beat K-quants of the same size here: on CUDA and ROCm only."""
    return budget.gpu is not None and budget.gpu.backend in ("cuda", "rocm")


def _quality(option: Option) -> float:
    """The quality of an option already filtered to those with a known one."""
    assert option.quality is not None, "unknown quality filtered out before ranking"
    return option.quality


def repacks_q4_0(profile: HardwareProfile) -> bool:
    """llama.cpp repacks Q4_0 weights at load time for this CPU (AVX2, or ARM with NEON)."""
    cpu = profile.cpu
    return cpu.has("avx2") or (cpu.arch == "arm64" and cpu.has("neon"))


def _pick(
    options: list[Option], budget: Budget, profile: HardwareProfile, goal: Goal
) -> Option | None:
    known = [o for o in options if o.quality is not None and o.fit != Fit.TOO_LARGE]
    # Other computers only when nothing fits here: a split pays the network on every token.
    known = [o for o in known if o.fit != Fit.WORKERS] or known
    if not known:
        return None
    acceptable = [o for o in known if _quality(o) >= ACCEPTABLE_QUALITY] or known
    if goal == Goal.FASTEST:
        on_gpu = [o for o in acceptable if o.fit == Fit.GPU]
        if on_gpu:
            return _best(on_gpu, budget)
        if _cpu_only(budget) or not any(o.gpu_layers > 0 for o in acceptable):
            return _fastest_on_cpu(acceptable, profile, budget)
        # Nothing good fits whole on the GPU: the most layers on it at acceptable quality
        # (K-quants where I-quants are slow).
        pool = acceptable
        if not iquants_fast(budget):
            pool = [o for o in acceptable if not is_i_quant(o.quant)] or acceptable
        return max(pool, key=lambda o: (o.gpu_layers, o.quality))
    return _best(acceptable, budget)


def _best(candidates: list[Option], budget: Budget) -> Option:
    """Highest quality, with the K-quant/I-quant rules deciding between similar files."""
    if not iquants_fast(budget):
        k_quants = [o for o in candidates if not is_i_quant(o.quant)]
        candidates = k_quants or candidates
    best = _smallest_of_the_best(candidates)
    if iquants_fast(budget) and (bits_class(best.quant) or 16) < 4:
        # Below 4 bits on CUDA/ROCm: an I-quant of the same class gives more quality per byte.
        same_class = [
            o
            for o in candidates
            if is_i_quant(o.quant)
            and bits_class(o.quant) == bits_class(best.quant)
            and _quality(o) >= _quality(best)
        ]
        if same_class:
            best = _smallest_of_the_best(same_class)
    return best


def _smallest_of_the_best(candidates: list[Option]) -> Option:
    """The smallest file within `SAME_QUALITY_POINTS` of the best quality: BF16 (100 %) is not
    worth twice the memory and half the speed of Q8_0 (99.98 %)."""
    top = max(_quality(o) for o in candidates)
    close = [
        o for o in candidates if o.quality is not None and top - o.quality <= SAME_QUALITY_POINTS
    ]
    return min(close, key=lambda o: o.size_bytes)


def _fastest_on_cpu(candidates: list[Option], profile: HardwareProfile, budget: Budget) -> Option:
    # Token speed on a CPU follows bytes read per token: a 4-bit file is the sweet spot;
    # Q4_0 is repacked online on AVX2 and ARM CPUs, which makes it the fastest 4-bit type there.
    if repacks_q4_0(profile):
        # IQ4_NL is repacked too, on ARM (NEON) only.
        repackable = ("Q4_0", "IQ4_NL") if profile.cpu.arch == "arm64" else ("Q4_0",)
        repacked = [o for quant in repackable for o in candidates if o.quant == quant]
        if repacked:
            return repacked[0]
    four_bit = [o for o in candidates if bits_class(o.quant) == 4 and not is_i_quant(o.quant)]
    if four_bit:
        return max(four_bit, key=lambda o: (o.quality, -o.size_bytes))
    smaller = [o for o in candidates if (bits_class(o.quant) or 16) < 4]
    if smaller:
        return _best(smaller, budget)
    # No 4-bit file or smaller: the fastest is the smallest that is left.
    return min(candidates, key=lambda o: o.size_bytes)


# --- model files on disk ---------------------------------------------------------------------------


def local_fit(
    path: Path, profile: HardwareProfile, *, context: int, workers: tuple[WorkerProbe, ...] = ()
) -> Fit | None:
    """How a model file on disk fits `profile` at `context` tokens, with the other computers
    `workers` (probed) taking the layers of a file too large for this one (`Fit.WORKERS`, as
    the load places them); None when its header can't be read."""
    fitted = _fit_local_file(path, profile, context, workers)
    return fitted[0] if fitted else None


def automatic_gpu_layers(path: Path, profile: HardwareProfile | None, *, context: int) -> int:
    """Layers to offload when the person left GPU offload on automatic: what the memory
    estimate says fits this machine's usable GPU (0 without one, or when the header is
    unreadable; the load then reports the file's own problem)."""
    if profile is None or not any(gpu.engine_usable for gpu in profile.gpus):
        return 0
    fitted = _fit_local_file(path, profile, context)
    return fitted[1] if fitted and fitted[0] in (Fit.GPU, Fit.PARTIAL) else 0


def _fit_local_file(
    path: Path, profile: HardwareProfile, context: int, workers: tuple[WorkerProbe, ...] = ()
) -> tuple[Fit, int] | None:
    try:
        header = check_model_file(path)
        size = path.stat().st_size
        shape = ModelShape.from_header(header, size)
    except (OSError, ValueError):
        return None
    trained = shape.trained_context
    budget = machine_budget(profile)
    fit, layers, estimate = fit_option(
        shape, size, budget, min(context, trained) if trained else context
    )
    if fit == Fit.TOO_LARGE and split_fit(shape.with_file_size(size), estimate, budget, workers):
        return Fit.WORKERS, layers
    return fit, layers
