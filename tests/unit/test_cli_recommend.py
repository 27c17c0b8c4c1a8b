"""`quantdesk recommend` as a person runs it, against the seed repos on the local Hub."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.cli import GOAL_CHOICES
from app.core.config.preferences import DEFAULT_CONTEXT, Preferences, save_preferences
from app.core.fit.recommend import Goal
from app.core.paths import app_paths
from tests.localhub import LocalHub, seed_repos

REPO = "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF"
# The same files under a repo Quantdesk doesn't list: its facts come from the Hub.
MIRROR = "someone/nvidia_AceReason-Nemotron-1.1-7B-GGUF"
RTX_3070 = {
    "os": "linux",
    "cpu": {
        "arch": "x86_64",
        "model": "Ryzen",
        "cores": 8,
        "features": ["avx", "avx2", "fma", "f16c"],
    },
    "ram_bytes": 32 * 2**30,
    "ram_available_bytes": 28 * 2**30,
    "unified_memory": False,
    "gpus": [
        {
            "name": "RTX 3070",
            "backend": "cuda",
            "vram_bytes": 8 * 2**30,
            "vram_free_bytes": 7 * 2**30,
        }
    ],
}


def quantdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def test_recommend_json_and_table(local_hub: LocalHub, tmp_path: Path) -> None:
    local_hub.add_listing_repo(MIRROR, seed_repos()[REPO])
    hardware = tmp_path / "rtx3070.json"
    hardware.write_text(json.dumps(RTX_3070))
    result = quantdesk(
        "recommend", MIRROR, "--hardware", str(hardware), "--context", "8192", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["repo"], report["goal"], report["context"]) == (MIRROR, "fastest", 8192)
    assert report["facts"] == "hub"
    pick = report["pick"]
    assert pick["quant"] == "Q5_K_M" and pick["fit"] == "gpu" and pick["gpu_layers"] == 28
    assert pick["files"] == ["nvidia_AceReason-Nemotron-1.1-7B-Q5_K_M.gguf"]
    assert set(pick) == {
        "files",
        "quant",
        "size_bytes",
        "fit",
        "gpu_layers",
        "estimated_bytes",
        "quality",
        "projection_source",
        "layers_on",  # None here: no other computers
        "summary",
        "reasons",
        "speed_tokens_per_second",
    }
    assert pick["layers_on"] is None
    # A described machine, not this one: llama.cpp here can't project for it.
    assert {o["projection_source"] for o in report["options"]} == {"formula"}
    assert pick["summary"].startswith("Very good quality, whole model on the GPU: uses about ")
    assert pick["reasons"][0].startswith("Why Q5_K_M: ")
    assert len(report["options"]) == 24
    assert {o["fit"] for o in report["options"]} >= {"gpu", "partial"}
    # The header came from a range request, not a download of the 2.8 GB file.
    smallest = "nvidia_AceReason-Nemotron-1.1-7B-IQ2_M.gguf"
    assert 0 < local_hub.bytes_sent[smallest] <= 4 << 20
    assert any(r[2] and r[2].startswith("bytes=0-") for r in local_hub.requests)

    quality = json.loads(
        quantdesk(
            "recommend", MIRROR, "--hardware", str(hardware), "--goal", "quality",
            "--context", "8192", "--json",
        ).stdout
    )  # fmt: skip
    assert quality["pick"]["quant"] == "Q8_0" and quality["pick"]["fit"] == "partial"

    table = quantdesk("recommend", MIRROR, "--hardware", str(hardware), "--context", "8192")
    assert table.returncode == 0
    assert (
        "→Q5_K_M" in table.stdout
        and "Pick: nvidia_AceReason-Nemotron-1.1-7B-Q5_K_M.gguf" in table.stdout
    )
    assert "Very good quality, whole model on the GPU" in table.stdout

    # The Hub goes away: the facts saved by the last fetch still give the same pick.
    local_hub.stop()
    saved = quantdesk("recommend", MIRROR, "--hardware", str(hardware), "--context", "8192")
    assert saved.returncode == 0, saved.stderr
    assert "Pick: nvidia_AceReason-Nemotron-1.1-7B-Q5_K_M.gguf" in saved.stdout
    assert "as saved when Hugging Face was last reached" in saved.stdout


def dead_endpoint() -> str:
    """A local port nothing listens on: the Hub can't be reached (refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_recommend_a_curated_model_works_without_the_hub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())
    hardware = tmp_path / "rtx3070.json"
    hardware.write_text(json.dumps(RTX_3070))
    started = time.monotonic()
    table = quantdesk("recommend", REPO, "--hardware", str(hardware), "--context", "8192")
    assert table.returncode == 0, table.stderr
    assert time.monotonic() - started < 30  # a few seconds; slower means it waited on the Hub
    # The same pick as from the Hub: the facts the app ships are what the Hub serves.
    assert "Pick: nvidia_AceReason-Nemotron-1.1-7B-Q5_K_M.gguf" in table.stdout
    assert "as listed in Quantdesk (no internet needed)" in table.stdout
    result = quantdesk(
        "recommend", REPO, "--hardware", str(hardware), "--context", "8192", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["pick"]["quant"], report["facts"]) == ("Q5_K_M", "shipped")


def test_recommend_fits_at_the_default_context_from_settings(
    local_hub: LocalHub, tmp_path: Path, quantdesk_home: Path
) -> None:
    local_hub.add_listing_repo(REPO, seed_repos()[REPO])
    hardware = tmp_path / "rtx3070.json"
    hardware.write_text(json.dumps(RTX_3070))

    def context() -> int:
        result = quantdesk("recommend", REPO, "--hardware", str(hardware), "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["context"]

    assert context() == DEFAULT_CONTEXT
    save_preferences(app_paths().config, Preferences(default_context=16384))
    assert context() == 16384


def test_on_this_machine_llama_cpp_projects_the_memory_before_download(
    local_hub: LocalHub, quantdesk_home: Path, tiny_model: Path
) -> None:
    """The repo's header file is dry-run by llama.cpp from a sparse stub of its header: a few
    MiB of range requests, not the file."""
    local_hub.add_repo("me/Smol-GGUF", {"smol-Q4_1.gguf": tiny_model})
    result = quantdesk("recommend", "me/Smol-GGUF", "--context", "2048", "--json")
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout)["options"]
    assert [o["projection_source"] for o in options] == ["llama.cpp"]
    assert local_hub.bytes_sent["smol-Q4_1.gguf"] <= 10 << 20  # of 94 MiB
    stubs = list((quantdesk_home / "cache" / "header-stubs").glob("*.gguf"))
    assert [s.stat().st_size for s in stubs] == [tiny_model.stat().st_size]


def test_goal_choices_are_the_goals() -> None:
    assert tuple(goal.value for goal in Goal) == GOAL_CHOICES


def test_recommend_bad_hardware_file(local_hub: LocalHub, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"os": "linux"}')
    result = quantdesk("recommend", REPO, "--hardware", str(bad))
    assert result.returncode == 2
    assert "missing 'cpu'" in result.stderr


def test_a_local_copy_is_read_instead_of_the_hub(local_hub: LocalHub, quantdesk_home: Path) -> None:
    from app.core.hub.client import RemoteFile
    from app.core.hub.remote_header import read_header_local_or_remote

    files = seed_repos()[REPO]
    name = "nvidia_AceReason-Nemotron-1.1-7B-Q4_K_M.gguf"
    size, header = files[name]
    quantdesk_home.mkdir(parents=True, exist_ok=True)
    local = quantdesk_home / "copy.gguf"
    local.write_bytes(header)
    with local.open("r+b") as stream:
        stream.truncate(size)  # a sparse file of the right size, as a finished download
    remote = RemoteFile(REPO, name, size, None)
    parsed = read_header_local_or_remote(remote, local)
    assert parsed.architecture == "qwen2"
    assert local_hub.requests == []  # nothing was asked of the Hub


GARBAGE_REPO = "someone/Garbage-GGUF"
GARBAGE_FILE = "Garbage-Q4_K_M.gguf"


def test_a_garbage_header_names_the_repo_and_file(local_hub: LocalHub, tmp_path: Path) -> None:
    from app.core.errors import ModelHeaderError
    from app.core.fit.repo_facts import fetch_repo_facts

    local_hub.add_repo(GARBAGE_REPO, {GARBAGE_FILE: b"this is no model at all, just text " * 40})
    try:
        fetch_repo_facts(GARBAGE_REPO, tmp_path / "models")
    except ModelHeaderError as error:
        assert (error.repo_id, error.path) == (GARBAGE_REPO, GARBAGE_FILE)
        assert str(error).startswith(
            f"Can't read the model file {GARBAGE_FILE} in {GARBAGE_REPO}: not a GGUF model"
        )
    else:
        raise AssertionError("a garbage header was read as a model")

    result = quantdesk("recommend", GARBAGE_REPO)
    assert result.returncode == 3  # BAD_MODEL
    assert result.stderr.startswith(f"quantdesk: Can't read the model file {GARBAGE_FILE} in ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_header_without_the_facts_a_fit_needs_names_the_repo_and_file(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    from app.core.errors import ModelHeaderError
    from app.core.fit.repo_facts import fetch_repo_facts

    # A real GGUF header with no architecture: readable, yet no model shape can come from it.
    header = b"GGUF" + (3).to_bytes(4, "little") + bytes(16)
    local_hub.add_repo(GARBAGE_REPO, {GARBAGE_FILE: header})
    try:
        fetch_repo_facts(GARBAGE_REPO, tmp_path / "models")
    except ModelHeaderError as error:
        assert (error.repo_id, error.path) == (GARBAGE_REPO, GARBAGE_FILE)
        assert "names no architecture" in str(error)
    else:
        raise AssertionError("a header without an architecture gave a model shape")


def test_recommend_json_reports_and_applies_this_machines_correction(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    from app.core.fit.measured import LoadOutcome, LoadRow, LoadTable, this_machine

    local_hub.add_listing_repo(REPO, seed_repos()[REPO])
    plain = json.loads(quantdesk("recommend", REPO, "--json").stdout)
    assert plain["memory_correction"]["factor"] == 1.0
    assert plain["memory_correction"]["loads"] == 0

    # Three loads on this machine that took 10-30 % more than estimated (no GPU here: "cpu").
    here = this_machine()
    table = LoadTable.in_folder(app_paths().data)
    for measured in (110, 130, 120):
        table.add(
            LoadRow(
                file="/models/x.gguf", size=1, context=4096, gpu_layers=0, memory_mapped=True,
                outcome=LoadOutcome.LOADED, estimated=100, measured=measured,
                measured_file=None, measured_anon=None, measured_vram=None,
                machine=here.machine, backend=here.backend, build=here.build, at=0.0,
            )
        )  # fmt: skip
    result = quantdesk("recommend", REPO, "--json")
    assert result.returncode == 0, result.stderr
    corrected = json.loads(result.stdout)
    assert corrected["memory_correction"]["factor"] == 1.2
    assert corrected["memory_correction"]["loads"] == 3
    for before, after in zip(plain["options"], corrected["options"], strict=True):
        assert after["estimated_bytes"] == pytest.approx(1.2 * before["estimated_bytes"], rel=1e-3)

    # Another machine's description: this machine's loads say nothing of it.
    hardware = tmp_path / "rtx3070.json"
    hardware.write_text(json.dumps(RTX_3070))
    other = json.loads(quantdesk("recommend", REPO, "--hardware", str(hardware), "--json").stdout)
    assert other["memory_correction"]["factor"] == 1.0
