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
from typing import Any, Protocol

from app.core._util.text import printable
from app.core._util.units import format_bytes
from app.core.errors import ModelFileError, ModelHeaderError

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
# Arrays longer than this (vocabularies, merges) are skipped, keeping only their length.
MAX_STORED_ARRAY = 256

# The check's cost limits. A hostile header can claim anything; each count is also bounded by the
# bytes it needs (`_Reader.count`), so a lie fails at once instead of after minutes of parsing.
# Real models: a few hundred to a few thousand tensors, under a hundred keys.
MAX_TENSORS = 100_000
MAX_KEYS = 65_536
# Strings and nested arrays visited in all arrays together (real: ~1M for the largest
# vocabularies plus their merges); each one costs Python time.
MAX_ARRAY_ITEMS = 4_000_000
# llama.cpp refuses nested arrays; one level of nesting, and this many arrays inside arrays
# (each costs a few microseconds), is more than any real file has.
MAX_ARRAY_DEPTH = 2
MAX_NESTED_ARRAYS = 65_536
# ggml's GGML_MAX_NAME is 64 bytes with the terminating NUL: llama.cpp refuses longer names.
MAX_TENSOR_NAME = 63
# The gguf spec caps keys at 65,535 bytes.
MAX_KEY = 65_535
# The longest real string is a chat template (tens of KB).
MAX_STRING = 16 << 20
# What the parsed header may hold in memory: text kept (keys, values, names) and items of the
# short arrays kept as lists. Real headers keep well under 1 MB and a few thousand items.
MAX_KEPT_TEXT = 64 << 20
MAX_KEPT_ITEMS = 1_000_000
# Bytes read from the stream at a time: the header is read in many tiny pieces.
_BLOCK = 1 << 20

# GGUF metadata value types (gguf spec), as struct formats; 8 = string, 9 = array.
_SCALAR_FORMATS = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i",
    6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d",
}  # fmt: skip
_STRING = 8
_ARRAY = 9
# The fewest bytes one entry can take, to bound counts by the bytes that remain:
# a string is its u64 length; an array its u32 type and u64 length; a key/value pair a key,
# a u32 type and a 1-byte value; a tensor entry its name, n_dims u32, type u32 and offset u64.
_MIN_ITEM_BYTES = {_STRING: 8, _ARRAY: 12} | {
    code: struct.calcsize(fmt) for code, fmt in _SCALAR_FORMATS.items()
}
_MIN_KV_BYTES = 8 + 4 + 1
_U64 = struct.Struct("<Q")
_MIN_TENSOR_BYTES = 8 + 4 + 4 + 8


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
        """`general.architecture`, made printable: it is shown and logged when a load fails."""
        value = self.metadata.get("general.architecture")
        return printable(value) if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        """`general.name` as one printable line of at most 200 characters (it is a label)."""
        value = self.metadata.get("general.name")
        return printable(value) if isinstance(value, str) else None

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return value if isinstance(value, str) and value.strip() else None


class _HeaderCutShort(Exception):
    """The stream ended inside the header."""


class ByteStream(Protocol):
    """What a header is read from: an open file, or a forward-only remote stream."""

    def read(self, size: int = -1, /) -> bytes: ...
    def seekable(self) -> bool: ...
    def seek(self, offset: int, whence: int = os.SEEK_SET, /) -> int: ...


class _CorruptHeader(Exception):
    """The header holds values no real GGUF file has."""


class _Reader:
    """Bounded little-endian reads from a stream that may end early.

    Reads go through an in-memory block (`_BLOCK`), so the tens of thousands of tiny reads of a
    vocabulary cost no system call each. `limit` is the file's size when known: no read goes past
    it, and no count or length may claim more bytes than remain before it.
    """

    def __init__(self, stream: ByteStream, limit: int | None) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = b""
        self._offset = 0  # read position in _buffer
        self.position = 0  # read position in the file
        self._items = 0  # array strings and nested arrays visited, against MAX_ARRAY_ITEMS
        self._nested = 0  # arrays inside arrays, against MAX_NESTED_ARRAYS
        self._kept_text = 0  # bytes of text kept, against MAX_KEPT_TEXT
        self._kept_items = 0  # items of kept arrays, against MAX_KEPT_ITEMS

    def remaining(self) -> int | None:
        return None if self._limit is None else self._limit - self.position

    def _check_room(self, count: int) -> None:
        if count < 0 or (self._limit is not None and self.position + count > self._limit):
            raise _HeaderCutShort

    def _fill(self, count: int) -> None:
        """Have `count` unread bytes in the buffer (`count` is at most MAX_STRING)."""
        missing = count - (len(self._buffer) - self._offset)
        if missing <= 0:
            return
        parts = [self._buffer[self._offset :]]
        while missing > 0:
            block = self._stream.read(max(missing, _BLOCK))
            if not block:
                raise _HeaderCutShort
            parts.append(block)
            missing -= len(block)
        self._buffer = b"".join(parts)
        self._offset = 0

    def take(self, count: int) -> bytes:
        self._check_room(count)
        self._fill(count)
        data = self._buffer[self._offset : self._offset + count]
        self._offset += count
        self.position += count
        return data

    def skip(self, count: int) -> None:
        self._check_room(count)
        buffered = len(self._buffer) - self._offset
        if count <= buffered:
            self._offset += count
            self.position += count
            return
        self._buffer, self._offset = b"", 0
        self.position += buffered
        count -= buffered
        if self._stream.seekable():
            self._stream.seek(count, os.SEEK_CUR)
            self.position += count
            return
        while count:  # a forward-only stream: read and drop, a block at a time
            block = self._stream.read(min(count, _BLOCK))
            if not block:
                raise _HeaderCutShort
            count -= len(block)
            self.position += len(block)

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        self._check_room(size)
        self._fill(size)
        value = struct.unpack_from(fmt, self._buffer, self._offset)[0]
        self._offset += size
        self.position += size
        return value

    def count(self, what: str, *, most: int, item_bytes: int) -> int:
        """A u64 count of entries of at least `item_bytes` each, at most `most`."""
        value = self.unpack("<Q")
        if value > most:
            raise _CorruptHeader(f"it claims {value:,} {what} (no real model has over {most:,})")
        remaining = self.remaining()
        if remaining is not None and value * item_bytes > remaining:
            raise _HeaderCutShort  # within the caps: more likely a cut-short file than a lie
        return value

    def _length(self, what: str, most: int) -> int:
        length = self.unpack("<Q")
        if length > most:
            raise _CorruptHeader(
                f"{what} claims {format_bytes(length)} (at most {format_bytes(most)})"
            )
        self._check_room(length)
        return length

    def string(self, what: str = "a text field", most: int = MAX_STRING) -> str:
        length = self._length(what, most)
        self._kept_text += length
        if self._kept_text > MAX_KEPT_TEXT:
            raise _CorruptHeader(f"its text fields hold over {format_bytes(MAX_KEPT_TEXT)}")
        return self.take(length).decode("utf-8", errors="replace")

    def value(self, value_type: int, depth: int = 0) -> Any:
        if value_type in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[value_type])
        if value_type == _STRING:
            return self.string()
        if value_type == _ARRAY:
            return self.array(depth + 1)
        raise _CorruptHeader(f"unknown metadata value type {value_type}")

    def array(self, depth: int = 1) -> list[Any] | ArraySummary:
        if depth > MAX_ARRAY_DEPTH:
            raise _CorruptHeader(f"arrays are nested more than {MAX_ARRAY_DEPTH} deep")
        item_type = self.unpack("<I")
        if item_type not in _MIN_ITEM_BYTES:
            raise _CorruptHeader(f"unknown metadata value type {item_type}")
        length = self.count(
            "array items", most=MAX_ARRAY_ITEMS, item_bytes=_MIN_ITEM_BYTES[item_type]
        )
        if item_type in (_STRING, _ARRAY):
            self._items += length
            if self._items > MAX_ARRAY_ITEMS:
                raise _CorruptHeader(f"its arrays hold over {MAX_ARRAY_ITEMS:,} texts")
        if item_type == _ARRAY:
            self._nested += length
            if self._nested > MAX_NESTED_ARRAYS:
                raise _CorruptHeader(f"it holds over {MAX_NESTED_ARRAYS:,} arrays inside arrays")
        if length <= MAX_STORED_ARRAY:
            self._kept_items += length
            if self._kept_items > MAX_KEPT_ITEMS:
                raise _CorruptHeader(f"its short arrays hold over {MAX_KEPT_ITEMS:,} items")
            return [self.value(item_type, depth) for _ in range(length)]
        if item_type == _STRING:
            self._skip_strings(length)
        elif item_type == _ARRAY:
            for _ in range(length):
                self.array(depth + 1)
        else:
            self.skip(length * _MIN_ITEM_BYTES[item_type])
        return ArraySummary(item_type, length)

    def _skip_strings(self, count: int) -> None:
        """Step over `count` strings without decoding them (a vocabulary: ~1 us each)."""
        limit = self._limit if self._limit is not None else float("inf")
        for _ in range(count):
            # The common case inline: length and text both in the buffer, within every bound.
            buffer, offset = self._buffer, self._offset
            if offset + 8 <= len(buffer):
                (length,) = _U64.unpack_from(buffer, offset)
                end = offset + 8 + length
                if (
                    length <= MAX_STRING
                    and end <= len(buffer)
                    and self.position + 8 + length <= limit
                ):
                    self._offset = end
                    self.position += 8 + length
                    continue
            self.skip(self._length("a text in an array", MAX_STRING))


def read_header(stream: ByteStream, *, size: int | None = None) -> GGUFHeader:
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
    tensor_count = reader.count("tensors", most=MAX_TENSORS, item_bytes=_MIN_TENSOR_BYTES)
    kv_count = reader.count("metadata keys", most=MAX_KEYS, item_bytes=_MIN_KV_BYTES)
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string("a metadata key", MAX_KEY)
        metadata[key] = reader.value(reader.unpack("<I"))
    tensors = tuple(_read_tensor_info(reader) for _ in range(tensor_count))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        # Clipped before any repr: the value may be a 16 MB string.
        shown = alignment if isinstance(alignment, str) else repr(alignment)
        raise _CorruptHeader(f"invalid alignment '{printable(shown, 40)}'")
    data_offset = -(-reader.position // alignment) * alignment
    return GGUFHeader(
        version=version,
        metadata=metadata,
        tensors=tensors,
        data_offset=data_offset,
        expected_size=_expected_size(data_offset, tensors),
    )


def _read_tensor_info(reader: _Reader) -> TensorInfo:
    name = reader.string("a tensor name", MAX_TENSOR_NAME)
    n_dims = reader.unpack("<I")
    if n_dims > 8:
        raise _CorruptHeader(f"tensor '{printable(name, 80)}' has {n_dims} dimensions")
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


# llama.cpp's limits whose breach is an abort (a `GGML_ASSERT`), not an error it returns:
# llama-hparams.h `LLAMA_MAX_LAYERS`, asserted in llama-model.cpp
# (`n_layer_all > 0 && n_layer_all <= LLAMA_MAX_LAYERS`).
LLAMA_MAX_LAYERS = 512
# ggml's `TENSOR_ALIGNMENT`: a memory-mapped model's tensor data starts at a multiple of
# `general.alignment` in the file, and ggml-backend asserts "buffer pointer must be aligned" to
# 32 bytes. (gguf.cpp itself refuses an alignment that is 0 or not a power of two.)
MIN_ALIGNMENT = 32


def llama_limits_problem(header: GGUFHeader) -> str | None:
    """Why llama.cpp would abort on this header's values, in plain words; None when it wouldn't."""
    layers = header.metadata.get(f"{header.architecture}.block_count")
    if isinstance(layers, int) and not 0 < layers <= LLAMA_MAX_LAYERS:
        return (
            f"it declares {layers} layers ({printable(str(header.architecture), 40)}.block_count "
            f"must be 1 to {LLAMA_MAX_LAYERS}), so llama.cpp can't load it"
        )
    alignment = header.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if isinstance(alignment, int) and alignment < MIN_ALIGNMENT:
        return (
            f"its data alignment is {alignment} bytes (llama.cpp needs at least "
            f"{MIN_ALIGNMENT}), so llama.cpp can't load it"
        )
    return None


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
    problem = llama_limits_problem(header)
    if problem:
        raise ModelFileError(path, problem)
    if header.expected_size is not None and size < header.expected_size:
        raise ModelFileError(
            path,
            f"file is truncated: {format_bytes(size)} of {format_bytes(header.expected_size)}",
        )
    return header
