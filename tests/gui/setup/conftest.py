"""The stand-in Hub the wizard tests use: SmolLM2 (a real tiny file) and the seed repos' listings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.localhub import LocalHub, seed_repos

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
FILE = "smollm2-135m-instruct-q4_1.gguf"


@pytest.fixture
def hub(local_hub: LocalHub, tiny_model: Path) -> LocalHub:
    local_hub.add_repo(REPO, {FILE: tiny_model})
    for repo_id, files in seed_repos().items():
        local_hub.add_listing_repo(repo_id, files)
    return local_hub
