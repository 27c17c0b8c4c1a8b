"""Loading llama.cpp's backends: what loaded, which CPU variant, and bad backend files skipped
with a reason while the app keeps working on the CPU. Each case runs `quantdesk` in a fresh
process, because backends load once per process."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.engine.backends import EngineInfo, ensure_backends


def quantdesk(*args: str, backends: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if backends is not None:
        env["QUANTDESK_BACKENDS"] = str(backends)
    return subprocess.run(
        [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_this_process_has_a_cpu_engine() -> None:
    engine = ensure_backends()
    assert isinstance(engine, EngineInfo)
    assert any(backend["name"] == "CPU" for backend in engine.backends)
    assert engine.cpu_variant  # "native" for pip's default build, else the variant ggml chose
    assert engine.describe().startswith("CPU engine:")
    assert ensure_backends() is engine  # once per process


def test_hw_json_names_the_engine() -> None:
    result = quantdesk("hw", "--json")
    assert result.returncode == 0, result.stderr
    engine = json.loads(result.stdout)["engine"]
    assert set(engine) >= {"backends", "cpu_variant", "gpu_offload"}
    assert engine["gpu_offload"] is False  # no GPU here
    assert any(backend["name"] == "CPU" for backend in engine["backends"])


def _system_library() -> Path:
    """A real shared library that is not a ggml backend (stands for one from another build)."""
    for candidate in ("/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"):
        if Path(candidate).exists():
            return Path(candidate)
    pytest.skip("no libz to stand in for a foreign library")


def test_corrupt_and_foreign_gpu_backends_are_skipped_and_chat_still_works(
    tmp_path: Path, tiny_model: Path
) -> None:
    folder = tmp_path / "backends"
    folder.mkdir()
    (folder / "libggml-cuda.so").write_bytes(random.Random(3).randbytes(100_000))
    shutil.copy(_system_library(), folder / "libggml-vulkan.so")

    result = quantdesk("hw", "--json", backends=folder)
    assert result.returncode == 0, result.stderr
    engine = json.loads(result.stdout)["engine"]
    skipped = {Path(entry["path"]).name: entry["reason"] for entry in engine["skipped"]}
    assert "can't be loaded" in skipped["libggml-cuda.so"]
    assert "invalid ELF header" in skipped["libggml-cuda.so"] or "ELF" in skipped["libggml-cuda.so"]
    assert "refused" in skipped["libggml-vulkan.so"]
    assert engine["gpu_offload"] is False

    text = quantdesk("hw", backends=folder).stdout
    assert "skipped" in text and "libggml-cuda.so" in text

    chat = quantdesk(
        "chat", str(tiny_model), "--prompt", "Hi", "--max-tokens", "4", "--json", backends=folder
    )
    assert chat.returncode == 0, chat.stderr
    assert json.loads(chat.stdout)["completion_tokens"] > 0


@pytest.mark.skipif(
    not os.environ.get("QUANTDESK_SHIPPED_ENGINE"),
    reason="scripts/test installs the shipped engine; a hand-made venv may hold pip's native build",
)
def test_the_suite_runs_the_engine_we_ship() -> None:
    # scripts/test (and so CI) installs llama.cpp built with GGML_BACKEND_DL and every CPU variant.
    engine = ensure_backends()
    assert engine.cpu_variant not in (None, "native")
    by_name = {backend["name"].upper(): backend["path"] for backend in engine.backends}
    assert "libggml-cpu-" in by_name["CPU"]
    assert "libggml-rpc" in by_name["RPC"]  # other computers' memory (`quantdesk worker`)


def test_engine_described_in_words() -> None:
    from app.core.machine.hardware import GpuInfo

    vulkan = EngineInfo(
        backends=[{"name": "CPU", "path": "cpu"}, {"name": "Vulkan", "path": "vk"}],
        cpu_variant="haswell",
        gpu_offload=True,
    )
    card = GpuInfo("NVIDIA GeForce RTX 3070", "vulkan", 8 << 30, 7 << 30)
    assert vulkan.describe([card]) == (
        "CPU engine: AVX2 build (haswell); GPU engine: Vulkan on NVIDIA GeForce RTX 3070"
    )
    plain = EngineInfo(backends=[{"name": "CPU", "path": "cpu"}], cpu_variant="sse42")
    assert plain.describe() == "CPU engine: SSE4.2 build (sse42); no GPU engine"
    native = EngineInfo(backends=[{"name": "CPU", "path": "built in"}], cpu_variant="native")
    assert native.describe() == "CPU engine: one built-in build; no GPU engine"
