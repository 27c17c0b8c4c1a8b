"""The GGUF check under fuzzed headers: a seeded property test (issue 14's fuzzing, kept).

Each case mutates the header bytes of a real model (the test model, and a small synthetic file
written with llama.cpp's `gguf` writer): random bytes, bit flips, lengths and counts set to
extremes, spans cut out or repeated. Whatever the bytes, the check must end in a header or our
`ModelFileError` (never RecursionError, MemoryError or another crash), within 5 s and 500 MB, with
a message under 300 characters on one line. The seed is fixed, so a failure replays exactly.
"""

from __future__ import annotations

import random
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import ModelFileError
from app.core.gguf.header import check_model_file

SEED = 14
REAL_CASES = 200
SYNTHETIC_CASES = 800
SECONDS_PER_FILE = 5.0
MEMORY_PER_FILE = 500 << 20
MESSAGE_LIMIT = 300
# Numbers that break parsers: zero, one, type codes, sign bits, all ones.
_EXTREMES_32 = (0, 1, 2, 8, 9, 13, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF)
_EXTREMES_64 = (0, 1, 63, 64, 0xFFFF, 10**7, 2**31, 2**32 - 1, 2**62, 2**63, 2**64 - 1)


def _peak_rss_bytes() -> int:
    """The process's peak resident memory so far (Linux reports KiB, macOS bytes)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _mutate(rng: random.Random, data: bytes, hot: list[range]) -> bytes:
    """`data` with one to four edits, mostly inside the `hot` ranges (counts, lengths, tables)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        zone = rng.choice(hot) if rng.random() < 0.8 else range(len(out))
        pos = rng.choice(zone) if zone else 0
        pos = min(pos, max(len(out) - 1, 0))
        kind = rng.randrange(6)
        if kind == 0:
            out[pos] = rng.randrange(256)
        elif kind == 1:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == 2:
            out[pos : pos + 4] = struct.pack("<I", rng.choice(_EXTREMES_32))
        elif kind == 3:
            out[pos : pos + 8] = struct.pack("<Q", rng.choice(_EXTREMES_64))
        elif kind == 4:
            del out[pos : pos + rng.randint(1, 64)]
        else:
            span = out[pos : pos + rng.randint(1, 64)]
            out[pos:pos] = span * rng.randint(1, 50)
    return bytes(out)


def _cases(rng: random.Random, data: bytes, hot: list[range], count: int) -> Iterator[bytes]:
    for _ in range(count):
        yield _mutate(rng, data, hot)


def _check_one(path: Path, case: int, baseline_rss: int) -> None:
    started = time.perf_counter()
    try:
        check_model_file(path)
    except ModelFileError as error:
        message = str(error)
        assert len(message) < MESSAGE_LIMIT, f"case {case}: a {len(message)}-character message"
        assert "\n" not in message, f"case {case}: a message of several lines"
    elapsed = time.perf_counter() - started
    assert elapsed < SECONDS_PER_FILE, f"case {case}: {elapsed:.1f} s"
    grown = _peak_rss_bytes() - baseline_rss
    assert grown < MEMORY_PER_FILE, f"case {case}: memory grew by {grown >> 20} MiB"


def _write(path: Path, header: bytes, size: int) -> None:
    """The mutated header, then a hole up to the original file size (a sparse file)."""
    with path.open("wb") as out:
        out.write(header)
        out.truncate(max(size, len(header)))


@pytest.mark.skipif(sys.platform == "win32", reason="peak memory is read with `resource`")
def test_fuzzed_headers_of_the_test_model(tiny_model: Path, tmp_path: Path) -> None:
    header = check_model_file(tiny_model)
    with tiny_model.open("rb") as stream:
        data = stream.read(header.data_offset)
    size = tiny_model.stat().st_size
    # The counts and the first keys, the tokenizer's array headers, and the tensor table.
    tokens_at = data.find(b"tokenizer.ggml.tokens")
    merges_at = data.find(b"tokenizer.ggml.merges")
    table_at = data.find(b"token_embd.weight") - 8
    hot = [
        range(0, 1200),
        range(tokens_at, tokens_at + 64),
        range(merges_at, merges_at + 64),
        range(table_at, len(data)),
    ]
    rng = random.Random(SEED)
    baseline = _peak_rss_bytes()
    path = tmp_path / "fuzzed.gguf"
    for case, mutated in enumerate(_cases(rng, data, hot, REAL_CASES)):
        _write(path, mutated, size)
        _check_one(path, case, baseline)


@pytest.mark.skipif(sys.platform == "win32", reason="peak memory is read with `resource`")
def test_fuzzed_headers_of_a_small_synthetic_model(tmp_path: Path) -> None:
    source = _synthetic_model(tmp_path / "synthetic.gguf")
    data = source.read_bytes()
    header = check_model_file(source)
    hot = [range(0, header.data_offset)]
    rng = random.Random(SEED)
    baseline = _peak_rss_bytes()
    path = tmp_path / "fuzzed.gguf"
    for case, mutated in enumerate(_cases(rng, data, hot, SYNTHETIC_CASES)):
        _write(path, mutated, len(data))
        _check_one(path, case, baseline)


def _synthetic_model(path: Path) -> Path:
    """Every kind of metadata value (long and short arrays, nested ones) and a few tensors."""
    import numpy as np
    from gguf import GGUFWriter

    writer = GGUFWriter(str(path), arch="llama")
    writer.add_name("Synthetic")
    writer.add_uint32("llama.block_count", 2)
    writer.add_float32("llama.rope.freq_base", 10000.0)
    writer.add_bool("tokenizer.ggml.add_bos_token", True)
    writer.add_array("tokenizer.ggml.tokens", [f"t{i}" for i in range(300)])
    writer.add_array("tokenizer.ggml.token_type", list(range(300)))
    writer.add_array("llama.attention.head_count_kv", [2, 4])
    writer.add_array("nested", [[1, 2], [3]])
    writer.add_string("tokenizer.chat_template", "{{ messages }}")
    for name in ("token_embd.weight", "blk.0.attn_q.weight", "output.weight"):
        writer.add_tensor(name, np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
