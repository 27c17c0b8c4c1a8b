"""A model split across this computer and other computers' workers decodes in a child process.

llama.cpp's RPC client ends its whole process when a worker stops answering in the middle of a
step (`RPC_STATUS_ASSERT` → `GGML_ABORT` in ggml-rpc.cpp). In the app's own process that would
close the window and take the reply on screen with it. So a split load lives in a child
(`quantdesk __split-engine`) that holds the weights, the KV cache and the sampler chain; this
process keeps only the vocabulary (a `vocab_only` load: tokenizing and rendering prompts) and
asks the child for one step at a time. A step costs a line each way over a pipe (tens of µs)
against milliseconds per token over a network. When the child dies the reply ends with a
sentence naming the computer that went away; every token shown so far stays.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from app.core._util.cancel import CancelToken
from app.core._util.child import PersistentChild
from app.core.chat.prompting import SamplingSettings
from app.core.engine.rpc import RemoteLayers, answers, hold, release
from app.core.errors import ChildWorkError, ModelLoadError, RemoteWorkerError

if TYPE_CHECKING:
    from pathlib import Path

    from llama_cpp import Llama

    from app.core.engine.decoding import TokenLoop

log = logging.getLogger(__name__)

SPLIT_COMMAND = "__split-engine"
# A big model's layers go over the network at load; a long prompt's first step may be slow on
# slow workers. Past these the child is taken for hung.
LOAD_SECONDS = 1800.0
STEP_SECONDS = 600.0
# How long a worker gets to accept a connection when the child died and we ask which one left.
GONE_CHECK_SECONDS = 1.0


class SplitChild:
    """The child that holds a split model; one request at a time, from the engine's thread."""

    def __init__(self, remote: tuple[RemoteLayers, ...]) -> None:
        self._remote = remote
        self._endpoints = [worker.endpoint for worker in remote]
        self._child = PersistentChild([SPLIT_COMMAND])
        self.dead = False

    def load(
        self,
        path: Path,
        *,
        context_length: int,
        threads: int,
        memory_map: bool,
        cancel: CancelToken | None = None,
    ) -> int:
        """Load `path` in the child, its layers placed as `remote` says; the context it got.

        Raises:
            ModelLoadError: llama.cpp refused the file or the split.
            RemoteWorkerError: a worker went away during the load.
        """
        hold(self._endpoints)
        answer = self.ask(
            {
                "op": "load",
                "path": str(path),
                "context": context_length,
                "threads": threads,
                "mmap": memory_map,
                "remote": [[worker.endpoint, worker.layers] for worker in self._remote],
            },
            deadline_seconds=LOAD_SECONDS,
            cancel=cancel,
        )
        if "error" in answer:
            self.close()
            raise ModelLoadError(path, answer["error"])
        return int(answer["context_length"])

    def ask(
        self,
        payload: dict[str, Any],
        *,
        deadline_seconds: float = STEP_SECONDS,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        """One request to the child.

        Raises:
            RemoteWorkerError: the child died (a worker went away) or hung; it is not restarted.
            ChildWorkError: `cancel` was set during the request (a load stopped by the person).
        """
        if self.dead:  # a reply after the one that met the loss
            raise RemoteWorkerError(
                "This model can't reply any more: a computer holding part of it stopped "
                "answering. Load the model again to go on without it.",
                address=self._gone_address(),
            )
        try:
            return self._child.request(payload, deadline_seconds=deadline_seconds, cancel=cancel)
        except ChildWorkError as failure:
            if failure.why == "stopped":
                self.close()
                raise
            self.dead = True
            self.close()
            log.warning("split engine child ended why=%s last=%s", failure.why, failure.last_line)
            raise RemoteWorkerError(self._gone_sentence(), address=self._gone_address()) from None

    def close(self) -> None:
        self._child.close()
        release(self._endpoints)

    def _gone_address(self) -> str:
        gone = self._gone()
        return gone[0] if gone else ""

    def _gone(self) -> list[str]:
        return [
            worker.endpoint
            for worker in self._remote
            if not answers(worker.endpoint, timeout=GONE_CHECK_SECONDS)
        ]

    def _gone_sentence(self) -> str:
        gone = self._gone()
        who = (
            f"the computer at {', '.join(gone)} stopped answering"
            if gone
            else "a computer holding part of the model stopped answering"
        )
        return (
            f"The reply stopped here: {who}. What was written is kept; load the model again "
            "to go on without it."
        )


class SplitLoop:
    """`decoding.TokenLoop`'s steps, taken by the child. The child answers a sampled token with
    its text and whether it ends the reply, so `ends` and `piece` cost no second request."""

    def __init__(self, child: SplitChild, sampling: SamplingSettings) -> None:
        self._child = child
        self._last: dict[str, Any] = {}
        child.ask({"op": "begin", "sampling": sampling.as_dict()})

    def close(self) -> None:
        if not self._child.dead:
            with contextlib.suppress(RemoteWorkerError):  # reported by the step that met it
                self._child.ask({"op": "end"})

    def prefill(self, tokens: list[int]) -> int:
        return int(self._child.ask({"op": "prefill", "tokens": tokens})["evaluated"])

    def feed(self, tokens: list[int]) -> None:
        if tokens:
            self._child.ask({"op": "feed", "tokens": tokens})

    def advance(self, token: int) -> None:
        self._child.ask({"op": "advance", "token": token})

    def sample(self) -> int:
        self._last = self._child.ask({"op": "sample"})
        return int(self._last["token"])

    def ends(self, token: int) -> bool:
        return bool(self._about(token)["ends"])

    def piece(self, token: int, *, special: bool = False) -> bytes:
        return bytes.fromhex(self._about(token)["special_piece" if special else "piece"])

    def _about(self, token: int) -> dict[str, Any]:
        if self._last.get("token") != token:
            self._last = self._child.ask({"op": "about", "token": token})
        return self._last


def open_llama(
    path: Path,
    *,
    context_length: int,
    threads: int,
    gpu_layers: int,
    memory_map: bool,
    remote: tuple[RemoteLayers, ...] = (),
) -> Llama:
    """The one place a model's weights are opened with llama.cpp (here or in the child): on
    this computer's devices, or with layers on the workers in `remote`."""
    from llama_cpp import Llama

    from app.core.engine.rpc import devices_for_next_load, plan_devices

    plan = plan_devices(remote) if remote else None
    with devices_for_next_load(plan.handles) if plan else contextlib.nullcontext():
        return Llama(
            model_path=str(path),
            n_ctx=context_length,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=plan.layers if plan else gpu_layers,
            tensor_split=list(plan.shares) if plan else None,
            use_mmap=memory_map,
            verbose=False,
        )


def serve_split(args: Sequence[str], stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The child's side (`quantdesk __split-engine`): answer the parent's requests, a JSON line
    each way, until its stdin closes. A worker lost mid-step aborts this process, which is the
    point: the parent reads the end of the pipe and says so."""
    del args
    from app.core.engine.backends import ensure_backends
    from app.core.engine.decoding import TokenLoop

    ensure_backends()
    _answer(stdout, {"ready": True})
    llama: Llama | None = None
    loop: TokenLoop | None = None
    for line in stdin:
        request = json.loads(line)
        op = request["op"]
        if op == "load":
            try:
                llama = open_llama(
                    request["path"],
                    context_length=request["context"],
                    threads=request["threads"],
                    gpu_layers=0,
                    memory_map=request["mmap"],
                    remote=tuple(RemoteLayers(e, n) for e, n in request["remote"]),
                )
            except (ValueError, RuntimeError, OSError) as exc:
                _answer(stdout, {"error": f"llama.cpp refused the split load ({exc})"})
                continue
            _answer(stdout, {"context_length": llama.n_ctx()})
            continue
        assert llama is not None, "load first"
        if op == "begin":
            loop = TokenLoop(llama, SamplingSettings(**request["sampling"]))
            _answer(stdout, {})
            continue
        if op == "reset":
            llama.reset()
            _answer(stdout, {})
            continue
        assert loop is not None, "begin first"
        if op == "prefill":
            _answer(stdout, {"evaluated": loop.prefill(request["tokens"])})
        elif op == "feed":
            loop.feed(request["tokens"])
            _answer(stdout, {})
        elif op == "advance":
            loop.advance(request["token"])
            _answer(stdout, {})
        elif op in ("sample", "about"):
            token = loop.sample() if op == "sample" else int(request["token"])
            _answer(
                stdout,
                {
                    "token": token,
                    "ends": loop.ends(token),
                    "piece": loop.piece(token).hex(),
                    # Families whose reasoning tags are special tokens print them (harmony).
                    "special_piece": loop.piece(token, special=True).hex(),
                },
            )
        elif op == "end":
            loop.close()
            loop = None
            _answer(stdout, {})
    return 0


def _answer(stdout: IO[bytes], payload: dict[str, Any]) -> None:
    stdout.write(json.dumps(payload).encode("utf-8") + b"\n")
    stdout.flush()


def serve_split_here(args: Sequence[str]) -> int:
    """Entry point of the hidden command."""
    return serve_split(args, sys.stdin.buffer, sys.stdout.buffer)
