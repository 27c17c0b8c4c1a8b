from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.config.preferences import (
    PREFERENCES_FILE,
    Preferences,
    load_preferences,
    save_preferences,
)
from app.core.paths import app_paths


@pytest.fixture
def config_dir() -> Path:
    return app_paths().ensure().config


def write(config_dir: Path, data: object) -> None:
    text = data if isinstance(data, str) else json.dumps(data)
    (config_dir / PREFERENCES_FILE).write_text(text, encoding="utf-8")


def test_missing_file_gives_the_defaults_without_a_note(config_dir: Path) -> None:
    prefs, note = load_preferences(config_dir)
    assert prefs == Preferences()
    assert note is None
    assert prefs.first_run_done is False
    assert prefs.models_dir is None
    assert prefs.default_context == 4096
    assert prefs.threads is None
    assert prefs.gpu_layers is None
    assert prefs.theme == "system"
    assert prefs.hardware_overrides == {}


def test_saved_preferences_load_back_equal(config_dir: Path) -> None:
    prefs = Preferences(
        first_run_done=True,
        models_dir="/data/models",
        default_context=16384,
        threads=6,
        gpu_layers=-1,
        theme="dark",
        hardware_overrides={"ram_bytes": 32 << 30, "vram_bytes": {"0": 8 << 30}},
    )
    save_preferences(config_dir, prefs)
    loaded, note = load_preferences(config_dir)
    assert note is None
    assert loaded == prefs
    assert loaded.ram_override == 32 << 30
    assert loaded.vram_override(0) == 8 << 30
    assert loaded.vram_override(1) is None
    assert not (config_dir / f"{PREFERENCES_FILE}.tmp").exists()


def test_save_creates_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "config"
    save_preferences(folder, Preferences(theme="light"))
    assert load_preferences(folder) == (Preferences(theme="light"), None)


def test_replace_returns_a_changed_copy_and_checks_values() -> None:
    prefs = Preferences()
    changed = prefs.replace(theme="dark", gpu_layers=0)
    assert (changed.theme, changed.gpu_layers) == ("dark", 0)
    assert prefs.theme == "system"
    for bad in ({"theme": "purple"}, {"gpu_layers": -2}, {"default_context": 10}, {"threads": 0}):
        with pytest.raises(ValueError):
            prefs.replace(**bad)
    with pytest.raises(TypeError):
        prefs.replace(colour="red")


def test_preferences_are_frozen_and_keep_their_own_overrides() -> None:
    overrides = {"vram_bytes": {"0": 4 << 30}}
    prefs = Preferences(hardware_overrides=overrides)
    overrides["vram_bytes"]["0"] = 1
    assert prefs.vram_override(0) == 4 << 30
    with pytest.raises(AttributeError):
        prefs.theme = "dark"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text",
    ["", "{not json", "[1, 2, 3]", '"dark"', "null", "\udcff".encode("utf-8", "surrogatepass")],
)
def test_a_damaged_file_gives_the_defaults_and_a_note(config_dir: Path, text: str | bytes) -> None:
    path = config_dir / PREFERENCES_FILE
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    prefs, note = load_preferences(config_dir)
    assert prefs == Preferences()
    assert note is not None
    assert "default settings are used" in note
    assert str(path) in note


def test_bad_fields_fall_back_alone_and_are_named(config_dir: Path) -> None:
    write(
        config_dir,
        {
            "first_run_done": True,
            "models_dir": "/mnt/models",
            "default_context": "lots",
            "threads": True,  # a bool is not a number of threads
            "gpu_layers": 12,
            "theme": "solarized",
            "hardware_overrides": {"ram_bytes": -5},
            "some_future_setting": 1,
        },
    )
    prefs, note = load_preferences(config_dir)
    assert prefs == Preferences(first_run_done=True, models_dir="/mnt/models", gpu_layers=12)
    assert note == (
        "Some settings in preferences.json had values Quantdesk can't use and were reset to "
        "their defaults: default context length, threads, theme, hardware corrections."
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {"ram_bytes": 0},
        {"ram_bytes": 1.5},
        {"vram_bytes": {"gpu0": 1}},
        {"vram_bytes": {"0": -1}},
        {"vram_bytes": [8]},
        {"swap_bytes": 1},
        "8 GB",
    ],
)
def test_malformed_hardware_corrections_are_dropped(config_dir: Path, overrides: object) -> None:
    write(config_dir, {"hardware_overrides": overrides, "theme": "dark"})
    prefs, note = load_preferences(config_dir)
    assert prefs == Preferences(theme="dark")
    assert note is not None and "hardware corrections" in note


def test_gpu_layers_accepts_all_cpu_and_counts(config_dir: Path) -> None:
    for value in (None, -1, 0, 1, 81):
        save_preferences(config_dir, Preferences(gpu_layers=value))
        assert load_preferences(config_dir)[0].gpu_layers == value


def test_no_token_is_ever_written(config_dir: Path) -> None:
    # A token someone pasted into the file by hand is not read, and the next save drops it.
    write(config_dir, {"theme": "dark", "hf_token": "hf_secretvalue", "token": "hf_other"})
    prefs, _note = load_preferences(config_dir)
    assert not any("token" in name for name in prefs.to_json())
    save_preferences(config_dir, prefs.replace(threads=4))
    text = (config_dir / PREFERENCES_FILE).read_text(encoding="utf-8")
    assert "hf_" not in text
    assert "token" not in text
    assert json.loads(text)["threads"] == 4


def test_the_chosen_goal_and_context_lengths_load_back(config_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "models" / "o" / "r" / "m-Q4_K_M.gguf"
    prefs = Preferences(chooser_goal="quality", chooser_context=16384)
    prefs = prefs.replace(model_contexts=prefs.with_model_context(model, 2048))
    save_preferences(config_dir, prefs)
    loaded, note = load_preferences(config_dir)
    assert note is None and loaded == prefs
    assert loaded.chooser_context_or_default == 16384
    assert loaded.model_context(model) == 2048
    assert Preferences().chooser_context_or_default == Preferences().default_context


def test_the_chooser_goals_are_the_fit_goals() -> None:
    from app.core.config.preferences import CHOOSER_GOALS
    from app.core.fit.recommend import Goal

    assert tuple(Goal) == CHOOSER_GOALS


def test_remembered_context_lengths_keep_the_newest(tmp_path: Path) -> None:
    from app.core.config.preferences import MAX_REMEMBERED_CONTEXTS

    prefs = Preferences()
    for n in range(MAX_REMEMBERED_CONTEXTS + 5):
        prefs = prefs.replace(model_contexts=prefs.with_model_context(tmp_path / f"{n}.gguf", 4096))
    prefs = prefs.replace(model_contexts=prefs.with_model_context(tmp_path / "10.gguf", 8192))
    assert len(prefs.model_contexts) == MAX_REMEMBERED_CONTEXTS
    assert prefs.model_context(tmp_path / "0.gguf") is None  # the oldest went
    assert list(prefs.model_contexts)[-1] == str(tmp_path / "10.gguf")  # chosen again: newest
    assert prefs.model_context(tmp_path / "10.gguf") == 8192


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chooser_goal", "slowest"),
        ("chooser_context", 10),
        ("model_contexts", {"/m.gguf": "4096"}),
        ("model_contexts", ["/m.gguf"]),
    ],
)
def test_bad_chooser_values_fall_back_alone(config_dir: Path, field: str, value: object) -> None:
    write(config_dir, {"theme": "dark", field: value})
    prefs, note = load_preferences(config_dir)
    assert prefs.theme == "dark"
    assert getattr(prefs, field) == getattr(Preferences(), field)
    assert note is not None and "reset to their defaults" in note


def test_the_last_model_is_remembered_and_loading_it_can_be_turned_off(config_dir: Path) -> None:
    assert Preferences().load_last_model is True and Preferences().last_model is None
    save_preferences(config_dir, Preferences(last_model="/models/a.gguf", load_last_model=False))
    loaded, note = load_preferences(config_dir)
    assert note is None
    assert (loaded.last_model, loaded.load_last_model) == ("/models/a.gguf", False)
    write(config_dir, {"last_model": 3, "load_last_model": "yes"})
    loaded, note = load_preferences(config_dir)
    assert (loaded.last_model, loaded.load_last_model) == (None, True)
    assert note is not None and "last model" in note


def test_the_last_model_and_remembered_contexts_follow_a_moved_models_folder(
    tmp_path: Path,
) -> None:
    old, new = tmp_path / "models", tmp_path / "bigger-disk" / "models"
    inside, outside = old / "imported" / "a-Q4_1.gguf", tmp_path / "b-Q8_0.gguf"
    prefs = Preferences(
        last_model=str(inside), model_contexts={str(inside): 2048, str(outside): 1024}
    )
    changes = prefs.models_moved(old, new)
    assert changes == {
        "last_model": str(new / "imported" / "a-Q4_1.gguf"),
        "model_contexts": {str(new / "imported" / "a-Q4_1.gguf"): 2048, str(outside): 1024},
    }
    assert prefs.replace(**changes).model_context(new / "imported" / "a-Q4_1.gguf") == 2048
    assert Preferences(last_model=str(outside)).models_moved(old, new) == {}
