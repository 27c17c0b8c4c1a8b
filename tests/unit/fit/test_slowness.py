""" "Why is it slow?": each branch of the rule from measured figures, the smaller quant it names
(by the seeds' rule, or a file beside the model), and the figures gathered for a real load of
the tiny model."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from app.core.engine.engine import Engine, FinishReason, GenerationStats
from app.core.fit.slowness import (
    BUSY_CPU_SHARE,
    DEEP_CONTEXT_TOKENS,
    GPU_LAYER_MARGIN_BYTES,
    LONG_PROMPT_TOKENS,
    SLOW_START_SECONDS,
    SWAP_IN_USE_BYTES,
    Remedy,
    ReplyFigures,
    SlownessFigures,
    SlownessInputs,
    SmallerFile,
    Suggestion,
    gather_figures,
    smaller_file_on_disk,
    smaller_quant_by_rule,
    suggest,
)
from app.core.fit.speed import (
    SpeedBasis,
    SpeedMeasurement,
    SpeedRange,
    engine_build,
    machine_key,
    save_measurement,
)
from app.core.machine.hardware import detect

GIB = 1 << 30
MIB = 1 << 20


def reply(tps: float = 20.0, *, ttft: float = 0.3, seconds: float = 5.0, used: int = 300) -> ReplyFigures:  # fmt: skip
    return ReplyFigures(tps, ttft, seconds, prompt_tokens=used - 50, completion_tokens=50, context_used=used)  # fmt: skip


# A CPU-only load of a 32-layer 4 GB file whose last reply nothing in particular slowed.
CPU_ONLY = SlownessFigures(
    threads=8,
    cpu_variant="haswell",
    gpu_layers=0,
    layer_count=32,
    context_length=8192,
    layer_bytes=125 * MIB,
    swap_used_bytes=0,
    ram_available_bytes=8 * GIB,
    ram_total_bytes=16 * GIB,
    reply=reply(),
    first_reply=reply(),
    predicted=SpeedRange(15.0, 25.0, SpeedBasis.BANDWIDTH),
    smaller=SmallerFile("Q4_0", "model-Q4_0.gguf"),
)
# The same file with 20 of its 32 layers on an 8 GB CUDA card.
SPLIT = dataclasses.replace(
    CPU_ONLY, gpu_layers=20, gpu_backend="cuda", gpu_name="RTX 3070", gpu_free_bytes=100 * MIB
)
ON_GPU = dataclasses.replace(SPLIT, gpu_layers=32, gpu_free_bytes=2 * GIB)


def test_nothing_in_particular_names_the_smaller_file() -> None:
    assert suggest(CPU_ONLY) == Suggestion(Remedy.SMALLER_FILE, SmallerFile("Q4_0", "model-Q4_0.gguf"))  # fmt: skip


def test_at_the_smallest_quant_worth_using_a_smaller_model() -> None:
    smallest = dataclasses.replace(CPU_ONLY, smaller=None, smallest_quant=True)
    assert suggest(smallest) == Suggestion(Remedy.SMALLER_MODEL)
    # A quant the rule can't place: a smaller file, none named.
    assert suggest(dataclasses.replace(CPU_ONLY, smaller=None)) == Suggestion(Remedy.SMALLER_FILE)


def test_swap_in_use_with_ram_nearly_full_comes_first() -> None:
    swapping = dataclasses.replace(
        SPLIT, swap_used_bytes=2 * GIB, ram_available_bytes=GIB // 2, gpu_free_bytes=4 * GIB
    )
    assert suggest(swapping).remedy == Remedy.CLOSE_PROGRAMS  # before the GPU's free room
    # Swap used long ago by an idle program, with RAM to spare, is not the cause.
    assert suggest(dataclasses.replace(swapping, ram_available_bytes=8 * GIB)).remedy == (
        Remedy.MORE_GPU_LAYERS
    )
    # Below the threshold, neither.
    little = dataclasses.replace(swapping, swap_used_bytes=SWAP_IN_USE_BYTES - 1)
    assert suggest(little).remedy == Remedy.MORE_GPU_LAYERS
    # Nothing known of the RAM: swap in use is taken as the cause.
    unknown = dataclasses.replace(swapping, ram_available_bytes=None, ram_total_bytes=None)
    assert suggest(unknown).remedy == Remedy.CLOSE_PROGRAMS


def test_other_programs_keeping_the_processor_busy_come_next() -> None:
    busy = dataclasses.replace(SPLIT, cpu_busy_share=BUSY_CPU_SHARE, gpu_free_bytes=4 * GIB)
    assert suggest(busy) == Suggestion(Remedy.BUSY_CPU)  # before the GPU's free room
    swapping = dataclasses.replace(busy, swap_used_bytes=2 * GIB, ram_available_bytes=GIB // 2)
    assert suggest(swapping).remedy == Remedy.CLOSE_PROGRAMS  # after swapping
    # Less busy, or every layer on the GPU (the CPU hardly matters then): not this.
    assert suggest(dataclasses.replace(busy, cpu_busy_share=0.49)).remedy != Remedy.BUSY_CPU
    assert suggest(dataclasses.replace(ON_GPU, cpu_busy_share=0.9)).remedy != Remedy.BUSY_CPU
    # Measured before any reply too: it slows the next one.
    assert suggest(dataclasses.replace(CPU_ONLY, reply=None, cpu_busy_share=0.8)) == Suggestion(
        Remedy.BUSY_CPU
    )


def test_gpu_memory_borrowed_from_ram_asks_for_fewer_gpu_layers() -> None:
    spilling = dataclasses.replace(ON_GPU, gpu_shared_bytes=GIB)
    assert suggest(spilling) == Suggestion(Remedy.FEWER_GPU_LAYERS)
    assert suggest(dataclasses.replace(spilling, gpu_shared_bytes=None)) != Suggestion(
        Remedy.FEWER_GPU_LAYERS
    )


def test_layers_on_the_cpu_and_room_on_the_gpu_ask_for_more_gpu_layers() -> None:
    room = 125 * MIB + GPU_LAYER_MARGIN_BYTES
    assert suggest(dataclasses.replace(SPLIT, gpu_free_bytes=room)).remedy == Remedy.MORE_GPU_LAYERS
    # No room for one more layer: not this.
    assert suggest(dataclasses.replace(SPLIT, gpu_free_bytes=room - 1)).remedy != (
        Remedy.MORE_GPU_LAYERS
    )
    # All layers on the GPU already, or no GPU engine: not this either.
    assert suggest(ON_GPU).remedy != Remedy.MORE_GPU_LAYERS
    no_engine = dataclasses.replace(SPLIT, gpu_backend=None, gpu_free_bytes=8 * GIB)
    assert suggest(no_engine).remedy != Remedy.MORE_GPU_LAYERS
    # A GPU engine and an empty card, but every layer on the CPU (GPU offload off).
    none_on_gpu = dataclasses.replace(SPLIT, gpu_layers=0, gpu_free_bytes=8 * GIB)
    assert suggest(none_on_gpu).remedy == Remedy.MORE_GPU_LAYERS


def test_a_long_chat_that_slowed_generation_asks_for_a_new_chat() -> None:
    deep = dataclasses.replace(
        CPU_ONLY, reply=reply(14.0, used=6000), first_reply=reply(20.0, used=300)
    )
    assert suggest(deep) == Suggestion(Remedy.NEW_CHAT)
    # Slower, but not by much: not the cause.
    assert suggest(dataclasses.replace(deep, reply=reply(16.0, used=6000))).remedy != (
        Remedy.NEW_CHAT
    )
    # Not deep yet.
    shallow = dataclasses.replace(deep, reply=reply(14.0, used=DEEP_CONTEXT_TOKENS - 1))
    assert suggest(shallow).remedy != Remedy.NEW_CHAT
    # The first reply was itself deep: nothing says how fast the chat's start was...
    deep_first = dataclasses.replace(deep, first_reply=reply(20.0, used=4000))
    assert suggest(deep_first).remedy != Remedy.NEW_CHAT
    # ... unless a speed test of this file here did (at depth 0).
    assert suggest(dataclasses.replace(deep_first, tested_speed=20.0)) == Suggestion(
        Remedy.NEW_CHAT
    )
    assert suggest(dataclasses.replace(deep_first, tested_speed=16.0)).remedy != Remedy.NEW_CHAT


def test_a_long_prompt_whose_first_token_took_longer_than_the_writing_asks_for_a_shorter_one() -> (
    None
):
    slow_start = dataclasses.replace(CPU_ONLY, reply=reply(ttft=6.0, seconds=10.0, used=3000))
    assert suggest(slow_start) == Suggestion(Remedy.SHORTER_PROMPT)
    # Longer than the writing but short in itself: not worth a change.
    quick = dataclasses.replace(
        CPU_ONLY, reply=reply(ttft=SLOW_START_SECONDS - 0.1, seconds=3.0, used=3000)
    )
    assert suggest(quick).remedy != Remedy.SHORTER_PROMPT
    # Long, but the writing took longer still.
    long_writing = reply(ttft=4.0, seconds=20.0, used=3000)
    assert suggest(dataclasses.replace(CPU_ONLY, reply=long_writing)).remedy != (
        Remedy.SHORTER_PROMPT
    )
    # A short prompt read slowly (a busy machine, a cold start): not the prompt's length.
    short = reply(ttft=6.0, seconds=10.0, used=LONG_PROMPT_TOKENS - 1 + 50)
    assert suggest(dataclasses.replace(CPU_ONLY, reply=short)).remedy != Remedy.SHORTER_PROMPT


def test_well_below_the_prediction_on_the_gpu_asks_to_close_other_gpu_apps() -> None:
    predicted = SpeedRange(80.0, 120.0, SpeedBasis.BANDWIDTH)
    slow = dataclasses.replace(ON_GPU, predicted=predicted, reply=reply(40.0))
    assert suggest(slow) == Suggestion(Remedy.CLOSE_GPU_APPS)
    # Within reach of the prediction: not this.
    assert suggest(dataclasses.replace(slow, reply=reply(70.0))).remedy != Remedy.CLOSE_GPU_APPS
    # On the CPU, other GPU apps don't matter.
    cpu = dataclasses.replace(CPU_ONLY, predicted=predicted, reply=reply(40.0))
    assert suggest(cpu).remedy != Remedy.CLOSE_GPU_APPS


def test_before_any_reply_only_the_load_and_the_machine_can_point_to_a_cause() -> None:
    assert suggest(dataclasses.replace(CPU_ONLY, reply=None, first_reply=None)) is None
    split = dataclasses.replace(SPLIT, reply=None, first_reply=None, gpu_free_bytes=4 * GIB)
    assert suggest(split) == Suggestion(Remedy.MORE_GPU_LAYERS)


@pytest.mark.parametrize(
    ("quant", "repacks", "iquants", "expected"),
    [
        ("F16", False, False, "Q8_0"),
        ("Q8_0", False, False, "Q6_K"),
        ("Q6_K", False, False, "Q5_K_M"),
        ("Q5_K_M", False, False, "Q4_K_M"),
        ("Q5_K_M", True, False, "Q4_0"),  # a CPU that repacks Q4_0 runs it faster
        ("Q4_1", True, False, "Q4_0"),
        ("Q4_1", False, False, "Q3_K_M"),
        ("Q4_K_M", False, True, "IQ3_M"),  # below four bits I-quants, on CUDA and ROCm
        ("q4_k_m", False, False, "Q3_K_M"),
        ("Q3_K_M", False, False, None),  # the smallest worth using
        ("IQ2_XS", False, False, None),  # unknown here: never guessed
        (None, False, False, None),
    ],
)
def test_the_smaller_quant_by_the_seeds_rule(
    quant: str | None, repacks: bool, iquants: bool, expected: str | None
) -> None:
    assert smaller_quant_by_rule(quant, repacks_q4_0=repacks, iquants_fast=iquants) == expected


def test_a_smaller_file_of_the_same_model_on_disk(tmp_path: Path) -> None:
    def file(name: str, size: int) -> Path:
        path = tmp_path / name
        path.write_bytes(b"\0" * size)
        return path

    loaded = file("Model-7B-Q6_K.gguf", 1000)
    assert smaller_file_on_disk(loaded) is None  # alone in its folder
    file("Model-7B-Q5_K_M.gguf", 950)  # hardly smaller
    file("Other-1B-Q2_K.gguf", 100)  # another model
    file("Model-7B-Q3_K_M.gguf", 500)
    file("model-7b-q4_k_m.gguf", 700)  # the largest that is smaller enough
    assert smaller_file_on_disk(loaded) == SmallerFile("Q4_K_M", "model-7b-q4_k_m.gguf")
    # The quant the rule names, when it is there, however close in size.
    assert smaller_file_on_disk(loaded, quant="Q5_K_M") == SmallerFile(
        "Q5_K_M", "Model-7B-Q5_K_M.gguf"
    )
    assert smaller_file_on_disk(loaded, quant="Q4_0") is None
    assert smaller_file_on_disk(tmp_path / "gone-Q8_0.gguf") is None


def test_the_figures_of_a_real_load_and_reply(tiny_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    model_path = Path(shutil.copy(tiny_model, folder / tiny_model.name))
    engine = Engine(load_checks=tmp_path / "checks.json")
    model = engine.load(model_path, context_length=512, threads=2)
    try:
        stats = GenerationStats(40, 8, 0.9, 0.2, 11.5, FinishReason.STOP, context_used=48)
        profile = detect()
        # A speed test of this file here, and one of another file: this file's counts.
        for name, speed in ((model_path.name, 33.0), ("other-Q8_0.gguf", 99.0)):
            save_measurement(
                tmp_path / "data",
                SpeedMeasurement(
                    machine_key(profile), "cpu", engine_build(), name, model.file_size, 0, 2,
                    300.0, speed, None, None, 0.5, 64, None, measured_at=1.0,
                ),
            )  # fmt: skip
        figures = gather_figures(
            SlownessInputs(model, stats, stats, profile, tmp_path / "data", tmp_path / "cache")
        )
    finally:
        engine.unload()
    assert (figures.threads, figures.gpu_layers, figures.context_length) == (2, 0, 512)
    assert figures.layer_count == 30  # SmolLM2-135M's blocks
    assert figures.cpu_variant  # the engine's CPU build is known once it loaded
    assert figures.layer_bytes == model.file_size // 30
    assert figures.ram_total_bytes and figures.ram_available_bytes and figures.swap_used_bytes is not None  # fmt: skip
    assert figures.reply == ReplyFigures(11.5, 0.2, 0.9, 40, 8, 48)
    assert figures.tested_speed == 33.0
    assert figures.cpu_busy_share is not None and 0.0 <= figures.cpu_busy_share <= 1.0
    assert figures.predicted is not None and figures.predicted.low > 0  # RAM measured here
    # Q4_1 alone in its folder: the rule names the quant (Q4_0 on a CPU that repacks it).
    assert figures.smaller is not None and figures.smaller.file_name is None
    assert figures.smaller.quant in ("Q4_0", "Q3_K_M") and not figures.smallest_quant


def test_the_rules_quant_is_named_by_its_file_when_it_is_beside_the_model(
    tiny_model: Path, tmp_path: Path
) -> None:
    model_path = Path(shutil.copy(tiny_model, tmp_path / tiny_model.name))
    engine = Engine(load_checks=tmp_path / "checks.json")
    model = engine.load(model_path, context_length=512, threads=2)
    engine.unload()
    # A Q4_0 of the same model, 7 % smaller (its embeddings are not 4-bit): the rule's pick
    # on a CPU that repacks Q4_0, named by its file.
    sibling = tmp_path / tiny_model.name.replace("Q4_1", "Q4_0")
    sibling.write_bytes(b"\0" * int(model.file_size * 0.93))
    profile = detect()
    avx2 = dataclasses.replace(
        profile, cpu=dataclasses.replace(profile.cpu, features=(*profile.cpu.features, "avx2"))
    )
    figures = gather_figures(
        SlownessInputs(model, None, None, avx2, tmp_path / "data", tmp_path / "cache")
    )
    assert figures.smaller == SmallerFile("Q4_0", sibling.name)
    # A file already at three bits: no smaller quant worth naming.
    at_q3 = dataclasses.replace(model, quant="Q3_K_M")
    figures = gather_figures(
        SlownessInputs(at_q3, None, None, avx2, tmp_path / "data", tmp_path / "cache")
    )
    assert figures.smaller is None and figures.smallest_quant
    # A CPU load, no reply yet, the processor not busy: nothing points to a cause yet.
    assert figures.reply is None
    assert suggest(dataclasses.replace(figures, cpu_busy_share=0.0)) is None
