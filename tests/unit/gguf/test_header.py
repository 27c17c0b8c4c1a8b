from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest

from app.core.errors import ModelFileError
from app.core.gguf.header import ArraySummary, check_model_file, read_header
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
    path.write_bytes(_gguf_bytes(kv=kv, n_kv=1))
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
