"""One token per step on llama.cpp's own decode and sampler chain.

A reply's hot loop: decode the last token, let llama.cpp's sampler chain pick the next one, turn
it into text. llama-cpp-python's `Llama.generate` does the same work with Python around every
step (a generator, a sampler rebuilt per reply by keyword, a KV-cache trim, a batch filled field
by field, a NumPy write, a per-token detokenize that allocates its buffer); here each step is
three C calls and two list/array writes, so the app runs close to `llama-bench`
(`bench/bench_engine.py`, `docs/performance.md`).

The prompt itself still goes through `Llama.eval` (one call per 512 tokens, not per token), and
the `Llama` object's record of what its cache holds (`input_ids`, `n_tokens`) is kept exact, so
the next reply reuses the cached prefix the same way and `benchmark.py` sees the same state.
"""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

from app.core.chat.prompting import SamplingSettings

if TYPE_CHECKING:
    from llama_cpp import Llama

# llama-cpp-python's window for the repeat penalty (its `last_n_tokens_size`): kept, so a
# reply's penalty is what it was before the loop moved to llama.cpp's sampler chain.
PENALTY_LAST_N = 64
# Room for one token's text; llama.cpp says how much it needs when a piece is longer.
PIECE_BUFFER = 64


class SamplerChain:
    """llama.cpp's sampler chain for one reply's `SamplingSettings`, in the order llama-cpp-python
    builds it (penalties, top-k, top-p, min-p, temperature, then a seeded draw), or greedy at
    temperature 0. Free it with `close` (a reply's `finally`)."""

    def __init__(self, sampling: SamplingSettings, n_vocab: int) -> None:
        import llama_cpp as lib

        self._lib = lib
        self.pointer = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        add = lib.llama_sampler_chain_add
        # Takes the vocabulary size first in this llama.cpp; 1.0 / 0 / 0 switch it off.
        add(self.pointer, lib.llama_sampler_init_penalties(
            n_vocab, PENALTY_LAST_N, sampling.repeat_penalty, 0.0, 0.0
        ))  # fmt: skip
        if sampling.temperature <= 0:
            add(self.pointer, lib.llama_sampler_init_greedy())
            return
        add(self.pointer, lib.llama_sampler_init_top_k(sampling.top_k))
        add(self.pointer, lib.llama_sampler_init_top_p(sampling.top_p, 1))
        add(self.pointer, lib.llama_sampler_init_min_p(sampling.min_p, 1))
        add(self.pointer, lib.llama_sampler_init_temp(sampling.temperature))
        # No seed: llama.cpp draws a fresh one (LLAMA_DEFAULT_SEED), so each reply differs.
        seed = lib.LLAMA_DEFAULT_SEED if sampling.seed is None else sampling.seed & 0xFFFFFFFF
        add(self.pointer, lib.llama_sampler_init_dist(seed))

    def close(self) -> None:
        if self.pointer is not None:
            self._lib.llama_sampler_free(self.pointer)
            self.pointer = None


class TokenLoop:
    """Decode and sample one token at a time on `llama`'s context, for one reply.

    `prefill(tokens)` brings the cache to `tokens` (reusing the prefix it already holds), then
    `sample()` gives the next token and `advance(token)` writes it into the cache; `feed(tokens)`
    writes several (text written for the model, e.g. `</think>`). Each `sample` sees the logits of
    the last token written.
    """

    def __init__(self, llama: Llama, sampling: SamplingSettings) -> None:
        import llama_cpp as lib
        import numpy  # llama-cpp-python's own dependency; imported late like llama_cpp

        self._llama = llama
        self._ctx = llama.ctx
        self._vocab = llama._model.vocab
        self._decode = lib.llama_decode
        self._sample = lib.llama_sampler_sample
        self._is_eog = lib.llama_vocab_is_eog
        self._to_piece = lib.llama_token_to_piece
        self._piece = ctypes.create_string_buffer(PIECE_BUFFER)
        # One token per step: positions follow the cache (llama.cpp fills them in), and only
        # that token's logits are computed, as in llama-bench's generation test.
        self._one = (lib.llama_token * 1)()
        self._batch_one = lib.llama_batch_get_one(self._one, 1)
        self._chain = SamplerChain(sampling, llama.n_vocab())
        # Greedy without a penalty needs no chain: the first highest logit, as llama.cpp's greedy
        # sampler picks it, read in place (the chain first copies every logit into a candidate
        # list: 49,152 of them for SmolLM2, about 1 % of a token's time on this machine).
        self._argmax = sampling.temperature <= 0 and sampling.repeat_penalty == 1.0
        self._logits = lib.llama_get_logits_ith
        self._as_array = numpy.ctypeslib.as_array
        self._n_vocab = llama.n_vocab()

    def close(self) -> None:
        self._chain.close()

    def prefill(self, tokens: list[int]) -> int:
        """Bring the cache to `tokens`, evaluating only what it doesn't hold yet; the number of
        tokens evaluated. At least the last token is evaluated, for fresh logits."""
        llama = self._llama
        cached = min(_common_prefix(llama.input_ids, llama.n_tokens, tokens), len(tokens) - 1)
        # Cells past the shared prefix are removed by `Llama.eval` before it writes new ones.
        llama.n_tokens = cached
        llama.eval(tokens[cached:])
        return len(tokens) - cached

    def feed(self, tokens: list[int]) -> None:
        """Write `tokens` after what the cache holds (the next `sample` follows the last)."""
        if tokens:
            self._llama.eval(tokens)

    def advance(self, token: int) -> None:
        """Write one sampled token into the cache: the one llama.cpp call per generated token.

        Raises:
            RuntimeError: llama.cpp couldn't decode it (as `Llama.eval` says it).
        """
        llama = self._llama
        self._one[0] = token
        code = self._decode(self._ctx, self._batch_one)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        llama.input_ids[llama.n_tokens] = token
        llama.n_tokens += 1

    def sample(self) -> int:
        """The next token from the last written token's logits (the chain records it for its
        repeat penalty)."""
        if self._argmax:
            logits = self._as_array(self._logits(self._ctx, -1), shape=(self._n_vocab,))
            return int(logits.argmax())
        return int(self._sample(self._chain.pointer, self._ctx, -1))

    def ends(self, token: int) -> bool:
        """Whether `token` ends generation (EOS, end of turn, …: the vocabulary's own list)."""
        return bool(self._is_eog(self._vocab, token))

    def piece(self, token: int, *, special: bool = False) -> bytes:
        """`token`'s text as bytes (a UTF-8 character may span tokens); special tokens' names only
        when `special` (a family whose reasoning tags are special tokens)."""
        size = self._to_piece(self._vocab, token, self._piece, PIECE_BUFFER, 0, special)
        if size >= 0:
            return self._piece.raw[:size]
        bigger = ctypes.create_string_buffer(-size)  # llama.cpp says how much it needs
        size = self._to_piece(self._vocab, token, bigger, -size, 0, special)
        return bigger.raw[: max(size, 0)]


def _common_prefix(cached: object, cached_count: int, tokens: list[int]) -> int:
    """How many leading tokens of `tokens` the cache already holds (`cached[:cached_count]`)."""
    held = cached[:cached_count].tolist()  # type: ignore[index]
    shared = 0
    for old, new in zip(held, tokens, strict=False):
        if old != new:
            break
        shared += 1
    return shared
