"""llama.cpp aborts never take the app down (issue 14, item 1).

Header values llama.cpp asserts on are refused by our check; anything else it aborts on is met
first in a child process, whose assert line is what the person reads.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from app.core.engine.engine import Engine
from app.core.engine.load_check import ensure_loadable
from app.core.errors import ModelFileError, ModelLoadError
from app.core.gguf.header import check_model_file
from tests import models


@pytest.fixture(scope="module")
def abort_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("aborts")
    return {
        "no layers": models.with_block_count(folder, 0),
        "513 layers": models.with_block_count(folder, 513),
        "2**32-1 layers": models.with_block_count(folder, 2**32 - 1),
        "alignment 1": models.with_alignment(folder, 1),
        "alignment 16": models.with_alignment(folder, 16),
    }


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("no layers", "declares 0 layers"),
        ("513 layers", "declares 513 layers"),
        ("2**32-1 layers", "declares 4294967295 layers"),
        ("alignment 1", "alignment is 1 bytes"),
        ("alignment 16", "alignment is 16 bytes"),
    ],
)
def test_values_llama_cpp_aborts_on_are_refused_by_our_check(
    abort_models: dict[str, Path], kind: str, reason: str
) -> None:
    with pytest.raises(ModelFileError, match=reason):
        check_model_file(abort_models[kind])


def test_a_larger_power_of_two_alignment_loads(tmp_path: Path) -> None:
    path = models.with_alignment(tmp_path, 64)
    check_model_file(path)
    ensure_loadable(path, tmp_path / "checks.json")


@pytest.mark.parametrize("kind", ["no layers", "alignment 16"])
def test_an_abort_our_check_missed_is_met_in_a_child_and_remembered(
    abort_models: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    # As if our header check had not known this value: the child load meets llama.cpp's assert.
    checks = tmp_path / "checks.json"
    with pytest.raises(ModelLoadError) as refused:
        ensure_loadable(abort_models[kind], checks)
    message = str(refused.value)
    assert "llama.cpp can't read this file: it stopped at" in message
    assert "GGML_ASSERT" in message and "/tmp/" not in message
    assert "\n" not in message and len(message) < 400
    # The verdict is remembered: the next load is refused at once, without a child.
    stored = json.loads(checks.read_text())
    assert [v["ok"] for v in stored.values()] == [False]
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match="GGML_ASSERT"):
        ensure_loadable(abort_models[kind], checks)
    assert time.monotonic() - started < 0.3


def test_a_good_file_is_checked_once_then_remembered(tiny_model: Path, tmp_path: Path) -> None:
    checks = tmp_path / "checks.json"
    engine = Engine(load_checks=checks)
    engine.load(tiny_model, context_length=256)
    engine.unload()
    stored = json.loads(checks.read_text())
    assert stored[str(tiny_model.resolve())]["ok"] is True
    started = time.monotonic()
    ensure_loadable(tiny_model, checks)
    assert time.monotonic() - started < 0.3


def test_a_changed_file_is_checked_again(tmp_path: Path) -> None:
    checks = tmp_path / "checks.json"
    path = models.with_alignment(tmp_path, 64)
    ensure_loadable(path, checks)
    with path.open("r+b") as stream:  # the same name now holds a file llama.cpp aborts on
        stream.write(models.with_block_count(tmp_path / "bad", 0).read_bytes())
    with pytest.raises(ModelLoadError, match="GGML_ASSERT"):
        ensure_loadable(path, checks)


def test_a_stopped_check_ends_at_once_loads_nothing_and_remembers_nothing(
    tiny_model: Path, tmp_path: Path
) -> None:
    from app.core._util.cancel import CancelToken

    checks = tmp_path / "checks.json"
    engine = Engine(load_checks=checks)
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()  # Close, while the child loads
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match="loading was stopped"):
        engine.load(tiny_model, cancel=cancel)
    assert time.monotonic() - started < 2
    assert engine.model is None
    assert not checks.exists()
