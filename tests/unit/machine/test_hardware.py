"""Hardware detection on this machine, and the JSON format round trip."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from app.core.errors import HardwareFileError
from app.core.machine.hardware import CpuInfo, HardwareProfile, describe_cpu_features, detect

HAS_NVIDIA = Path("/dev/nvidiactl").exists()


def test_detect_tells_the_truth_about_this_machine() -> None:
    profile = detect()
    assert profile.os == {"linux": "linux", "darwin": "macos", "win32": "windows"}[sys.platform]
    assert profile.ram_bytes == psutil.virtual_memory().total
    assert 0 < profile.ram_available_bytes <= profile.ram_bytes
    assert profile.cpu.cores == (psutil.cpu_count(logical=False) or os.cpu_count())
    if sys.platform.startswith("linux") and profile.cpu.arch == "x86_64":
        flags = set(
            re.search(r"^flags\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)[1].split()
        )
        for feature in ("avx", "avx2", "fma", "f16c", "avx512f"):
            assert (feature in profile.cpu.features) == (feature in flags), feature
    if not HAS_NVIDIA and sys.platform.startswith("linux"):
        assert profile.gpus == ()  # the CPU build of llama.cpp lists no GPU here


def test_json_round_trip() -> None:
    profile = detect()
    assert HardwareProfile.from_json(json.loads(json.dumps(profile.to_json()))) == profile


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"os": "linux"}, "missing 'cpu'"),
        ({"os": "linux", "cpu": {"arch": "x86_64", "cores": 4}, "ram_bytes": 1,
          "gpus": [{"name": "X", "backend": "opencl", "vram_bytes": 1}]}, "unknown GPU engine 'opencl'"),
    ],
)  # fmt: skip
def test_bad_hardware_files_are_refused_clearly(data: dict, message: str) -> None:
    with pytest.raises(HardwareFileError, match=message):
        HardwareProfile.from_json(data)


def test_hw_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "hw", "--json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"os", "cpu", "ram_bytes", "ram_available_bytes", "unified_memory", "gpus"}
    assert set(data["cpu"]) == {"arch", "model", "cores", "features"}
    text = subprocess.run(
        [sys.executable, "-m", "app", "hw"], capture_output=True, text=True, timeout=60
    )
    assert "RAM:" in text.stdout and "CPU:" in text.stdout


def test_detection_survives_a_broken_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.engine import ggml

    def broken() -> None:
        raise RuntimeError("libllama failed to load")

    monkeypatch.setattr(ggml, "gpu_devices", broken)
    profile = detect()
    assert profile.ram_bytes > 0
    assert any("device list could not be read" in note for note in profile.notes)


def test_cpu_feature_words_go_through_the_translation_given() -> None:
    """The wizard passes its translator (context "Machine"); instruction-set names stay."""
    chinese = {"no AVX (the slowest engine variant is used)": "不支持 AVX（将使用最慢的引擎版本）"}
    old = CpuInfo("x86_64", "Old CPU", 2, ())
    assert describe_cpu_features(old, chinese.__getitem__) == "不支持 AVX（将使用最慢的引擎版本）"
    assert describe_cpu_features(old) == "no AVX (the slowest engine variant is used)"
    modern = CpuInfo("x86_64", "New CPU", 8, ("avx", "avx2"))
    assert describe_cpu_features(modern, chinese.__getitem__) == "AVX2, AVX"
