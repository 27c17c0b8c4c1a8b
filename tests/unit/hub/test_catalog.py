"""The curated list (offline) and Hugging Face search (the local Hub)."""

from __future__ import annotations

import socket
import time

import pytest

from app.core.errors import HubError, ModelNotFoundError, OfflineError
from app.core.hub.catalog import CatalogModel, curated_models, search_gguf_repos
from app.core.hub.client import SEARCH_TIMEOUT
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


def dead_endpoint() -> str:
    """An address where nobody listens (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_offline_a_search_says_so_within_3_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub's own search tried a refused connection five times over 24 s.
    monkeypatch.setenv("HF_ENDPOINT", dead_endpoint())
    started = time.monotonic()
    with pytest.raises(OfflineError, match="Can't reach Hugging Face"):
        search_gguf_repos("smol")
    assert time.monotonic() - started < 3.0


def test_a_hub_that_never_answers_a_search_is_called_unreachable_at_its_deadline(
    local_hub: LocalHub,
) -> None:
    local_hub.inject(Fault.SILENT, path="/api/models", times=None)
    started = time.monotonic()
    with pytest.raises(OfflineError) as caught:
        search_gguf_repos("smol")
    took = time.monotonic() - started
    assert f"didn't answer about smol within {SEARCH_TIMEOUT:g} s" in str(caught.value)
    assert caught.value.repo_id is None
    assert SEARCH_TIMEOUT <= took < SEARCH_TIMEOUT + 5  # the deadline, not a listing's 20 s


@pytest.mark.parametrize("reply", [{"error": "no"}, "text", [1, "x", {"id": "no-owner"}]])
def test_a_search_answer_that_isnt_a_list_of_models_finds_nothing_or_says_so(
    local_hub: LocalHub, reply: object
) -> None:
    local_hub.inject(Fault.JSON, path="/api/models", body=reply)
    try:
        found = search_gguf_repos("smol")
    except HubError as error:
        assert "isn't a list" in str(error)
    else:
        assert found == []


def test_one_line_words_go_through_the_translation_given() -> None:
    """The UI passes its translator: every word is marked for it (scripts/translations.py
    extracts them), the facts from the catalogue stay as they are."""
    chinese = {
        "base model": "基础模型",
        "no reasoning mode": "无推理模式",
        "{n:,} downloads": "{n:,} 次下载",
    }
    model = CatalogModel("o/r", "R", parameters="4B", kind="base", license="MIT", curated=True)
    assert model.one_line(chinese.__getitem__) == "4B · 基础模型 · 无推理模式 · MIT"
    found = CatalogModel("o/r", "r", kind="base", downloads=12345)
    assert found.one_line(chinese.__getitem__) == "基础模型 · 12,345 次下载"
