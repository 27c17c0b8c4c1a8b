"""A repo's facts fetched once from the (local) Hub, then fitted without the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import ModelNotFoundError
from app.core.fit.recommend import Fit, Goal
from app.core.fit.repo_facts import advise, fetch_repo_facts
from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile
from tests.localhub import LocalHub, seed_repos

REPO = "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF"
GB = 10**9
RTX_3070 = HardwareProfile(
    os="linux",
    cpu=CpuInfo("x86_64", "Test CPU", 8, ("avx", "avx2", "fma", "f16c")),
    ram_bytes=16 * GB,
    ram_available_bytes=12 * GB,
    gpus=(GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * GB, 7 * GB),),
)


def test_facts_come_from_the_listing_and_one_header(local_hub: LocalHub, tmp_path: Path) -> None:
    local_hub.add_listing_repo(REPO, seed_repos()[REPO])
    facts = fetch_repo_facts(REPO, tmp_path / "models")
    assert facts.repo_id == REPO and len(facts.files) == len(seed_repos()[REPO])
    assert facts.shape.layers == 28 and facts.shape.trained_context
    assert facts.chat_template and "<|im_start|>" in facts.chat_template
    # Only the smallest file's header was read, and only its first bytes.
    assert [name for name, sent in local_hub.bytes_sent.items() if sent] == [
        "nvidia_AceReason-Nemotron-1.1-7B-IQ2_M.gguf"
    ]

    requests = len(local_hub.requests)
    fastest = advise(facts, RTX_3070, goal=Goal.FASTEST, context=4096)
    quality = advise(facts, RTX_3070, goal="quality", context=4096)
    assert len(local_hub.requests) == requests  # fitting is arithmetic, no network
    assert fastest.pick is not None and fastest.pick.fit == Fit.GPU
    assert quality.pick is not None and quality.goal is Goal.QUALITY
    assert quality.pick.quality >= fastest.pick.quality  # type: ignore[operator]


def test_a_repo_without_gguf_files_is_not_a_model(local_hub: LocalHub, tmp_path: Path) -> None:
    local_hub.add_repo("tester/Docs", {"README.md": b"# no model here\n"})
    with pytest.raises(ModelNotFoundError, match="has no GGUF model files"):
        fetch_repo_facts("tester/Docs", tmp_path / "models")
