"""Seed 004's quality scale: every quant the seed repos use has a figure, in a sensible order."""

from __future__ import annotations

import pytest

from app.core.fit.quality import (
    MeasuredOn,
    accuracy_percent,
    bits_class,
    is_i_quant,
    is_k_quant,
    measured_on,
)
from app.core.gguf.quants import parse_quant
from tests.localhub import seed_repos


def test_every_quant_in_the_seed_repos_has_a_figure() -> None:
    quants = {
        parse_quant(path)
        for files in seed_repos().values()
        for path in files
        if path.endswith(".gguf") and "mmproj" not in path
    }
    assert None not in quants
    assert {
        quant: accuracy_percent(quant) for quant in quants if accuracy_percent(quant) is None
    } == {}


def test_more_bits_keep_more_quality() -> None:
    ladder = ["IQ1_S", "IQ2_XXS", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16"]
    figures = [accuracy_percent(quant) for quant in ladder]
    assert figures == sorted(figures)  # type: ignore[type-var]
    assert accuracy_percent("F16") == 100.0


@pytest.mark.parametrize(
    ("spelling", "same_as"),
    [("bf16", "F16"), ("q4_k", "Q4_K_M"), ("Q6_K_L", "Q6_K"), ("BF16-Q8_0", "Q8_0")],
)
def test_spellings_share_a_figure(spelling: str, same_as: str) -> None:
    assert accuracy_percent(spelling) == accuracy_percent(same_as) is not None


def test_unknown_quants_have_no_figure() -> None:
    assert accuracy_percent(None) is None
    assert accuracy_percent("Q9_K") is None


def test_i_quants_and_bit_classes() -> None:
    assert is_i_quant("IQ3_XXS") and is_i_quant("iq4_nl")
    assert not is_i_quant("Q4_K_M") and not is_i_quant(None)
    assert [bits_class(q) for q in ("Q4_K_M", "IQ3_XXS", "BF16", "Q8_0", "F32", "bf16-q8_0")] == [
        4, 3, 16, 8, 32, 8,
    ]  # fmt: skip
    assert bits_class(None) is None and bits_class("MXFP4") is None


def test_k_quants_are_only_the_k_types() -> None:
    assert all(is_k_quant(q) for q in ("Q4_K_M", "q4_k", "Q6_K", "Q3_K_XL", "Q2_K_L", "Q5_K_S"))
    assert not any(
        is_k_quant(q)
        for q in ("Q4_0", "Q8_0", "Q4_1", "IQ4_NL", "IQ3_XXS", "BF16", "bf16-q8_0", None)
    )


@pytest.mark.parametrize(
    ("repo", "relation"),
    [
        ("ThomasBaruzier/Llama-3.1-Minitron-4B-Width-Base-GGUF", MeasuredOn.THIS_MODEL),
        ("bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF", MeasuredOn.SIBLING),
        ("Mungert/Llama-3.1-Nemotron-Nano-8B-v1-GGUF", MeasuredOn.OTHER_MODEL),
        ("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", MeasuredOn.OTHER_MODEL),
    ],
)
def test_where_the_figures_were_measured(repo: str, relation: MeasuredOn) -> None:
    assert measured_on(repo) is relation
