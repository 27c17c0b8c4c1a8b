"""How much memory a GGUF model needs at a given context length, on the GPU and in RAM.

    weights   per-layer tensor bytes (from the header's tensor infos; else the file size spread
              evenly over the layers). The last `gpu_layers` layers go to the GPU; the token
              embedding stays in RAM; the output layer goes to the GPU only at full offload.
    KV cache  per layer: cells x kv_heads x (key_length + value_length) x bytes per element
              (f16 = 2, q8_0 = 34/32); sliding-window layers too (the engine's contexts keep
              full-size caches). It lives with its layer (GPU or RAM).
    compute   llama.cpp's scratch for one micro-batch (512 tokens). On the CPU what a chat
              touches (`cpu_compute_bytes`: attention scores of the filled context and the
              backend's work buffer; never the 512 rows of logits a chat doesn't ask for); on a
              GPU what llama.cpp allocates (`gpu_compute_bytes`: the larger of the logits and the
              attention scores, as its graph allocator reuses one for the other).
    runtime   llama.cpp's context, tokenizer tables and the process's own buffers: grows with the
              vocabulary and its BPE merges (`runtime_bytes`).
    backend   the GPU runtime's own context: CUDA/ROCm/SYCL ~0.4 GiB, Vulkan ~0.3 GiB, Metal 0.

Deliberately a little high, never low. The terms are fitted to llama.cpp's own figures and to
real loads of llama (SmolLM2) and gemma3 files, and to the CUDA buffers measured on an H100
(docs/performance.md, docs/gpu-measurements.md). Where this machine's engine can run it,
llama.cpp's own dry run gives the KV and compute figures instead (`app/core/engine/projection.py`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from app.core.engine.projection import Projection
from app.core.errors import ModelHeaderError
from app.core.gguf.header import GGUFHeader, tensor_nbytes
from app.core.gguf.quants import quant_from_file_type

MICRO_BATCH = 512
GIB = 1 << 30
MIB = 1 << 20
# CPU, no flash attention, per context cell and micro-batch token: the f32 attention scores of each
# head (4 B) plus their f16 copy in the CPU backend's work buffer for the KQ x V product (2 B), and
# one f32 mask per attention kind (4 B; gemma3 has a sliding and a global mask). llama.cpp's dry
# run reserves exactly the f32 part (n_outputs_max = 1); RSS after a filled context shows the
# work-buffer copy on top (issue 16's measurements on llama, qwen2 and gemma3).
CPU_SCORE_BYTES = 6
MASK_BYTES = 4
# GPU, no flash attention: the scores are f32 and the mask f32; the rest of the attention
# step is about 6 embedding-wide rows per batch token (fitted to llama.cpp's CUDA compute buffers
# of 135M/1.7B/8B shapes at 2k/4k/8k: 97/97/165, 156/288/552, 258/300/564 MiB, within 4 %).
GPU_SCORE_BYTES = 4
GPU_ATTENTION_ROWS = 6
BACKEND_CONTEXT_BYTES = {
    "cuda": 400 * MIB,
    "rocm": 400 * MIB,
    "sycl": 400 * MIB,
    "vulkan": 300 * MIB,
    "metal": 0,
}
# llama.cpp's context, tokenizer tables and the process's own buffers beside the model: a fixed
# part, then per vocabulary entry and per BPE merge (token text, scores, lookup maps). Fitted to
# issue 16's figures for the RSS left once weights, KV and scratch are taken out: 19.6 MiB
# (SmolLM2: 49k tokens, 49k merges), 45-48 (Gemma-3: 262k tokens, no merges), 48-54 (Qwen2.5:
# 152k tokens, 151k merges); checked by bench/bench_memory.py on the first two.
RUNTIME_BASE_BYTES = 5 * MIB
RUNTIME_BYTES_PER_TOKEN = 168
RUNTIME_BYTES_PER_MERGE = 160
KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


@dataclass(frozen=True)
class ModelShape:
    """The facts of a model that decide its memory, from a GGUF header and the file size."""

    architecture: str
    layers: int
    trained_context: int | None
    embedding: int
    heads: int
    kv_heads: int
    key_length: int
    value_length: int
    vocab: int
    feed_forward: int
    sliding_window: int | None
    layer_bytes: int  # one repeating layer's weights
    embed_bytes: int  # token embedding (stays in RAM)
    output_bytes: int  # output head + norm (GPU only at full offload)
    # No output head of its own: the token embedding doubles as it (SmolLM2, Gemma), and at full
    # offload llama.cpp copies the embedding to the GPU (measured on an H100:
    # docs/gpu-measurements.md).
    tied_output: bool = False
    # Share of a layer's weights one token reads: 1 for a dense model; a mixture of experts
    # reads only its used experts (expert tensors x used / total). For the speed prediction.
    active_layer_share: float = 1.0
    merges: int = 0  # BPE merges in the tokenizer (the runtime's tables grow with them)
    # What the weights a token reads are stored as (for the speed prediction: on a CPU a byte of
    # Q8_0 costs less to multiply than a byte of Q4_1): the share of the `blk.*` bytes per ggml
    # type name, and the output head's type. Empty: not known (a header without tensor infos).
    layer_types: tuple[tuple[str, float], ...] = ()
    head_type: str = ""
    quant: str = ""  # the file's quant as its header names it (`general.file_type`), if any

    def __post_init__(self) -> None:
        # Read back from JSON (saved repo facts), the pairs arrive as lists.
        object.__setattr__(
            self, "layer_types", tuple((str(t), float(share)) for t, share in self.layer_types)
        )

    def as_json(self) -> dict[str, Any]:
        """The fields as JSON keeps them (`ModelShape(**data)` reads them back)."""
        data = asdict(self)
        data["layer_types"] = [[name, share] for name, share in self.layer_types]
        return data

    @property
    def weights_bytes(self) -> int:
        return self.layer_bytes * self.layers + self.embed_bytes + self.output_bytes

    @classmethod
    def from_header(cls, header: GGUFHeader, file_size: int) -> ModelShape:
        """Read the shape from `header`; weights from its tensor infos, else from `file_size`.

        Raises:
            ModelHeaderError: the header lacks the architecture or layer facts (the caller, who
                knows the file, names it with `located`).
        """
        meta = header.metadata
        arch = header.architecture
        if not arch:
            raise ModelHeaderError("the header names no architecture")

        def number(key: str, default: int | None = None) -> int:
            value = meta.get(f"{arch}.{key}", default)
            if isinstance(value, list):  # per-layer arrays (e.g. head_count_kv): take the max
                value = max(value) if value else default
            if not isinstance(value, int) or isinstance(value, bool):
                if default is None:
                    raise ModelHeaderError(f"the header has no {arch}.{key}")
                return default
            return value

        layers = number("block_count")
        embedding = number("embedding_length")
        heads = number("attention.head_count")
        kv_heads = number("attention.head_count_kv", heads)
        head_size = embedding // heads if heads else 0
        tokens = meta.get("tokenizer.ggml.tokens")
        vocab = number(
            "vocab_size",
            getattr(tokens, "length", None) or (len(tokens) if isinstance(tokens, list) else 32000),
        )
        window = meta.get(f"{arch}.attention.sliding_window")
        layer_bytes, embed_bytes, output_bytes = _weight_split(header, file_size, layers)
        tied = bool(header.tensors) and not any(t.name == "output.weight" for t in header.tensors)
        merges = meta.get("tokenizer.ggml.merges")
        return cls(
            architecture=arch,
            layers=layers,
            trained_context=number("context_length", 0) or None,
            embedding=embedding,
            heads=heads,
            kv_heads=kv_heads,
            key_length=number("attention.key_length", head_size),
            value_length=number("attention.value_length", head_size),
            vocab=vocab,
            feed_forward=number("feed_forward_length", 4 * embedding),
            sliding_window=window if isinstance(window, int) and window > 0 else None,
            layer_bytes=layer_bytes,
            embed_bytes=embed_bytes,
            output_bytes=output_bytes,
            tied_output=tied,
            active_layer_share=_active_layer_share(
                header, number("expert_count", 0), number("expert_used_count", 0)
            ),
            merges=_array_length(merges),
            layer_types=_layer_types(header),
            head_type=_head_type(header, tied),
            quant=quant_from_file_type(meta.get("general.file_type")) or "",
        )

    def with_file_size(self, file_size: int) -> ModelShape:
        """The same architecture quantized to another file size (another quant of the repo):
        weights scale with the file, keeping this file's split between layers and the rest."""
        scale = file_size / self.weights_bytes if self.weights_bytes else 1.0
        return ModelShape(**{
            **self.__dict__,
            "layer_bytes": int(self.layer_bytes * scale),
            "embed_bytes": int(self.embed_bytes * scale),
            "output_bytes": int(self.output_bytes * scale),
        })  # fmt: skip


def _type_name(ggml_type: int) -> str:
    from gguf.constants import GGMLQuantizationType

    try:
        return GGMLQuantizationType(ggml_type).name
    except ValueError:
        return f"type {ggml_type}"


def _layer_types(header: GGUFHeader) -> tuple[tuple[str, float], ...]:
    """The share of the `blk.*` matrices' bytes per ggml type (norms and biases, a rounding
    error, left out), largest first."""
    totals: dict[str, int] = {}
    for tensor in header.tensors:
        if tensor.name.startswith("blk.") and len(tensor.shape) >= 2:
            size = tensor_nbytes(tensor) or 0
            name = _type_name(tensor.ggml_type)
            totals[name] = totals.get(name, 0) + size
    whole = sum(totals.values())
    if not whole:
        return ()
    return tuple(
        (name, size / whole) for name, size in sorted(totals.items(), key=lambda kv: -kv[1])
    )


def _head_type(header: GGUFHeader, tied: bool) -> str:
    """The output head's ggml type: `output.weight`'s, or the token embedding's when it doubles
    as the head."""
    wanted = "token_embd.weight" if tied else "output.weight"
    for tensor in header.tensors:
        if tensor.name == wanted:
            return _type_name(tensor.ggml_type)
    return ""


def _array_length(value: object) -> int:
    """The length of a header array, kept whole or (when long) only as its length."""
    if isinstance(value, list):
        return len(value)
    length = getattr(value, "length", None)
    return length if isinstance(length, int) else 0


def _weight_split(header: GGUFHeader, file_size: int, layers: int) -> tuple[int, int, int]:
    measured = [(t.name, tensor_nbytes(t)) for t in header.tensors]
    sizes = [(name, n) for name, n in measured if n is not None]
    if not sizes or len(sizes) < len(measured) or layers <= 0:
        # No tensor table (a header-only stub): spread the file over the layers.
        body = max(0, file_size - header.data_offset)
        return body // max(1, layers), 0, 0
    layer_total = sum(n for name, n in sizes if name.startswith("blk."))
    embed = sum(n for name, n in sizes if name.startswith("token_embd"))
    output = sum(n for name, n in sizes if name.startswith("output"))
    return layer_total // layers, embed, output


def _active_layer_share(header: GGUFHeader, experts: int, used: int) -> float:
    """The share of the `blk.*` bytes one token reads: expert tensors (`*_exps`) count
    `used / experts` (a mixture of experts routes each token through a few of them)."""
    if experts <= 0 or used <= 0 or used >= experts:
        return 1.0
    sizes = [(t.name, tensor_nbytes(t) or 0) for t in header.tensors if t.name.startswith("blk.")]
    total = sum(n for _name, n in sizes)
    experts_bytes = sum(n for name, n in sizes if "_exps" in name)
    if total <= 0:
        return used / experts  # no tensor table: assume the layer is all experts
    return (total - experts_bytes + experts_bytes * used / experts) / total


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed on the GPU and in RAM for one load."""

    context: int
    gpu_layers: int
    weights_gpu: int
    weights_ram: int
    kv_gpu: int
    kv_ram: int
    compute_gpu: int
    compute_ram: int
    backend_context: int
    projected: bool = False  # KV and compute from llama.cpp's own dry run, not the formula

    @property
    def vram_bytes(self) -> int:
        return self.weights_gpu + self.kv_gpu + self.compute_gpu + self.backend_context

    @property
    def ram_bytes(self) -> int:
        return self.weights_ram + self.kv_ram + self.compute_ram

    @property
    def total_bytes(self) -> int:
        return self.vram_bytes + self.ram_bytes

    @property
    def kv_bytes(self) -> int:
        return self.kv_gpu + self.kv_ram


def kv_cache_bytes(
    shape: ModelShape, context: int, *, layers: int | None = None, cache_type: str = "f16"
) -> int:
    """KV cache bytes for `layers` layers (all by default) at `context` tokens."""
    layers = shape.layers if layers is None else layers
    per_cell = (
        shape.kv_heads * (shape.key_length + shape.value_length) * KV_BYTES_PER_ELEMENT[cache_type]
    )
    # llama-cpp-python creates contexts with swa_full=True: sliding-window layers keep a
    # full-size cache too, so every layer counts the whole context.
    return int(per_cell * layers * context)


def attention_kinds(shape: ModelShape) -> int:
    """How many attention masks llama.cpp builds: one, or two with sliding-window layers."""
    return 2 if shape.sliding_window else 1


def cpu_compute_bytes(shape: ModelShape, context: int) -> int:
    """What llama.cpp's CPU scratch for one 512-token micro-batch touches at a full `context`.

    Without flash attention the scores of every head are materialized over the filled context
    (plus the work buffer's f16 copy and the masks), so this grows as a chat fills up. The rest is
    the activations of the feed-forward and embedding width. The logits buffer is reserved for
    512 rows but a chat asks for one, so it is left out.
    """
    per_cell = CPU_SCORE_BYTES * shape.heads + MASK_BYTES * attention_kinds(shape)
    activations = 4 * (shape.feed_forward + 2 * shape.embedding)
    return MICRO_BATCH * (per_cell * context + activations)


def gpu_compute_bytes(shape: ModelShape, context: int) -> int:
    """llama.cpp's compute buffer on a GPU for one 512-token micro-batch at `context` tokens.

    Every byte of it is allocated. The graph allocator reuses memory between steps, so the buffer
    is the larger of the output step (512 rows of logits) and the attention step (the scores of
    every head over the context, the masks and a few embedding-wide rows), not their sum.
    """
    logits = 4 * (shape.vocab + shape.embedding)
    attention = (
        GPU_SCORE_BYTES * (shape.heads + attention_kinds(shape)) * context
        + 4 * GPU_ATTENTION_ROWS * shape.embedding
    )
    return MICRO_BATCH * max(logits, attention)


def runtime_bytes(shape: ModelShape) -> int:
    """llama.cpp's context, tokenizer tables and the process's buffers beside the model."""
    return (
        RUNTIME_BASE_BYTES
        + RUNTIME_BYTES_PER_TOKEN * shape.vocab
        + RUNTIME_BYTES_PER_MERGE * shape.merges
    )


def estimate_memory(
    shape: ModelShape,
    *,
    context: int,
    gpu_layers: int = 0,
    backend: str | None = None,
    cache_type: str = "f16",
) -> MemoryEstimate:
    """Memory for `shape` at `context` tokens with the last `gpu_layers` layers on `backend`."""
    gpu_layers = max(0, min(gpu_layers, shape.layers)) if backend else 0
    full = backend is not None and gpu_layers == shape.layers
    kv_gpu = kv_cache_bytes(shape, context, layers=gpu_layers, cache_type=cache_type)
    kv_all = kv_cache_bytes(shape, context, cache_type=cache_type)
    on_gpu = gpu_layers > 0
    compute = gpu_compute_bytes(shape, context) if on_gpu else cpu_compute_bytes(shape, context)
    return MemoryEstimate(
        context=context,
        gpu_layers=gpu_layers,
        # At full offload the output head (and norm) go to the GPU; with tied embeddings
        # llama.cpp puts a copy of the token embedding there as the head.
        weights_gpu=shape.layer_bytes * gpu_layers
        + ((shape.output_bytes + (shape.embed_bytes if shape.tied_output else 0)) if full else 0),
        weights_ram=shape.layer_bytes * (shape.layers - gpu_layers)
        + shape.embed_bytes
        + (0 if full else shape.output_bytes),
        kv_gpu=kv_gpu,
        kv_ram=kv_all - kv_gpu,
        compute_gpu=compute if on_gpu else 0,
        # With layers on the GPU, the CPU keeps a host-side buffer for inputs and outputs.
        compute_ram=(compute // 4 if on_gpu else compute) + runtime_bytes(shape),
        backend_context=BACKEND_CONTEXT_BYTES.get(backend or "", 0) if on_gpu else 0,
    )


def estimate_from_projection(
    shape: ModelShape,
    projection: Projection,
    *,
    context: int,
    gpu_layers: int = 0,
    backend: str | None = None,
    cache_type: str = "f16",
) -> MemoryEstimate | None:
    """`estimate_memory` with llama.cpp's own KV and compute figures in place of the formula's.

    Weights still come from the header (a dry run allocates none). On the CPU the compute is
    what a chat touches: llama.cpp's reservation with one row of logits, plus the CPU backend's
    work buffer that the reservation leaves out (an f16 copy of the attention scores). On a GPU
    it is llama.cpp's reservation as the engine's load makes it: there every byte is allocated.

    None when the projection can't stand for this load: made at another context or GPU split,
    or on a machine whose engine lacks the GPU in question (the formula answers then).
    """
    formula = estimate_memory(
        shape, context=context, gpu_layers=gpu_layers, backend=backend, cache_type=cache_type
    )
    if (
        cache_type != "f16"
        or projection.context != context
        or projection.gpu_layers != formula.gpu_layers
    ):
        return None
    kv_gpu = round(projection.kv_bytes * formula.gpu_layers / shape.layers) if shape.layers else 0
    host = {"CPU", "CPU_REPACK"}
    if formula.gpu_layers == 0:
        touched = projection.touched_compute_bytes.get("CPU")
        if touched is None:
            return None
        work_copy = 2 * shape.heads * MICRO_BATCH * context
        return replace(
            formula,
            projected=True,
            kv_gpu=0,
            kv_ram=projection.kv_bytes,
            compute_ram=touched + work_copy + runtime_bytes(shape),
        )
    gpu = {name: size for name, size in projection.compute_bytes.items() if name not in host}
    devices = [name for name in gpu if not name.endswith("_Host")]
    if not devices:
        return None
    host_compute = sum(size for name, size in gpu.items() if name.endswith("_Host"))
    return replace(
        formula,
        projected=True,
        kv_gpu=kv_gpu,
        kv_ram=projection.kv_bytes - kv_gpu,
        compute_gpu=sum(gpu[name] for name in devices),
        compute_ram=host_compute + projection.compute_bytes.get("CPU", 0) + runtime_bytes(shape),
    )
