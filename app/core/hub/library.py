"""The local model library: what is on disk, where, and how to add or remove it.

Models live in a browsable tree under the models folder; partial downloads live apart, in a
hidden folder on the same disk (so finishing one is an atomic rename), and are never listed::

    models/
        <owner>/<repo>/<file>.gguf          finished, verified models (shards keep their folder:
        <owner>/<repo>/Q8_0/<m>-00001-of-00002.gguf)
        imported/<file>.gguf                models imported by copy
        .partial/<key>.part                 bytes of a download in progress (key: the file's sha256)
        .partial/<key>.json                 its sidecar: repo, path, revision, size, sha256, destination
        .partial/<key>.lock                 held (OS file lock) by the process downloading it

    data/library.json                       model files added by reference (they stay where they
                                            are): {"references": [paths]}; read from
                                            config/library.json too, where older versions kept it

A model is named by the catalog's name for its repo, else by its repo's name, else by a tidy
form of its file name (`model_title`); never by `general.name` inside the file, which is free
text ("Smollm2 135M 8k Lc100K Mix1 Ep2"). A downloaded file's repo is recorded by where it lies:
`<owner>/<repo>/`, so the name survives restarts and a moved models folder.

This is the only module that builds paths under `models/`. Names from the Hub are untrusted:
`safe_model_path` refuses anything that would land outside the models folder.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.core._util.cancel import CancelToken
from app.core._util.files import FileLock, free_bytes, is_locked, moved_path, write_json_atomic
from app.core._util.text import BIDI_CONTROLS, is_control
from app.core.errors import (
    DownloadError,
    ImportCancelledError,
    ModelFileError,
    ModelNameTakenError,
    UnsafePathError,
)
from app.core.gguf.header import check_model_file
from app.core.gguf.quants import parse_quant, quant_from_file_type, shard_info
from app.core.paths import AppPaths

log = logging.getLogger(__name__)

PARTIAL_DIR = ".partial"
_COPY_BLOCK_BYTES = 8 << 20
IMPORTED_DIR = "imported"
_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
# Names Windows can't store (device names, reserved characters, trailing dot or space).
_WINDOWS_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_WINDOWS_RESERVED = set('<>:"|?*')
# The longest file or folder name most file systems store (ext4, APFS, NTFS: 255).
MAX_NAME_BYTES = 255
LIBRARY_FILE = "library.json"
# What a repo's name adds to say it holds GGUF files ("X-GGUF", "X_gguf"), and a shard's suffix.
_GGUF_SUFFIX = re.compile(r"[-_. ]?gguf$", re.IGNORECASE)
_SHARD_SUFFIX = re.compile(r"-\d{5}-of-\d{5}$")


@dataclass(frozen=True)
class PartialFiles:
    """The files of one download in progress, under `models/.partial/`."""

    part: Path
    sidecar: Path
    lock: Path

    @classmethod
    def for_key(cls, models_dir: Path, key: str) -> PartialFiles:
        folder = partial_dir(models_dir)
        return cls(folder / f"{key}.part", folder / f"{key}.json", folder / f"{key}.lock")

    @classmethod
    def for_sidecar(cls, sidecar: Path) -> PartialFiles:
        return cls(sidecar.with_suffix(".part"), sidecar, sidecar.with_suffix(".lock"))

    def in_use(self) -> bool:
        """Whether a process is downloading into these files right now."""
        return is_locked(self.lock)

    def lock_for_download(self) -> FileLock | None:
        lock = FileLock(self.lock)
        return lock if lock.acquire() else None

    def remove(self) -> list[Path]:
        """Delete the bytes and the sidecar (the lock file stays: see `FileLock`)."""
        removed = [p for p in (self.part, self.sidecar) if p.exists()]
        for path in removed:
            path.unlink(missing_ok=True)
        return removed


@dataclass(frozen=True)
class LocalModel:
    """One model the library knows: a file in the models tree, or a referenced file elsewhere.

    `missing`: a referenced file that is no longer there (moved, deleted, on a disk that is
    not plugged in); it stays listed so the person sees what happened and can remove it.
    """

    path: Path
    repo_id: str | None
    quant: str | None
    size_bytes: int
    referenced: bool = False
    missing: bool = False

    @property
    def name(self) -> str:
        """The file name (what the command line matches)."""
        return self.path.name

    @property
    def title(self) -> str:
        """The model's name for people: "SmolLM2 135M Instruct" (see `model_title`)."""
        return model_title(self.repo_id, self.path.name)

    @property
    def label(self) -> str:
        """The title and the quant: "SmolLM2 135M Instruct · Q4_1"."""
        return f"{self.title} · {self.quant}" if self.quant else self.title

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "name": self.title,
            "repo": self.repo_id,
            "quant": self.quant,
            "size_bytes": self.size_bytes,
            "missing": self.missing,
        }


# --- names ---------------------------------------------------------------------------------------


def model_title(repo_id: str | None, filename: str) -> str:
    """A model's name for people: the curated catalog's name for `repo_id`, else the repo's
    name tidied ("bartowski/Qwen3-4B-GGUF" -> "Qwen3 4B"), else the file name tidied
    ("SmolLM2-135M-Instruct-Q4_1.gguf" -> "SmolLM2 135M Instruct": no quant, shard or
    extension; the quant is shown on its own)."""
    if repo_id:
        curated = _curated_names().get(repo_id.casefold())
        if curated:
            return curated
        tidy = _tidy(_GGUF_SUFFIX.sub("", repo_id.rsplit("/", 1)[-1]))
        if tidy:
            return tidy
    return _title_from_file_name(filename)


def _title_from_file_name(filename: str) -> str:
    stem = PurePosixPath(filename).name
    if stem.lower().endswith(".gguf"):
        stem = stem[: -len(".gguf")]
    stem = _SHARD_SUFFIX.sub("", stem)
    quant = parse_quant(filename)
    if quant:
        # The quant at the end, after a separator: "X-Q4_K_M", "X.Q4_1", "X-q4_k".
        stem = re.sub(rf"(^|[-_. ]){re.escape(quant)}$", "", stem, flags=re.IGNORECASE)
    return _tidy(_GGUF_SUFFIX.sub("", stem)) or filename


def _tidy(name: str) -> str:
    """Separators between words become spaces; dots stay ("Llama 3.1", "v1.1")."""
    return " ".join(re.sub(r"[-_]+", " ", name).split())


@functools.cache
def _curated_names() -> dict[str, str]:
    from app.core.hub.catalog import curated_models  # read once, when a name is first needed

    return {model.repo_id.casefold(): model.name for model in curated_models()}


@dataclass(frozen=True)
class PartialDownload:
    """A download that stopped (app closed, killed, connection lost) and can resume."""

    repo_id: str
    path: str  # in the repo
    bytes_done: int
    size_bytes: int
    files: PartialFiles

    def discard(self) -> None:
        """Delete its bytes and sidecar.

        Raises:
            DownloadError: it is being downloaded right now (by this app or another process).
        """
        if self.files.in_use():
            raise DownloadError(f"{self.path} is being downloaded right now; cancel it first.")
        self.files.remove()


@dataclass(frozen=True)
class DiskUsage:
    models_bytes: int
    partial_bytes: int
    free_bytes: int


# --- safe paths ----------------------------------------------------------------------------------


def safe_model_path(models_dir: Path, repo_id: str, filename: str) -> Path:
    """Where `filename` of `repo_id` goes: `models/<owner>/<repo>/<filename>`.

    Raises:
        UnsafePathError: the repo id isn't `owner/name`, or the file name is absolute, has `..`,
            backslashes, control or text-direction characters, empty parts or a part over 255
            bytes, or would leave the models folder.
    """
    owner_repo = repo_id.split("/")
    if len(owner_repo) != 2 or not all(_REPO_PART.match(part) for part in owner_repo):
        raise UnsafePathError(repo_id, "a repo id is 'owner/name' with letters, digits, . _ -")
    if any(part in (".", "..") for part in owner_repo):
        raise UnsafePathError(repo_id, "a repo id can't be '.' or '..'")
    _check_relative_name(filename)
    root = models_dir.resolve()
    # normpath, not resolve: a model that is a symlink to another disk stays where it is listed.
    target = Path(os.path.normpath(root / owner_repo[0] / owner_repo[1] / filename))
    if not target.is_relative_to(root) or target.parent == root:
        raise UnsafePathError(filename, "it would be stored outside the models folder")
    return target


def _check_relative_name(filename: str) -> None:
    if (
        not filename
        or "\\" in filename
        or filename.startswith("/")
        or re.match(r"^[A-Za-z]:", filename)
    ):
        raise UnsafePathError(filename, "absolute paths and backslashes are not allowed")
    if any(char in BIDI_CONTROLS for char in filename):
        # U+202E and friends make "model-\u202efuggs.exe" read as another name.
        raise UnsafePathError(filename, "it contains text-direction control characters")
    if any(is_control(char) for char in filename):
        raise UnsafePathError(filename, "it contains control characters")
    parts = PurePosixPath(filename).parts
    if any(part in ("", ".", "..") for part in filename.split("/")):
        raise UnsafePathError(filename, "'..', '.' and empty folder names are not allowed")
    if parts[0].startswith("."):
        raise UnsafePathError(filename, "hidden top-level names are reserved")
    for part in parts:
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            # Checked before any byte is downloaded: the final rename would fail otherwise.
            raise UnsafePathError(
                filename, f"a file or folder name can be at most {MAX_NAME_BYTES} bytes"
            )
        if _WINDOWS_DEVICE.match(part) or _WINDOWS_RESERVED & set(part) or part[-1] in ". ":
            raise UnsafePathError(filename, f"{part!r} can't be a file name on every system")


def partial_dir(models_dir: Path) -> Path:
    return models_dir / PARTIAL_DIR


# --- listing -------------------------------------------------------------------------------------


def find_local_models(models_dir: Path) -> list[Path]:
    """Every finished `.gguf` file under `models_dir` (hidden folders skipped), sorted by path."""
    if not models_dir.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(models_dir, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [
            Path(dirpath) / name
            for name in filenames
            if name.lower().endswith(".gguf") and not name.startswith(".")
        ]
    return sorted(found)


def list_models(paths: AppPaths) -> list[LocalModel]:
    """The models in the models tree, then those added by reference (a referenced file that is
    gone is listed as `missing`)."""
    models = [_describe(paths.models, path) for path in find_local_models(paths.models)]
    in_tree = {model.path for model in models}
    for reference in _read_references(paths):
        if reference not in in_tree:
            models.append(_describe(paths.models, reference, referenced=True))
    return models


def describe_model(paths: AppPaths, path: Path) -> LocalModel:
    """The library's view of any model file: from the models tree (with its repo), referenced,
    or neither (a file loaded from elsewhere: named from its file name)."""
    path = Path(path)
    if path.is_relative_to(paths.models):
        return _describe(paths.models, path)
    referenced = path in _read_references(paths)
    return _describe(paths.models, path, referenced=referenced, outside=True)


def model_label(models_dir: Path, path: Path, *, header_quant: str | None = None) -> str:
    """What the library calls the model file at `path`, with its quant: `describe_model(...)
    .label` ("SmolLM2 135M Instruct · Q4_1"), worked out from the path alone. No file is read,
    so a list (the chats, each with its model) can name many models at once. `header_quant`:
    the quant the file's header names, when known, for a file whose name names none."""
    path = Path(path)
    repo_id = _repo_of(models_dir, path) if path.is_relative_to(models_dir) else None
    return LocalModel(path, repo_id, parse_quant(path.name) or header_quant, 0).label


def _repo_of(models_dir: Path, path: Path) -> str | None:
    """The repo of a file in the models tree, from where it lies: `<owner>/<repo>/...`."""
    parts = path.relative_to(models_dir).parts
    return f"{parts[0]}/{parts[1]}" if len(parts) >= 3 and parts[0] != IMPORTED_DIR else None


def _describe(
    models_dir: Path, path: Path, *, referenced: bool = False, outside: bool = False
) -> LocalModel:
    repo_id = None if referenced or outside else _repo_of(models_dir, path)
    try:
        size = path.stat().st_size
        missing = not path.is_file()
    except OSError:
        size, missing = 0, True
    return LocalModel(path, repo_id, parse_quant(path.name), size, referenced, missing)


def header_quant(path: Path) -> str | None:
    """The quant a model file's GGUF header names (`general.file_type`), for a file whose name
    names none ("my-model.gguf"); None when the header can't be read or names none. Reads the
    file: never on the GUI thread."""
    try:
        header = check_model_file(path)
    except ModelFileError:
        return None
    return quant_from_file_type(header.metadata.get("general.file_type"))


def with_header_quant(model: LocalModel, header_quants: Mapping[Path, str | None]) -> LocalModel:
    """`model` with the quant its header names (`header_quants`: path -> `header_quant`, as
    read earlier) when its file name names none; reads no file."""
    if model.quant is not None:
        return model
    quant = header_quants.get(model.path)
    return dataclasses.replace(model, quant=quant) if quant else model


def find_model(paths: AppPaths, path_or_name: str) -> LocalModel | None:
    """A library model by its path, or by its file name if exactly one model has that name."""
    models = list_models(paths)
    wanted = Path(path_or_name).expanduser()
    for model in models:
        if model.path == wanted or (wanted.exists() and model.path.resolve() == wanted.resolve()):
            return model
    named = [model for model in models if model.name == path_or_name]
    return named[0] if len(named) == 1 else None


# --- changing the library ------------------------------------------------------------------------


def delete_model(paths: AppPaths, model: LocalModel) -> list[Path]:
    """Remove a model: its file (all shards of a split model) and partial downloads of it.

    A model added by reference is only forgotten (missing or not); its file elsewhere is left
    alone.
    Returns the paths that were removed (or forgotten).
    """
    if model.referenced:
        _write_references(paths, [p for p in _read_references(paths) if p != model.path])
        return [model.path]
    shards = _sibling_shards(model.path)
    removed = []
    for path in shards:
        path.unlink(missing_ok=True)
        removed.append(path)
    removed += _remove_partials_for(paths.models, shards)
    _prune_empty_dirs(model.path.parent, paths.models)
    log.info("deleted model path=%s files=%d", model.path, len(removed))
    return removed


def _sibling_shards(path: Path) -> list[Path]:
    info = shard_info(path.name)
    if info is None:
        return [path]
    return sorted(
        p
        for p in path.parent.glob("*.gguf")
        if (other := shard_info(p.name)) and other.stem == info.stem
    )


def _remove_partials_for(models_dir: Path, destinations: list[Path]) -> list[Path]:
    """Partial downloads of exactly these files, unless one is downloading right now."""
    wanted = {str(path) for path in destinations}
    removed = []
    folder = partial_dir(models_dir)
    for sidecar in folder.glob("*.json") if folder.is_dir() else []:
        try:
            target = json.loads(sidecar.read_text(encoding="utf-8")).get("destination")
        except (OSError, ValueError, AttributeError):
            continue
        files = PartialFiles.for_sidecar(sidecar)
        if target in wanted and not files.in_use():
            removed += files.remove()
    return removed


def _prune_empty_dirs(folder: Path, models_dir: Path) -> None:
    root = models_dir.resolve()
    folder = folder.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def import_model(
    paths: AppPaths, source: Path, *, copy: bool, cancel: CancelToken | None = None
) -> LocalModel:
    """Add a `.gguf` from anywhere: copied into `models/imported/`, or referenced where it is.

    Raises:
        ModelFileError: the file isn't a sound GGUF model (checked before anything is copied).
        ModelNameTakenError: a model of the same file name was already imported (when copying).
    """
    source = source.expanduser().resolve()
    check_model_file(source)
    if not copy:
        references = _read_references(paths)
        if source not in references:
            _write_references(paths, [*references, source])
        return _describe(paths.models, source, referenced=True)
    target = paths.models / IMPORTED_DIR / source.name
    if target.exists():
        raise ModelNameTakenError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.copying")
    try:
        _copy_cancellable(source, partial, cancel)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return _describe(paths.models, target)


def _copy_cancellable(source: Path, target: Path, cancel: CancelToken | None) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        for block in iter(lambda: src.read(_COPY_BLOCK_BYTES), b""):
            if cancel is not None and cancel.cancelled:
                raise ImportCancelledError(f"Import of {source.name} cancelled.")
            dst.write(block)


def list_partial_downloads(models_dir: Path) -> list[PartialDownload]:
    """Downloads that stopped before finishing, from their sidecars (unreadable ones skipped)."""
    folder = partial_dir(models_dir)
    found = []
    for sidecar in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        part = sidecar.with_suffix(".part")
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            found.append(
                PartialDownload(
                    repo_id=str(data["repo_id"]),
                    path=str(data["path"]),
                    bytes_done=part.stat().st_size if part.exists() else 0,
                    size_bytes=int(data["size"]),
                    files=PartialFiles.for_sidecar(sidecar),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("skipping unreadable download sidecar path=%s", sidecar)
    return found


def disk_usage(paths: AppPaths) -> DiskUsage:
    """Bytes in finished models, bytes in partial downloads, and free bytes on the models disk."""
    models = sum(p.stat().st_size for p in find_local_models(paths.models))
    folder = partial_dir(paths.models)
    partial = sum(p.stat().st_size for p in folder.glob("*.part")) if folder.is_dir() else 0
    return DiskUsage(models, partial, free_bytes(paths.models))


def follow_moved_references(paths: AppPaths, old: Path, new: Path) -> int:
    """After the models folder moved from `old` to `new` (`models_folder.move_models_folder`),
    point the files added by reference that lived inside it at where they are now (else they
    would be listed as missing beside their moved selves). Returns how many changed."""
    references = _read_references(paths)
    followed = [moved_path(p, old, new) or p for p in references]
    changed = sum(a != b for a, b in zip(references, followed, strict=True))
    if changed:
        _write_references(paths, followed)
        log.info("references followed the models folder count=%d new=%s", changed, new)
    return changed


def _references_file(paths: AppPaths) -> Path:
    return paths.data / LIBRARY_FILE


def _read_references(paths: AppPaths) -> list[Path]:
    """The files added by reference, in the order they were added. Versions before the data
    folder kept the list in the config folder: it is read from there until the next change
    writes it to the data folder."""
    for source in (_references_file(paths), paths.config / LIBRARY_FILE):
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
            return [Path(p) for p in data.get("references", []) if isinstance(p, str)]
        except FileNotFoundError:
            continue
        except (OSError, ValueError, AttributeError):
            log.warning("library list is unreadable path=%s; ignoring referenced models", source)
            return []
    return []


def _write_references(paths: AppPaths, references: list[Path]) -> None:
    target = _references_file(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(target, {"references": [str(p) for p in references]})
