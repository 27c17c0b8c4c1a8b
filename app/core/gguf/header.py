"""Reading and checking GGUF headers, with a reason for every failure.

A GGUF file is laid out as (all little-endian)::

    magic "GGUF" | version u32 | tensor_count u64 | kv_count u64
    kv_count x  (key: string, value_type u32, value)
    tensor_count x (name: string, n_dims u32, dims u64[n_dims], ggml_type u32, offset u64)
    padding to `general.alignment` (default 32)
    tensor data: each tensor at data_start + offset

llama.cpp only says "Failed to load model" for a bad file, so this module reads the header itself,
bounded by the real file size, and says what is wrong: not a GGUF, truncated (with sizes), a
corrupt header. It reads from any binary stream, so the same parser serves remote header reads
(HTTP range requests) later. Large arrays (the tokenizer's vocabulary) are skipped, not stored.

The `gguf` package (llama.cpp's own) is used for the per-type block sizes; its `GGUFReader` is not,
because it memory-maps a complete local file and fails on a truncated one without a usable reason.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from app.core._util.units import format_bytes
from app.core.errors import ModelFileError, ModelHeaderError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# Arrays longer than this (vocabularies, merges) are skipped, keeping only their length.
MAX_STORED_ARRAY = 256
# No real model has more keys or tensors than this; a larger count means a corrupt header.
MAX_COUNT = 10_000_000

# GGUF metadata value types (gguf spec), as struct formats; 8 = string, 9 = array.
_SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING = 8
_ARRAY = 9


@dataclass(frozen=True)
class ArraySummary:
    """Stands for a metadata array too long to keep (e.g. `tokenizer.ggml.tokens`)."""

    item_type: int
    length: int


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int


@dataclass(frozen=True)
class GGUFHeader:
    """What the header of a GGUF file says.

    Attributes:
        version: GGUF format version.
        metadata: key -> value; long arrays appear as `ArraySummary`.
        tensors: the tensor table, in file order.
        data_offset: where tensor data starts (after alignment padding).
        expected_size: bytes a complete file needs, or None if a tensor type is unknown to us.
    """

    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    data_offset: int
    expected_size: int | None = field(default=None)

    @property
    def architecture(self) -> str | None:
        value = self.metadata.get("general.architecture")
        return value if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        value = self.metadata.get("general.name")
        return value if isinstance(value, str) else None

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) and value.strip() else None


class _HeaderCutShort(Exception):
    """The stream ended inside the header."""


class _CorruptHeader(Exception):
    """The header holds values no real GGUF file has."""


class _Reader:
    """Bounded little-endian reads from a stream that may end early."""

    def __init__(self, stream: BinaryIO, limit: int | None) -> None:
        self._stream = stream
        self._limit = limit
        self.position = 0

    def take(self, count: int) -> bytes:
        if count < 0 or (self._limit is not None and self.position + count > self._limit):
            raise _HeaderCutShort
        data = self._stream.read(count)
        if len(data) != count:
            raise _HeaderCutShort
        self.position += count
        return data

    def skip(self, count: int) -> None:
        if self._limit is not None and self.position + count > self._limit:
            raise _HeaderCutShort
        if self._stream.seekable():
            self._stream.seek(count, os.SEEK_CUR)
            self.position += count
        else:
            self.take(count)

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def count(self) -> int:
        value = self.unpack("<Q")
        if value > MAX_COUNT:
            raise _CorruptHeader(f"implausible count {value}")
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if self._limit is not None and length > self._limit:
            raise _CorruptHeader(f"a text field claims {format_bytes(length)}")
        return self.take(length).decode("utf-8", errors="replace")

    def value(self, value_type: int) -> Any:
        if value_type in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[value_type])
        if value_type == _STRING:
            return self.string()
        if value_type == _ARRAY:
            return self.array()
        raise _CorruptHeader(f"unknown metadata value type {value_type}")

    def array(self) -> list[Any] | ArraySummary:
        item_type = self.unpack("<I")
        length = self.count()
        if length > MAX_STORED_ARRAY:
            if item_type in _SCALAR_FORMATS:
                self.skip(length * struct.calcsize(_SCALAR_FORMATS[item_type]))
            else:
                for _ in range(length):
                    self.value(item_type)
            return ArraySummary(item_type, length)
        return [self.value(item_type) for _ in range(length)]


def read_header(stream: BinaryIO, *, size: int | None = None) -> GGUFHeader:
    """Parse a GGUF header from `stream`, which is positioned at the file's first byte.

    Args:
        stream: a binary stream (a file, or the bytes of a remote file's first range).
        size: the complete file's size, if known; reads past it count as a truncated file.

    Raises:
        ModelHeaderError: with a plain reason, when the bytes are not a readable GGUF header
            (the caller, who knows where the bytes came from, names the file).
    """
    reader = _Reader(stream, size)
    try:
        magic = reader.take(4)
    except _HeaderCutShort:
        raise ModelHeaderError("file is too short to be a GGUF model") from None
    if magic != GGUF_MAGIC:
        raise ModelHeaderError(f"not a GGUF model (starts with {magic!r}, expected b'GGUF')")
    try:
        return _read_after_magic(reader)
    except _HeaderCutShort:
        raise ModelHeaderError("header is cut short: the file ends inside its header") from None
    except _CorruptHeader as exc:
        raise ModelHeaderError(f"header is corrupt: {exc}") from None


def _read_after_magic(reader: _Reader) -> GGUFHeader:
    version = reader.unpack("<I")
    if version not in SUPPORTED_VERSIONS:
        raise _CorruptHeader(f"unsupported GGUF version {version} (supported: 2, 3)")
    tensor_count = reader.count()
    kv_count = reader.count()
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string()
        metadata[key] = reader.value(reader.unpack("<I"))
    tensors = tuple(_read_tensor_info(reader) for _ in range(tensor_count))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise _CorruptHeader(f"invalid alignment {alignment!r}")
    data_offset = -(-reader.position // alignment) * alignment
    return GGUFHeader(
        version=version,
        metadata=metadata,
        tensors=tensors,
        data_offset=data_offset,
        expected_size=_expected_size(data_offset, tensors),
    )


def _read_tensor_info(reader: _Reader) -> TensorInfo:
    name = reader.string()
    n_dims = reader.unpack("<I")
    if n_dims > 8:
        raise _CorruptHeader(f"tensor {name!r} has {n_dims} dimensions")
    shape = tuple(reader.unpack("<Q") for _ in range(n_dims))
    ggml_type = reader.unpack("<I")
    offset = reader.unpack("<Q")
    return TensorInfo(name=name, shape=shape, ggml_type=ggml_type, offset=offset)


def tensor_nbytes(tensor: TensorInfo) -> int | None:
    """Bytes of one tensor's data, or None if its type is unknown to the installed `gguf`."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    try:
        block_size, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(tensor.ggml_type)]
    except (ValueError, KeyError):
        return None
    elements = 1
    for dim in tensor.shape:
        elements *= dim
    return elements // block_size * type_size


def _expected_size(data_offset: int, tensors: tuple[TensorInfo, ...]) -> int | None:
    end = data_offset
    for tensor in tensors:
        nbytes = tensor_nbytes(tensor)
        if nbytes is None:
            return None
        end = max(end, data_offset + tensor.offset + nbytes)
    return end


def check_model_file(path: str | Path) -> GGUFHeader:
    """Check that `path` is a complete, readable GGUF model before llama.cpp sees it.

    Returns:
        The parsed header.

    Raises:
        ModelFileError: naming the file and the reason (missing, empty, not GGUF, truncated with
            both sizes, corrupt header).
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise ModelFileError(path, "it is a folder, not a model file")
        size = path.stat().st_size
        if size == 0:
            raise ModelFileError(path, "file is empty (0 bytes)")
        with path.open("rb") as stream:
            header = read_header(stream, size=size)
    except FileNotFoundError:
        raise ModelFileError(path, "file not found") from None
    except PermissionError:
        raise ModelFileError(path, "permission denied") from None
    except ModelHeaderError as exc:
        raise ModelFileError(path, exc.reason) from None
    except OSError as exc:
        raise ModelFileError(path, f"can't read it ({exc.strerror or exc})") from None
    if not header.tensors:
        raise ModelFileError(path, "it holds no tensors (a vocabulary-only or empty GGUF)")
    if header.expected_size is not None and size < header.expected_size:
        raise ModelFileError(
            path,
            f"file is truncated: {format_bytes(size)} of {format_bytes(header.expected_size)}",
        )
    return header
