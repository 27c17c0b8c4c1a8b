"""Which file of a GGUF repo to run on a machine, and why, in numbers.

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
from app.core._util.units import format_bytes
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.fit.memory import GIB, MemoryEstimate, ModelShape, estimate_memory
from app.core.fit.quality import SOURCE, accuracy_percent, bits_class, is_i_quant
from app.core.gguf.header import check_model_file
from app.core.gguf.quants import shard_info
from app.core.hub.client import RemoteFile
from app.core.machine.hardware import GpuInfo, HardwareProfile

# llama.cpp's --fit keeps this much free on each GPU.
GPU_MARGIN_BYTES = GIB
# Quality figures closer than this (percentage points of seed 004's accuracy) count as equal.
SAME_QUALITY_POINTS = 0.1
# Below this accuracy (seed 004: IQ3_XXS 81 %, Q2_K 73 %, IQ2_XXS 46 %) a model loses too much to
# be picked just because it is fast; such files are still listed, and picked when nothing else fits.
ACCEPTABLE_QUALITY = 80.0


class Fit(TextEnum):
    """Where a file runs on a machine."""

    GPU = "gpu"  # whole on the GPU
    PARTIAL = "partial"  # split: some layers on the GPU, the rest in RAM
    CPU = "cpu"
    TOO_LARGE = "too_large"


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

    def describe_ram(self, profile: HardwareProfile) -> str:
        return (
            f"{format_bytes(profile.ram_bytes)} RAM minus {format_bytes(self.os_reserve_bytes)} kept for the "
            f"system and other apps"
        )


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
    reasons: tuple[str, ...] = ()

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
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Recommendation:
    repo_id: str
    goal: Goal
    context: int
    pick: Option | None
    options: list[Option]

    def as_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo_id,
            "goal": self.goal,
            "context": self.context,
            "pick": self.pick.as_dict() if self.pick else None,
            "options": [o.as_dict() for o in self.options],
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
    shape: ModelShape, size: int, budget: Budget, context: int
) -> tuple[Fit, int, MemoryEstimate]:
    """Where a file of `size` bytes runs: whole on the GPU, split, on the CPU, or not at all."""
    shape = shape.with_file_size(size)
    backend = budget.gpu.backend if budget.gpu else None

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


def recommend(
    repo_id: str,
    files: list[RemoteFile],
    shape: ModelShape,
    profile: HardwareProfile,
    *,
    goal: Goal | str = Goal.FASTEST,
    context: int | None = None,
    header_quants: dict[str, str] | None = None,
) -> Recommendation:
    """Fit every choice of the repo on `profile` and pick one for `goal`, with reasons.

    `context` defaults to `DEFAULT_CONTEXT`; callers pass the person's default context length,
    so the CLI and the GUI fit at the same length. It is capped at what the model was trained
    for, as the engine caps it when loading.
    `header_quants` maps file paths to the quant their GGUF header names (`general.file_type`),
    for files whose names don't say it.
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
        fit, layers, estimate = fit_option(shape, size, budget, context)
        option = Option(paths, quant, size, fit, layers, estimate, accuracy_percent(quant))
        options.append(
            replace(option, reasons=_fit_reasons(option, budget, profile, context, shape))
        )
    pick = _pick(options, budget, profile, goal)
    if pick is not None:
        # The pick's own reasons come first; the option is rebuilt, never changed in place.
        chosen = replace(
            pick, reasons=(*_pick_reasons(pick, options, budget, profile, goal), *pick.reasons)
        )
        options[next(i for i, option in enumerate(options) if option is pick)] = chosen
        pick = chosen
    return Recommendation(repo_id, goal, context, pick, options)


# --- choosing ------------------------------------------------------------------------------------


def _cpu_only(budget: Budget) -> bool:
    return budget.gpu is None


def _iquants_fast(budget: Budget) -> bool:
    return budget.gpu is not None and budget.gpu.backend in ("cuda", "rocm")


def _backend_name(budget: Budget) -> str:
    """The GPU backend as a person reads it ("CUDA"); empty on a CPU-only machine."""
    return budget.gpu.backend.upper() if budget.gpu is not None else ""


def _quality(option: Option) -> float:
    """The quality of an option already filtered to those with a known one."""
    assert option.quality is not None, "unknown quality filtered out before ranking"
    return option.quality


def _repacks_q4_0(profile: HardwareProfile) -> bool:
    cpu = profile.cpu
    return cpu.has("avx2") or (cpu.arch == "arm64" and cpu.has("neon"))


def _pick(
    options: list[Option], budget: Budget, profile: HardwareProfile, goal: Goal
) -> Option | None:
    known = [o for o in options if o.quality is not None and o.fit != Fit.TOO_LARGE]
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
        if not _iquants_fast(budget):
            pool = [o for o in acceptable if not is_i_quant(o.quant)] or acceptable
        return max(pool, key=lambda o: (o.gpu_layers, o.quality))
    return _best(acceptable, budget)


def _best(candidates: list[Option], budget: Budget) -> Option:
    """Highest quality, with the K-quant/I-quant rules deciding between similar files."""
    if not _iquants_fast(budget):
        k_quants = [o for o in candidates if not is_i_quant(o.quant)]
        candidates = k_quants or candidates
    best = _smallest_of_the_best(candidates)
    if _iquants_fast(budget) and (bits_class(best.quant) or 16) < 4:
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
    if _repacks_q4_0(profile):
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


# --- reasons -------------------------------------------------------------------------------------


def _fit_reasons(
    option: Option, budget: Budget, profile: HardwareProfile, context: int, shape: ModelShape
) -> tuple[str, ...]:
    estimate = option.estimate
    assert estimate is not None
    parts = (
        f"file {format_bytes(option.size_bytes)} + context memory {format_bytes(estimate.kv_bytes)} for "
        f"{context:,} tokens + compute {format_bytes(estimate.compute_gpu + estimate.compute_ram)}"
        + (
            f" + {_backend_name(budget)} runtime {format_bytes(estimate.backend_context)}"
            if estimate.backend_context
            else ""
        )
    )
    gpu_name = budget.gpu.name if budget.gpu else ""
    gpu_vram = budget.gpu.vram_bytes if budget.gpu else 0
    if option.fit == Fit.GPU:
        return (
            f"Runs entirely on the {gpu_name}: needs about {format_bytes(estimate.vram_bytes)} of its "
            f"{format_bytes(gpu_vram)} ({parts}), keeping the 1 GiB llama.cpp leaves free per GPU.",
        )
    if option.fit == Fit.PARTIAL:
        return (
            f"Split: {option.gpu_layers} of {shape.layers} layers on the {gpu_name} "
            f"({format_bytes(estimate.vram_bytes)} of {format_bytes(budget.vram_bytes)} usable), the rest in RAM "
            f"({format_bytes(estimate.ram_bytes)} of {format_bytes(budget.ram_bytes)} usable: "
            f"{budget.describe_ram(profile)}); {parts}.",
        )
    if option.fit == Fit.CPU:
        why = (
            "no GPU the engine can use" if budget.gpu is None else "not even one layer fits the GPU"
        )
        return (
            f"Runs on the CPU ({why}): needs about {format_bytes(estimate.ram_bytes)} of "
            f"{format_bytes(budget.ram_bytes)} usable ({budget.describe_ram(profile)}); {parts}.",
        )
    room = budget.ram_bytes + (0 if budget.shared_pool else budget.vram_bytes)
    return (
        f"Too large: needs about {format_bytes(estimate.total_bytes)} but this machine can give "
        f"{format_bytes(room)} ({budget.describe_ram(profile)}"
        + (
            f", plus {format_bytes(budget.vram_bytes)} usable on the {gpu_name}"
            if budget.gpu and not budget.shared_pool
            else ""
        )
        + f"); {parts}.",
    )


def _pick_reasons(
    pick: Option, options: list[Option], budget: Budget, profile: HardwareProfile, goal: Goal
) -> list[str]:
    reasons = []
    quant = pick.quant or "?"
    if goal == Goal.FASTEST and pick.fit == Fit.GPU:
        reasons.append(
            f"Fastest: the whole model on the GPU. {quant} is the best quality that fits there "
            f"(rule: a file 1-2 GB under the GPU's memory)."
        )
    elif goal == Goal.FASTEST and pick.fit == Fit.PARTIAL and budget.gpu is not None:
        reasons.append(
            f"Fastest: no file of good quality fits entirely on the {budget.gpu.name}; {quant} puts "
            f"the most layers ({pick.gpu_layers}) on it."
        )
    elif goal == Goal.FASTEST:
        where = "" if budget.gpu is None else f" (not even one layer fits the {budget.gpu.name})"
        reasons.append(
            f"Fastest on this CPU{where}: a 4-bit file reads the fewest bytes per token at good "
            f"quality; {quant} ({format_bytes(pick.size_bytes)})."
        )
    else:
        reasons.append(
            f"Best quality that fits RAM + GPU memory: {quant} "
            f"(rule: a file 1-2 GB under RAM + VRAM, split across GPU and CPU when needed)."
        )
    reasons.append(f"Keeps {pick.quality:.2f} % of the full model's accuracy ({SOURCE}).")
    if quant == "Q4_0" and _cpu_only(budget) and _repacks_q4_0(profile):
        isa = "ARM NEON" if profile.cpu.arch == "arm64" else "AVX2"
        reasons.append(
            f"Q4_0: llama.cpp repacks Q4_0 weights at load time for {isa} CPUs, which makes it faster on the CPU."
        )
    if is_i_quant(pick.quant) and _iquants_fast(budget):
        reasons.append(
            f"I-quant: below 4 bits on {_backend_name(budget)} an I-quant keeps more quality per byte than a K-quant."
        )
    elif not is_i_quant(pick.quant) and any(
        is_i_quant(o.quant) and o.fit != Fit.TOO_LARGE for o in options
    ):
        where = "on the CPU" if _cpu_only(budget) else f"with {_backend_name(budget)}"
        if not _iquants_fast(budget):
            reasons.append(f"K-quant: I-quants run slower than K-quants of similar size {where}.")
    if budget.shared_pool and budget.gpu is not None:
        reasons.append(
            f"Apple unified memory: Metal may use {format_bytes(budget.gpu.vram_bytes)} of the "
            f"{format_bytes(profile.ram_bytes)} RAM; the model's GPU and CPU parts share that RAM."
        )
    return reasons


def nothing_fits_reason(recommendation: Recommendation, profile: HardwareProfile) -> str:
    """What to say when no option fits: how much the smallest needs vs what there is."""
    if not recommendation.options:
        return "This repo has no GGUF files."
    if all(option.quality is None for option in recommendation.options):
        return (
            "No file in this repo names a quant Quantdesk knows (e.g. Q4_K_M), so none is picked "
            "automatically; the table shows each file's fit."
        )
    smallest = min(recommendation.options, key=lambda o: o.estimated_bytes)
    budget = machine_budget(profile)
    room = budget.ram_bytes + (0 if budget.shared_pool else budget.vram_bytes)
    return (
        f"Nothing in this repo fits: the smallest, {smallest.quant or smallest.files[0]} "
        f"({format_bytes(smallest.size_bytes)}), needs about {format_bytes(smallest.estimated_bytes)} with a "
        f"{recommendation.context:,}-token context; this machine can give {format_bytes(room)}. "
        "A smaller model, a shorter context, or more memory would."
    )


# --- model files on disk ---------------------------------------------------------------------------


def local_fit(path: Path, profile: HardwareProfile, *, context: int) -> Fit | None:
    """How a model file on disk fits `profile` at `context` tokens; None when its header can't
    be read."""
    fitted = _fit_local_file(path, profile, context)
    return fitted[0] if fitted else None


def automatic_gpu_layers(path: Path, profile: HardwareProfile | None, *, context: int) -> int:
    """Layers to offload when the person left GPU offload on automatic: what the memory
    estimate says fits this machine's usable GPU (0 without one, or when the header is
    unreadable; the load then reports the file's own problem)."""
    if profile is None or not any(gpu.engine_usable for gpu in profile.gpus):
        return 0
    fitted = _fit_local_file(path, profile, context)
    return fitted[1] if fitted and fitted[0] in (Fit.GPU, Fit.PARTIAL) else 0


def _fit_local_file(path: Path, profile: HardwareProfile, context: int) -> tuple[Fit, int] | None:
    try:
        header = check_model_file(path)
        size = path.stat().st_size
        shape = ModelShape.from_header(header, size)
    except (OSError, ValueError):
        return None
    trained = shape.trained_context
    fit, layers, _estimate = fit_option(
        shape, size, machine_budget(profile), min(context, trained) if trained else context
    )
    return fit, layers
