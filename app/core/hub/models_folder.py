"""Moving the models folder somewhere else without ever losing or half-copying a file.

Every file under the folder moves (finished models, partial downloads and their sidecars,
anything the person put there), keeping its relative path. On one filesystem each file is
renamed (instant). Across disks each file is copied to `<name>.partial` beside its destination,
flushed to disk, checked for size, renamed into place, and only then deleted from the source.
So at any moment, even if the app is killed or the move is cancelled, each file is complete in
at least one place and never half-written under its real name; a cancelled move leaves each
file complete in exactly one of the two folders, and moving again finishes the job.

What names a file inside the folder follows a finished move (the app does it: see
`Session.models_folder_moved`): files added by reference (`library.follow_moved_references`),
each chat's model (`ChatStore.follow_moved_models`), the last model and the context lengths
remembered per file (`Preferences.models_moved`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core._util.cancel import CancelToken
from app.core._util.files import free_bytes, is_locked
from app.core._util.units import format_bytes
from app.core.errors import MoveCancelledError, MoveFolderError
from app.core.hub.library import partial_dir

COPY_BLOCK_BYTES = 8 << 20
PARTIAL_SUFFIX = ".partial"
# Room left free on the target disk after a copy, for the filesystem and the OS.
FREE_SPACE_MARGIN = 64 << 20

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Entry:
    relative: Path
    size: int
    duplicate: bool  # the target already holds the same bytes at this path


def same_filesystem(source: Path, target: Path) -> bool:
    """Whether a file in `source` can be renamed into `target` (same device)."""
    return _device(source) == _device(target)


def _device(folder: Path) -> int:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.stat().st_dev


def move_models_folder(
    source: Path,
    target: Path,
    *,
    progress: Progress | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Move every file under `source` to the same place under `target`; returns bytes moved.

    `progress(done_bytes, total_bytes)` is called as the move goes (on this thread). Empty
    folders left in `source` are removed; `source` itself stays.

    Raises:
        MoveFolderError: refused before anything moved: one folder inside the other, a
            different file already at the same place in `target`, a download in progress, or
            too little free space on the target disk; or a file could not be moved (the files
            moved before it stay moved, that file stays where it was).
        MoveCancelledError: `cancel` was set; see the class.
    """
    source = source.expanduser().resolve()
    target = target.expanduser().resolve()
    _check_folders(source, target)
    if not source.is_dir():
        return 0
    _check_no_download_running(source)
    try:
        entries, folders = _plan(source, target, cancel)
    except _Cancelled:
        raise _cancelled(source, target, 0, 0) from None
    cross_device = not same_filesystem(source, target)
    to_copy = sum(e.size for e in entries if not e.duplicate)
    if cross_device:
        available = free_bytes(target)
        if to_copy + FREE_SPACE_MARGIN > available:
            raise MoveFolderError(
                f"There isn't enough free space in {target} for the models: they need "
                f"{format_bytes(to_copy)} and the disk has {format_bytes(available)} free. "
                "Nothing was moved."
            )
    try:
        target.mkdir(parents=True, exist_ok=True)
        for folder in folders:
            (target / folder).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MoveFolderError(
            f"Can't create the folder {target}: {exc.strerror or exc}. Nothing was moved."
        ) from exc

    total = sum(e.size for e in entries)
    done = 0

    def report(extra: int = 0) -> None:
        if progress is not None:
            progress(done + extra, total)

    report()
    for moved_files, entry in enumerate(entries):
        if cancel is not None and cancel.cancelled:
            raise _cancelled(source, target, moved_files, done)
        src = source / entry.relative
        dst = target / entry.relative
        try:
            if entry.duplicate:
                src.unlink()
            elif not cross_device:
                os.rename(src, dst)
            else:
                _copy_then_delete(src, dst, entry.size, cancel, report)
        except _Cancelled:
            raise _cancelled(source, target, moved_files, done) from None
        except OSError as exc:
            raise MoveFolderError(
                f"Couldn't move {entry.relative}: {exc.strerror or exc}. "
                f"{_split_note(source, target, moved_files)}"
            ) from exc
        done += entry.size
        report()
    _remove_empty_folders(source)
    return done


def _check_folders(source: Path, target: Path) -> None:
    if source == target:
        raise MoveFolderError(f"{target} is already the models folder.")
    if source in target.parents:
        raise MoveFolderError(
            f"The new models folder can't be inside the current one ({source}). "
            "Choose a folder outside it."
        )
    if target in source.parents:
        raise MoveFolderError(
            f"The new models folder can't contain the current one ({source}). "
            "Choose a folder beside it or elsewhere."
        )
    if target.exists() and not target.is_dir():
        raise MoveFolderError(f"{target} is a file, not a folder.")


def _plan(
    source: Path, target: Path, cancel: CancelToken | None
) -> tuple[list[_Entry], list[Path]]:
    """Every file to move (sorted) and every folder to create; refuses on conflicts."""
    entries: list[_Entry] = []
    folders: list[Path] = []
    conflicts: list[Path] = []
    for root, dirnames, filenames in os.walk(source):
        base = Path(root).relative_to(source)
        # A link to a folder is moved as the link, like a file; its target is not walked.
        links = [name for name in dirnames if (Path(root) / name).is_symlink()]
        dirnames[:] = sorted(set(dirnames) - set(links))
        filenames = [*filenames, *links]
        for name in dirnames:
            relative = base / name
            folders.append(relative)
            if (target / relative).exists() and not (target / relative).is_dir():
                conflicts.append(relative)
        for name in sorted(filenames):
            relative = base / name
            src = source / relative
            dst = target / relative
            size = src.lstat().st_size
            duplicate = False
            if dst.exists() or dst.is_symlink():
                if _same_bytes(src, dst, cancel):
                    duplicate = True
                else:
                    conflicts.append(relative)
            entries.append(_Entry(relative, size, duplicate))
    if conflicts:
        shown = ", ".join(str(c) for c in conflicts[:3])
        more = f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else ""
        raise MoveFolderError(
            f"{target} already holds different files with the same names ({shown}{more}). "
            "Move or rename them, or choose another folder. Nothing was moved."
        )
    return entries, folders


def _same_bytes(a: Path, b: Path, cancel: CancelToken | None) -> bool:
    """Whether two regular files hold the same bytes (what an interrupted move leaves)."""
    if a.is_symlink() or b.is_symlink() or not (a.is_file() and b.is_file()):
        return False
    if a.stat().st_size != b.stat().st_size:
        return False
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            if cancel is not None and cancel.cancelled:
                raise _Cancelled
            block = fa.read(COPY_BLOCK_BYTES)
            if block != fb.read(COPY_BLOCK_BYTES):
                return False
            if not block:
                return True


def _check_no_download_running(source: Path) -> None:
    folder = partial_dir(source)
    if folder.is_dir() and any(is_locked(lock) for lock in folder.glob("*.lock")):
        raise MoveFolderError(
            "A download into the models folder is in progress. Pause or cancel it, then move "
            "the folder. Nothing was moved."
        )


class _Cancelled(Exception):
    pass


def _copy_then_delete(
    src: Path, dst: Path, size: int, cancel: CancelToken | None, progress: Callable[[int], None]
) -> None:
    """Copy to `dst.partial`, flush, check, rename into place, then delete `src`."""
    if src.is_symlink():
        dst.symlink_to(os.readlink(src))
        src.unlink()
        return
    partial = dst.with_name(dst.name + PARTIAL_SUFFIX)
    try:
        copied = 0
        with src.open("rb") as reader, partial.open("wb") as writer:
            for block in iter(lambda: reader.read(COPY_BLOCK_BYTES), b""):
                if cancel is not None and cancel.cancelled:
                    raise _Cancelled
                writer.write(block)
                copied += len(block)
                progress(copied)
            writer.flush()
            os.fsync(writer.fileno())
        if partial.stat().st_size != size or src.stat().st_size != size:
            raise OSError(0, f"the copy of {src.name} came out the wrong size")
        os.replace(partial, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    _fsync_folder(dst.parent)
    src.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; Windows has no directory handles)."""
    if os.name == "nt":  # pragma: no cover
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_empty_folders(source: Path) -> None:
    for root, _dirs, _files in os.walk(source, topdown=False):
        if Path(root) != source:
            # Not empty: something appeared meanwhile, or a file failed to move.
            with contextlib.suppress(OSError):
                Path(root).rmdir()


def _split_note(source: Path, target: Path, moved_files: int) -> str:
    if moved_files == 0:
        return f"Nothing was moved; the models are still in {source}."
    return (
        f"{moved_files} file(s) are already in {target}, the rest are still in {source}; "
        "every file is complete. Move the folder again to finish."
    )


def _cancelled(
    source: Path, target: Path, moved_files: int, moved_bytes: int
) -> MoveCancelledError:
    return MoveCancelledError(
        f"Moving the models folder was cancelled. {_split_note(source, target, moved_files)}",
        moved_files=moved_files,
        moved_bytes=moved_bytes,
    )
