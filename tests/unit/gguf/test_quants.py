"""Quant names in every spelling the seed repos use, shards, and header file types."""

from __future__ import annotations

import pytest

from app.core.gguf.quants import parse_quant, quant_from_file_type, shard_info


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-Q4_K_M.gguf", "Q4_K_M"),
        ("Llama-3.1-Nemotron-Nano-8B-v1-q4_k_m.gguf", "Q4_K_M"),
        ("Llama-3.1-Nemotron-Nano-8B-v1-q4_k.gguf", "Q4_K"),
        ("Llama-3.1-Nemotron-Nano-8B-v1-bf16-q8_0.gguf", "BF16-Q8_0"),
        ("x-f16-q8_0.gguf", "F16-Q8_0"),
        ("x-Q3_K_XL.gguf", "Q3_K_XL"),
        ("x-Q2_K_L.gguf", "Q2_K_L"),
        ("x-IQ3_XXS.gguf", "IQ3_XXS"),
        ("x-IQ3_XS.gguf", "IQ3_XS"),
        ("x-IQ3_M.gguf", "IQ3_M"),
        ("x-IQ2_S.gguf", "IQ2_S"),
        ("x-IQ4_XS.gguf", "IQ4_XS"),
        ("x-IQ4_NL.gguf", "IQ4_NL"),
        ("x-Q4_0.gguf", "Q4_0"),
        ("x-Q8_0.gguf", "Q8_0"),
        ("x-Q4_0_4_8.gguf", "Q4_0_4_8"),
        ("x-bf16.gguf", "BF16"),
        ("x-fp16.gguf", "F16"),
        ("x-FP32.gguf", "F32"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("Q8_0/m-Q8_0-00001-of-00002.gguf", "Q8_0"),
        ("mystery-model.gguf", None),
        ("x-Q9_K.gguf", None),  # not a quant we know: unknown, never guessed
    ],
)
def test_quant_spellings(name: str, quant: str | None) -> None:
    assert parse_quant(name) == quant


@pytest.mark.parametrize("spelling", ["fp16", "FP16", "f16", "F16"])
def test_a_bare_quant_name_is_canonical(spelling: str) -> None:
    # What a person types after `--quant` is read the same way as a file name.
    assert parse_quant(spelling) == "F16"


def test_quant_from_the_header_file_type() -> None:
    assert quant_from_file_type(15) == "Q4_K_M"
    assert quant_from_file_type(7) == "Q8_0"
    assert quant_from_file_type(1) == "F16"
    assert quant_from_file_type(9999) is None and quant_from_file_type("x") is None
    assert quant_from_file_type(True) is None


def test_shard_info() -> None:
    info = shard_info("Q8_0/m-Q8_0-00002-of-00003.gguf")
    assert info is not None and (info.stem, info.index, info.count) == ("Q8_0/m-Q8_0", 2, 3)
    assert shard_info("m-Q8_0.gguf") is None
