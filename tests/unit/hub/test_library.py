from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from app.core.errors import DownloadError, ModelFileError, ModelNameTakenError, UnsafePathError
from app.core.hub.download import cleanup_stale_partials
from app.core.hub.library import (
    delete_model,
    describe_model,
    disk_usage,
    find_model,
    header_quant,
    import_model,
    list_models,
    list_partial_downloads,
    model_label,
    model_title,
    partial_dir,
    safe_model_path,
    with_header_quant,
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


@pytest.mark.parametrize(
    ("repo_id", "filename", "title"),
    [
        # The curated catalog's name for its repos.
        (
            "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF",
            "nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-Q4_K_M.gguf",
            "Llama 3.1 Nemotron Nano 4B v1.1",
        ),
        # Other repos: the repo's name, without the "-GGUF" that every such repo carries.
        ("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "x.gguf", "SmolLM2 135M Instruct"),
        ("unsloth/Qwen3_4B_gguf", "Qwen3-4B-Q4_K_M.gguf", "Qwen3 4B"),
        # Files added by hand: the file name without quant, shard and extension.
        (None, "SmolLM2-135M-Instruct-Q4_1.gguf", "SmolLM2 135M Instruct"),
        (None, "SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2 135M Instruct"),
        (None, "Big-Model-q8_0-00001-of-00003.gguf", "Big Model"),
        (None, "mystery.gguf", "mystery"),
        (None, "Q4_K_M.gguf", "Q4_K_M.gguf"),  # nothing left but the quant: the file name
    ],
)
def test_a_model_is_named_by_catalog_repo_or_file_never_by_its_header(
    repo_id: str | None, filename: str, title: str
) -> None:
    assert model_title(repo_id, filename) == title


def test_names_come_from_where_the_file_lies(tiny_model: Path) -> None:
    paths = app_paths().ensure()
    downloaded = _place(
        paths.models / "HuggingFaceTB" / "SmolLM2-135M-Instruct-GGUF" / "smollm2-q4_1.gguf"
    )
    [model] = list_models(paths)
    assert (model.title, model.quant, model.label) == (
        "SmolLM2 135M Instruct",
        "Q4_1",
        "SmolLM2 135M Instruct · Q4_1",
    )
    assert describe_model(paths, downloaded).title == "SmolLM2 135M Instruct"
    # A file loaded from anywhere else is named from its file name.
    elsewhere = describe_model(paths, tiny_model)
    assert (elsewhere.title, elsewhere.referenced, elsewhere.repo_id) == (
        "SmolLM2 135M Instruct",
        False,
        None,
    )


def test_a_referenced_file_is_kept_in_the_data_folder_and_shown_missing_when_gone(
    tiny_model: Path, tmp_path: Path
) -> None:
    paths = app_paths().ensure()
    outside = tmp_path / "elsewhere" / "SmolLM2-135M-Instruct-Q4_1.gguf"
    outside.parent.mkdir()
    shutil.copyfile(tiny_model, outside)  # a link would be followed to the shared test model
    referenced = import_model(paths, outside, copy=False)
    assert (paths.data / "library.json").exists()
    assert not (paths.config / "library.json").exists()
    assert describe_model(paths, referenced.path).referenced

    outside.unlink()
    [gone] = list_models(paths)
    assert gone.missing and gone.referenced and gone.size_bytes == 0
    delete_model(paths, gone)  # removing a missing file only forgets it
    assert list_models(paths) == []


def test_references_kept_by_older_versions_in_the_config_folder_are_read(
    tiny_model: Path,
) -> None:
    paths = app_paths().ensure()
    (paths.config / "library.json").write_text(
        json.dumps({"references": [str(tiny_model)]}), encoding="utf-8"
    )
    [model] = list_models(paths)
    assert model.path == tiny_model and model.referenced and not model.missing


def test_header_quant_reads_the_quant_a_renamed_file_no_longer_names(
    tmp_path: Path, tiny_model: Path, broken_models: dict[str, Path]
) -> None:
    renamed = tmp_path / "my-model.gguf"
    shutil.copyfile(tiny_model, renamed)
    assert header_quant(renamed) == "Q4_1"  # general.file_type 3
    assert header_quant(broken_models["wrong-magic"]) is None
    assert header_quant(tmp_path / "gone.gguf") is None
    # Shown without reading the file again, only where the name names no quant.
    model = describe_model(app_paths(), renamed)
    assert model.label == "my model"
    assert with_header_quant(model, {renamed: "Q4_1"}).label == "my model · Q4_1"
    named = describe_model(app_paths(), tiny_model)
    assert with_header_quant(named, {tiny_model: "Q8_0"}) == named


def test_model_label_names_a_file_as_describe_model_does_from_its_path_alone(
    tmp_path: Path,
) -> None:
    paths = app_paths().ensure()
    in_tree = _place(paths.models / "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF/x-Q4_K_M.gguf")
    imported = _place(paths.models / "imported" / "my-model-Q8_0.gguf")
    outside = _place(tmp_path / "Downloads" / "SmolLM2-135M-Instruct-Q4_1.gguf")
    for path in (in_tree, imported, outside):
        assert model_label(paths.models, path) == describe_model(paths, path).label
    assert model_label(paths.models, in_tree) == "AceReason Nemotron 1.1 7B · Q4_K_M"
    # No file is read: a chat's model that was deleted since is still named.
    gone = paths.models / "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q4_1.gguf"
    assert model_label(paths.models, gone) == "SmolLM2 135M Instruct · Q4_1"
    # The header's quant only where the name names none.
    assert model_label(paths.models, tmp_path / "my-model.gguf", header_quant="Q4_1") == (
        "my model · Q4_1"
    )
    assert model_label(paths.models, outside, header_quant="Q8_0").endswith("· Q4_1")


def test_files_referenced_inside_a_moved_models_folder_are_found_where_they_went(
    tmp_path: Path, tiny_model: Path
) -> None:
    from dataclasses import replace

    from app.core.hub.library import follow_moved_references
    from app.core.hub.models_folder import move_models_folder

    paths = app_paths().ensure()
    inside = paths.models / "mine" / "inside.gguf"  # moves with the folder
    beside = paths.models.parent / "beside.gguf"  # stays where it is
    for path in (inside, beside):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tiny_model, path)
        import_model(paths, path, copy=False)
    target = (tmp_path / "bigger-disk" / "models").resolve()
    move_models_folder(paths.models, target)
    moved = replace(paths, models=target)
    # What the move alone leaves: the moved file, and its stale reference shown as missing.
    assert [m.path for m in list_models(moved) if m.missing] == [inside.resolve()]

    assert follow_moved_references(paths, paths.models, target) == 1
    assert sorted((m.path, m.missing) for m in list_models(moved)) == sorted(
        [(target / "mine" / "inside.gguf", False), (beside.resolve(), False)]
    )
    assert follow_moved_references(paths, paths.models, target) == 0
