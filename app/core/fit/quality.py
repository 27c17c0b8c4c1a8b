"""How much of the full-precision model's quality each quant type keeps.

Source: the perplexity table on the model card of ThomasBaruzier/Llama-3.1-Minitron-4B-Width-Base-GGUF
(seed 004): llama.cpp imatrix quants of Llama-3.1-Minitron-4B, "Accuracy (%)" = how close each
quant's perplexity is to F16's. One model's figures, used as a relative scale for every model:
the order holds widely, the exact percentages are that model's.
"""

from __future__ import annotations

from app.core._util.enums import TextEnum

# The model the figures were measured on, and the repo whose card has the table.
SOURCE_MODEL = "Llama-3.1-Minitron-4B-Width-Base"
SOURCE_REPO = "ThomasBaruzier/Llama-3.1-Minitron-4B-Width-Base-GGUF"
# Repo names (lower case) of the source model itself, and of models NVIDIA built from it
# (Llama-3.1-Nemotron-Nano-4B is a derivative of Minitron-4B-Width-Base, per NVIDIA's card).
_SOURCE_NAMES = ("minitron-4b-width",)
_SIBLING_NAMES = ("nemotron-nano-4b",)

# quant -> accuracy % vs F16, transcribed from seed 004.
ACCURACY_PERCENT: dict[str, float] = {
    "IQ1_S": 9.26, "IQ1_M": 18.53, "IQ2_XXS": 45.67, "IQ2_XS": 58.14, "IQ2_S": 60.07,
    "IQ2_M": 68.27, "Q2_K_S": 68.34, "Q2_K": 73.44, "IQ3_XXS": 81.05, "IQ3_XS": 80.21,
    "Q3_K_S": 85.13, "IQ3_S": 83.47, "IQ3_M": 90.84, "Q3_K_M": 92.52, "Q3_K_L": 93.56,
    "IQ4_XS": 97.4, "Q4_0": 96.49, "IQ4_NL": 97.46, "Q4_K_S": 96.92, "Q4_K_M": 97.86,
    "Q4_1": 96.89, "Q5_K_S": 98.79, "Q5_0": 99.1, "Q5_K_M": 99.26, "Q5_1": 99.06,
    "Q6_K": 99.8, "Q8_0": 99.98, "F16": 100.0,
}  # fmt: skip

# Spellings that mean the same quant for quality: BF16 ~ F16; bartowski's _L/_XL variants keep
# Q8_0 embeddings (slightly better than the base type, which we use); Mungert's q4_k is Q4_K_M-like.
_SAME_AS = {
    "BF16": "F16", "F32": "F16", "BF16-Q8_0": "Q8_0", "F16-Q8_0": "Q8_0",
    "Q6_K_L": "Q6_K", "Q5_K_L": "Q5_K_M", "Q4_K_L": "Q4_K_M", "Q3_K_XL": "Q3_K_L",
    "Q2_K_L": "Q2_K", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M", "Q3_K": "Q3_K_M",
}  # fmt: skip


def accuracy_percent(quant: str | None) -> float | None:
    """Seed 004's accuracy % vs F16 for `quant`, or None for a quant it doesn't list."""
    if quant is None:
        return None
    quant = quant.upper()
    return ACCURACY_PERCENT.get(_SAME_AS.get(quant, quant))


def is_i_quant(quant: str | None) -> bool:
    return quant is not None and quant.upper().startswith("IQ")


def bits_class(quant: str | None) -> int | None:
    """The nominal bit width: Q4_K_M -> 4, IQ3_XXS -> 3, BF16 -> 16, Q8_0 -> 8."""
    if not quant:
        return None
    quant = quant.upper()
    if quant.endswith("-Q8_0"):
        return 8  # Mungert's bf16-q8_0: Q8_0 weights, 16-bit embeddings
    if quant.startswith(("BF16", "F16")):
        return 16
    if quant.startswith("F32"):
        return 32
    digits = quant.lstrip("IQ")[:1]
    return int(digits) if digits.isdigit() else None


def is_k_quant(quant: str | None) -> bool:
    """Q4_K_M, q4_k, Q6_K, Q3_K_XL: llama.cpp's K-quants (not Q4_0, Q8_0, IQ4_NL or BF16)."""
    if not quant:
        return False
    quant = quant.upper()
    return len(quant) >= 4 and quant[0] == "Q" and quant[1].isdigit() and quant[2:4] == "_K"


class MeasuredOn(TextEnum):
    """How the quality figures relate to a repo's model: measured on it, on a model built from
    the same base, or on another model (the order of the quants holds; the exact figures don't)."""

    THIS_MODEL = "this_model"
    SIBLING = "sibling"
    OTHER_MODEL = "other_model"


def measured_on(repo_id: str) -> MeasuredOn:
    """Where `repo_id`'s quality figures come from, relative to its own model."""
    name = repo_id.rpartition("/")[2].lower()
    if any(source in name for source in _SOURCE_NAMES):
        return MeasuredOn.THIS_MODEL
    if any(sibling in name for sibling in _SIBLING_NAMES):
        return MeasuredOn.SIBLING
    return MeasuredOn.OTHER_MODEL
