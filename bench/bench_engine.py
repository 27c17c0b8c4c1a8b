"""The app's generation speed against llama.cpp's own `llama-bench`: same file, same threads.

    .venv/bin/python -m bench.bench_engine [MODEL] [--tokens 128] [--runs 3] [--threads T]
        [--paths new chain old raw] [--llama-bench PATH] [--profile]

- llama-bench is built from the llama.cpp the engine wheel was built from: the llama-cpp-python
  sdist of the version `scripts/_setup.sh` pins (LLAMA_CPP_VERSION), its `vendor/llama.cpp`,
  with the wheel's CMake options (every CPU variant as a loadable backend). Only its target is
  built, once, into ~/.cache/quantdesk-bench/llama-bench-VERSION (reused when present; the
  minutes are printed). Each round runs it `-p 0 -n TOKENS -t T -r 1 -fa 0` (after its own
  warm-up): generation only, flash attention off as in the app's context (llama-cpp-python's
  default). RUNS rounds are the `-r RUNS` of one call, interleaved with the app's runs.
- The app: `Engine.start_reply` (the path every reply takes: prompt plan, reasoning splitter,
  a cancel check per token) on the same file with T threads, greedy, TOKENS tokens; its
  generation speed is the one the app reports (`GenerationStats.tokens_per_second`: the steps
  after the first token, as llama-bench times decode steps only).
- `--paths` adds, in the same rounds: `chain` (this engine with llama.cpp's sampler chain for
  greedy replies too; the engine reads the top logit in place), `old` (the path before issue
  16, llama-cpp-python's `Llama.generate`, kept here only) and `raw` (plain llama-cpp-python,
  `create_completion(stream=True)` on the same prompt tokens).
- `--profile`: where one reply's time goes, per call, on the current path (cProfile).

Prints medians, each run, the ratio app / llama-bench, and the load average. Not part of the
test suite: it builds.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from app.core.chat.prompting import ReplyRequest
from app.core.chat.template import Message
from app.core.engine import engine as engine_module
from app.core.engine.decoding import TokenLoop
from app.core.engine.engine import Engine, FinishReason, default_threads

REPO = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".cache" / "quantdesk-bench"
PROMPT = [Message("user", "Write a long story about a dragon who learns to read.")]


# --- llama-bench from the engine's own source ----------------------------------------------------


def pinned_version() -> tuple[str, str]:
    """(LLAMA_CPP_VERSION, the wheel's CMake options) from scripts/_setup.sh."""
    setup = (REPO / "scripts" / "_setup.sh").read_text()
    version = re.search(r"^LLAMA_CPP_VERSION=(\S+)", setup, re.M)
    options = re.search(r'^LLAMA_CPP_CMAKE_ARGS="([^"$]*)', setup, re.M)
    assert version and options, "scripts/_setup.sh no longer names the engine's version"
    return version.group(1), options.group(1).strip()


def llama_cpp_source(version: str) -> Path:
    """vendor/llama.cpp of the llama-cpp-python sdist `version`: extracted in the cache, from a
    copy there or pip's download."""
    folder = CACHE / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    if folder.is_dir():
        return folder
    archive = CACHE / f"llama_cpp_python-{version}.tar.gz"
    if not archive.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"llama-cpp-python=={version}", "-d", str(CACHE)],
            check=True,
        )  # fmt: skip
    with tarfile.open(archive) as sdist:
        sdist.extractall(CACHE, filter="data")
    return folder


def llama_bench_binary(version: str, options: str) -> Path:
    """The llama-bench built from `version`'s llama.cpp with the wheel's `options` (built once)."""
    build = CACHE / f"llama-bench-{version}"
    binary = build / "bin" / "llama-bench"
    if binary.exists():
        return binary
    source = llama_cpp_source(version)
    started = time.perf_counter()
    subprocess.run(
        ["cmake", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
         *options.split(), "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
         "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF"],
        check=True,
    )  # fmt: skip
    subprocess.run(
        ["cmake", "--build", str(build), "--target", "llama-bench", "-j", str(os.cpu_count() or 1)],
        check=True,
    )  # fmt: skip
    print(f"built llama-bench {version} in {(time.perf_counter() - started) / 60:.1f} minutes")
    return binary


def run_llama_bench(binary: Path, model: Path, tokens: int, threads: int, runs: int) -> float:
    """llama-bench's generation tokens/s: the median of its repetitions."""
    out = subprocess.run(
        [str(binary), "-m", str(model), "-p", "0", "-n", str(tokens), "-t", str(threads),
         "-r", str(runs), "-fa", "0", "-o", "json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (result,) = json.loads(out.stdout)
    return float(statistics.median(result["samples_ts"]))


# --- the app ------------------------------------------------------------------------------------


def request_for(tokens: int) -> ReplyRequest:
    return ReplyRequest(turns=PROMPT, overrides={"temperature": 0.0, "max_tokens": tokens})


def run_app(engine: Engine, tokens: int) -> tuple[float, int]:
    """(generation tokens/s as the app reports it, tokens generated) for one reply."""
    _prepared, reply = engine.start_reply(request_for(tokens))
    for _ in reply:
        pass
    assert reply.stats is not None
    return reply.stats.tokens_per_second, reply.stats.completion_tokens


def _old_stream(self, llama, model, prompt_tokens, sampling, cancel, reply, control):  # noqa: ANN001, ANN202
    """`Engine._stream` before issue 16: llama-cpp-python's `Llama.generate` (kept verbatim,
    only for the comparison)."""
    import llama_cpp

    vocab = llama._model.vocab
    is_eog = llama_cpp.llama_vocab_is_eog
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    context = list(prompt_tokens)
    if sampling.seed is not None:
        llama.set_seed(sampling.seed)
        llama.reset()
    started = time.perf_counter()
    first_token_at = None
    produced = 0
    finish = FinishReason.LENGTH

    def sampled() -> Iterator[int]:
        return llama.generate(
            context, temp=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
            min_p=sampling.min_p, repeat_penalty=sampling.repeat_penalty, reset=True,
        )  # fmt: skip

    tokens = sampled()
    try:
        while produced < sampling.max_tokens and len(context) < model.context_length:
            if cancel is not None and cancel.cancelled:
                finish = FinishReason.CANCELLED
                break
            token = next(tokens)
            if first_token_at is None:
                first_token_at = time.perf_counter()
            if is_eog(vocab, token):
                finish = FinishReason.STOP
                break
            produced += 1
            context.append(token)
            control.produced = produced
            control.context_used = len(context)
            piece = decoder.decode(llama.detokenize([token]))
            if piece:
                yield piece
            if cancel is not None and cancel.cancelled:
                finish = FinishReason.CANCELLED
                break
    finally:
        tokens.close()  # type: ignore[attr-defined]
        ended = time.perf_counter()
        reply.stats = replace(
            engine_module._stats(len(prompt_tokens), produced, started, first_token_at, ended, finish),
            context_used=len(context),
        )  # fmt: skip


def run_raw(engine: Engine, tokens: int) -> tuple[float, int]:
    """Plain llama-cpp-python on the engine's own `Llama`, same prompt tokens:
    `create_completion(stream=True)`; generation tokens/s after the first token, as the app's."""
    llama = engine._llama
    assert llama is not None
    _prepared, first = engine.start_reply(request_for(1))
    list(first)
    prompt = llama.tokenize(first.prompt.encode(), add_bos=False, special=True)
    llama.reset()
    first_at = None
    count = 0
    for chunk in llama.create_completion(prompt, max_tokens=tokens, temperature=0.0, stream=True):
        if chunk["choices"][0]["finish_reason"] is not None:
            break  # the closing chunk carries no token
        count += 1
        if first_at is None:
            first_at = time.perf_counter()
    assert first_at is not None
    return (count - 1) / (time.perf_counter() - first_at), count


@contextlib.contextmanager
def path(name: str) -> Iterator[None]:
    """Replies take the `name` path ("new": the engine as it is; "chain": llama.cpp's sampler
    chain for greedy replies too; "old": `Llama.generate`; "raw" needs none)."""
    if name == "chain":  # the sampler chain even where a greedy reply reads the top logit
        fast = TokenLoop.sample
        TokenLoop.sample = lambda self: int(self._sample(self._chain.pointer, self._ctx, -1))  # type: ignore[method-assign]
        try:
            yield
        finally:
            TokenLoop.sample = fast  # type: ignore[method-assign]
        return
    if name != "old":
        yield
        return
    current = Engine._stream
    Engine._stream = _old_stream  # type: ignore[method-assign]
    try:
        yield
    finally:
        Engine._stream = current  # type: ignore[method-assign]


def profile(engine: Engine, tokens: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    run_app(engine, tokens)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(14)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=default_threads())
    # llama-bench's context is its prompt plus its generation (here 128, padded to 256 cells):
    # the app loads the same, because a larger cache makes every step slower (docs/performance.md).
    parser.add_argument("--context", type=int, default=256)
    parser.add_argument(
        "--paths", nargs="+", choices=("new", "chain", "old", "raw"), default=["new"]
    )
    parser.add_argument("--llama-bench", type=Path, help="a llama-bench binary (default: built)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.model is None:
        from tests.models import base_model

        args.model = base_model()
    version, options = pinned_version()
    import llama_cpp

    if llama_cpp.__version__ != version:
        print(f"warning: the engine is llama-cpp-python {llama_cpp.__version__}, not {version}")
    binary = args.llama_bench or llama_bench_binary(version, options)

    engine = Engine()
    engine.load(args.model, context_length=args.context, threads=args.threads)
    run_app(engine, 8)  # warm-up, as llama-bench's own
    app: dict[str, list[float]] = {name: [] for name in args.paths}
    counts: list[int] = []
    bench: list[float] = []
    for _ in range(args.runs):
        for name in args.paths:
            with path(name):
                engine._llama.reset()  # type: ignore[union-attr]  # fresh prompt each run
                run = run_raw if name == "raw" else run_app
                speed, count = run(engine, args.tokens)
            app[name].append(speed)
            if name != "raw":
                counts.append(count)
        bench.append(run_llama_bench(binary, args.model, args.tokens, args.threads, 1))
    if args.profile:
        profile(engine, args.tokens)
    engine.unload()

    med = statistics.median
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"model {args.model.name}, threads {args.threads}, context {args.context}, tokens {args.tokens} "
          f"(the app generated {min(counts)}-{max(counts)}), runs {args.runs}, "
          f"llama-cpp-python {llama_cpp.__version__}, load average {load}")  # fmt: skip
    print(f"{'llama-bench tg' + str(args.tokens):<22}{med(bench):7.1f} tokens/s  {_runs(bench)}")
    for name, speeds in app.items():
        label = {
            "new": "app (this engine)",
            "chain": "app (chain if greedy)",
            "old": "app (Llama.generate)",
            "raw": "raw create_completion",
        }[name]
        # Paired: each round's app run over the llama-bench run beside it, so a drift of the
        # machine's speed during the bench (seen here: ±15 % over a minute) cancels out.
        paired = med([speed / other for speed, other in zip(speeds, bench, strict=True)])
        print(f"{label:<22}{med(speeds):7.1f} tokens/s  {_runs(speeds)}  "
              f"ratio {med(speeds) / med(bench):.3f}, paired {paired:.3f}")  # fmt: skip


def _runs(values: list[float]) -> str:
    return "[" + " ".join(f"{value:.1f}" for value in values) + "]"


if __name__ == "__main__":
    main()
