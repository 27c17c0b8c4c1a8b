"""GPU vs CPU speed, GPU memory and backend discovery of llama.cpp through llama-cpp-python.

Meant for a machine with an NVIDIA GPU and a llama-cpp-python built as a distribution build
(GGML_NATIVE=OFF GGML_BACKEND_DL=ON GGML_CPU_ALL_VARIANTS=ON GGML_CUDA=ON); see
docs/gpu-measurements.md for the build and the figures. Steps:

    # on a machine that has the test model: its tokenizer, for random-weight models elsewhere
    .venv/bin/python -m bench.bench_gpu export-tokenizer MODEL.gguf tokenizer.json
    # random-weight GGUFs of real shapes (speed and memory depend only on shape and type)
    python3 -m bench.bench_gpu make-models --tokenizer tokenizer.json --out /tmp/models
    # backends found, speed GPU vs CPU (prints the GPU/CPU ratio), GPU memory vs estimate
    python3 -m bench.bench_gpu run /tmp/models/*.gguf --json results.json

Every measurement runs in a fresh process. "gpu" offloads every layer (n_gpu_layers=-1); "cpu"
loads only the CPU variants (CUDA backend not loaded, 0 layers); "cpu+cuda" loads every backend
but offloads 0 layers (what a GPU build does with gpu_layers=0: llama.cpp may still send big
prompt batches to the GPU). Same model, context, prompt tokens and greedy decoding for each.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from app.core.engine.ggml import ggml_libraries, llama_lib_folder

MIB = 1 << 20
PROMPT_TEXT = (
    "The history of the printing press begins in the fifteenth century, when movable type "
    "changed how books were made, sold and read across Europe and beyond. "
)

# --------------------------------------------------------------------------------------------
# Backend loading (the distribution build's backends are separate libraries: llama-cpp-python
# never loads them itself, see docs/gpu-measurements.md)


def _site_dirs() -> tuple[Path, Path]:
    lib = llama_lib_folder()
    if lib is None:
        raise OSError("llama-cpp-python is not installed")
    return lib, lib.parent.parent / "bin"  # site-packages/llama_cpp/lib, site-packages/bin


def _ggml() -> ctypes.CDLL:
    """The libggml that libllama links against (one registry with llama.cpp's own), found and
    declared by the app's own loader, so the bench measures what the app loads."""
    return ggml_libraries().ggml


def _ggml_base() -> ctypes.CDLL:
    return ggml_libraries().base


def backend_libraries() -> dict[str, list[str]]:
    lib, bin_dir = _site_dirs()
    return {
        str(folder): sorted(p.name for p in folder.glob("libggml*.so*"))
        for folder in (lib, bin_dir)
        if folder.is_dir()
    }


def load_backends(cpu_only: bool) -> list[str]:
    """Load ggml's backends the way a packaged app must; returns what was done."""
    import llama_cpp

    llama_cpp.llama_backend_init()
    ggml = _ggml()
    lib, bin_dir = _site_dirs()
    done = []
    if ggml.ggml_backend_reg_count() > 0:
        done.append(f"{ggml.ggml_backend_reg_count()} backend(s) already registered (static build)")
        return done
    folders = [d for d in (bin_dir, lib) if d.is_dir()]
    if cpu_only:
        # A folder holding only the CPU variants: the CUDA backend is never loaded.
        only = Path(tempfile.mkdtemp(prefix="ggml-cpu-only-"))
        for folder in folders:
            for path in folder.glob("libggml-cpu*.so"):
                if not (only / path.name).exists():
                    (only / path.name).symlink_to(path)
        folders = [only]
    for folder in folders:
        names = {p.name for p in folder.glob("libggml-*.so")}
        if not names - {"libggml-base.so"}:
            continue
        if ggml.ggml_backend_reg_count() == 0:
            ggml.ggml_backend_load_all_from_path(str(folder).encode())
            done.append(f"ggml_backend_load_all_from_path({folder})")
        elif not cpu_only and "libggml-cuda.so" in names and "CUDA" not in registered():
            ggml.ggml_backend_load(str(folder / "libggml-cuda.so").encode())
            done.append(f"ggml_backend_load({folder / 'libggml-cuda.so'})")
    return done


def registered() -> list[str]:
    ggml, base = _ggml(), _ggml_base()
    return [
        base.ggml_backend_reg_name(ggml.ggml_backend_reg_get(i)).decode()
        for i in range(ggml.ggml_backend_reg_count())
    ]


def devices() -> list[dict]:
    ggml, base = _ggml(), _ggml_base()
    found = []
    for i in range(ggml.ggml_backend_dev_count()):
        dev = ggml.ggml_backend_dev_get(i)
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        base.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
        found.append({
            "name": base.ggml_backend_dev_name(dev).decode(),
            "description": base.ggml_backend_dev_description(dev).decode(errors="replace"),
            "total_mib": round(total.value / MIB), "free_mib": round(free.value / MIB),
        })  # fmt: skip
    return found


class _Feature(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def cpu_features() -> dict[str, str]:
    """The features the loaded CPU variant was built with (ggml_backend_get_features)."""
    ggml, base = _ggml(), _ggml_base()
    for i in range(ggml.ggml_backend_reg_count()):
        reg = ggml.ggml_backend_reg_get(i)
        if base.ggml_backend_reg_name(reg).decode() != "CPU":
            continue
        address = base.ggml_backend_reg_get_proc_address(reg, b"ggml_backend_get_features")
        if not address:
            return {}
        get = ctypes.CFUNCTYPE(ctypes.POINTER(_Feature), ctypes.c_void_p)(address)
        features, out = get(reg), {}
        for k in range(64):
            if not features[k].name:
                break
            out[features[k].name.decode()] = features[k].value.decode()
        return out
    return {}


def mapped_ggml_libraries() -> list[str]:
    """Which libggml*.so files this process has mapped (shows the CPU variant ggml chose)."""
    seen = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1] if "/" in line else ""
        if "libggml" in path and path not in seen:
            seen.append(path)
    return seen


# --------------------------------------------------------------------------------------------
# GPU memory (NVML: the whole device's used memory, before and after; one process on the GPU)


def gpu_used_mib() -> float | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        return pynvml.nvmlDeviceGetMemoryInfo(handle).used / MIB
    except Exception:  # noqa: BLE001 - no NVIDIA driver: no reading
        return None


# --------------------------------------------------------------------------------------------
# One measurement (child process)


def child(args: argparse.Namespace) -> None:
    before = gpu_used_mib()
    actions = load_backends(cpu_only=args.mode == "cpu")
    import llama_cpp
    from llama_cpp import Llama

    backends = registered()
    started = time.perf_counter()
    llama = Llama(
        model_path=args.model, n_ctx=args.ctx, n_gpu_layers=-1 if args.mode == "gpu" else 0,
        n_threads=args.threads, n_threads_batch=args.threads, n_batch=512, n_ubatch=512,
        verbose=True,
    )  # fmt: skip
    load_s = time.perf_counter() - started
    after_load = gpu_used_mib()
    ctx = llama._ctx.ctx
    n_vocab = llama.n_vocab()

    def greedy() -> int:
        import numpy as np

        logits = llama_cpp.llama_get_logits_ith(ctx, -1)
        return int(np.ctypeslib.as_array(logits, shape=(n_vocab,)).argmax())

    text = PROMPT_TEXT.encode()
    base = llama.tokenize(text, add_bos=False)
    prompt = [llama.token_bos()] + (base * (args.prompt // len(base) + 1))[: args.prompt - 1]
    runs = []
    for _ in range(args.repeats):
        llama._ctx.kv_cache_clear()
        llama.n_tokens = 0
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        llama.eval(prompt)
        token, generated = greedy(), []  # reading the logits waits for the GPU to finish
        t1 = time.perf_counter()
        for _ in range(args.gen):
            generated.append(token)
            llama.eval([token])
            token = greedy()
        t2 = time.perf_counter()
        perf = llama_cpp.llama_perf_context(ctx)
        runs.append({
            "pp_tps": len(prompt) / (t1 - t0), "tg_tps": args.gen / (t2 - t1),
            "pp_tps_llama": perf.n_p_eval / perf.t_p_eval_ms * 1000 if perf.t_p_eval_ms else None,
            "tg_tps_llama": perf.n_eval / perf.t_eval_ms * 1000 if perf.t_eval_ms else None,
            "first_tokens": generated[:8],
        })  # fmt: skip
    after_fill = None
    if args.fill:
        llama._ctx.kv_cache_clear()
        llama.n_tokens = 0
        llama.eval((prompt * (args.ctx // len(prompt) + 1))[: args.ctx - 8])
        after_fill = gpu_used_mib()
    result = {
        "model": Path(args.model).name, "mode": args.mode, "ctx": args.ctx, "threads": args.threads,
        "prompt_tokens": len(prompt), "gen_tokens": args.gen, "load_s": load_s,
        "backend_actions": actions, "backends": backends, "devices": devices(),
        "ggml_libraries": mapped_ggml_libraries(), "cpu_features": cpu_features(),
        "gpu_used_mib": {"before": before, "after_load": after_load, "after_fill": after_fill},
        "runs": runs,
    }  # fmt: skip
    print("RESULT " + json.dumps(result), flush=True)
    os._exit(0)  # skip teardown; stdout flushed


BUFFER_LINE = re.compile(r"(\S+)\s+(model|KV|compute|output|RS) buffer size =\s*([\d.]+) MiB")


def measure(model: Path, mode: str, ctx: int, *, threads: int, prompt: int, gen: int,
            repeats: int, fill: bool) -> dict:  # fmt: skip
    command = [
        sys.executable, "-m", "bench.bench_gpu", "child", str(model), "--mode", mode,
        "--ctx", str(ctx), "--threads", str(threads), "--prompt", str(prompt), "--gen", str(gen),
        "--repeats", str(repeats),
    ] + (["--fill"] if fill else [])  # fmt: skip
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    done = subprocess.run(command, capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parent.parent)  # fmt: skip
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-6000:])
        raise RuntimeError(f"child failed: {mode} {model.name} ctx={ctx} rc={done.returncode}")
    result = json.loads(lines[-1][len("RESULT ") :])
    buffers: dict[str, float] = {}
    for match in BUFFER_LINE.finditer(done.stderr):
        key = f"{match.group(1)} {match.group(2)}"
        buffers[key] = buffers.get(key, 0.0) + float(match.group(3))
    result["llama_buffers_mib"] = buffers
    result["log_backend_lines"] = [
        ln for ln in done.stderr.splitlines()
        if "load_backend" in ln or "ggml_cuda_init" in ln or "Device 0" in ln
        or "system_info" in ln or "offloaded" in ln
    ][:12]  # fmt: skip
    return result


def estimate(model: Path, ctx: int) -> dict:
    from app.core.fit.memory import ModelShape, estimate_memory
    from app.core.gguf.header import check_model_file

    shape = ModelShape.from_header(check_model_file(model), model.stat().st_size)
    est = estimate_memory(shape, context=ctx, gpu_layers=shape.layers, backend="cuda")
    return {k: getattr(est, k) / MIB for k in
            ("vram_bytes", "weights_gpu", "kv_gpu", "compute_gpu", "backend_context")}  # fmt: skip


def discovery(args: argparse.Namespace, model: Path, report: dict) -> None:
    """Which backends and CPU variant ggml loads, with every backend and with the CPU ones only."""
    probe = measure(model, "gpu", 512, threads=args.threads, prompt=16, gen=1, repeats=1,
                    fill=False)  # fmt: skip
    cpu_probe = measure(model, "cpu", 512, threads=args.threads, prompt=16, gen=1, repeats=1,
                        fill=False)  # fmt: skip
    report["discovery"] = {"all": probe, "cpu_only": cpu_probe}
    for name, r in (("all backends", probe), ("cpu only", cpu_probe)):
        print(f"== discovery ({name}) ==\n  actions: {r['backend_actions']}\n"
              f"  registered: {r['backends']}\n  devices: {r['devices']}\n"
              f"  mapped: {r['ggml_libraries']}\n  cpu features: {r['cpu_features']}\n"
              f"  log: {r['log_backend_lines']}", flush=True)  # fmt: skip


def run(args: argparse.Namespace) -> None:
    models = [Path(m) for m in args.models]
    report: dict = {"speed": [], "memory": []}
    print("== backend libraries ==", json.dumps(backend_libraries(), indent=1), flush=True)
    if not args.skip_discovery:
        discovery(args, models[0], report)

    modes = args.modes + (["cpu+cuda"] if args.cpu_with_cuda else [])
    for model in models:
        for mode in modes:
            r = measure(model, mode, args.speed_ctx, threads=args.threads, prompt=args.prompt,
                        gen=args.gen, repeats=args.repeats, fill=False)  # fmt: skip
            row = {"model": model.name, "mode": mode, "load_s": r["load_s"]}
            for key in ("pp_tps", "tg_tps", "pp_tps_llama", "tg_tps_llama"):
                row[key] = statistics.median(x[key] for x in r["runs"] if x[key] is not None)
            row["first_tokens"] = r["runs"][0]["first_tokens"]
            report["speed"].append(row)
            print(f"speed {model.name:28s} {mode:9s} pp {row['pp_tps']:9.1f} t/s "
                  f"tg {row['tg_tps']:8.1f} t/s (llama.cpp's own: pp {row['pp_tps_llama']:9.1f} "
                  f"tg {row['tg_tps_llama']:8.1f}) load {row['load_s']:.1f}s "
                  f"tokens {row['first_tokens']}", flush=True)  # fmt: skip
    for model in models:
        for ctx in args.contexts:
            r = measure(model, "gpu", ctx, threads=args.threads, prompt=64, gen=0, repeats=0,
                        fill=True)  # fmt: skip
            used = r["gpu_used_mib"]
            est = estimate(model, ctx)
            cuda = {k: v for k, v in r["llama_buffers_mib"].items() if k.startswith("CUDA0")}
            if used["before"] is None:  # no NVML here: nothing to compare with
                used = {"before": 0.0, "after_load": float("nan"), "after_fill": float("nan")}
            row = {
                "model": model.name, "ctx": ctx,
                "measured_after_load_mib": used["after_load"] - used["before"],
                "measured_after_fill_mib": used["after_fill"] - used["before"],
                "llama_cuda_buffers_mib": cuda, "llama_cuda_sum_mib": sum(cuda.values()),
                "llama_all_buffers_mib": r["llama_buffers_mib"], "estimate_mib": est,
            }  # fmt: skip
            report["memory"].append(row)
            print(f"memory {model.name:28s} ctx {ctx:5d} estimate {est['vram_bytes']:8.1f} MiB "
                  f"measured load {row['measured_after_load_mib']:8.1f} "
                  f"filled {row['measured_after_fill_mib']:8.1f} "
                  f"ratio {est['vram_bytes'] / row['measured_after_fill_mib']:.3f} "
                  f"llama.cpp CUDA0 buffers {row['llama_cuda_sum_mib']:.1f} {cuda}",
                  flush=True)  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print("\n== summary: GPU (all layers) / CPU (0 layers, CPU backend only) ==")
    print(f"{'model':30s} {'pp gpu':>9s} {'pp cpu':>8s} {'ratio':>6s} {'tg gpu':>8s} "
          f"{'tg cpu':>7s} {'ratio':>6s}")  # fmt: skip
    for model in models:
        rows = {r["mode"]: r for r in report["speed"] if r["model"] == model.name}
        if "gpu" not in rows or "cpu" not in rows:
            continue
        g, c = rows["gpu"], rows["cpu"]
        print(f"{model.name:30s} {g['pp_tps']:9.1f} {c['pp_tps']:8.1f} "
              f"{g['pp_tps'] / c['pp_tps']:6.1f} {g['tg_tps']:8.1f} {c['tg_tps']:7.1f} "
              f"{g['tg_tps'] / c['tg_tps']:6.1f}")  # fmt: skip
    print("GPU/CPU ratio = tokens/s on the GPU / tokens/s on the CPU (> 1: the GPU is faster)")


# --------------------------------------------------------------------------------------------
# Random-weight models of real shapes


SHAPES = {
    # name: (embd, layers, heads, kv_heads, ff, vocab, trained ctx, rope base, tied, types)
    # types: (matrices, attn_v and ffn_down, token_embd, output)
    "smollm2-135m-q4_1": (576, 30, 9, 3, 1536, 49152, 8192, 100000.0, True,
                          ("Q4_1", "Q4_1", "Q8_0", None)),
    "smollm2-1.7b-q4_k": (2048, 24, 32, 32, 8192, 49152, 8192, 130000.0, True,
                          ("Q4_K", "Q6_K", "Q6_K", None)),
    "llama3-8b-q4_k": (4096, 32, 32, 8, 14336, 128256, 131072, 500000.0, False,
                       ("Q4_K", "Q6_K", "Q4_K", "Q6_K")),
}  # fmt: skip
# type: (elements per block, bytes per block, [(f16 offset, value)]) ; other bytes random
BLOCKS = {
    "Q8_0": (32, 34, [(0, 2.7e-4)]),
    "Q4_0": (32, 18, [(0, 4.3e-3)]),
    "Q4_1": (32, 20, [(0, 4.3e-3), (2, -8 * 4.3e-3)]),
    "Q4_K": (256, 144, [(0, 1.4e-4), (2, 1.0e-3)]),
    "Q6_K": (256, 210, [(208, 1.5e-5)]),
}
FILE_TYPE = {"Q4_1": 3, "Q4_K": 15}  # LLAMA_FTYPE_MOSTLY_Q4_1, _Q4_K_M


def random_blocks(rng: np.random.Generator, rows: int, cols: int, qtype: str) -> np.ndarray:
    import numpy as np

    per, size, halves = BLOCKS[qtype]
    assert cols % per == 0, (qtype, cols)
    data = rng.integers(0, 256, size=(rows, cols // per, size), dtype=np.uint8)
    for offset, value in halves:
        data[:, :, offset : offset + 2] = np.frombuffer(np.float16(value).tobytes(), np.uint8)
    return data.reshape(rows, -1)


def make_model(path: Path, name: str, tokenizer: dict, seed: int = 0) -> None:
    import gguf
    import numpy as np

    embd, layers, heads, kv, ff, vocab, trained, rope, tied, types = SHAPES[name]
    matrix, heavy, embd_type, out_type = types
    head = embd // heads
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(f"random-{name}")
    w.add_block_count(layers)
    w.add_context_length(trained)
    w.add_embedding_length(embd)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(rope)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(head)
    w.add_vocab_size(vocab)
    w.add_file_type(FILE_TYPE[matrix])
    w.add_quantization_version(2)
    tokens = list(tokenizer["tokens"])
    types_ = list(tokenizer["token_type"])
    for i in range(len(tokens), vocab):  # pad a bigger vocabulary with unused tokens
        tokens.append(f"<|reserved_{i}|>")
        types_.append(5)
    w.add_tokenizer_model(tokenizer["model"])
    w.add_tokenizer_pre(tokenizer["pre"])
    w.add_token_list(tokens[:vocab])
    w.add_token_types(types_[:vocab])
    w.add_token_merges(tokenizer["merges"])
    w.add_bos_token_id(tokenizer["bos"])
    w.add_eos_token_id(tokenizer["eos"])
    w.add_add_bos_token(False)
    quant_type = gguf.GGMLQuantizationType

    def add(tname: str, rows: int, cols: int, qtype: str) -> None:
        w.add_tensor(tname, random_blocks(rng, rows, cols, qtype), raw_dtype=quant_type[qtype])

    add("token_embd.weight", vocab, embd, embd_type)
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", np.ones(embd, np.float32))
        add(p + "attn_q.weight", embd, embd, matrix)
        add(p + "attn_k.weight", kv * head, embd, matrix)
        add(p + "attn_v.weight", kv * head, embd, heavy)
        add(p + "attn_output.weight", embd, embd, matrix)
        w.add_tensor(p + "ffn_norm.weight", np.ones(embd, np.float32))
        add(p + "ffn_gate.weight", ff, embd, matrix)
        add(p + "ffn_up.weight", ff, embd, matrix)
        add(p + "ffn_down.weight", embd, ff, heavy)
    w.add_tensor("output_norm.weight", np.ones(embd, np.float32))
    if not tied:
        add("output.weight", vocab, embd, out_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def make_models(args: argparse.Namespace) -> None:
    tokenizer = json.loads(Path(args.tokenizer).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.shapes:
        path = out / f"random-{name}.gguf"
        if path.exists():
            print(f"exists {path}")
            continue
        t0 = time.perf_counter()
        make_model(path, name, tokenizer)
        print(f"made {path} {path.stat().st_size / MIB:.0f} MiB in {time.perf_counter() - t0:.0f}s",
              flush=True)  # fmt: skip


def export_tokenizer(args: argparse.Namespace) -> None:
    import gguf

    reader = gguf.GGUFReader(args.model)

    def field(key: str) -> Any:
        return reader.fields[key].contents()

    data = {
        "model": field("tokenizer.ggml.model"), "pre": field("tokenizer.ggml.pre"),
        "tokens": field("tokenizer.ggml.tokens"), "token_type": field("tokenizer.ggml.token_type"),
        "merges": field("tokenizer.ggml.merges"), "bos": field("tokenizer.ggml.bos_token_id"),
        "eos": field("tokenizer.ggml.eos_token_id"),
    }  # fmt: skip
    Path(args.out).write_text(json.dumps(data))
    print(f"wrote {args.out}: {len(data['tokens'])} tokens, {len(data['merges'])} merges")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export-tokenizer")
    p.add_argument("model")
    p.add_argument("out")
    p = sub.add_parser("make-models")
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--shapes", nargs="+", default=list(SHAPES))
    p = sub.add_parser("run")
    p.add_argument("models", nargs="+")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--speed-ctx", type=int, default=4096)
    p.add_argument("--prompt", type=int, default=512)
    p.add_argument("--gen", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--contexts", type=int, nargs="*", default=[2048, 4096, 8192])
    p.add_argument("--modes", nargs="+", default=["gpu", "cpu"], choices=["gpu", "cpu"])
    p.add_argument("--skip-discovery", action="store_true")
    p.add_argument("--cpu-with-cuda", action="store_true")
    p.add_argument("--json")
    p = sub.add_parser("child")
    p.add_argument("model")
    p.add_argument("--mode", choices=["gpu", "cpu", "cpu+cuda"], required=True)
    p.add_argument("--ctx", type=int, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--prompt", type=int, required=True)
    p.add_argument("--gen", type=int, required=True)
    p.add_argument("--repeats", type=int, required=True)
    p.add_argument("--fill", action="store_true")
    args = parser.parse_args()
    {"export-tokenizer": export_tokenizer, "make-models": make_models, "run": run,
     "child": child}[args.command](args)  # fmt: skip


if __name__ == "__main__":
    main()
