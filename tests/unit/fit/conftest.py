"""The seed repos on a local Hub, shared by the recommendation and reasons tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.core.fit.memory import ModelShape
from app.core.fit.recommend import header_file
from app.core.hub.client import RemoteFile, list_repo_files
from app.core.hub.remote_header import read_remote_header
from tests.localhub import LocalHub, seed_repos

REPOS = {
    "nano4b": "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF",
    "nano8b": "Mungert/Llama-3.1-Nemotron-Nano-8B-v1-GGUF",
    "ace7b": "bartowski/nvidia_AceReason-Nemotron-1.1-7B-GGUF",
    "minitron": "ThomasBaruzier/Llama-3.1-Minitron-4B-Width-Base-GGUF",
}


@pytest.fixture(scope="module")
def seed_hub() -> Iterator[dict[str, tuple[list[RemoteFile], ModelShape]]]:
    """The seed repos on a local Hub; each repo's files and the shape read from a remote header."""
    with LocalHub() as hub, pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_ENDPOINT", hub.url)
        patch.setenv("HF_HOME", "/nonexistent-hf-home")
        for repo, files in seed_repos().items():
            hub.add_listing_repo(repo, files)
        loaded = {}
        for key, repo in REPOS.items():
            files = list_repo_files(repo)
            first = header_file(files)
            assert first is not None
            loaded[key] = (files, ModelShape.from_header(read_remote_header(first), first.size))
        yield loaded
