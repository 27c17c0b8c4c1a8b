"""Quant names in GGUF file names, in every spelling the seed repos use.

    Q4_K_M, q4_k_m, Q4_K_L / Q3_K_XL / Q2_K_L (Q8_0 embed/output), q4_k (Mungert), bf16-q8_0,
    f16-q8_0, IQ3_XXS, IQ4_NL, Q4_0, Q4_1, BF16, F16, F32 ...

`parse_quant` returns the canonical upper-case name, or None for a name it doesn't know: unknown
names are shown as unknown, never guessed. Split files (`…-00001-of-00003.gguf`) are grouped by
`shard_info`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Longest alternatives first, so Q4_K_M wins over Q4_K and IQ3_XXS over IQ3_XS.
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])("
    r"(?:bf16|f16|f32)-q8_0"
    r"|iq[1-4]_(?:xxs|xs|s|m|nl)"
    r"|q[2-8]_k_(?:xxl|xl|l|m|s)|q[2-8]_k"
    r"|q4_0_[48]_[48]|q[4-8]_[01]"
    r"|tq[12]_0|mxfp4"
    r"|bf16|f16|f32|fp16|fp32"
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SHARD = re.compile(r"^(?P<stem>.+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.gguf$", re.IGNORECASE)


def parse_quant(filename: str) -> str | None:
    """`"nvidia_X-Q4_K_M.gguf"` -> `"Q4_K_M"`; `"x-q4_k.gguf"` -> `"Q4_K"`; unknown -> None.

    The last match in the name wins (model names can contain things like "F16" earlier).
    """
    name = filename.rsplit("/", 1)[-1]
    matches = _QUANT.findall(name.replace(".", "-"))
    if not matches:
        return None
    quant = matches[-1].upper()
    return {"FP16": "F16", "FP32": "F32"}.get(quant, quant)


@dataclass(frozen=True)
class ShardInfo:
    """Where one file of a split GGUF sits: `stem` is shared by all shards."""

    stem: str
    index: int
    count: int


def shard_info(path: str) -> ShardInfo | None:
    """`"Q8_0/m-Q8_0-00001-of-00002.gguf"` -> ShardInfo("Q8_0/m-Q8_0", 1, 2); a whole file -> None."""
    match = _SHARD.match(path)
    if not match:
        return None
    return ShardInfo(match["stem"], int(match["index"]), int(match["count"]))


def quant_from_file_type(file_type: object) -> str | None:
    """The quant a GGUF header's `general.file_type` names (15 -> "Q4_K_M"), or None."""
    if not isinstance(file_type, int) or isinstance(file_type, bool):
        return None
    from gguf.constants import LlamaFileType

    try:
        name = LlamaFileType(file_type).name
    except ValueError:
        return None
    return name.removeprefix("MOSTLY_").removeprefix("ALL_") if name != "GUESSED" else None
