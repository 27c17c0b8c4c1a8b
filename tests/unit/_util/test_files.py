from __future__ import annotations

from pathlib import Path

from app.core._util.files import moved_path


def test_moved_path_maps_files_inside_the_old_folder_in_either_spelling(tmp_path: Path) -> None:
    real = tmp_path / "disk" / "models"
    real.mkdir(parents=True)
    link = tmp_path / "models-link"
    link.symlink_to(real)
    new = tmp_path / "bigger-disk" / "models"
    assert moved_path(link / "a" / "b.gguf", link, new) == new / "a" / "b.gguf"
    # Stored with links resolved, the folder named through its link: still inside.
    assert moved_path(real / "b.gguf", link, new) == new / "b.gguf"
    assert moved_path(str(real / "b.gguf"), real, new) == new / "b.gguf"
    assert moved_path(tmp_path / "disk" / "models-old" / "b.gguf", real, new) is None
    assert moved_path(tmp_path / "b.gguf", real, new) is None
