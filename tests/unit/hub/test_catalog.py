"""Hugging Face search, against the local Hub."""

from __future__ import annotations

import pytest

from app.core.errors import HubError, ModelNotFoundError
from app.core.hub.catalog import search_gguf_repos
from tests.localhub import Fault, LocalHub


def test_a_failed_search_is_worded_as_a_search_not_a_missing_repo(local_hub: LocalHub) -> None:
    local_hub.inject(Fault.STATUS, path="/api/models", status=404)
    with pytest.raises(HubError) as caught:
        search_gguf_repos("qwen tiny")
    error = caught.value
    assert not isinstance(error, ModelNotFoundError)
    assert error.repo_id is None
    assert "doesn't exist" not in str(error)
    assert str(error).startswith("Searching Hugging Face for “qwen tiny” failed (it answered 404).")
