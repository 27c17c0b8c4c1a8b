from __future__ import annotations

import io
import struct
import time
from pathlib import Path

import pytest

from app.core.errors import ModelFileError
from app.core.gguf.header import MAX_ARRAY_ITEMS, ArraySummary, check_model_file, read_header
from tests.conftest import BROKEN_REASONS


def _gguf_bytes(*, version: int = 3, kv: bytes = b"", n_kv: int = 0, n_tensors: int = 0) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv) + kv


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def test_real_model_header_is_read_completely(tiny_model: Path) -> None:
    header = check_model_file(tiny_model)
    assert header.version == 3
    assert header.architecture == "llama"
    assert "smollm2" in (header.name or "").lower()
    assert "<|im_start|>" in (header.chat_template or "")
    assert header.metadata["llama.context_length"] == 8192
    assert isinstance(header.metadata["tokenizer.ggml.tokens"], ArraySummary)
    assert header.metadata["tokenizer.ggml.tokens"].length == 49152
    assert len(header.tensors) > 0
    # The tensor table accounts for every byte of a complete file.
    assert header.expected_size == tiny_model.stat().st_size


def test_header_reads_from_a_stream_without_size(tiny_model: Path) -> None:
    # Remote header reads give the first bytes of a file as a stream, no file size.
    with tiny_model.open("rb") as stream:
        head = stream.read(3_000_000)
    header = read_header(io.BytesIO(head))
    assert header.architecture == "llama"


@pytest.mark.parametrize("kind", sorted(BROKEN_REASONS))
def test_broken_files_are_reported_with_their_reason(
    broken_models: dict[str, Path], kind: str
) -> None:
    path = broken_models[kind]
    with pytest.raises(ModelFileError) as caught:
        check_model_file(path)
    assert caught.value.path == path
    assert BROKEN_REASONS[kind] in caught.value.reason
    assert str(caught.value).startswith(f"Can't open {path.name}: ")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="file not found"):
        check_model_file(tmp_path / "nope.gguf")
    with pytest.raises(ModelFileError, match="folder"):
        check_model_file(tmp_path)


def test_unsupported_version(tmp_path: Path) -> None:
    path = tmp_path / "v99.gguf"
    path.write_bytes(_gguf_bytes(version=99) + bytes(64))
    with pytest.raises(ModelFileError, match="unsupported GGUF version 99"):
        check_model_file(path)


def test_string_longer_than_the_file_is_corrupt_not_a_huge_allocation(tmp_path: Path) -> None:
    path = tmp_path / "liar.gguf"
    kv = struct.pack("<Q", 2**62) + b"x"
    path.write_bytes(_gguf_bytes(kv=kv, n_kv=1) + bytes(64))
    with pytest.raises(ModelFileError, match="header is corrupt"):
        check_model_file(path)


def test_implausible_counts_are_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "counts.gguf"
    path.write_bytes(_gguf_bytes(n_kv=2**60) + bytes(64))
    with pytest.raises(ModelFileError, match="header is corrupt"):
        check_model_file(path)


def test_unknown_value_type_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "type.gguf"
    kv = _string("general.name") + struct.pack("<I", 77)
    path.write_bytes(_gguf_bytes(kv=kv, n_kv=1) + bytes(64))
    with pytest.raises(ModelFileError, match="unknown metadata value type 77"):
        check_model_file(path)


def test_header_without_tensors_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vocab-only.gguf"
    kv = _string("general.name") + struct.pack("<I", 8) + _string("x")
    path.write_bytes(_gguf_bytes(kv=kv, n_kv=1))
    with pytest.raises(ModelFileError, match="no tensors"):
        check_model_file(path)


# --- hostile headers (issue 14): bounded strings, bounded cost, always our error ----------------

N_DIMS_OFFSET = 1_780_504  # blk.27.ffn_up.weight's n_dims (2) in the test model


def _hostile_copy(tiny_model: Path, folder: Path, edits: dict[int, bytes]) -> Path:
    """The test model with bytes replaced; the data past the header stays a hole (sparse)."""
    with tiny_model.open("rb") as stream:
        header_bytes = bytearray(stream.read(check_model_file(tiny_model).data_offset))
    for offset, data in edits.items():
        header_bytes[offset : offset + len(data)] = data
    path = folder / "edited.gguf"
    with path.open("wb") as out:
        out.write(header_bytes)
        out.truncate(tiny_model.stat().st_size)
    return path


def _refused_quickly(path: Path, *, match: str, seconds: float = 2.0) -> ModelFileError:
    started = time.perf_counter()
    with pytest.raises(ModelFileError, match=match) as caught:
        check_model_file(path)
    assert time.perf_counter() - started < seconds
    assert len(str(caught.value)) < 300 and "\n" not in str(caught.value)
    return caught.value


def test_one_wrong_n_dims_fails_fast_with_a_short_message(tiny_model: Path, tmp_path: Path) -> None:
    # n_dims 2 -> 1 makes the next tensor's name length land on tens of MB of weights.
    path = _hostile_copy(tiny_model, tmp_path, {N_DIMS_OFFSET: struct.pack("<I", 1)})
    error = _refused_quickly(path, match="header is corrupt: a tensor name claims")
    assert "at most 63\u00a0B" in error.reason


def test_a_long_general_name_is_one_short_line(tmp_path: Path) -> None:
    name = "Spoof\n\x1b[31mred\x07" + "x" * 1_000_000
    path = _gguf_file(tmp_path, {"general.architecture": "llama", "general.name": name})
    header = check_model_file(path)
    assert header.name is not None and len(header.name) <= 200
    assert header.name.startswith("Spoof\\n\\x1b[31mred\\x07x") and header.name.endswith("…")
    assert header.architecture == "llama"


def test_a_text_field_over_the_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = _gguf_file(tmp_path, {"general.architecture": "a" * 30_000_000})
    _refused_quickly(path, match="a text field claims 28.6\u00a0MiB")


def test_ten_million_empty_tensor_entries_are_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many-tensors.gguf"
    with path.open("wb") as out:
        out.write(_gguf_bytes(n_tensors=10_000_000))
        out.truncate(240_000_100)  # 24 bytes of zeros is a valid empty tensor entry
    _refused_quickly(path, match="claims 10,000,000 tensors")


def test_deeply_nested_arrays_are_our_error_not_a_recursion_error(tmp_path: Path) -> None:
    # 5,000 arrays, each holding the next: 60 KB.
    nested = struct.pack("<IQ", 9, 1) * 5000 + struct.pack("<IQ", 4, 0)
    path = tmp_path / "nested.gguf"
    path.write_bytes(
        _gguf_bytes(kv=_string("k") + struct.pack("<I", 9) + nested, n_kv=1) + bytes(64)
    )
    _refused_quickly(path, match="nested more than 2 deep")


def test_millions_of_empty_nested_arrays_are_refused_at_once(tmp_path: Path) -> None:
    # 3.9 M empty arrays inside one array: within every count, 47 MB, 15 s of parsing.
    count = 3_900_000
    kv = _string("k") + struct.pack("<IIQ", 9, 9, count)
    path = tmp_path / "arrays.gguf"
    with path.open("wb") as out:
        out.write(_gguf_bytes(kv=kv, n_kv=1, n_tensors=1))
        out.truncate(out.tell() + 12 * count + 64)
    _refused_quickly(path, match="over 65,536 arrays inside arrays")


def test_what_the_header_keeps_in_memory_is_bounded(tmp_path: Path) -> None:
    # 5,000 keys, each a 256-item array of u32: 5.2 MB of file, 1.3 M Python ints kept.
    kv = b"".join(
        _string(f"k{i}") + struct.pack("<IIQ", 9, 4, 256) + bytes(4 * 256) for i in range(5000)
    )
    path = tmp_path / "kept.gguf"
    path.write_bytes(_gguf_bytes(kv=kv, n_kv=5000) + bytes(64))
    _refused_quickly(path, match="short arrays hold over 1,000,000 items")
    # Five 16 MB texts: within each string's cap, over what a header may keep.
    text = _string("v") + struct.pack("<I", 8) + struct.pack("<Q", 16 << 20)
    with path.open("wb") as out:
        out.write(_gguf_bytes(kv=text, n_kv=5))
        for _ in range(4):
            out.write(bytes(16 << 20) + text)
        out.truncate(out.tell() + (16 << 20) + 64)
    _refused_quickly(path, match="text fields hold over 64.0\u00a0MiB", seconds=5)


def test_a_bad_alignment_is_shown_clipped(tmp_path: Path) -> None:
    kv = _string("general.alignment") + struct.pack("<I", 8) + _string("\x1b" + "9" * 5_000_000)
    path = tmp_path / "alignment.gguf"
    path.write_bytes(_gguf_bytes(kv=kv, n_kv=1) + bytes(64))
    error = _refused_quickly(path, match="invalid alignment '\\\\x1b999")
    assert error.reason.endswith("…'")


def test_millions_of_empty_strings_in_arrays_are_refused(tmp_path: Path) -> None:
    # Each array is within the count cap and the bytes (8 each), but together they would cost
    # seconds of Python per million: the work budget stops them.
    half = MAX_ARRAY_ITEMS // 2
    first = _string("a") + struct.pack("<IIQ", 9, 8, half) + bytes(8 * half)
    second = _string("b") + struct.pack("<IIQ", 9, 8, half + 1)
    path = tmp_path / "strings.gguf"
    with path.open("wb") as out:
        out.write(_gguf_bytes(kv=first + second, n_kv=2))
        out.truncate(out.tell() + 8 * (half + 1) + 64)
    _refused_quickly(path, match="hold over 4,000,000 texts", seconds=5)


def _gguf_file(folder: Path, strings: dict[str, str]) -> Path:
    """A small real model file written with llama.cpp's `gguf` writer: the given strings and one
    tensor."""
    import numpy as np
    from gguf import GGUFWriter

    path = folder / "synthetic.gguf"
    writer = GGUFWriter(str(path), arch=strings.get("general.architecture", "llama"))
    for key, value in strings.items():
        if key != "general.architecture":
            writer.add_string(key, value)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
