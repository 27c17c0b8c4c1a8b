"""Moving the models folder with real files. A move across disks is simulated by telling the
mover the two folders are on different devices (`same_filesystem`); the copying is real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core._util.cancel import CancelToken
from app.core._util.files import FileLock, free_bytes
from app.core.errors import MoveCancelledError, MoveFolderError, QuantdeskError
from app.core.hub import models_folder
from app.core.hub.models_folder import (
    COPY_BLOCK_BYTES,
    move_models_folder,
)

# Relative path -> size. A finished model, a shard folder, a partial download with its sidecar
# and (unlocked) lock file, an imported model, and something the person put there.
LAYOUT = {
    "bartowski/SmolLM2-GGUF/SmolLM2-Q4_K_M.gguf": 3 * COPY_BLOCK_BYTES + 123,
    "unsloth/Big-GGUF/Q8_0/Big-Q8_0-00001-of-00002.gguf": 4096,
    "unsloth/Big-GGUF/Q8_0/Big-Q8_0-00002-of-00002.gguf": 2048,
    ".partial/abc123.part": 5000,
    ".partial/abc123.json": 80,
    ".partial/abc123.lock": 0,
    "imported/mine.gguf": 777,
    "notes.txt": 12,
}


def make_files(root: Path, layout: dict[str, int]) -> dict[str, bytes]:
    contents = {}
    for index, (relative, size) in enumerate(layout.items()):
        data = bytes([index + 1]) * size
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        contents[relative] = data
    return contents


def files_under(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def cross_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_folder, "same_filesystem", lambda _source, _target: False)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "old" / "models", tmp_path / "new-disk" / "models"


def test_same_filesystem_moves_every_file_by_rename(folders: tuple[Path, Path]) -> None:
    source, target = folders
    contents = make_files(source, LAYOUT)
    (source / "empty-folder").mkdir()
    inode = (source / "notes.txt").stat().st_ino
    calls: list[tuple[int, int]] = []
    moved = move_models_folder(source, target, progress=lambda d, t: calls.append((d, t)))
    assert moved == sum(LAYOUT.values())
    assert files_under(target) == contents
    assert files_under(source) == {}
    assert source.is_dir() and list(source.iterdir()) == []  # emptied, not removed
    assert (target / "empty-folder").is_dir()
    assert (target / "notes.txt").stat().st_ino == inode  # renamed, not copied
    assert calls[0] == (0, moved) and calls[-1] == (moved, moved)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_across_disks_copies_checks_and_deletes(
    folders: tuple[Path, Path], cross_device: None
) -> None:
    source, target = folders
    contents = make_files(source, LAYOUT)
    inode = (source / "notes.txt").stat().st_ino
    calls: list[tuple[int, int]] = []
    moved = move_models_folder(source, target, progress=lambda d, t: calls.append((d, t)))
    assert moved == sum(LAYOUT.values())
    assert files_under(target) == contents
    assert files_under(source) == {}
    assert (target / "notes.txt").stat().st_ino != inode  # a copy
    assert not [p for p in target.rglob("*.partial") if p.is_file()]
    # Progress within the big file too, block by block, never going back.
    assert len(calls) > len(LAYOUT) + 3
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert calls[-1] == (moved, moved)


def test_moves_into_an_existing_folder_beside_other_files(folders: tuple[Path, Path]) -> None:
    source, target = folders
    contents = make_files(source, LAYOUT)
    others = make_files(target, {"someone-else/model.gguf": 10, "readme.md": 3})
    move_models_folder(source, target)
    assert files_under(target) == {**contents, **others}


@pytest.mark.parametrize("same_disk", [True, False])
def test_cancel_midway_leaves_each_file_whole_in_one_place(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, same_disk: bool
) -> None:
    source, target = folders
    if not same_disk:
        monkeypatch.setattr(models_folder, "same_filesystem", lambda _s, _t: False)
    contents = make_files(source, LAYOUT)
    cancel = CancelToken()
    big = "bartowski/SmolLM2-GGUF/SmolLM2-Q4_K_M.gguf"

    def progress(done: int, total: int) -> None:
        # Halfway through the big file when copying; after the first file when renaming.
        if done >= (COPY_BLOCK_BYTES if not same_disk else 1):
            cancel.cancel()

    with pytest.raises(MoveCancelledError) as caught:
        move_models_folder(source, target, progress=progress, cancel=cancel)
    error = caught.value
    assert "cancelled" in str(error) and "Move the folder again" in str(error)
    old, new = files_under(source), files_under(target)
    assert set(old) | set(new) == set(contents)
    assert not set(old) & set(new)  # exactly one place
    for relative, data in {**old, **new}.items():
        assert data == contents[relative]  # never half-copied
    assert not [p for p in target.rglob("*.partial") if p.is_file()]
    assert error.moved_files == len(new) >= 1
    if not same_disk:
        assert big in old  # its copy was stopped and removed

    # Moving again finishes the job.
    move_models_folder(source, target)
    assert files_under(target) == contents
    assert files_under(source) == {}


def test_cancel_before_start_moves_nothing(folders: tuple[Path, Path]) -> None:
    source, target = folders
    contents = make_files(source, LAYOUT)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(MoveCancelledError, match="Nothing was moved") as caught:
        move_models_folder(source, target, cancel=cancel)
    assert caught.value.moved_files == 0
    assert files_under(source) == contents
    assert files_under(target) == {}


def test_a_different_file_at_the_same_place_refuses_before_moving(
    folders: tuple[Path, Path],
) -> None:
    source, target = folders
    contents = make_files(source, LAYOUT)
    (target / "imported").mkdir(parents=True)
    (target / "imported" / "mine.gguf").write_bytes(b"another model")
    with pytest.raises(MoveFolderError) as caught:
        move_models_folder(source, target)
    assert isinstance(caught.value, QuantdeskError)
    assert "imported/mine.gguf" in str(caught.value)
    assert "Nothing was moved" in str(caught.value)
    assert files_under(source) == contents
    assert files_under(target) == {"imported/mine.gguf": b"another model"}


def test_a_folder_where_a_file_would_go_is_a_conflict(folders: tuple[Path, Path]) -> None:
    source, target = folders
    make_files(source, {"a/b.gguf": 10})
    make_files(target, {"a/b.gguf/inside.txt": 1})
    with pytest.raises(MoveFolderError, match="different files"):
        move_models_folder(source, target)


def test_identical_files_left_by_an_interrupted_move_are_not_conflicts(
    folders: tuple[Path, Path],
) -> None:
    # Killed between renaming the copy into place and deleting the original: both exist.
    source, target = folders
    contents = make_files(source, LAYOUT)
    make_files(target, {"notes.txt": 0})
    (target / "notes.txt").write_bytes(contents["notes.txt"])
    move_models_folder(source, target)
    assert files_under(target) == contents
    assert files_under(source) == {}


@pytest.mark.parametrize(
    ("source_part", "target_part", "words"),
    [
        ("models", "models/inside", "can't be inside"),
        ("models/inner", "models", "can't contain"),
        ("models", "models", "already the models folder"),
    ],
)
def test_nested_folders_are_refused(
    tmp_path: Path, source_part: str, target_part: str, words: str
) -> None:
    source, target = tmp_path / source_part, tmp_path / target_part
    contents = make_files(source, {"x.gguf": 10})
    with pytest.raises(MoveFolderError, match=words):
        move_models_folder(source, target)
    assert files_under(source) == contents


def test_a_relative_or_dotted_path_to_inside_is_still_refused(
    folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _target = folders
    make_files(source, {"x.gguf": 10})
    monkeypatch.chdir(source)
    with pytest.raises(MoveFolderError, match="can't be inside"):
        move_models_folder(source, Path("sub/../sub2"))


def test_too_little_space_on_the_other_disk_refuses(
    folders: tuple[Path, Path], cross_device: None
) -> None:
    source, target = folders
    contents = make_files(source, {"small.gguf": 10})
    # A sparse file: larger than the free space, yet takes no room on this disk.
    huge = source / "huge.gguf"
    size = free_bytes(target) + (1 << 30)
    with huge.open("wb") as handle:
        handle.truncate(size)
    with pytest.raises(MoveFolderError, match="isn't enough free space") as caught:
        move_models_folder(source, target)
    assert "Nothing was moved" in str(caught.value)
    assert (source / "small.gguf").read_bytes() == contents["small.gguf"]
    assert huge.stat().st_size == size
    assert files_under(target) == {}


def test_same_disk_needs_no_free_space_check(folders: tuple[Path, Path]) -> None:
    source, target = folders
    huge = source / "huge.gguf"
    source.mkdir(parents=True)
    with huge.open("wb") as handle:
        handle.truncate(1 << 36)
    assert move_models_folder(source, target) == 1 << 36
    assert (target / "huge.gguf").stat().st_size == 1 << 36


def test_a_download_in_progress_refuses_the_move(folders: tuple[Path, Path]) -> None:
    source, target = folders
    contents = make_files(source, LAYOUT)
    lock = FileLock(source / ".partial" / "abc123.lock")
    assert lock.acquire()
    try:
        with pytest.raises(MoveFolderError, match="download into the models folder"):
            move_models_folder(source, target)
    finally:
        lock.release()
    assert files_under(source) == contents


def test_a_missing_source_moves_nothing(folders: tuple[Path, Path]) -> None:
    source, target = folders
    assert move_models_folder(source, target) == 0


def test_a_failed_copy_keeps_the_original_and_removes_the_partial(
    folders: tuple[Path, Path], cross_device: None
) -> None:
    source, target = folders
    contents = make_files(source, {"a.gguf": 100, "b.gguf": 100})

    # Once a is moved, something takes the name b's copy needs: writing b fails for real.
    def progress(done: int, total: int) -> None:
        if done >= 100 and not (target / "b.gguf.partial").exists():
            (target / "b.gguf.partial").mkdir(exist_ok=True)

    with pytest.raises(MoveFolderError, match="Couldn't move b.gguf") as caught:
        move_models_folder(source, target, progress=progress)
    assert "1 file(s) are already in" in str(caught.value)
    assert files_under(source) == {"b.gguf": contents["b.gguf"]}
    assert files_under(target) == {"a.gguf": contents["a.gguf"]}


def test_symlinks_move_as_links(folders: tuple[Path, Path], cross_device: None) -> None:
    source, target = folders
    make_files(source, {"real/model.gguf": 10})
    (source / "link.gguf").symlink_to("real/model.gguf")
    (source / "linked-folder").symlink_to("real")
    move_models_folder(source, target)
    assert os.readlink(target / "link.gguf") == "real/model.gguf"
    assert os.readlink(target / "linked-folder") == "real"
    assert (target / "link.gguf").read_bytes() == b"\x01" * 10
    assert files_under(source) == {}
