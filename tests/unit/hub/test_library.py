from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from app.core.errors import DownloadError, ModelFileError, ModelNameTakenError, UnsafePathError
from app.core.hub.download import cleanup_stale_partials
from app.core.hub.library import (
    delete_model,
    disk_usage,
    find_model,
    import_model,
    list_models,
    list_partial_downloads,
    partial_dir,
    safe_model_path,
)
from app.core.paths import app_paths


def _place(path: Path, size: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_safe_model_path_keeps_files_in_the_tree(tmp_path: Path) -> None:
    path = safe_model_path(tmp_path, "owner/Repo-GGUF", "Q8_0/m.gguf")
    assert path == (tmp_path / "owner" / "Repo-GGUF" / "Q8_0" / "m.gguf").resolve()
    for repo, name in [("owner/..", "m.gguf"), ("owner", "m.gguf"), ("a/b/c", "m.gguf"),
                       ("o/r", "../m.gguf"), ("o/r", "C:/x.gguf"), ("o/r", "m\x00.gguf"),
                       ("o/r", "a:b.gguf"), ("o/r", "CON.gguf"), ("o/r", "nul"), ("o/r", "m.gguf."),
                       ("o/r", "m.gguf "), ("o/r", "q?.gguf")]:  # fmt: skip
        with pytest.raises(UnsafePathError):
            safe_model_path(tmp_path, repo, name)


def test_list_delete_and_usage() -> None:
    paths = app_paths().ensure()
    whole = _place(paths.models / "bartowski" / "X-GGUF" / "X-Q4_K_M.gguf", 2000)
    shard1 = _place(paths.models / "o" / "Big-GGUF" / "Q8_0" / "B-Q8_0-00001-of-00002.gguf")
    _place(paths.models / "o" / "Big-GGUF" / "Q8_0" / "B-Q8_0-00002-of-00002.gguf")
    _place(partial_dir(paths.models) / "abc.part", 500)

    models = list_models(paths)
    assert [(m.repo_id, m.quant, m.size_bytes) for m in models] == [
        ("bartowski/X-GGUF", "Q4_K_M", 2000),
        ("o/Big-GGUF", "Q8_0", 1000),
        ("o/Big-GGUF", "Q8_0", 1000),
    ]
    usage = disk_usage(paths)
    assert (usage.models_bytes, usage.partial_bytes) == (4000, 500)
    assert usage.free_bytes > 0

    shard = find_model(paths, str(shard1))
    assert shard is not None
    removed = delete_model(paths, shard)
    assert len(removed) == 2  # both shards of the split model
    assert not (paths.models / "o").exists()  # empty folders pruned
    assert find_model(paths, "X-Q4_K_M.gguf").path == whole  # type: ignore[union-attr]


def test_import_by_copy_and_by_reference(tiny_model: Path, broken_models: dict[str, Path]) -> None:
    paths = app_paths().ensure()
    copied = import_model(paths, tiny_model, copy=True)
    assert copied.path == paths.models / "imported" / tiny_model.name
    assert copied.path.stat().st_size == tiny_model.stat().st_size
    with pytest.raises(ModelNameTakenError) as clash:
        import_model(paths, tiny_model, copy=True)  # same name twice
    # The file is fine: the sentence says the name is taken, not that the file can't be opened.
    assert not isinstance(clash.value, ModelFileError)
    assert str(clash.value).startswith(f"A model named {tiny_model.name} was already imported.")
    with pytest.raises(ModelFileError, match="truncated"):
        import_model(paths, broken_models["truncated"], copy=False)

    referenced = import_model(paths, tiny_model, copy=False)
    assert referenced.referenced and referenced.path == tiny_model.resolve()
    assert len(list_models(paths)) == 2
    delete_model(paths, referenced)
    assert tiny_model.exists()  # a referenced file is forgotten, never deleted
    assert len(list_models(paths)) == 1


def test_deleting_a_model_leaves_other_downloads_of_its_repo_alone() -> None:
    paths = app_paths().ensure()
    repo = paths.models / "o" / "R-GGUF"
    q4 = _place(repo / "R-Q4_K_M.gguf")
    folder = partial_dir(paths.models)
    for key, name in (("own", "R-Q4_K_M.gguf"), ("other", "R-Q8_0.gguf")):
        _place(folder / f"{key}.part")
        (folder / f"{key}.json").write_text(json.dumps({"destination": str(repo / name)}))
    model = find_model(paths, str(q4))
    assert model is not None
    delete_model(paths, model)
    assert not (folder / "own.part").exists()
    assert (folder / "other.part").exists() and (folder / "other.json").exists()


def test_a_partial_being_downloaded_is_neither_cleaned_nor_discarded() -> None:
    paths = app_paths().ensure()
    folder = partial_dir(paths.models)
    _place(folder / "busy.part")
    (folder / "busy.json").write_text(
        json.dumps({"repo_id": "o/r", "path": "m.gguf", "size": 5000})
    )
    old = time.time() - 40 * 86400
    os.utime(folder / "busy.part", (old, old))
    (partial,) = list_partial_downloads(paths.models)
    lock = partial.files.lock_for_download()  # as a download in another process would
    assert lock is not None
    try:
        assert cleanup_stale_partials(paths.models) == []
        with pytest.raises(DownloadError, match="being downloaded right now"):
            partial.discard()
    finally:
        lock.release()
    assert partial.files.lock.exists()  # a left-over lock file (as after kill -9) is harmless
    assert set(cleanup_stale_partials(paths.models)) == {folder / "busy.part", folder / "busy.json"}


def test_stale_partials_are_cleaned() -> None:
    paths = app_paths().ensure()
    folder = partial_dir(paths.models)
    fresh = _place(folder / "fresh.part")
    _place(folder / "fresh.json")
    old = _place(folder / "old.part")
    _place(folder / "old.json")
    orphan = _place(folder / "orphan.part")
    month_ago = time.time() - 40 * 86400
    os.utime(old, (month_ago, month_ago))
    removed = cleanup_stale_partials(paths.models)
    assert set(removed) == {old, folder / "old.json", orphan}
    assert fresh.exists()
