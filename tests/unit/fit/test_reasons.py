"""The reasons a person reads: one plain sentence first, then only rules true of this machine."""

from __future__ import annotations

import re

import pytest

from app.core.fit.reasons import explain, nothing_fits, quality_band
from app.core.fit.recommend import Fit, Goal, Recommendation
from app.core.machine.hardware import HardwareProfile
from tests.unit.fit.conftest import REPOS
from tests.unit.fit.test_recommend import MACHINES, machine, run, run_on

GOALS = tuple(Goal)
# Words that belong to a GPU: none of them may reach a person whose machine has none.
GPU_WORDS = re.compile(r"GPU|VRAM|CUDA|ROCm|Metal|Vulkan|SYCL|layer|offload", re.IGNORECASE)
# A number, a breaking space, then its unit: a line could end between the two.
SPLIT = re.compile(r"\d[ \t\n]+(?:B|KiB|MiB|GiB|TiB|KB|MB|GB|TB|%|s|min|tokens|layers)\b")
SPEED_WORDS = re.compile(r"tokens?/s|quick|fast|slow|speed", re.IGNORECASE)


def every_line(result: Recommendation) -> list[str]:
    lines = [str(nothing_fits(result))] if result.pick is None else []
    for option in result.options:
        lines += explain(result, option).lines()
    return lines


@pytest.mark.parametrize("machine_name", ["cpu16avx2", "cpu8noavx2", "arm16", "tiny4"])
@pytest.mark.parametrize("repo", sorted(REPOS))
def test_a_machine_without_a_gpu_reads_no_gpu_words(
    seed_hub: dict, machine_name: str, repo: str
) -> None:
    for goal in GOALS:
        for line in every_line(run(seed_hub, machine_name, repo, goal)):
            assert not GPU_WORDS.search(line), line


@pytest.mark.parametrize("quant", ["Q4_0", "Q8_0"])
def test_no_k_quant_remark_on_a_quant_that_is_not_one(seed_hub: dict, quant: str) -> None:
    # On this CPU the fastest pick is Q4_0 and the best-quality pick Q8_0, with I-quants in the
    # repo that fit too: the K-quant rule had nothing to do with either choice.
    goal = Goal.FASTEST if quant == "Q4_0" else Goal.QUALITY
    result = run(seed_hub, "cpu16avx2", "ace7b", goal)
    assert result.pick is not None and result.pick.quant == quant
    assert any(
        o.quant and o.quant.startswith("IQ") and o.fit != Fit.TOO_LARGE for o in result.options
    )
    text = " ".join(explain(result, result.pick).lines())
    assert "K-quant" not in text


def test_a_k_quant_pick_says_why_not_an_i_quant(seed_hub: dict) -> None:
    result = run(seed_hub, "cpu8noavx2", "ace7b", Goal.FASTEST)
    assert result.pick is not None and result.pick.quant == "Q4_K_M"
    assert "Q4_K_M is a K-quant: on the CPU, I-quants run slower" in " ".join(
        explain(result, result.pick).lines()
    )


@pytest.mark.parametrize(
    ("repo", "words"),
    [
        ("nano4b", "measured on a sibling model, Llama-3.1-Minitron-4B-Width-Base, which this"),
        ("ace7b", "as measured on another model, Llama-3.1-Minitron-4B-Width-Base."),
        ("nano8b", "as measured on another model, Llama-3.1-Minitron-4B-Width-Base."),
        ("minitron", "measured on this model's own quantized files."),
    ],
)
def test_a_borrowed_quality_figure_says_where_it_comes_from(
    seed_hub: dict, repo: str, words: str
) -> None:
    result = run(seed_hub, "nv12", repo, Goal.FASTEST)
    assert result.pick is not None
    lines = explain(result, result.pick).lines()
    quality = next(line for line in lines if line.startswith("Quality"))
    assert words in quality
    assert "seed" not in " ".join(lines) and "004" not in " ".join(lines)


def test_the_summary_is_one_plain_sentence_with_quality_and_memory(seed_hub: dict) -> None:
    result = run(seed_hub, "cpu16avx2", "ace7b", Goal.FASTEST)
    assert result.pick is not None and result.pick.quant == "Q4_0"
    summary, *details = explain(result, result.pick).lines()
    assert summary.startswith("Good quality, runs on the CPU: uses about ")
    assert "of your 16.0\u00a0GiB of RAM, leaving " in summary
    assert re.findall(r"\.(?!\d)", summary) == ["."]  # one sentence (the rest are decimal points)
    assert not SPEED_WORDS.search(summary)  # the speed is a sentence of its own (speed_sentence)
    # The rules and numbers are in the details, not in the summary.
    assert "context memory" not in summary and "rule" not in summary
    assert any("context memory" in line for line in details)


def test_a_whole_on_gpu_summary_says_what_is_left(seed_hub: dict) -> None:
    result = run(seed_hub, "nv8", "ace7b", Goal.FASTEST)
    assert result.pick is not None and result.pick.fit == Fit.GPU
    summary = explain(result, result.pick).lines()[0]
    assert summary.startswith("Very good quality, whole model on the GPU: uses about ")
    assert "of its 8.0\u00a0GiB, leaving " in summary


def test_a_file_that_fills_the_ram_says_the_fit_is_tight(seed_hub: dict) -> None:
    result = run_on(seed_hub, machine(8), "ace7b", Goal.QUALITY)
    assert result.pick is not None and result.pick.fit == Fit.CPU
    summary = explain(result, result.pick).lines()[0]
    assert "tight fit: close other large apps" in summary


def test_a_gpu_the_engine_cannot_use_is_named_as_the_reason_for_the_cpu(seed_hub: dict) -> None:
    data = MACHINES["nv8"].to_json()
    data["gpus"][0]["engine_usable"] = False
    result = run_on(seed_hub, HardwareProfile.from_json(data), "ace7b", Goal.FASTEST)
    assert result.pick is not None and result.pick.fit == Fit.CPU
    assert "because this engine can't use the RTX 3070" in " ".join(
        explain(result, result.pick).lines()
    )


@pytest.mark.parametrize("machine_name", sorted(MACHINES))
def test_no_number_is_split_from_its_unit(seed_hub: dict, machine_name: str) -> None:
    for goal in GOALS:
        for line in every_line(run(seed_hub, machine_name, "nano8b", goal)):
            assert not SPLIT.search(line), line


def test_quality_bands_follow_the_accuracy_scale() -> None:
    words = [str(quality_band(q)) for q in (100, 99.26, 97.86, 92.5, 85.1, 73.4, None)]
    assert words == [
        "Near-full quality",
        "Very good quality",
        "Good quality",
        "Fair quality",
        "Reduced quality",
        "Low quality",
        "Unknown quality",
    ]


def test_the_speed_sentence_says_where_its_figure_comes_from_and_warns_only_for_quality() -> None:
    from app.core.fit.reasons import speed_sentence
    from app.core.fit.speed import SpeedBasis, SpeedRange

    guessed = SpeedRange(18.7, 24.0, SpeedBasis.BANDWIDTH)
    assert str(speed_sentence(guessed, goal=Goal.FASTEST)) == (
        "Replies come at about 14\u201318\u00a0words/s on this machine "
        "(estimated from its memory speed)."
    )
    measured = SpeedRange(20.0, 20.4, SpeedBasis.MEASURED)
    assert str(speed_sentence(measured, goal=Goal.QUALITY)) == (
        "Replies come at about 15\u00a0words/s on this machine (from a speed test here)."
    )
    slow = SpeedRange(2.0, 3.0, SpeedBasis.BANDWIDTH)
    assert "slower than you read" in str(speed_sentence(slow, goal=Goal.QUALITY))
    assert "slower than you read" not in str(speed_sentence(slow, goal=Goal.FASTEST))
