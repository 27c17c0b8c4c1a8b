"""The curated models' facts ship with the app (offline choosing); other repos' are saved after a
fetch and used when the Hub can't be reached; and the curated model that suits a machine."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from app.core.errors import OfflineError
from app.core.fit.recommend import Fit
from app.core.fit.repo_facts import (
    FactsSource,
    curated_facts_from_hub,
    curated_picks,
    repo_facts,
    suited_model,
)
from app.core.hub.catalog import CURATED_FACTS, CatalogModel, curated_models
from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile
from app.resources import RESOURCES
from tests.localhub import LocalHub, seed_repos

GB = 10**9
NANO_4B = "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF"
CPU = CpuInfo("x86_64", "Test CPU", 2, ("avx", "avx2", "fma", "f16c"))
LAPTOP = HardwareProfile(os="linux", cpu=CPU, ram_bytes=16 * GB, ram_available_bytes=12 * GB)
RTX_3070 = HardwareProfile(
    os="linux",
    cpu=CPU,
    ram_bytes=16 * GB,
    ram_available_bytes=12 * GB,
    gpus=(GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * GB, 7 * GB),),
)
TINY = HardwareProfile(os="linux", cpu=CPU, ram_bytes=3 * GB, ram_available_bytes=2 * GB)


def dead_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_the_shipped_facts_are_what_the_stand_in_hub_serves(
    local_hub: LocalHub, tmp_path: Path
) -> None:
    # scripts/curated_facts.py --seed-stand-in wrote them; run again, it writes the same.
    for repo_id, files in seed_repos().items():
        local_hub.add_listing_repo(repo_id, files)
    shipped = json.loads((RESOURCES / CURATED_FACTS).read_text(encoding="utf-8"))
    assert curated_facts_from_hub(curated_models(), tmp_path) == shipped["repos"]


def test_a_curated_model_and_its_files_need_no_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())
    for model in curated_models():
        facts = repo_facts(model.repo_id, tmp_path)
        assert facts.source is FactsSource.SHIPPED
        assert facts.files and all(f.path.endswith(".gguf") and f.size > 0 for f in facts.files)
        assert facts.shape.layers > 0


def test_another_repos_facts_are_saved_and_used_when_the_hub_is_gone(
    local_hub: LocalHub, tiny_model: Path, tmp_path: Path
) -> None:
    local_hub.add_repo("tester/Tiny-GGUF", {"tiny-Q4_1.gguf": tiny_model})
    fetched = repo_facts("tester/Tiny-GGUF", tmp_path)
    assert fetched.source is FactsSource.HUB
    local_hub.stop()
    saved = repo_facts("tester/Tiny-GGUF", tmp_path)
    assert saved.source is FactsSource.SAVED
    assert [(f.path, f.size) for f in saved.files] == [(f.path, f.size) for f in fetched.files]
    assert saved.shape == fetched.shape
    with pytest.raises(OfflineError):
        repo_facts("tester/Never-Fetched-GGUF", tmp_path)  # nothing saved: the Hub's error


def test_a_damaged_saved_copy_is_ignored_and_the_hubs_error_stands(
    local_hub: LocalHub, tiny_model: Path, tmp_path: Path, quantdesk_home: Path
) -> None:
    local_hub.add_repo("tester/Tiny-GGUF", {"tiny-Q4_1.gguf": tiny_model})
    repo_facts("tester/Tiny-GGUF", tmp_path)
    (saved,) = (quantdesk_home / "cache" / "repo-facts").glob("*.json")
    saved.write_text('{"format": 1, "facts": {"repo_id": "tester/Tiny-GGUF"}}', encoding="utf-8")
    local_hub.stop()
    with pytest.raises(OfflineError):
        repo_facts("tester/Tiny-GGUF", tmp_path)


@pytest.mark.parametrize(
    ("machine", "fit"),
    [(LAPTOP, Fit.CPU), (RTX_3070, Fit.GPU)],
    ids=["cpu-only laptop", "8 GB GPU"],
)
def test_the_general_chat_model_suits_an_ordinary_machine(
    machine: HardwareProfile, fit: Fit
) -> None:
    models = curated_models()
    picks = curated_picks(models, machine, context=4096)
    assert set(picks) == {model.repo_id for model in models}
    assert suited_model(models, picks) == NANO_4B
    assert picks[NANO_4B] is not None and picks[NANO_4B].fit is fit


def test_a_model_that_runs_better_is_suited_before_one_listed_earlier() -> None:
    nano_4b, nano_8b = curated_models()[:2]
    on_gpu = curated_picks([nano_4b], RTX_3070, context=4096)[nano_4b.repo_id]
    assert on_gpu is not None and on_gpu.fit is Fit.GPU
    picks = {nano_4b.repo_id: replace(on_gpu, fit=Fit.PARTIAL), nano_8b.repo_id: on_gpu}
    assert suited_model([nano_4b, nano_8b], picks) == nano_8b.repo_id


def test_a_base_model_is_never_suited_and_nothing_is_when_nothing_fits() -> None:
    models = curated_models()
    base = [model for model in models if model.kind == "base"]
    picks = curated_picks(models, RTX_3070, context=4096)
    assert suited_model(base, picks) is None
    tiny_picks = curated_picks(models, TINY, context=4096)
    if all(pick is None for pick in tiny_picks.values()):
        assert suited_model(models, tiny_picks) is None
    assert suited_model([CatalogModel("o/unknown", "Unknown")], picks) is None
