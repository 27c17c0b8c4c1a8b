"""Why a file fits this machine, or was picked, in words a person reads.

Every explanation leads with one plain sentence: the quality in words, how much of the memory
the file uses, and whether that leaves room ("Good quality, runs on the CPU: uses about
1.3 GiB of your 15.6 GiB of RAM, leaving 14.3 GiB for everything else."). The rules and the
numbers behind it follow as details (the window's "Why this file?"): the pick's rule, the memory
arithmetic, what RAM is usable, where the quality figure was measured, and the quant rules that
apply on this machine. The speed is a sentence of its own (`speed_sentence`): predicted from the
memory's bandwidth, or scaled by a speed test on this machine, and said as such.

What is said is only what is true of this machine: a machine without a GPU reads no GPU words;
the K-quant rule is said only of a K-quant; a quality figure measured on another model says so,
with that model's name. Texts are `Phrase`s (`app/core/_util/phrases.py`), translated where shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core._util.phrases import QT_TRANSLATE_NOOP, Phrase
from app.core._util.text import printable
from app.core._util.units import format_bytes, format_percent
from app.core.fit.quality import (
    SOURCE_MODEL,
    MeasuredOn,
    bits_class,
    is_i_quant,
    is_k_quant,
    measured_on,
)
from app.core.fit.recommend import (
    SAME_QUALITY_POINTS,
    Budget,
    Fit,
    Goal,
    Option,
    Recommendation,
    iquants_fast,
    machine_budget,
    repacks_q4_0,
)
from app.core.fit.speed import SpeedBasis, SpeedRange
from app.core.machine.hardware import HardwareProfile

CONTEXT = "FitReasons"  # the translation context of every text here
# A file that needs more than this share of the RAM it may use leaves little for other apps.
TIGHT_SHARE = 0.85
# Quality bands, from seed 004's accuracy %: the lowest figure of each band, best first.
# Q6_K/Q8_0 99.8-100, Q5 99.1-99.3, Q4 96.5-97.9, Q3_K_M/IQ3_M 90.8-92.5, IQ3_XXS/Q3_K_S 81-85.
_BANDS = (
    (99.5, QT_TRANSLATE_NOOP("FitReasons", "Near-full quality")),
    (98.5, QT_TRANSLATE_NOOP("FitReasons", "Very good quality")),
    (96.0, QT_TRANSLATE_NOOP("FitReasons", "Good quality")),
    (90.0, QT_TRANSLATE_NOOP("FitReasons", "Fair quality")),
    (80.0, QT_TRANSLATE_NOOP("FitReasons", "Reduced quality")),
    (0.0, QT_TRANSLATE_NOOP("FitReasons", "Low quality")),
)
_UNKNOWN_BAND = QT_TRANSLATE_NOOP("FitReasons", "Unknown quality")
# GPU backends as their makers write them (names, not translated).
_BACKEND_NAMES = {
    "cuda": "CUDA",
    "rocm": "ROCm",
    "metal": "Metal",
    "vulkan": "Vulkan",
    "sycl": "SYCL",
}


def _say(template: str, **values: object) -> Phrase:
    return Phrase(CONTEXT, template, tuple(values.items()))


@dataclass(frozen=True)
class Explanation:
    """One plain sentence first (`summary`), then the rules and numbers behind it (`details`)."""

    summary: Phrase
    details: tuple[Phrase, ...]

    def lines(self) -> list[str]:
        """Everything, in English: the summary, then each detail."""
        return [str(self.summary), *(str(detail) for detail in self.details)]


def explain(recommendation: Recommendation, option: Option) -> Explanation:
    """Why `option` fits (or not) this machine; for the pick, also why it was picked."""
    profile = recommendation.profile
    budget = machine_budget(profile)
    details: list[Phrase] = []
    picked = option is recommendation.pick
    if picked:
        details.append(_pick_rule(option, recommendation, budget))
    details.append(_memory(option, recommendation, budget))
    details.extend(_figures_source(option, recommendation))
    details.append(_usable_ram(profile, budget))
    details.append(_quality(option, recommendation.repo_id))
    if picked:
        details.extend(_quant_rules(option, recommendation, budget))
    if budget.shared_pool and budget.gpu is not None:
        details.append(
            _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "Unified memory: the GPU may use {share} of your {ram} of RAM, and the "
                    "model's GPU and CPU parts share that RAM.",
                ),
                share=format_bytes(budget.gpu.vram_bytes),
                ram=format_bytes(profile.ram_bytes),
            )
        )
    return Explanation(_summary(option, profile, budget), tuple(details))


def explained_dict(recommendation: Recommendation) -> dict[str, Any]:
    """`recommendation.as_dict()` with each option's summary and reasons, in English (the
    command line's `--json`)."""
    data = recommendation.as_dict()
    for option, row in zip(recommendation.options, data["options"], strict=True):
        lines = explain(recommendation, option).lines()
        row["summary"], row["reasons"] = lines[0], lines[1:]
    if recommendation.pick is not None:
        data["pick"] = data["options"][recommendation.options.index(recommendation.pick)]
    return data


def quality_band(quality: float | None) -> Phrase:
    """The quality in words ("Good quality"), from the accuracy % of `quality.py`."""
    if quality is None:
        return _say(_UNKNOWN_BAND)
    return _say(next(words for floor, words in _BANDS if quality >= floor))


# --- the one plain sentence ----------------------------------------------------------------------


def _summary(option: Option, profile: HardwareProfile, budget: Budget) -> Phrase:
    estimate = option.estimate
    assert estimate is not None, "every fitted option has an estimate"
    quality = quality_band(option.quality)
    if option.fit == Fit.GPU and budget.gpu is not None:
        if budget.shared_pool:
            return _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "{quality}, whole model on the GPU: uses about {used} of the {share} of "
                    "memory the GPU may use.",
                ),
                quality=quality,
                used=format_bytes(estimate.total_bytes),
                share=format_bytes(budget.gpu.vram_bytes),
            )
        total = budget.gpu.vram_bytes
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "{quality}, whole model on the GPU: uses about {used} of its {total}, leaving "
                "{left} free.",
            ),
            quality=quality,
            used=format_bytes(estimate.vram_bytes),
            total=format_bytes(total),
            left=format_bytes(max(0, total - estimate.vram_bytes)),
        )
    if option.fit == Fit.PARTIAL and budget.gpu is not None:
        if budget.shared_pool:
            return _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "{quality}, split between GPU and CPU: uses about {used} of your {ram} of "
                    "memory.",
                ),
                quality=quality,
                used=format_bytes(estimate.total_bytes),
                ram=format_bytes(profile.ram_bytes),
            )
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "{quality}, split between GPU and CPU: uses about {gpu_used} of the GPU's "
                "{gpu_total} and {ram_used} of your {ram} of RAM.",
            ),
            quality=quality,
            gpu_used=format_bytes(estimate.vram_bytes),
            gpu_total=format_bytes(budget.gpu.vram_bytes),
            ram_used=format_bytes(estimate.ram_bytes),
            ram=format_bytes(profile.ram_bytes),
        )
    if option.fit == Fit.CPU:
        if estimate.ram_bytes > TIGHT_SHARE * budget.ram_bytes:
            return _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "{quality}, runs on the CPU: uses about {used} of your {ram} of RAM. That "
                    "is a tight fit: close other large apps before loading it.",
                ),
                quality=quality,
                used=format_bytes(estimate.ram_bytes),
                ram=format_bytes(profile.ram_bytes),
            )
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "{quality}, runs on the CPU: uses about {used} of your {ram} of RAM, leaving "
                "{left} for everything else.",
            ),
            quality=quality,
            used=format_bytes(estimate.ram_bytes),
            ram=format_bytes(profile.ram_bytes),
            left=format_bytes(max(0, profile.ram_bytes - estimate.ram_bytes)),
        )
    if option.fit == Fit.WORKERS and option.layers_on:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "{quality}, too large for this machine alone (needs about {needed}; it can give "
                "{room}): split across this computer and {others}.",
            ),
            quality=quality,
            needed=format_bytes(estimate.total_bytes),
            room=format_bytes(_room(budget)),
            others=", ".join(worker.endpoint for worker in option.remote),
        )
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons", "Too large for this machine: needs about {needed}; it can give {room}."
        ),
        needed=format_bytes(estimate.total_bytes),
        room=format_bytes(_room(budget)),
    )


def _room(budget: Budget) -> int:
    """All the memory a model may use here: usable RAM, plus usable GPU memory unless shared."""
    return budget.ram_bytes + (0 if budget.shared_pool else budget.vram_bytes)


# --- the details: rules and numbers --------------------------------------------------------------


def _gpu_name(budget: Budget) -> str:
    return printable(budget.gpu.name) if budget.gpu is not None else ""


def _backend(budget: Budget) -> str:
    """The GPU backend as its makers write it ("CUDA", "Metal")."""
    if budget.gpu is None:
        return ""
    return _BACKEND_NAMES.get(budget.gpu.backend, budget.gpu.backend)


def _quant(option: Option) -> str:
    return printable(option.quant) if option.quant else printable(option.files[0])


def _parts(option: Option, context: int, budget: Budget) -> Phrase:
    """The memory arithmetic: file + context memory + working memory (+ the GPU runtime)."""
    estimate = option.estimate
    assert estimate is not None
    values: dict[str, object] = {
        "file": format_bytes(option.size_bytes),
        "kv": format_bytes(estimate.kv_bytes),
        "context": f"{context:,}",
        "compute": format_bytes(estimate.compute_gpu + estimate.compute_ram),
    }
    if estimate.backend_context and budget.gpu is not None:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "file {file} + context memory {kv} for {context}\u00a0tokens + working memory "
                "{compute} + {backend} runtime {runtime}",
            ),
            **values,
            backend=_backend(budget),
            runtime=format_bytes(estimate.backend_context),
        )
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "file {file} + context memory {kv} for {context}\u00a0tokens + working memory {compute}",
        ),
        **values,
    )


def _memory(option: Option, recommendation: Recommendation, budget: Budget) -> Phrase:
    """Where the file runs and what it needs there, in numbers."""
    estimate = option.estimate
    assert estimate is not None
    parts = _parts(option, recommendation.context, budget)
    gpu = _gpu_name(budget)
    if option.fit == Fit.GPU and budget.gpu is not None:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Runs entirely on the {gpu}: needs about {used} of its {total} ({parts}), "
                "keeping the 1\u00a0GiB llama.cpp leaves free on each GPU.",
            ),
            gpu=gpu,
            used=format_bytes(estimate.vram_bytes),
            total=format_bytes(budget.gpu.vram_bytes),
            parts=parts,
        )
    if option.fit == Fit.PARTIAL and budget.gpu is not None:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Split: {layers} of {all_layers}\u00a0layers on the {gpu} ({gpu_used} of "
                "{gpu_usable} usable), the rest in RAM ({ram_used} of {ram_usable} usable); "
                "{parts}.",
            ),
            layers=option.gpu_layers,
            all_layers=recommendation.layers,
            gpu=gpu,
            gpu_used=format_bytes(estimate.vram_bytes),
            gpu_usable=format_bytes(budget.vram_bytes),
            ram_used=format_bytes(estimate.ram_bytes),
            ram_usable=format_bytes(budget.ram_bytes),
            parts=parts,
        )
    if option.fit == Fit.CPU:
        return _cpu_memory(option, recommendation.profile, budget, parts)
    if option.fit == Fit.WORKERS and option.layers_on:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Split across computers, by each one's free memory: this computer "
                "{here}\u00a0layers, {others} ({parts}; each layer's share of the context "
                "memory goes with it, the output layer stays here).",
            ),
            here=option.layers_here,
            others="; ".join(f"{worker.endpoint}: {worker.layers}" for worker in option.remote),
            parts=parts,
        )
    needed, room = format_bytes(estimate.total_bytes), format_bytes(_room(budget))
    if budget.gpu is not None and not budget.shared_pool:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Too large: needs about {needed}, but this machine can give {room}: {ram_usable} "
                "of RAM and {gpu_usable} on the {gpu}; {parts}.",
            ),
            needed=needed,
            room=room,
            ram_usable=format_bytes(budget.ram_bytes),
            gpu_usable=format_bytes(budget.vram_bytes),
            gpu=gpu,
            parts=parts,
        )
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "Too large: needs about {needed}, but this machine can give {room} of memory; {parts}.",
        ),
        needed=needed,
        room=room,
        parts=parts,
    )


def _cpu_memory(option: Option, profile: HardwareProfile, budget: Budget, parts: Phrase) -> Phrase:
    estimate = option.estimate
    assert estimate is not None
    values: dict[str, object] = {
        "used": format_bytes(estimate.ram_bytes),
        "usable": format_bytes(budget.ram_bytes),
        "parts": parts,
    }
    if budget.gpu is not None:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Runs on the CPU, because not even one layer fits the {gpu}: needs about {used} "
                "of the {usable} of RAM it can use; {parts}.",
            ),
            gpu=_gpu_name(budget),
            **values,
        )
    unusable = [gpu for gpu in profile.gpus if not gpu.engine_usable]
    if unusable:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Runs on the CPU, because this engine can't use the {gpu}: needs about {used} of "
                "the {usable} of RAM it can use; {parts}.",
            ),
            gpu=printable(unusable[0].name),
            **values,
        )
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "Runs on the CPU: needs about {used} of the {usable} of RAM it can use; {parts}.",
        ),
        **values,
    )


def _figures_source(option: Option, recommendation: Recommendation) -> list[Phrase]:
    """Where the memory figures come from, when not from the formula alone: llama.cpp's own plan
    of the load, and what this machine's past loads put on top."""
    said: list[Phrase] = []
    if option.projection_source == "llama.cpp":
        said.append(
            _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "The memory for the conversation and the working space is llama.cpp's own "
                    "figure: it planned this load on this machine without reading the weights.",
                )
            )
        )
    correction = recommendation.correction
    if correction.loads and correction.factor > 1.0:
        said.append(
            _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "Raised by {percent}: models loaded on this machine took that much more "
                    "than estimated (the last {loads} loads).",
                ),
                percent=format_percent(100 * (correction.factor - 1), decimals=0),
                loads=correction.loads,
            )
        )
    return said


def _usable_ram(profile: HardwareProfile, budget: Budget) -> Phrase:
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "Usable RAM: your {ram} minus {reserve} kept for the system and other apps.",
        ),
        ram=format_bytes(profile.ram_bytes),
        reserve=format_bytes(budget.os_reserve_bytes),
    )


def _quality(option: Option, repo_id: str) -> Phrase:
    """The quality figure and where it was measured, in words (never "seed 004")."""
    if option.quant is None:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Quality unknown: the file's name doesn't say how it was quantized.",
            )
        )
    if option.quality is None:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons", "Quality unknown: there is no measurement for {quant} files."
            ),
            quant=_quant(option),
        )
    percent = format_percent(option.quality, decimals=2)
    relation = measured_on(repo_id)
    if relation == MeasuredOn.THIS_MODEL:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Quality: keeps {percent} of the full model's accuracy, measured on this "
                "model's own quantized files.",
            ),
            percent=percent,
        )
    if relation == MeasuredOn.SIBLING:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Quality: keeps about {percent} of the full model's accuracy, measured on a "
                "sibling model, {source}, which this model was built from; this model's own "
                "figure may differ a little.",
            ),
            percent=percent,
            source=SOURCE_MODEL,
        )
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "Quality: keeps about {percent} of the full model's accuracy, as measured on another "
            "model, {source}. Quantized files rank the same way on most models, but this "
            "model's exact figures may differ.",
        ),
        percent=percent,
        source=SOURCE_MODEL,
    )


def _pick_rule(pick: Option, recommendation: Recommendation, budget: Budget) -> Phrase:
    """Why this file rather than the others, by the rule that chose it."""
    quant = _quant(pick)
    if recommendation.goal == Goal.FASTEST:
        if pick.fit == Fit.GPU:
            return _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "Why {quant}: replies are fastest with the whole model on the GPU, and "
                    "{quant} is the best quality that fits there (rule: a file 1–2\u00a0GiB "
                    "smaller than the GPU's memory).",
                ),
                quant=quant,
            )
        if pick.fit == Fit.PARTIAL:
            return _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "Why {quant}: no file of good quality fits entirely on the {gpu}, and "
                    "{quant} puts the most layers on it ({layers} of {all_layers}).",
                ),
                quant=quant,
                gpu=_gpu_name(budget),
                layers=pick.gpu_layers,
                all_layers=recommendation.layers,
            )
        if bits_class(pick.quant) == 4:
            return _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "Why {quant}: on the CPU, smaller files give faster replies, and 4-bit "
                    "files are the smallest that keep good quality.",
                ),
                quant=quant,
            )
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Why {quant}: on the CPU, smaller files give faster replies, and no 4-bit file "
                "of this model fits, so {quant} is the fastest one that does.",
            ),
            quant=quant,
        )
    # The smallest of the best: a larger file that fits, with a figure within
    # SAME_QUALITY_POINTS of the pick's (BF16 next to Q8_0), was passed over on purpose.
    larger_same = pick.quality is not None and any(
        other.fit != Fit.TOO_LARGE
        and other.size_bytes > pick.size_bytes
        and other.quality is not None
        and 0 <= other.quality - pick.quality <= SAME_QUALITY_POINTS
        for other in recommendation.options
    )
    if budget.gpu is None:
        rule = _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Why {quant}: it is the best quality that fits your RAM, with room for its "
                "context and for the system.",
            ),
            quant=quant,
        )
    elif budget.shared_pool:
        rule = _say(
            QT_TRANSLATE_NOOP(
                "FitReasons", "Why {quant}: it is the best quality that fits this machine's memory."
            ),
            quant=quant,
        )
    else:
        rule = _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Why {quant}: it is the best quality that fits RAM and GPU memory together "
                "(rule: a file 1–2\u00a0GiB smaller than both together, split between them when "
                "needed).",
            ),
            quant=quant,
        )
    if not larger_same:
        return rule
    return _say(
        QT_TRANSLATE_NOOP("FitReasons", "{rule} Larger files here add no measurable quality."),
        rule=rule,
    )


def _quant_rules(pick: Option, recommendation: Recommendation, budget: Budget) -> list[Phrase]:
    """The quant-type rules that decided the pick on this machine, and only those."""
    profile = recommendation.profile
    rules: list[Phrase] = []
    quant = (pick.quant or "").upper()
    on_cpu = pick.fit == Fit.CPU
    repacked = ("Q4_0", "IQ4_NL") if profile.cpu.arch == "arm64" else ("Q4_0",)
    if on_cpu and quant in repacked and repacks_q4_0(profile):
        rules.append(
            _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "{quant}: llama.cpp rearranges these weights at load time for {isa} CPUs, "
                    "which makes it faster on the CPU.",
                ),
                quant=_quant(pick),
                isa="ARM NEON" if profile.cpu.arch == "arm64" else "AVX2",
            )
        )
    if is_i_quant(pick.quant) and iquants_fast(budget):
        rules.append(
            _say(
                QT_TRANSLATE_NOOP(
                    "FitReasons",
                    "{quant} is an I-quant: below 4 bits on {backend}, I-quants keep more "
                    "quality per byte than K-quants.",
                ),
                quant=_quant(pick),
                backend=_backend(budget),
            )
        )
    i_quant_fits = any(
        is_i_quant(o.quant) and o.fit != Fit.TOO_LARGE and o.quality is not None
        for o in recommendation.options
    )
    if is_k_quant(pick.quant) and i_quant_fits and not iquants_fast(budget):
        if budget.gpu is None or on_cpu:
            rules.append(
                _say(
                    QT_TRANSLATE_NOOP(
                        "FitReasons",
                        "{quant} is a K-quant: on the CPU, I-quants run slower than K-quants of "
                        "a similar size.",
                    ),
                    quant=_quant(pick),
                )
            )
        else:
            rules.append(
                _say(
                    QT_TRANSLATE_NOOP(
                        "FitReasons",
                        "{quant} is a K-quant: with {backend}, I-quants run slower than "
                        "K-quants of a similar size.",
                    ),
                    quant=_quant(pick),
                    backend=_backend(budget),
                )
            )
    return rules


# --- nothing fits --------------------------------------------------------------------------------


def nothing_fits(recommendation: Recommendation) -> Phrase:
    """What to say when nothing is picked: how much the smallest needs against what there is."""
    if not recommendation.options:
        return _say(QT_TRANSLATE_NOOP("FitReasons", "This repo has no GGUF files."))
    if all(option.quality is None for option in recommendation.options):
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "No file in this repo names a quant Quantdesk knows (such as Q4_K_M), so none is "
                "picked for you; the table shows how each file fits.",
            )
        )
    smallest = min(recommendation.options, key=lambda o: o.estimated_bytes)
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "Nothing in this repo fits: the smallest, {name} ({size}), needs about {needed} "
            "with {context}\u00a0tokens of context, and this machine can give {room}. A smaller "
            "model, a shorter context or more memory would.",
        ),
        name=_quant(smallest),
        size=format_bytes(smallest.size_bytes),
        needed=format_bytes(smallest.estimated_bytes),
        context=f"{recommendation.context:,}",
        room=format_bytes(_room(machine_budget(recommendation.profile))),
    )


# --- speed ---------------------------------------------------------------------------------------


def speed_words(speed: SpeedRange) -> Phrase:
    """The speed in plain words: "about 14\u201318 words/s" (tokens x `WORDS_PER_TOKEN`)."""
    low, high = speed.words()
    if low == high:
        return _say(QT_TRANSLATE_NOOP("FitReasons", "about {n}\u00a0words/s"), n=low)
    return _say(
        QT_TRANSLATE_NOOP("FitReasons", "about {low}\u2013{high}\u00a0words/s"), low=low, high=high
    )


def speed_sentence(speed: SpeedRange, *, goal: Goal) -> Phrase:
    """One sentence on how fast replies come: where the figure comes from, and for "Best
    quality" a warning when it would be slower than a person reads."""
    words = speed_words(speed)
    if goal == Goal.QUALITY and speed.slow_to_read:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons",
                "Replies come at {words} on this machine: slower than you read. "
                "Choose Fastest for a quicker file.",
            ),
            words=words,
        )
    if speed.basis is SpeedBasis.MEASURED:
        return _say(
            QT_TRANSLATE_NOOP(
                "FitReasons", "Replies come at {words} on this machine (from a speed test here)."
            ),
            words=words,
        )
    return _say(
        QT_TRANSLATE_NOOP(
            "FitReasons",
            "Replies come at {words} on this machine (estimated from its memory speed).",
        ),
        words=words,
    )
