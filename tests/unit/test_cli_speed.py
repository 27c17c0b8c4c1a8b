"""`quantdesk bench` and the speeds `quantdesk recommend --json` predicts, as a person runs them:
the real tiny model, the real engine, the local Hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.fit.speed import MEASUREMENTS_FILE
from tests.localhub import LocalHub, seed_repos
from tests.unit.test_cli_recommend import REPO, RTX_3070

SMOL_REPO = "tester/SmolLM2-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"


def quantdesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=os.environ.copy(),
    )


def recommend_smol() -> dict:
    result = quantdesk("recommend", SMOL_REPO, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_benchmark_turns_the_bandwidth_range_into_this_machines_measured_speed(
    tiny_model: Path, local_hub: LocalHub, quantdesk_home: Path
) -> None:
    local_hub.add_repo(SMOL_REPO, {SMOL_FILE: tiny_model})
    before = recommend_smol()["pick"]["speed_tokens_per_second"]
    assert before["basis"] == "bandwidth" and 0 < before["low"] < before["high"]

    bench = quantdesk("bench", str(tiny_model), "--threads", "1", "--json")
    assert bench.returncode == 0, bench.stderr
    measured = json.loads(bench.stdout)
    assert (measured["backend"], measured["threads"], measured["gpu_layers"]) == ("cpu", 1, 0)
    assert measured["context"] == 4096
    for key in ("prompt_tokens_per_second", "generation_tokens_per_second", "time_to_first_token"):
        assert measured[key] > 0
    assert measured["predicted_tokens_per_second"] > 0
    stored = json.loads((quantdesk_home / "data" / MEASUREMENTS_FILE).read_text())
    assert [run["file"] for run in stored["runs"]] == [SMOL_FILE]

    after = recommend_smol()["pick"]["speed_tokens_per_second"]
    assert after["basis"] == "measured on this machine"
    # The same file: the range is the measurement +-10 % (its size differs from the weights by
    # the header, about 2 %).
    speed = measured["generation_tokens_per_second"]
    assert 0.85 * speed <= after["low"] < speed < after["high"] <= 1.15 * speed
    assert after["high"] / after["low"] == pytest.approx(1.1 / 0.9, rel=0.01)

    text = quantdesk("bench", str(tiny_model), "--threads", "1")
    assert text.returncode == 0, text.stderr
    assert "generation: " in text.stdout and " tokens/s" in text.stdout


def test_a_described_machine_gets_its_gpus_speed_from_the_table(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    local_hub.add_listing_repo(REPO, seed_repos()[REPO])
    hardware = tmp_path / "rtx3070.json"
    hardware.write_text(json.dumps(RTX_3070))
    result = quantdesk("recommend", REPO, "--hardware", str(hardware), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    pick = report["pick"]
    assert pick["fit"] == "gpu"
    speed = pick["speed_tokens_per_second"]
    # A 6-bit 7B (about 6 GB, whole on the card) over the RTX 3070's 448 GB/s: the card's
    # bandwidth over the file's bytes, at 60-100 % of it (eta and the fixed cost per token).
    ceiling = 448e9 / pick["size_bytes"]
    assert speed["basis"] == "bandwidth"
    assert 0.6 * ceiling < speed["low"] < speed["high"] < ceiling
    # Files split with the CPU need the RAM's bandwidth: not known for a machine in a file.
    partial = [o for o in report["options"] if o["fit"] == "partial"]
    assert partial and all(o["speed_tokens_per_second"] is None for o in partial)
