from __future__ import annotations

from pathlib import Path

import pytest

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


def test_the_hub_client_keeps_its_state_under_ours_and_finds_the_login_token(
    monkeypatch: pytest.MonkeyPatch, quantdesk_home: Path, tmp_path: Path
) -> None:
    from app.core.paths import hub_client_environment

    monkeypatch.delenv("HF_TOKEN_PATH", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "their-hf"))
    env = hub_client_environment()
    assert env["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert Path(env["HF_HOME"]) == quantdesk_home.resolve() / "cache" / "huggingface"
    assert env["HF_TOKEN_PATH"] == str(tmp_path / "their-hf" / "token")
    # Without HF_HOME, the token `hf auth login` saved in the user's cache folder.
    monkeypatch.delenv("HF_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    assert hub_client_environment()["HF_TOKEN_PATH"] == str(
        tmp_path / "xdg-cache" / "huggingface" / "token"
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain name", "plain name"),
        ("bell\x07 escape\x1b[2J", "bell\\x07 escape\\x1b[2J"),
        ("two\nlines\r\t", "two\\nlines\\r\\t"),
        ("rtl\u202eoverride \u2066isolate", "rtl\\u202eoverride \\u2066isolate"),
        ("c1\x9b control", "c1\\x9b control"),
        ("x" * 200, "x" * 200),
        ("x" * 201, "x" * 199 + "…"),
        ("\x1b" * 100, "\\x1b" * 49 + "\\x1…"),
    ],
)
def test_printable_names_are_one_escaped_line_of_at_most_200_characters(
    text: str, shown: str
) -> None:
    from app.core._util.text import printable

    assert printable(text) == shown
    assert len(printable(text * 1000)) <= 200
