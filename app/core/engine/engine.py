"""The chat engine: llama.cpp in-process (llama-cpp-python), one model at a time.

An `Engine` is owned by one thread (the GUI's engine worker, or the CLI's main thread); nothing
else may call it. Both start replies the same way, `Engine.start_reply`. Stopping is
cooperative: a reply checks its `CancelToken` before every token, so it ends within one token of
being asked to.

Every file is checked by `gguf.header.check_model_file` before llama.cpp sees it, because
llama.cpp only says "Failed to load model" and a person needs the reason.

The prompt is rendered by us (`chat_template`), not by llama-cpp-python: we must know the exact
text sent to the model, keep untrusted templates sandboxed, and never invent a chat format for a
base model (llama-cpp-python falls back to Llama-2's).
"""

from __future__ import annotations

import codecs
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core._util.cancel import CancelToken
from app.core._util.enums import TextEnum
from app.core.chat.history import MessageState
from app.core.chat.prompting import PreparedReply, ReplyRequest, SamplingSettings, prepare_reply
from app.core.chat.reasoning import (
    REASONING,
    PromptPlan,
    ReasoningSplitter,
    ThinkingProfile,
    detect_profile,
    finish_prompt,
)
from app.core.chat.template import plain_prompt, prestart_renderer, render_chat
from app.core.config.preferences import DEFAULT_CONTEXT
from app.core.engine.decoding import TokenLoop
from app.core.engine.load_check import VERDICTS_FILE, ensure_loadable
from app.core.engine.rpc import RemoteLayers
from app.core.engine.split import SplitChild, SplitLoop, open_llama
from app.core.errors import (
    ContextOverflowError,
    EngineStateError,
    LoadMemoryError,
    ModelLoadError,
    RemoteWorkerError,
)
from app.core.gguf.header import GGUFHeader, check_model_file
from app.core.gguf.quants import parse_quant, quant_from_file_type

if TYPE_CHECKING:
    from llama_cpp import Llama

    from app.core.engine.benchmark import BenchmarkResult

log = logging.getLogger(__name__)

# llama.cpp pads every context to a multiple of this many tokens (GGML_PAD(n_ctx, 256) in
# llama-context.cpp): the smallest context it gives, and the step of every larger one.
LLAMA_CONTEXT_STEP = 256


class FinishReason(TextEnum):
    """Why a reply ended."""

    STOP = "stop"  # the model ended it
    LENGTH = "length"  # max tokens, or the context is full
    CANCELLED = "cancelled"  # the person stopped it

    @property
    def message_state(self) -> MessageState:
        """The stored message's state after a reply that ended this way."""
        return MessageState.STOPPED if self is FinishReason.CANCELLED else MessageState.COMPLETE


@dataclass(frozen=True)
class LoadedModel:
    """What the engine has loaded, for the status bar and the CLI."""

    path: Path
    display_name: str
    architecture: str | None
    chat_template: str | None
    file_size: int
    context_length: int
    trained_context_length: int | None
    threads: int
    gpu_layers: int  # layers on a GPU: 0 without a GPU engine; -1 all (count unknown)
    load_seconds: float
    thinking: ThinkingProfile
    quant: str | None = None
    layer_count: int | None = None  # the model's layers (blocks), from its header
    memory_mapped: bool = True  # the weights are mapped from the file (else read into memory)
    # Layers on other computers (llama.cpp RPC workers), in order; the rest run here.
    remote: tuple[RemoteLayers, ...] = ()


@dataclass(frozen=True)
class GenerationStats:
    """Timings of one reply.

    `tokens_per_second` is the generation speed after the first token (as llama.cpp reports it),
    so prompt processing doesn't hide it; `time_to_first_token` covers prompt processing.
    """

    prompt_tokens: int
    completion_tokens: int
    seconds: float
    time_to_first_token: float | None
    tokens_per_second: float
    finish_reason: FinishReason
    context_used: int = 0  # prompt + reply tokens now in the context


def _offloaded_layers(requested: int, layer_count: int | None, *, gpu_engine: bool) -> int:
    """How many layers llama.cpp put on a GPU: none without a GPU engine; -1 means all of them."""
    if not gpu_engine or requested == 0:
        return 0
    if layer_count is None:
        return requested
    return layer_count if requested < 0 else min(requested, layer_count)


def default_threads() -> int:
    """Physical cores: llama.cpp generation is memory-bound and hyperthreads slow it down.

    llama-cpp-python's own default is half the logical CPUs (1 on a 2-core machine), which
    measured ~10% slower here.
    """
    try:
        import psutil

        physical = psutil.cpu_count(logical=False)
    except Exception:  # noqa: BLE001 - any probe failure falls back to os.cpu_count
        physical = None
    return max(1, physical or os.cpu_count() or 1)


@dataclass
class _StreamControl:
    """Shared between a reply and its token stream: counts, and text to write for the model."""

    produced: int = 0
    context_used: int = 0
    injection: str = ""


class Reply:
    """One chat reply being generated: iterate it for ("reasoning"|"answer", text) pieces.

    `reasoning` and `answer` hold the text so far; `reasoning_seconds` is how long the model
    thought (set when the answer begins or the reply ends); `stats` is set when it ends.
    """

    def __init__(self, prompt: str, splitter: ReasoningSplitter) -> None:
        self.prompt = prompt
        self.stats: GenerationStats | None = None
        self.reasoning_seconds: float | None = None
        self._splitter = splitter
        self._reasoning: list[str] = []
        self._answer: list[str] = []
        self._pieces: Iterator[str] = iter(())
        self._control = _StreamControl()
        self._budget: int | None = None
        self._first_token_at: float | None = None

    def attach(
        self, pieces: Iterator[str], control: _StreamControl, reasoning_budget: int | None
    ) -> None:
        self._pieces = pieces
        self._control = control
        self._budget = reasoning_budget

    @property
    def tokens(self) -> int:
        """Tokens generated so far."""
        return self._control.produced

    @property
    def context_used(self) -> int:
        return self._control.context_used

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    @property
    def answer(self) -> str:
        return "".join(self._answer)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        reasoning_tokens = 0
        for text in self._pieces:
            if self._first_token_at is None:
                # Thinking time starts with the first token, after prompt processing.
                self._first_token_at = time.perf_counter()
            was_reasoning = self._splitter.in_reasoning
            yield from self._keep(self._splitter.feed(text))
            if was_reasoning:
                reasoning_tokens += 1
                if self._budget_spent(reasoning_tokens):
                    self._control.injection = self._splitter.forced_close
        yield from self._keep(self._splitter.flush())
        self._note_reasoning_end()

    def _budget_spent(self, reasoning_tokens: int) -> bool:
        return (
            self._budget is not None
            and reasoning_tokens >= self._budget
            and self._splitter.in_reasoning
            and not self._control.injection
        )

    def _keep(self, pieces: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
        for kind, text in pieces:
            if kind == REASONING:
                self._reasoning.append(text)
            else:
                self._note_reasoning_end()
                self._answer.append(text)
            yield kind, text

    def _note_reasoning_end(self) -> None:
        if self.reasoning_seconds is None and self._reasoning and self._first_token_at:
            self.reasoning_seconds = time.perf_counter() - self._first_token_at


class Engine:
    """Loads one GGUF model and streams replies from it."""

    def __init__(self, *, load_checks: Path | None = None) -> None:
        """`load_checks`: the file of remembered load checks (default: in the data folder)."""
        self._load_checks = load_checks
        self._llama: Llama | None = None  # with a split load, its vocabulary alone
        self._split: SplitChild | None = None  # the child holding a split load's weights
        self._model: LoadedModel | None = None
        self._header: GGUFHeader | None = None

    @property
    def model(self) -> LoadedModel | None:
        return self._model

    # --- loading ---------------------------------------------------------------------------------

    def load(
        self,
        path: str | Path,
        *,
        context_length: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        gpu_layers: int = 0,
        memory_map: bool = True,
        cancel: CancelToken | None = None,
        remote: tuple[RemoteLayers, ...] = (),
    ) -> LoadedModel:
        """Check and load `path`, replacing any loaded model.

        A file never loaded before is first loaded in a child process (`load_check`): a
        llama.cpp assert then ends the child, not this process. `cancel` stops that check.
        `memory_map`: map the weights from the file (False for files llama.cpp repacks, see
        `machine/repacking.py`). `remote`: layers to place on other computers' workers (their
        devices only: no local GPU beside them); llama.cpp aborts this process if one of them
        can't be reached, so they are probed first (`app/core/remote/workers.py`).

        Raises:
            ModelFileError: the file is missing, not a GGUF, truncated or corrupt (with the reason).
            ModelLoadError: llama.cpp refused a file that looked sound, aborted on it in the
                check, or its backends could not be loaded.
            LoadMemoryError: the model opened but its context couldn't be allocated, or a load
                with GPU layers failed (the file passed the CPU check: the GPU lacked room).
            TemplateBudgetError: its chat template runs away (past its time or memory budget).
        """
        path = Path(path)
        prestart_renderer()  # its start overlaps the checks; the thinking probe renders
        header = check_model_file(path)
        thinking = detect_profile(
            name=header.name,
            basename=_str_or_none(header.metadata.get("general.basename")),
            architecture=header.architecture,
            chat_template=header.chat_template,
        )
        ensure_loadable(path, self._load_checks_file(), cancel=cancel)
        self.unload()
        threads = threads or default_threads()
        trained = _int_or_none(header.metadata.get(f"{header.architecture}.context_length"))
        layers = _int_or_none(header.metadata.get(f"{header.architecture}.block_count"))
        context_length = usable_context(context_length, trained)
        started = time.perf_counter()
        from app.core.engine.backends import ensure_backends

        try:
            # The distribution build computes nothing until its backends load.
            engine = ensure_backends()
        except OSError as exc:
            log.warning("could not load the engine's backends error=%s", exc)
            raise ModelLoadError(path, _backend_failure_reason(exc)) from exc
        if remote:
            return self._load_split(
                path, header, thinking, context_length, threads, memory_map, remote, cancel
            )
        try:
            llama = open_llama(
                path,
                context_length=context_length,
                threads=threads,
                gpu_layers=gpu_layers,
                memory_map=memory_map,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            log.warning("llama.cpp refused model path=%s error=%s", path, exc)
            offloading = gpu_layers != 0 and engine.gpu_offload
            if _is_context_failure(exc) or offloading:
                raise LoadMemoryError(
                    path,
                    context=context_length,
                    gpu_layers=_offloaded_layers(gpu_layers, layers, gpu_engine=offloading),
                ) from exc
            raise ModelLoadError(path, _load_failure_reason(header)) from exc
        self._llama = llama
        self._header = header
        self._model = _loaded_model(
            path,
            header,
            thinking,
            # Never more than llama-cpp-python's token buffer holds (see `usable_context`).
            context_length=min(llama.n_ctx(), context_length),
            threads=threads,
            gpu_layers=_offloaded_layers(gpu_layers, layers, gpu_engine=engine.gpu_offload),
            started=started,
            memory_map=memory_map,
        )
        log.info(
            "loaded model path=%s ctx=%d threads=%d mmap=%s seconds=%.2f",
            path, self._model.context_length, threads, memory_map, self._model.load_seconds,
        )  # fmt: skip
        return self._model

    def _load_split(
        self,
        path: Path,
        header: GGUFHeader,
        thinking: ThinkingProfile,
        context_length: int,
        threads: int,
        memory_map: bool,
        remote: tuple[RemoteLayers, ...],
        cancel: CancelToken | None,
    ) -> LoadedModel:
        """Weights, cache and decoding in a child that places layers on the workers
        (`split.py` says why); here only the vocabulary, for prompts and token texts."""
        from llama_cpp import Llama

        started = time.perf_counter()
        child = SplitChild(remote)
        got = child.load(
            path,
            context_length=context_length,
            threads=threads,
            memory_map=memory_map,
            cancel=cancel,
        )
        from llama_cpp._utils import suppress_stdout_stderr

        try:
            # Its context has no trained length, and llama.cpp warns about it on stderr.
            with suppress_stdout_stderr(disable=False):
                vocabulary = Llama(model_path=str(path), vocab_only=True, verbose=False)
        except (ValueError, RuntimeError, OSError) as exc:
            child.close()
            raise ModelLoadError(path, _load_failure_reason(header)) from exc
        self._llama, self._header, self._split = vocabulary, header, child
        self._model = _loaded_model(
            path,
            header,
            thinking,
            context_length=min(got, context_length),
            threads=threads,
            gpu_layers=0,  # this computer's share runs on its CPU
            started=started,
            memory_map=memory_map,
            remote=remote,
        )
        log.info(
            "loaded split model path=%s ctx=%d workers=%s seconds=%.2f",
            path, self._model.context_length, [w.endpoint for w in remote],
            self._model.load_seconds,
        )  # fmt: skip
        return self._model

    def _load_checks_file(self) -> Path:
        if self._load_checks is not None:
            return self._load_checks
        from app.core.paths import app_paths

        return app_paths().data / VERDICTS_FILE

    def unload(self) -> None:
        """Free the model's memory now (not whenever the garbage collector runs)."""
        if self._split is not None:
            self._split.close()
            self._split = None
        if self._llama is not None:
            self._llama.close()
            log.info("unloaded model path=%s", self._model.path if self._model else None)
        self._llama = None
        self._model = None
        self._header = None

    # --- prompts ---------------------------------------------------------------------------------

    def render_plan(self, plan: PromptPlan, *, cancel: CancelToken | None = None) -> str:
        """The exact prompt text of a `PromptPlan`: its messages rendered, then its prefill.

        `cancel` ends a render in progress (a hostile template) when set.
        """
        return self._finished_prompt(plan, cancel=cancel)[0]

    def _finished_prompt(
        self, plan: PromptPlan, *, cancel: CancelToken | None = None
    ) -> tuple[str, bool]:
        """The prompt, and whether the reply starts inside the reasoning (`finish_prompt`)."""
        llama, model = self._require_model()
        if plan.plain_completion or model.chat_template is None:
            return plain_prompt(plan.messages) + plan.prefill, False
        rendered = render_chat(
            model.chat_template,
            plan.messages,
            bos_token=_token_text(llama, llama.token_bos()),
            eos_token=_token_text(llama, llama.token_eos()),
            special_tokens=self._other_special_tokens(llama),
            cancel=cancel,
            **plan.template_variables,
        )
        return finish_prompt(rendered, plan)

    def _other_special_tokens(self, llama: Llama) -> dict[str, str]:
        """`unk_token`/`pad_token` texts the GGUF names, as transformers passes them to templates."""
        metadata = self._header.metadata if self._header else {}
        tokens: dict[str, str] = {}
        for name, key in (("unk_token", "unknown"), ("pad_token", "padding")):
            token = metadata.get(f"tokenizer.ggml.{key}_token_id")
            if isinstance(token, int) and 0 <= token < llama.n_vocab():  # id 0 is a real token
                tokens[name] = _token_text(llama, token)
        return tokens

    def count_tokens(self, prompt: str) -> int:
        """How many context cells `prompt` takes."""
        llama, model = self._require_model()
        return len(self._tokenize_prompt(llama, model, prompt))

    # --- generation ------------------------------------------------------------------------------

    def start_reply(
        self, request: ReplyRequest, *, cancel: CancelToken | None = None
    ) -> tuple[PreparedReply, Reply]:
        """Plan `request`'s prompt, check it fits (leaving out old turns if allowed), and start
        the reply: the one way the GUI's engine worker and `quantdesk chat` begin a reply.

        `cancel` stops the reply (default: `request.cancel`), also while the template renders.

        Raises:
            EngineStateError: no model is loaded.
            ContextOverflowError: the conversation doesn't leave room for a reply.
            ChatTemplateError: the model's template can't render these messages.
        """
        _llama, model = self._require_model()
        cancel = cancel or request.cancel
        prepared = prepare_reply(
            request,
            model.thinking,
            model.context_length,
            lambda plan: self.count_tokens(self.render_plan(plan, cancel=cancel)),
        )
        reply = self.reply(
            prepared.plan,
            prepared.sampling,
            cancel=cancel,
            reasoning_budget=request.reasoning_budget,
        )
        return prepared, reply

    def reply(
        self,
        plan: PromptPlan,
        sampling: SamplingSettings | None = None,
        *,
        cancel: CancelToken | None = None,
        reasoning_budget: int | None = None,
    ) -> Reply:
        """Start a chat reply for `plan`, split into reasoning and answer as it streams.

        `reasoning_budget` caps the reasoning in tokens: when it runs out, `</think>` is written
        for the model and it goes on with the answer.

        Raises:
            EngineStateError, ContextOverflowError, ChatTemplateError: as `start_reply`.
        """
        llama, model = self._require_model()
        prompt, starts_in_reasoning = self._finished_prompt(plan, cancel=cancel)
        tokens = self._tokenize_prompt(llama, model, prompt)
        if len(tokens) >= model.context_length:
            raise ContextOverflowError(len(tokens), model.context_length)
        control = _StreamControl()
        splitter = ReasoningSplitter(starts_in_reasoning=starts_in_reasoning, tags=plan.tags)
        reply = Reply(prompt, splitter)
        pieces = self._stream(
            llama, model, tokens, sampling or SamplingSettings(), cancel, reply, control
        )
        reply.attach(pieces, control, reasoning_budget)
        return reply

    def _tokenize_prompt(self, llama: Llama, model: LoadedModel, prompt: str) -> list[int]:
        # Templates print the BOS text themselves when the model wants one; a base model's plain
        # prompt gets the BOS token the GGUF asks for (tokenizer.ggml.add_bos_token).
        add_bos = model.chat_template is None and self._wants_bos()
        return llama.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)

    def _wants_bos(self) -> bool:
        value = self._header.metadata.get("tokenizer.ggml.add_bos_token") if self._header else None
        return bool(value) if value is not None else True

    def _stream(
        self,
        llama: Llama,
        model: LoadedModel,
        prompt_tokens: list[int],
        sampling: SamplingSettings,
        cancel: CancelToken | None,
        reply: Reply,
        control: _StreamControl,
    ) -> Iterator[str]:
        """The reply's tokens as text, on llama.cpp's own decode and sampler chain
        (`decoding.TokenLoop`): a cancel check before and after every token."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        context = list(prompt_tokens)
        if sampling.seed is not None:
            # A seeded reply must repeat exactly: evaluate the whole prompt afresh, because
            # reusing the cached prefix changes the logits slightly and so the sampled tokens.
            llama.reset()
            if self._split is not None:
                self._split.ask({"op": "reset"})
        started = time.perf_counter()
        first_token_at: float | None = None
        produced = 0
        finish = FinishReason.LENGTH
        loop: TokenLoop | SplitLoop = (
            SplitLoop(self._split, sampling) if self._split else TokenLoop(llama, sampling)
        )
        pending: int | None = None  # sampled and shown, not yet written into the cache
        try:
            if cancel is None or not cancel.cancelled:  # stopped before it began: no prompt work
                loop.prefill(context)
            while produced < sampling.max_tokens and len(context) < model.context_length:
                if cancel is not None and cancel.cancelled:
                    finish = FinishReason.CANCELLED
                    break
                if pending is not None:
                    loop.advance(pending)
                    pending = None
                if control.injection:
                    # Write text for the model (e.g. </think> when the reasoning budget ran
                    # out), then sample after it.
                    forced, control.injection = control.injection, ""
                    written = llama.tokenize(forced.encode("utf-8"), add_bos=False, special=True)
                    loop.feed(written)
                    context += written
                    yield forced
                    continue
                token = loop.sample()
                if first_token_at is None:
                    first_token_at = time.perf_counter()
                if loop.ends(token):
                    finish = FinishReason.STOP
                    break
                produced += 1
                context.append(token)
                pending = token
                control.produced = produced
                control.context_used = len(context)
                # Families whose tags are special tokens (harmony's channels) need them printed.
                piece = decoder.decode(
                    loop.piece(token, special=model.thinking.tags.special_tokens)
                )
                if piece:
                    yield piece
                if cancel is not None and cancel.cancelled:
                    finish = FinishReason.CANCELLED
                    break
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
        finally:
            loop.close()
            ended = time.perf_counter()
            reply.stats = replace(
                _stats(len(prompt_tokens), produced, started, first_token_at, ended, finish),
                context_used=len(context),
            )
            log.info(
                "generated tokens=%d prompt_tokens=%d seconds=%.2f finish=%s",
                produced, len(prompt_tokens), ended - started, finish,
            )  # fmt: skip

    # --- speed ------------------------------------------------------------------------------------

    def benchmark(
        self,
        *,
        cancel: CancelToken | None = None,
        progress: Callable[[float], None] | None = None,
        budget_seconds: float | None = None,
    ) -> BenchmarkResult:
        """About ten seconds (`budget_seconds`) measuring the loaded model's speed
        (`benchmark.run_benchmark`).

        Raises:
            EngineStateError: no model is loaded.
            BenchmarkCancelledError: `cancel` was set.
        """
        from app.core.engine.benchmark import run_benchmark

        llama, model = self._require_model()
        if self._split is not None:
            raise RemoteWorkerError(
                "Measure speed times a model this computer holds alone; this one is split "
                "across other computers (its replies show their speed)."
            )
        return run_benchmark(llama, context=model.context_length, cancel=cancel, progress=progress)

    def _require_model(self) -> tuple[Llama, LoadedModel]:
        if self._llama is None or self._model is None:
            raise EngineStateError("No model is loaded.")
        return self._llama, self._model


def _loaded_model(
    path: Path,
    header: GGUFHeader,
    thinking: ThinkingProfile,
    *,
    context_length: int,
    threads: int,
    gpu_layers: int,
    started: float,
    memory_map: bool,
    remote: tuple[RemoteLayers, ...] = (),
) -> LoadedModel:
    """What a finished load says about itself, from the file's header and the load's facts."""
    architecture = header.architecture
    return LoadedModel(
        path=path,
        display_name=header.name or path.stem,
        architecture=architecture,
        chat_template=header.chat_template,
        file_size=path.stat().st_size,
        context_length=context_length,
        trained_context_length=_int_or_none(header.metadata.get(f"{architecture}.context_length")),
        threads=threads,
        gpu_layers=gpu_layers,
        layer_count=_int_or_none(header.metadata.get(f"{architecture}.block_count")),
        load_seconds=time.perf_counter() - started,
        quant=parse_quant(path.name)
        or quant_from_file_type(header.metadata.get("general.file_type")),
        thinking=thinking,
        memory_mapped=memory_map,
        remote=remote,
    )


def _stats(
    prompt_tokens: int,
    produced: int,
    started: float,
    first_token_at: float | None,
    ended: float,
    finish: FinishReason,
) -> GenerationStats:
    seconds = ended - started
    if first_token_at is not None and produced > 1 and ended > first_token_at:
        speed = (produced - 1) / (ended - first_token_at)
    else:
        speed = produced / seconds if seconds > 0 else 0.0
    return GenerationStats(
        prompt_tokens=prompt_tokens,
        completion_tokens=produced,
        seconds=seconds,
        time_to_first_token=None if first_token_at is None else first_token_at - started,
        tokens_per_second=speed,
        finish_reason=finish,
    )


def _token_text(llama: Llama, token: int) -> str:
    if token < 0:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="replace")


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def usable_context(asked: int, trained: int | None) -> int:
    """The context to ask llama.cpp for: at most what the model was trained on, rounded up to
    the step llama.cpp pads every context to (so at least one step, even for a header that
    declares 64).

    llama.cpp gives a context of the padded size whatever is asked, while llama-cpp-python
    sizes its token buffer by the number asked: asking 64 (or 300) and sending a longer prompt
    made llama.cpp accept it and llama-cpp-python fail mid-reply with a ValueError ("could not
    broadcast input array from shape (64,) into shape (0,)"). Asking the padded size makes
    the two agree. A model trained on less than one step runs past its training, as llama.cpp
    itself would run it (it logs "possible training context overflow").
    """
    if trained and trained > 0:
        asked = min(asked, trained)
    steps = max(1, -(-asked // LLAMA_CONTEXT_STEP))
    return steps * LLAMA_CONTEXT_STEP


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def _is_context_failure(error: Exception) -> bool:
    """llama-cpp-python's words when the model opened but its context (KV cache, scratch)
    could not be made: after a sound file's load, a failed allocation."""
    return "llama_context" in str(error)


def _backend_failure_reason(error: OSError) -> str:
    return (
        f"the engine's llama.cpp libraries could not be loaded ({error}). "
        "Reinstall Quantdesk, or remove the GPU engine in Settings and try again."
    )


def _load_failure_reason(header: GGUFHeader) -> str:
    arch = header.architecture or "unknown"
    return (
        f"llama.cpp could not load it (architecture '{arch}'). The file may need a newer "
        "Quantdesk, or it may be damaged: download it again."
    )
