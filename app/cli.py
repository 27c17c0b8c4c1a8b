"""The `quantdesk` command: no arguments opens the app; subcommands use the same core headless.

    quantdesk                      open the window
    quantdesk --version
    quantdesk chat MODEL --prompt TEXT [--system TEXT] [--max-tokens N]
                   [--temperature T] [--seed N] [--json]
    quantdesk pull REPO_ID (--quant Q | --file PATH) [--json]
    quantdesk models [--json]
    quantdesk rm PATH_OR_NAME
    quantdesk hw [--json]
    quantdesk recommend REPO_ID [--hardware FILE] [--goal fastest|quality] [--context N] [--json]
    quantdesk bench MODEL [--ctx N] [--threads N] [--gpu-layers N] [--json]
    quantdesk worker [--host ADDRESS] [--port 50052] [--device NAME]... [--threads N]
    quantdesk serve [MODEL] [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--json-log]

Errors are one line on stderr and a named exit code (`ExitCode`); tracebacks go to the log only.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app import __version__

if TYPE_CHECKING:  # heavy or deferred imports: `--help` stays fast
    from app.core.chat.reasoning import ThinkingProfile
    from app.core.engine.engine import LoadedModel
    from app.core.engine.projection import Projection
    from app.core.engine.rpc import RemoteLayers
    from app.core.fit.memory import ModelShape
    from app.core.fit.recommend import Recommendation
    from app.core.fit.repo_facts import RepoFacts
    from app.core.machine.hardware import HardwareProfile
    from app.core.remote.workers import WorkerProbe

log = logging.getLogger(__name__)

# `recommend --goal`: `fit.recommend.Goal`'s values, spelled out here so `--help` stays fast
# (a test checks they agree).
GOAL_CHOICES = ("fastest", "quality")
# `bench`: room for the measurement at a depth of 2,048 tokens.
BENCH_CONTEXT = 4096


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # unexpected failure (a bug) and nothing else: details in the log
    USAGE = 2  # bad command line (argparse's own code)
    BAD_MODEL = 3  # the model file can't be used (missing, corrupt, unreadable header)
    BAD_TEMPLATE = 4  # the model's chat template can't be used
    NOT_FOUND = 5  # repo, file or local model doesn't exist
    GATED = 6  # the repo needs a token / an accepted license
    OFFLINE = 7  # Hugging Face can't be reached
    DISK_FULL = 8  # not enough free space
    DOWNLOAD_FAILED = 9  # interrupted (resumable), checksum mismatch, refused name
    REFUSED = 10  # can't be done as asked: the conversation overflows the context, a name is taken
    HUB_FAILED = 11  # Hugging Face answered with an error (rate limit, server error)
    SYSTEM = 12  # this computer got in the way: chat history, keychain, a folder
    NO_DISPLAY = 13  # the window can't open: no display
    WORKER = 14  # another computer's worker can't be reached or used
    INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantdesk",
        description="Run a local LLM well on the machine you have. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"quantdesk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = commands.add_parser(
        "chat", help="send one message to a local GGUF model and print the reply"
    )
    chat.add_argument("model", metavar="MODEL", help="path of a .gguf model file")
    chat.add_argument("--prompt", required=True, help="the user message")
    chat.add_argument("--system", help="a system prompt")
    chat.add_argument(
        "--max-tokens", type=_positive_int, help="reply length cap (default: the model's preset)"
    )
    chat.add_argument(
        "--temperature",
        type=_non_negative_float,
        help="0 = greedy (default: the model card's preset for the thinking mode, else 0.8)",
    )
    chat.add_argument(
        "--thinking",
        choices=["on", "off", "low", "medium", "high"],
        help=(
            "reasoning models: think first, or answer directly; low/medium/high choose the "
            "reasoning effort of models that take one, e.g. gpt-oss (default: the model's default)"
        ),
    )
    chat.add_argument(
        "--reasoning-budget",
        type=_positive_int,
        metavar="TOKENS",
        help="most reasoning tokens before the model is made to answer (default: no limit)",
    )
    chat.add_argument("--seed", type=int, help="random seed, for repeatable replies")
    chat.add_argument(
        "--ctx",
        type=_positive_int,
        help="context length (default: the default context length in Settings)",
    )
    chat.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="another computer running `quantdesk worker`: some of the model's layers run there "
        "(repeat for more computers)",
    )
    chat.add_argument("--threads", type=_positive_int, help="CPU threads (default: the app's)")
    chat.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the text"
    )

    pull = commands.add_parser("pull", help="download a GGUF model from Hugging Face (resumable)")
    pull.add_argument("repo_id", metavar="REPO_ID", help="e.g. bartowski/Some-Model-GGUF")
    which = pull.add_mutually_exclusive_group(required=True)
    which.add_argument("--quant", help="the quant to download, e.g. Q4_K_M")
    which.add_argument("--file", help="the file's path in the repo (one shard stands for all)")
    pull.add_argument("--revision", default="main", help=argparse.SUPPRESS)
    pull.add_argument("--json", action="store_true", help="print one JSON object when done")

    models = commands.add_parser("models", help="list local models")
    models.add_argument("--json", action="store_true", help="print a JSON list")

    hw = commands.add_parser("hw", help="show this machine's RAM, CPU features and GPUs")
    hw.add_argument(
        "--json", action="store_true", help="print JSON (the input format of --hardware)"
    )
    hw.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="also list what another computer's `quantdesk worker` offers (repeat for more; "
        "default: the computers added in the app's Settings)",
    )

    rec = commands.add_parser("recommend", help="which file of a GGUF repo to run here, and why")
    rec.add_argument("repo_id", metavar="REPO_ID")
    rec.add_argument(
        "--hardware", metavar="FILE", help="a machine as `hw --json` prints it (default: this one)"
    )
    rec.add_argument("--goal", choices=GOAL_CHOICES, default=GOAL_CHOICES[0])
    rec.add_argument(
        "--context",
        type=_positive_int,
        help="context length in tokens (default: the default context length in Settings)",
    )
    rec.add_argument(
        "--worker",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="another computer running `quantdesk worker`: a file too large for this one may be "
        "split across them (repeat for more computers)",
    )
    rec.add_argument("--json", action="store_true", help="print JSON")

    bench = commands.add_parser(
        "bench", help="measure a model's speed here (about 10 s); later predictions use it"
    )
    bench.add_argument("model", metavar="MODEL", help="path of a .gguf model file")
    bench.add_argument(
        "--ctx", type=_positive_int, default=BENCH_CONTEXT, help="context length (default: 4096)"
    )
    bench.add_argument("--threads", type=_positive_int, help="CPU threads (default: the app's)")
    bench.add_argument(
        "--gpu-layers", type=int, help="layers on the GPU (default: what fits, as the app loads)"
    )
    bench.add_argument("--json", action="store_true", help="print one JSON object")

    worker = commands.add_parser(
        "worker",
        help="lend this computer's memory to Quantdesk on another computer (llama.cpp RPC)",
    )
    worker.add_argument(
        "--host", help="the address to listen on (default: this computer's address on its network)"
    )
    worker.add_argument("--port", type=int, default=50052, help="the port (default: 50052)")
    worker.add_argument(
        "--device",
        action="append",
        metavar="NAME",
        help="a device to offer, e.g. CUDA0 or CPU (default: the GPUs, else the CPU; repeatable)",
    )
    worker.add_argument("--threads", type=_positive_int, help="CPU threads (default: the app's)")
    serve = commands.add_parser(
        "serve",
        help="serve local models over OpenAI- and Anthropic-compatible HTTP APIs",
        description=(
            "Serve the library's models at /v1/chat/completions, /v1/completions, /v1/messages "
            "and /v1/models. Listens on this computer only unless --host says otherwise, "
            "which needs --api-key."
        ),
    )
    serve.add_argument(
        "model", metavar="MODEL", nargs="?", help="a model to load first: a path or a library name"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=8080,
        help="port to listen on, 0 for any (default: %(default)s)",
    )
    serve.add_argument("--api-key", metavar="KEY", help="the key every request must carry")
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin allowed to call the server from a browser (repeatable; none by default)",
    )
    serve.add_argument(
        "--max-waiting",
        type=_non_negative_int,
        default=4,
        help="requests that may wait for the model; past that: 429 (default: %(default)s)",
    )
    serve.add_argument(
        "--ctx", type=_positive_int, help="context length (default: the one in Settings)"
    )
    serve.add_argument("--threads", type=_positive_int, help="CPU threads (default: the app's)")
    serve.add_argument(
        "--json-log", action="store_true", help="log each request as one JSON line on stderr"
    )

    remove = commands.add_parser("rm", help="delete a local model (and its partial downloads)")
    remove.add_argument("model", metavar="PATH_OR_NAME", help="a path, or a name from `models`")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of `quantdesk` and `python -m app`; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in HIDDEN_COMMANDS:
        return _hidden_command(argv[0], argv[1:])
    # No arguments opens the window, without building the parser on the way to its first paint.
    args = build_parser().parse_args(argv) if argv else None
    if args is None or args.command is None:
        from app.ui.app import no_display_reason, run_app

        reason = no_display_reason()
        if reason:
            print(reason, file=sys.stderr)
            return ExitCode.NO_DISPLAY
        return run_app(sys.argv[:1])
    _log_to_file()
    try:
        if args.command == "chat":
            return chat_command(args, out=sys.stdout)
        if args.command == "pull":
            return pull_command(args, out=sys.stdout)
        if args.command == "models":
            return models_command(args, out=sys.stdout)
        if args.command == "rm":
            return rm_command(args, out=sys.stdout)
        if args.command == "hw":
            return hw_command(args, out=sys.stdout)
        if args.command == "recommend":
            return recommend_command(args, out=sys.stdout)
        if args.command == "bench":
            return bench_command(args, out=sys.stdout)
        if args.command == "worker":
            return worker_command(args, out=sys.stdout)
        if args.command == "serve":
            return serve_command(args, out=sys.stdout)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a person gets one line; the log gets the trace
        from app.core.errors import QuantdeskError

        if isinstance(exc, QuantdeskError):
            return _fail(str(exc), _exit_code_for(exc))
        log.exception("%s failed", args.command)
        return _fail(
            f"{args.command} failed: {type(exc).__name__}: {exc} (details in the log)",
            ExitCode.ERROR,
        )
    raise AssertionError(f"unhandled command {args.command}")


# Commands the app gives its own child processes (`app/core/_util/child.py`), not people: kept
# out of the parser so that they never show in `--help`.
HIDDEN_COMMANDS = (
    "__render-templates",
    "__check-load",
    "__project-memory",
    "__measure-ram",
    "__probe-worker",
    "__split-engine",
)


def _hidden_command(command: str, args: list[str]) -> int:
    if command == "__render-templates":
        from app.core.chat.template import serve_renders

        return serve_renders(sys.stdin.buffer, sys.stdout.buffer)
    if command == "__measure-ram":
        from app.core.fit.speed import measure_ram_here

        return measure_ram_here(args)
    if command == "__probe-worker":
        from app.core.remote.workers import probe_here

        return probe_here(args)
    if command == "__split-engine":
        from app.core.engine.split import serve_split_here

        return serve_split_here(args)
    if command == "__project-memory":
        from app.core.engine.projection import dry_run_here

        return dry_run_here(args)
    from app.core.engine.load_check import check_load_here

    return check_load_here(args[0])


def _log_to_file() -> None:
    from app.core._util.logs import setup_logging

    setup_logging(console=False)


# Folded to one line: runs of line breaks and spaces, never the no-break space that keeps a
# number with its unit ("38.1 MiB"), which str.split() would also take for a space.
_LINE_BREAKS = re.compile(r"[^\S\u00a0\u202f]+")  # every whitespace but the no-break ones


def _fail(message: str, code: ExitCode) -> int:
    print(f"quantdesk: {_LINE_BREAKS.sub(' ', message).strip()}", file=sys.stderr)
    return code


def _thinking_choice(profile: ThinkingProfile, choice: str | None) -> tuple[bool, str | None]:
    """`--thinking` as (thinking on, effort): an effort level turns thinking on; for a family that
    takes an effort, plain `on` means its default effort and `off` its lowest."""
    if choice is None:
        return profile.default_on, None
    if choice in ("low", "medium", "high"):
        return True, choice
    from app.core.chat.reasoning import Toggle

    levels = profile.choices if profile.toggle == Toggle.EFFORT else ()
    effort = levels[0] if levels and choice == "off" else None
    return choice == "on" or bool(effort), effort


def chat_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk chat`: load MODEL, send one message, print the reply (streamed) or JSON.

    Reasoning goes to stderr in text mode (stdout is the answer alone) and to `reasoning` in JSON.
    """
    from app.core.chat.prompting import ReplyRequest
    from app.core.chat.reasoning import REASONING
    from app.core.chat.template import Message
    from app.core.engine.engine import Engine
    from app.core.fit.loading import load_measured, remeasure
    from app.core.fit.measured import LoadTable
    from app.core.paths import app_paths

    engine = Engine()
    loads = LoadTable.in_folder(app_paths().data)
    context = args.ctx or _default_context()
    remote = _usable_workers(args.worker, args.model, context) if args.worker else ()
    try:
        if remote:
            # Split over other computers: not a load of this machine alone, so not measured.
            model = engine.load(
                args.model, context_length=context, threads=args.threads, remote=remote
            )
            loaded = None
        else:
            # Measured and remembered like the app's loads: they correct this machine's estimates.
            loaded = load_measured(engine, args.model, loads, context=context, threads=args.threads)
            model = loaded.model
        profile = model.thinking
        thinking_on, effort = _thinking_choice(profile, args.thinking)
        request = ReplyRequest(
            turns=[Message("user", args.prompt)],
            system_prompt=args.system or "",
            thinking_on=thinking_on,
            effort=effort,
            overrides={"temperature": args.temperature, "max_tokens": args.max_tokens},
            reasoning_budget=args.reasoning_budget,
            seed=args.seed,
        )
        prepared, reply = engine.start_reply(request)
        for kind, piece in reply:
            if not args.json:
                stream = sys.stderr if kind == REASONING else out
                stream.write(piece)
                stream.flush()
        if loaded is not None and loaded.baseline is not None:  # the reply touched more
            remeasure(loads, loaded.row, loaded.baseline)
    finally:  # failures go to `main`, which maps them to an exit code (`_exit_code_for`)
        engine.unload()
    stats = reply.stats
    assert stats is not None
    if args.json:
        json.dump(
            {
                "model": str(args.model),
                "profile": profile.family,
                "profile_label": profile.label,
                "thinking": profile.mode_name(thinking_on, effort),
                "prompt": reply.prompt,
                "reasoning": reply.reasoning,
                "content": reply.answer,
                "reasoning_seconds": _round(reply.reasoning_seconds),
                "prompt_tokens": stats.prompt_tokens,
                "completion_tokens": stats.completion_tokens,
                "seconds": round(stats.seconds, 4),
                "time_to_first_token": _round(stats.time_to_first_token),
                "tokens_per_second": round(stats.tokens_per_second, 2),
                "finish_reason": stats.finish_reason,
                "sampling": prepared.sampling.as_dict(),
                "layers": _layer_placement(model),
            },
            out,
            ensure_ascii=False,
            indent=2,
        )
        out.write("\n")
    else:
        out.write("\n")
        print(
            f"[{stats.completion_tokens} tokens, {stats.tokens_per_second:.1f} tokens/s, "
            f"first token {stats.time_to_first_token or 0:.2f} s]",
            file=sys.stderr,
        )
    return ExitCode.OK


def _usable_workers(addresses: list[str], model: str, context: int) -> tuple[RemoteLayers, ...]:
    """Probe each worker; one that can't be used is reported on stderr and left out, and the
    model's layers are shared by free memory among this computer and the others."""
    from pathlib import Path

    from app.core.fit.recommend import kept_here_bytes
    from app.core.remote.workers import plan_split

    kept = kept_here_bytes(Path(model), context=context)
    remote, left_out = plan_split(addresses, Path(model), kept_here_bytes=kept)
    for error in left_out:
        print(f"quantdesk: left out: {error}", file=sys.stderr)
    return remote


def _saved_workers() -> tuple[str, ...]:
    """The other computers the person added in the app."""
    from app.core.config.preferences import load_preferences
    from app.core.paths import app_paths

    preferences, _note = load_preferences(app_paths().config)
    return preferences.workers


def _probed_workers(addresses: list[str]) -> tuple[WorkerProbe, ...]:
    """Each worker probed; one that can't be used is reported on stderr and left out."""
    from app.core.remote.workers import probe_all

    probes, left_out = probe_all(addresses)
    for error in left_out:
        print(f"quantdesk: left out: {error}", file=sys.stderr)
    return probes


def _layer_placement(model: LoadedModel) -> dict[str, int]:
    """Where the model's repeating layers run: "this computer" and each worker's address."""
    remote = {worker.endpoint: worker.layers for worker in model.remote}
    total = model.layer_count or 0
    return {"this computer": max(0, total - sum(remote.values())), **remote}


def _default_context() -> int:
    """The person's default context length (Settings), as the app uses it."""
    from app.core.config.preferences import load_preferences
    from app.core.paths import app_paths

    preferences, _note = load_preferences(app_paths().config)
    return preferences.default_context


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _exit_code_for(error: BaseException) -> ExitCode:
    """The one table from error to exit code: the first row whose class matches wins, so a
    specific error comes before the general one it extends. Anything not ours is a bug."""
    from app.core import errors

    for kind, code in (
        (errors.GatedModelError, ExitCode.GATED),
        (errors.ModelNotFoundError, ExitCode.NOT_FOUND),
        (errors.OfflineError, ExitCode.OFFLINE),
        (errors.HubError, ExitCode.HUB_FAILED),
        (errors.DiskFullError, ExitCode.DISK_FULL),
        (errors.DownloadCancelledError, ExitCode.INTERRUPTED),
        (errors.DownloadError, ExitCode.DOWNLOAD_FAILED),
        (errors.UnsafePathError, ExitCode.DOWNLOAD_FAILED),
        (errors.EnginePackError, ExitCode.DOWNLOAD_FAILED),
        (errors.ModelFileError, ExitCode.BAD_MODEL),
        (errors.ModelHeaderError, ExitCode.BAD_MODEL),
        (errors.ModelLoadError, ExitCode.BAD_MODEL),
        (errors.ChatTemplateError, ExitCode.BAD_TEMPLATE),
        (errors.ContextOverflowError, ExitCode.REFUSED),
        (errors.ModelNameTakenError, ExitCode.REFUSED),
        (errors.ApiBindError, ExitCode.REFUSED),
        (errors.ImportCancelledError, ExitCode.INTERRUPTED),
        (errors.RemoteWorkerError, ExitCode.WORKER),
        (errors.EngineStateError, ExitCode.ERROR),  # our own misuse of the engine: a bug
        (errors.QuantdeskError, ExitCode.SYSTEM),  # history, keychain, models folder
    ):
        if isinstance(error, kind):
            return code
    return ExitCode.ERROR


def pull_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk pull`: download one model (a quant or a file, shards together); progress on stderr."""
    from app.core.errors import QuantdeskError
    from app.core.hub.client import list_repo_files, select_files
    from app.core.hub.download import DownloadProgress, describe_progress, download
    from app.core.paths import app_paths

    def show(progress: DownloadProgress) -> None:
        line = f"{progress.filename}: {describe_progress(progress)}"
        print(f"\r{line:<100}", end="", file=sys.stderr, flush=True)

    paths = app_paths().ensure()
    try:
        files = list_repo_files(args.repo_id, revision=args.revision)
        chosen = select_files(files, quant=args.quant, filename=args.file)
        result = download(chosen, paths.models, on_progress=show)
    except QuantdeskError as exc:
        print(file=sys.stderr)
        return _fail(str(exc), _exit_code_for(exc))
    print(file=sys.stderr)
    if args.json:
        json.dump(result.as_dict(), out, indent=2)
        out.write("\n")
    else:
        for path in result.paths:
            out.write(f"{path}\n")
    return ExitCode.OK


def models_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk models`: the local library."""
    from app.core._util.units import format_bytes
    from app.core.hub.library import list_models
    from app.core.paths import app_paths

    models = list_models(app_paths())
    if args.json:
        json.dump([model.as_dict() for model in models], out, indent=2)
        out.write("\n")
        return ExitCode.OK
    for model in models:
        where = model.repo_id or ("referenced" if model.referenced else "imported")
        out.write(
            f"{format_bytes(model.size_bytes):>9}  {model.quant or 'unknown':<8}  {where:<40}  {model.path}\n"
        )
    if not models:
        out.write("No local models yet. Try: quantdesk pull REPO_ID --quant Q4_K_M\n")
    return ExitCode.OK


def rm_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk rm`: delete a local model and its partial downloads."""
    from app.core.hub.library import delete_model, find_model
    from app.core.paths import app_paths

    paths = app_paths()
    model = find_model(paths, args.model)
    if model is None:
        return _fail(f"No local model {args.model!r}; see `quantdesk models`.", ExitCode.NOT_FOUND)
    for path in delete_model(paths, model):
        out.write(f"removed {path}\n")
    return ExitCode.OK


def hw_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk hw`: what this machine has for running models."""
    from app.core._util.units import format_bytes
    from app.core.engine.backends import ensure_backends
    from app.core.machine.hardware import detect

    profile = detect()
    engine = ensure_backends()
    # The computers named here, else those added in the app (Settings -> Other computers).
    workers = [_probe_report(text) for text in args.worker or _saved_workers()]
    if args.json:
        report = profile.to_json()
        report["engine"] = engine.as_dict()
        if workers:
            report["workers"] = workers
        json.dump(report, out, indent=2)
        out.write("\n")
        return ExitCode.OK
    cpu = profile.cpu
    out.write(f"OS:   {profile.os}\n")
    out.write(
        f"CPU:  {cpu.model} ({cpu.arch}), {cpu.cores} cores; {', '.join(cpu.features) or 'no SIMD extensions found'}\n"
    )
    out.write(
        f"RAM:  {format_bytes(profile.ram_bytes)} "
        f"({format_bytes(profile.ram_available_bytes)} available)\n"
    )
    for gpu in profile.gpus:
        out.write(
            f"GPU:  {gpu.name} ({gpu.backend}), {format_bytes(gpu.vram_bytes)} ({format_bytes(gpu.vram_free_bytes)} free)\n"
        )
    if not profile.gpus:
        out.write("GPU:  none the engine can use: models run on the CPU\n")
    out.write(f"Engine: {engine.describe(profile.gpus)}\n")
    for backend in engine.backends:
        out.write(f"  {backend['name']}: {backend['path']}\n")
    for skipped in engine.skipped:
        out.write(f"  skipped {skipped['path']}: {skipped['reason']}\n")
    for note in profile.notes:
        out.write(f"note: {note}\n")
    for worker in workers:
        if "error" in worker:
            out.write(f"Worker {worker['address']}: {worker['error']}\n")
            continue
        out.write(
            f"Worker {worker['address']}: {format_bytes(worker['free_bytes'])} free of "
            f"{format_bytes(worker['total_bytes'])}, round trip {worker['round_trip_ms']:.2f} ms\n"
        )
    return ExitCode.OK


def _probe_report(text: str) -> dict[str, Any]:
    """A worker as `hw` lists it: what its probe found, or why it can't be used."""
    from app.core.errors import RemoteWorkerError
    from app.core.remote.workers import parse_address, probe

    try:
        return probe(parse_address(text)).as_json()
    except RemoteWorkerError as error:
        return {"address": error.address or text, "error": str(error)}


def worker_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk worker`: serve this computer's devices to Quantdesk on another computer,
    through llama.cpp's own RPC server, until Ctrl+C."""
    import os
    import threading

    from app.core._util.units import format_bytes
    from app.core.engine.engine import default_threads
    from app.core.engine.rpc import offered_devices, serve
    from app.core.remote.workers import check_can_listen, network_address, parse_address

    address = parse_address(f"{args.host or network_address()}:{args.port}")
    check_can_listen(address)
    devices = offered_devices(args.device)
    out.write(f"Quantdesk worker at {address}\n")
    out.write(
        f"On the computer that runs the model, add {address} under Settings, Other computers "
        f"(or: quantdesk chat MODEL --worker {address}).\n"
    )
    for device in devices:
        out.write(
            f"Offers {device.name} ({device.description}): {format_bytes(device.free_bytes)} "
            f"free of {format_bytes(device.total_bytes)}\n"
        )
    out.write(
        "Warning: a worker has no password and no encryption. Anyone who can reach this port "
        "can use this computer's memory and processor and see what the model holds. Use it only "
        "on a network you trust, and stop it (Ctrl+C) when you are done.\n"
    )
    out.flush()
    server = threading.Thread(
        target=serve,
        args=(address.endpoint, devices),
        kwargs={"threads": args.threads or default_threads(), "cache_dir": None},
        name="rpc-server",
        daemon=True,
    )
    server.start()
    try:
        while server.is_alive():
            server.join(0.5)
    except KeyboardInterrupt:
        out.flush()
        os._exit(ExitCode.INTERRUPTED)  # llama.cpp's server loop never returns: end the process
    return _fail(
        f"the worker at {address} stopped: llama.cpp's server could not go on", ExitCode.WORKER
    )


def _projection(facts: RepoFacts, profile: HardwareProfile, context: int) -> Projection | None:
    """llama.cpp's dry run of the repo's model on this machine (None: the formula answers)."""
    from app.core.fit.dry_run import project_facts
    from app.core.paths import app_paths

    paths = app_paths()
    return project_facts(
        facts, profile, context=context, models_dir=paths.models, cache_dir=paths.cache
    )


def recommend_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk recommend`: fit every file of a repo on a machine and pick one, with reasons."""
    from app.core._util.units import format_bytes
    from app.core.fit.measured import NO_CORRECTION, LoadTable, measured_correction
    from app.core.fit.reasons import explain, explained_dict, nothing_fits
    from app.core.fit.repo_facts import FactsSource, advise, repo_facts
    from app.core.machine.hardware import HardwareProfile, detect
    from app.core.paths import app_paths

    if args.hardware:
        try:
            with open(args.hardware, encoding="utf-8") as stream:
                profile = HardwareProfile.from_json(json.load(stream))
        except (OSError, ValueError) as exc:
            return _fail(f"Can't use {args.hardware}: {exc}", ExitCode.USAGE)
        correction = NO_CORRECTION  # another machine: this one's loads say nothing of it
    else:
        profile = detect()
        correction = measured_correction(profile, LoadTable.in_folder(app_paths().data))
    # As the app does: a curated model's facts ship with it, another repo's are saved after each
    # fetch, so a pick needs the Hub only for a repo never fetched.
    facts = repo_facts(args.repo_id, app_paths().models)
    context = args.context or _default_context()
    # On this machine (not a described one) llama.cpp projects its own buffers.
    projection = None if args.hardware else _projection(facts, profile, context)
    result = advise(
        facts,
        profile,
        goal=args.goal,
        context=context,
        projection=projection,
        correction=correction,
        workers=_probed_workers(args.worker),
    )
    if args.json:
        # Where the file list came from: "hub", "shipped" (curated) or "saved" (Hub unreachable).
        data = {**explained_dict(result), "facts": str(facts.source)}
        _add_speeds(data, result, facts.shape, this_machine=not args.hardware)
        json.dump(data, out, indent=2)
        out.write("\n")
        return ExitCode.OK
    out.write(f"{args.repo_id} · goal: {result.goal} · context {result.context:,} tokens\n")
    if facts.source is FactsSource.SHIPPED:
        out.write("Files as listed in Quantdesk (no internet needed).\n")
    elif facts.source is FactsSource.SAVED:
        out.write("Files as saved when Hugging Face was last reached (it can't be reached now).\n")
    out.write("\n")
    out.write(
        f"{'quant':<12} {'size':>9} {'needs':>9}  {'fit':<10} {'GPU layers':>10}  {'quality':>8}\n"
    )
    for option in result.options:
        mark = "→" if option is result.pick else " "
        quality = f"{option.quality:.2f} %" if option.quality is not None else "unknown"
        out.write(
            f"{mark}{(option.quant or 'unknown'):<11} {format_bytes(option.size_bytes):>9} "
            f"{format_bytes(option.estimated_bytes):>9}  {option.fit:<10} {option.gpu_layers:>10}  {quality:>8}\n"
        )
    out.write("\n")
    if result.pick is None:
        out.write(f"{nothing_fits(result)}\n")
    else:
        out.write(f"Pick: {', '.join(result.pick.files)}\n")
        summary, *details = explain(result, result.pick).lines()
        out.write(f"{summary}\n")
        for reason in details:
            out.write(f"  - {reason}\n")
    return ExitCode.OK


def _add_speeds(
    data: dict[str, Any], result: Recommendation, shape: ModelShape, *, this_machine: bool
) -> None:
    """Each option's predicted generation speed (`speed_tokens_per_second`, null when a device's
    bandwidth is unknown), scaled by this machine's benchmark once there is one."""
    from app.core.fit.speed import option_speed, speed_context
    from app.core.paths import app_paths

    paths = app_paths()
    context = speed_context(
        result.profile, data_dir=paths.data, cache_dir=paths.cache, this_machine=this_machine
    )
    for option, row in zip(result.options, data["options"], strict=True):
        speed = option_speed(shape, option, result.profile, context)
        row["speed_tokens_per_second"] = speed.as_dict() if speed else None
    if result.pick is not None:
        data["pick"] = data["options"][result.options.index(result.pick)]


def bench_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk bench`: load MODEL, measure its speed for about ten seconds, store the result
    for this machine (later predictions are scaled by it), and print it."""
    from app.core.engine.engine import Engine
    from app.core.fit.recommend import automatic_gpu_layers
    from app.core.fit.speed import record_benchmark
    from app.core.machine.hardware import detect
    from app.core.paths import app_paths

    paths = app_paths()
    profile = detect()
    gpu_layers = args.gpu_layers
    if gpu_layers is None:
        gpu_layers = automatic_gpu_layers(args.model, profile, context=args.ctx)
    engine = Engine()
    try:
        model = engine.load(
            args.model, context_length=args.ctx, threads=args.threads, gpu_layers=gpu_layers
        )
        result = engine.benchmark()
    finally:
        engine.unload()
    measurement = record_benchmark(
        model, result, profile, data_dir=paths.data, cache_dir=paths.cache
    )
    predicted = measurement.predicted_seconds_per_token
    if args.json:
        json.dump(
            {
                "model": str(args.model),
                "backend": measurement.backend,
                "build": measurement.build,
                "threads": model.threads,
                "gpu_layers": model.gpu_layers,
                "context": model.context_length,
                "prompt_tokens": result.prompt_tokens,
                "prompt_tokens_per_second": round(result.prompt_tokens_per_second, 2),
                "time_to_first_token": round(result.time_to_first_token, 4),
                "generation_tokens_per_second": round(result.generation_tokens_per_second, 2),
                "generation_tokens_per_second_deep": _round(
                    result.generation_tokens_per_second_deep
                ),
                "deep_depth": result.deep_depth,
                "predicted_tokens_per_second": round(1 / predicted, 2) if predicted else None,
                "seconds": round(result.seconds, 2),
            },
            out,
            indent=2,
        )
        out.write("\n")
        return ExitCode.OK
    out.write(f"{model.display_name} · {measurement.backend} · {model.threads} threads\n")
    out.write(
        f"prompt: {result.prompt_tokens_per_second:.1f} tokens/s "
        f"(first token after {result.time_to_first_token:.2f} s for {result.prompt_tokens} tokens)\n"
    )
    out.write(f"generation: {result.generation_tokens_per_second:.1f} tokens/s\n")
    if result.generation_tokens_per_second_deep is not None:
        out.write(
            f"generation at {result.deep_depth:,} tokens of context: "
            f"{result.generation_tokens_per_second_deep:.1f} tokens/s\n"
        )
    if predicted:
        out.write(f"predicted from bandwidth: {1 / predicted:.1f} tokens/s\n")
    return ExitCode.OK


def serve_command(args: argparse.Namespace, *, out: TextIO) -> int:
    """`quantdesk serve`: the local API server until Ctrl+C (or SIGTERM).

    Prints the URL on stdout once it answers (`listening on http://...`), and each request on
    stderr: a line of text, or one JSON object with `--json-log`.
    """
    import signal
    import threading

    from app.core.api.guard import is_loopback
    from app.core.api.owner import EngineOwner
    from app.core.api.server import ApiServer, ApiService, RequestRecord, ServerSettings
    from app.core.hub.library import find_model
    from app.core.paths import app_paths

    paths = app_paths().ensure()
    settings = ServerSettings(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        cors_origins=tuple(args.cors_origin),
        max_waiting=args.max_waiting,
    )
    served = None
    if args.model:
        found = find_model(paths, args.model)
        served = found.path if found else Path(args.model).expanduser()
        if not served.is_file():
            return _fail(
                f"No model {args.model!r}: give a path or see `quantdesk models`.",
                ExitCode.NOT_FOUND,
            )

    def show(record: RequestRecord) -> None:
        if record.state in ("queued", "running"):
            return
        if args.json_log:
            print(json.dumps(record.as_dict(), ensure_ascii=False), file=sys.stderr, flush=True)
        else:
            print(
                f"{record.method} {record.path} {record.status} {record.model or '-'} "
                f"{record.completion_tokens} tokens {record.tokens_per_second:.1f} tokens/s "
                f"{record.error}".rstrip(),
                file=sys.stderr,
                flush=True,
            )

    owner = EngineOwner(context=args.ctx or _default_context(), threads=args.threads)
    owner.start()
    server: ApiServer | None = None
    try:
        if served is not None:
            from app.core._util.cancel import CancelToken

            model = served
            owner.call(lambda session: session.use_model(model, CancelToken()))
        service = ApiService(owner, settings, paths, served=served, listener=show)
        server = ApiServer(service)
        server.start()
        if not is_loopback(settings.host):
            print(
                f"quantdesk: listening on {settings.host}: reachable from other computers; "
                "every request needs the API key.",
                file=sys.stderr,
            )
        out.write(f"listening on {server.url}\n")
        out.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        if server is not None:
            server.stop()
        owner.close()
    return ExitCode.OK
