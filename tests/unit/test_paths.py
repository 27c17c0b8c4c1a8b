from __future__ import annotations

from pathlib import Path

import pytest

from app.core._util.units import format_bytes, format_seconds
from app.core.paths import app_paths


def test_quantdesk_home_relocates_everything(quantdesk_home: Path) -> None:
    paths = app_paths().ensure()
    for folder in (paths.models, paths.data, paths.config, paths.cache, paths.logs):
        assert folder.is_dir()
        assert quantdesk_home.resolve() in folder.parents
    assert paths.log_file.parent == paths.logs


def test_without_home_paths_come_from_the_os(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("QUANTDESK_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    paths = app_paths()
    assert paths.models == tmp_path / "xdg-data" / "Quantdesk" / "models"
    assert paths.config == tmp_path / "xdg-config" / "Quantdesk"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (40_000_000, "40.0 MB"),
        (98_362_432, "98.4 MB"),
        (6.25e9, "6.2 GB"),
    ],
)
def test_format_bytes_uses_decimal_units(size: float, text: str) -> None:
    assert format_bytes(size) == text


def test_format_seconds() -> None:
    assert format_seconds(0.42) == "0.4 s"
    assert format_seconds(75) == "1 min 15 s"
