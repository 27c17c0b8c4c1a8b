"""Which models to offer: the curated list shipped with the app, and Hugging Face search.

The curated list (`app/resources/catalog.json`) works offline, with its models' file lists and
header facts (`app/resources/curated_facts.json`); search needs the Hub and says so plainly when
it can't be reached.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from app.core._util.translation import QT_TRANSLATE_NOOP, Translate, as_written
from app.core.hub.client import search_models
from app.resources import RESOURCES

# Words of `CatalogModel.one_line`, translated where the UI shows them (context "Catalog").
REASONING_WORDS = {
    "switch": QT_TRANSLATE_NOOP("Catalog", "reasoning on/off"),
    "always": QT_TRANSLATE_NOOP("Catalog", "always reasons"),
    "none": QT_TRANSLATE_NOOP("Catalog", "no reasoning mode"),
}
BASE_MODEL = QT_TRANSLATE_NOOP("Catalog", "base model")
CHAT_MODEL = QT_TRANSLATE_NOOP("Catalog", "chat")
DOWNLOADS = QT_TRANSLATE_NOOP("Catalog", "{n:,} downloads")


@dataclass(frozen=True)
class CatalogModel:
    """A model the wizard can offer, curated or found by search."""

    repo_id: str
    name: str
    parameters: str = ""  # "4B"
    kind: str = "chat"  # "chat" or "base"
    reasoning: str = "none"  # "switch", "always", "none"
    license: str = ""
    summary: str = ""
    curated: bool = False
    downloads: int | None = None  # from search

    def one_line(self, translate: Translate = as_written) -> str:
        """'4B · chat · reasoning on/off · NVIDIA Open Model License' — the facts in brief, each
        word passed through `translate` (the UI's, for the person's language)."""
        parts = [self.parameters, translate(BASE_MODEL if self.kind == "base" else CHAT_MODEL)]
        if self.reasoning in REASONING_WORDS and self.curated:
            parts.append(translate(REASONING_WORDS[self.reasoning]))
        if self.license:
            parts.append(self.license)
        if self.downloads is not None:
            parts.append(translate(DOWNLOADS).format(n=self.downloads))
        return " · ".join(part for part in parts if part)


CURATED_FACTS = "curated_facts.json"


def curated_facts_document() -> dict[str, Any]:
    """The curated models' file lists and header facts as shipped (`curated_facts.json`, written
    by `scripts/curated_facts.py`); `app.core.fit.repo_facts` reads them."""
    data = json.loads((RESOURCES / CURATED_FACTS).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def curated_models(language: str = "en") -> list[CatalogModel]:
    """The shipped list, with summaries in `language` (falling back to English)."""
    data = json.loads((RESOURCES / "catalog.json").read_text(encoding="utf-8"))
    return [_curated(entry, language) for entry in data["models"]]


def _curated(entry: dict[str, Any], language: str) -> CatalogModel:
    summaries = entry.get("summary", {})
    return CatalogModel(
        repo_id=entry["repo_id"],
        name=entry["name"],
        parameters=entry.get("parameters", ""),
        kind=entry.get("kind", "chat"),
        reasoning=entry.get("reasoning", "none"),
        license=entry.get("license", ""),
        summary=summaries.get(language) or summaries.get("en", ""),
        curated=True,
    )


def search_gguf_repos(query: str, *, limit: int = 30) -> list[CatalogModel]:
    """GGUF model repos on Hugging Face whose names contain `query`, most downloaded first.

    Raises:
        OfflineError: the Hub can't be reached or didn't answer within a few seconds (with a
            sentence saying so).
        HubError, RateLimitedError: other Hub failures.
    """
    query = query.strip()
    if not query:
        return []
    found = search_models(query, model_filter="gguf", limit=limit)
    models = []
    for entry in found:
        repo_id = entry.get("id") or entry.get("modelId")
        if not isinstance(repo_id, str) or "/" not in repo_id:
            continue  # not a model the Hub could serve files of
        downloads = entry.get("downloads")
        models.append(
            CatalogModel(
                repo_id=repo_id,
                name=repo_id.split("/")[-1],
                downloads=downloads if isinstance(downloads, int) else None,
            )
        )
    return models
