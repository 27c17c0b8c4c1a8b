"""What a byte of each weight type costs a CPU per generated token (speed.CPU_BYTE_COST).

    .venv/bin/python -m bench.bench_speed_types [--threads 1] [--rounds 3]

SmolLM2-135M requantized by llama.cpp to each type (tests.models.requantized), and three of them
cut to their first 10 or 20 layers (a file whose text is nonsense but whose decode step reads
fewer layers: it separates the per-layer bytes from the head's). Each file's decode time per
token at depth 0 is measured as bench_speed does (median of single-token steps, alternating
files, `--rounds` times), and a least-squares fit of

    time per token = t0 + sum over types of (bytes of that type read per token) x cost(type)

gives each type's cost; the K-quants share one (SmolLM2's 576-wide rows make llama.cpp fall back
to other types for most K-quant tensors, leaving too few K bytes to tell them apart). Printed:
each type's cost relative to a K-quant byte (the table in speed.py) and the fit's residuals.
Gemma-3 is left out on purpose: bench_speed checks the table held out on it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from pathlib import Path

import numpy as np

from bench.bench_speed import measure

TYPES = ["Q4_0", "Q4_1", "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K",
         "IQ4_NL", "IQ4_XS", "F16", "BF16"]  # fmt: skip
CUT = {"Q4_1": (10, 20), "Q8_0": (10,), "F16": (10,), "Q4_0": (10,)}
K_QUANTS = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"}


def first_layers(source: Path, layers: int) -> Path:
    """`source` with only its first `layers` blocks (cached beside it)."""
    import gguf

    target = source.with_name(f"{source.stem}-first{layers}.gguf")
    if target.exists():
        return target
    reader = gguf.GGUFReader(source)
    arch = str(reader.fields["general.architecture"].contents())
    partial = target.with_suffix(".partial")
    writer = gguf.GGUFWriter(str(partial), arch=arch, endianess=reader.endianess)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        value = layers if field.name == f"{arch}.block_count" else field.contents()
        writer.add_key_value(field.name, value, kind, sub_type=sub)
    kept = [
        t for t in reader.tensors
        if not (m := re.match(r"blk\.(\d+)\.", t.name)) or int(m.group(1)) < layers
    ]  # fmt: skip
    for tensor in kept:
        writer.add_tensor_info(
            tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes,
            tensor.tensor_type,
        )  # fmt: skip
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in kept:
        writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    writer.close()
    partial.replace(target)
    return target


def bytes_by_type(path: Path) -> dict[str, int]:
    """Bytes a token reads per weight type: the layers' matrices and the head (a tied
    embedding counts as the head; a separate embedding is a lookup)."""
    from app.core.fit.memory import ModelShape
    from app.core.gguf.header import check_model_file, tensor_nbytes

    header = check_model_file(path)
    shape = ModelShape.from_header(header, path.stat().st_size)
    read: dict[str, int] = {}
    for tensor in header.tensors:
        is_head = tensor.name == ("token_embd.weight" if shape.tied_output else "output.weight")
        if is_head or (tensor.name.startswith("blk.") and len(tensor.shape) >= 2):
            from gguf.constants import GGMLQuantizationType

            name = GGMLQuantizationType(tensor.ggml_type).name
            group = "K" if name in K_QUANTS else name
            read[group] = read.get(group, 0) + (tensor_nbytes(tensor) or 0)
    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from tests.models import requantized

    files = {name: requantized(name) for name in TYPES}
    for name, cuts in CUT.items():
        for layers in cuts:
            files[f"{name}, first {layers} layers"] = first_layers(files[name], layers)
    runs: dict[str, list[float]] = {name: [] for name in files}
    for _round in range(args.rounds):
        for name, path in files.items():
            runs[name].append(measure(path, args.threads)[1])  # the decode thread's CPU time
    reads = {name: bytes_by_type(path) for name, path in files.items()}
    groups = sorted({g for read in reads.values() for g in read})
    names = list(files)
    matrix = np.array([[1.0] + [reads[n].get(g, 0) / 1e6 for g in groups] for n in names])
    seconds = np.array([statistics.median(runs[n]) for n in names])
    solution, *_ = np.linalg.lstsq(matrix, seconds, rcond=None)
    per_mb = dict(zip(groups, solution[1:], strict=True))
    reference = per_mb.get("K") or 1.0
    print(json.dumps({
        "threads": args.threads,
        "t0_ms": round(solution[0] * 1e3, 3),
        "ms_per_mb": {g: round(v * 1e3, 4) for g, v in per_mb.items()},
        "relative_to_k_quants": {g: round(v / reference, 2) for g, v in per_mb.items()},
        "files": [
            {
                "file": n,
                "measured_ms": round(seconds[i] * 1e3, 3),
                "fit_error_percent": round(100 * (matrix[i] @ solution / seconds[i] - 1), 1),
            }
            for i, n in enumerate(names)
        ],
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
