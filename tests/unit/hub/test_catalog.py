"""The curated list (offline) and Hugging Face search (the local Hub)."""

from __future__ import annotations

import pytest

from app.core.errors import HubError, ModelNotFoundError
from app.core.hub.catalog import CatalogModel, curated_models, search_gguf_repos
from tests.localhub import Fault, LocalHub, seed_repos


def test_a_failed_search_is_worded_as_a_search_not_a_missing_repo(local_hub: LocalHub) -> None:
    local_hub.inject(Fault.STATUS, path="/api/models", status=404)
    with pytest.raises(HubError) as caught:
        search_gguf_repos("qwen tiny")
    error = caught.value
    assert not isinstance(error, ModelNotFoundError)
    assert error.repo_id is None
    assert "doesn't exist" not in str(error)
    assert str(error).startswith("Searching Hugging Face for “qwen tiny” failed (it answered 404).")


def test_the_curated_list_is_the_seed_models_with_their_facts() -> None:
    models = curated_models()
    assert {model.repo_id for model in models} == set(seed_repos())
    assert all(model.curated and model.name and model.summary for model in models)
    base = next(model for model in models if model.kind == "base")
    assert "Minitron" in base.repo_id and "base model" in base.one_line()


def test_a_missing_language_falls_back_to_english() -> None:
    assert [m.summary for m in curated_models("xx")] == [m.summary for m in curated_models("en")]


def test_one_line_says_the_facts_in_brief() -> None:
    curated = CatalogModel("o/r", "R", parameters="4B", reasoning="switch", license="MIT",
                           curated=True)  # fmt: skip
    assert curated.one_line() == "4B · chat · reasoning on/off · MIT"
    found = CatalogModel("o/r", "r", downloads=12345)
    assert found.one_line() == "chat · 12,345 downloads"


def test_search_finds_gguf_repos_on_the_hub(local_hub: LocalHub) -> None:
    for repo_id, files in seed_repos().items():
        local_hub.add_listing_repo(repo_id, files)
    found = search_gguf_repos("  nemotron-nano ")
    assert sorted(model.repo_id for model in found) == [
        "Mungert/Llama-3.1-Nemotron-Nano-8B-v1-GGUF",
        "bartowski/nvidia_Llama-3.1-Nemotron-Nano-4B-v1.1-GGUF",
    ]
    assert all(not model.curated for model in found)
    assert search_gguf_repos("   ") == []
    assert local_hub.requests  # the search went to the Hub
