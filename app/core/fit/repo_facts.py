"""Facts about a Hugging Face GGUF repo, fetched once, then fitted to a machine as often as asked.

The wizard's file chooser moves a goal switch and a context slider; each move must re-fit every
file at once, without the network. `fetch_repo_facts` does the slow part (the file list and one
GGUF header by range request); `advise` is pure arithmetic on those facts.

Facts also come without the network (`repo_facts`, what the app calls):
- the curated models' facts ship with the app (`app/resources/curated_facts.json`, written by
  `scripts/curated_facts.py` from what the Hub serves), so choosing one of them and its file
  works offline; only the download needs the Hub;
- any other repo's facts are saved after each fetch (`<cache>/repo-facts/<sha1 of repo>.json`)
  and used when the Hub can't be reached.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.core._util.enums import TextEnum
from app.core._util.files import write_json_atomic
from app.core.engine.projection import Projection
from app.core.errors import ModelHeaderError, ModelNotFoundError, OfflineError
from app.core.fit.measured import NO_CORRECTION, Correction
from app.core.fit.memory import ModelShape
from app.core.fit.recommend import Fit, Goal, Option, Recommendation, header_file, recommend
from app.core.gguf.quants import quant_from_file_type
from app.core.hub.catalog import CatalogModel, curated_facts_document
from app.core.hub.client import RemoteFile, list_repo_files
from app.core.hub.library import safe_model_path
from app.core.hub.remote_header import read_header_local_or_remote
from app.core.machine.hardware import HardwareProfile
from app.core.paths import app_paths
from app.core.remote.workers import WorkerProbe

log = logging.getLogger(__name__)

FACTS_FORMAT = 1
CACHE_FOLDER = "repo-facts"


class FactsSource(TextEnum):
    """Where a repo's facts came from."""

    HUB = "hub"  # fetched just now
    SHIPPED = "shipped"  # the curated models' copy in the app
    SAVED = "saved"  # saved after an earlier fetch (the Hub can't be reached now)


@dataclass(frozen=True)
class RepoFacts:
    """What `advise` needs about a repo: its files, its model's shape, quants from headers."""

    repo_id: str
    files: list[RemoteFile]
    shape: ModelShape
    header_quants: dict[str, str]
    chat_template: str | None
    source: FactsSource = FactsSource.HUB


def repo_facts(repo_id: str, models_dir: Path, *, cache_dir: Path | None = None) -> RepoFacts:
    """`repo_id`'s facts: a curated model's from the app (no network), any other's from the Hub
    (then saved under `cache_dir`, the app's cache folder by default), or, when the Hub can't be
    reached, as saved after an earlier fetch.

    Raises:
        As `fetch_repo_facts` (OfflineError only when nothing was saved either).
    """
    shipped = shipped_repo_facts(repo_id)
    if shipped is not None:
        return shipped
    cache = (cache_dir or app_paths().cache) / CACHE_FOLDER
    try:
        facts = fetch_repo_facts(repo_id, models_dir)
    except OfflineError:
        saved = _read_saved(cache, repo_id)
        if saved is None:
            raise
        return saved
    _save(cache, facts)
    return facts


def shipped_repo_facts(repo_id: str) -> RepoFacts | None:
    """The facts the app ships for a curated model, or None for any other repo."""
    data = _shipped_facts().get(repo_id)
    return facts_from_json(data, source=FactsSource.SHIPPED) if data is not None else None


@lru_cache(maxsize=1)
def _shipped_facts() -> dict[str, Any]:
    # Read once: a file of the app, never changed while it runs.
    return dict(curated_facts_document().get("repos", {}))


def facts_to_json(facts: RepoFacts) -> dict[str, Any]:
    """`facts` as JSON (the shipped file's and the cache's format). Files keep their path and
    size: fitting needs no more, and a download asks the Hub for the checksums afresh."""
    return {
        "repo_id": facts.repo_id,
        "files": [[f.path, f.size] for f in facts.files],
        "shape": facts.shape.as_json(),
        "header_quants": facts.header_quants,
        "chat_template": facts.chat_template,
    }


def facts_from_json(data: dict[str, Any], *, source: FactsSource) -> RepoFacts:
    """The facts `facts_to_json` wrote (KeyError, TypeError or ValueError if they aren't)."""
    repo_id = data["repo_id"]
    if not isinstance(repo_id, str):
        raise TypeError("repo_id is not text")
    files = [RemoteFile(repo_id, str(path), int(size), None) for path, size in data["files"]]
    return RepoFacts(
        repo_id=repo_id,
        files=files,
        shape=ModelShape(**data["shape"]),
        header_quants={str(k): str(v) for k, v in data["header_quants"].items()},
        chat_template=data["chat_template"],
        source=source,
    )


def _cache_file(cache: Path, repo_id: str) -> Path:
    # A hash, not the repo's name: any name the Hub lists makes a safe file name.
    return cache / f"{hashlib.sha1(repo_id.encode()).hexdigest()}.json"


def _save(cache: Path, facts: RepoFacts) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        write_json_atomic(
            _cache_file(cache, facts.repo_id),
            {"format": FACTS_FORMAT, "facts": facts_to_json(facts)},
        )
    except OSError as exc:  # a cache: the fetch still succeeded
        log.warning("couldn't save repo facts repo=%s error=%s", facts.repo_id, exc)


def _read_saved(cache: Path, repo_id: str) -> RepoFacts | None:
    path = _cache_file(cache, repo_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FACTS_FORMAT or data["facts"]["repo_id"] != repo_id:
            return None
        return facts_from_json(data["facts"], source=FactsSource.SAVED)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("saved repo facts unreadable path=%s error=%s", path, exc)
        return None


def fetch_repo_facts(repo_id: str, models_dir: Path) -> RepoFacts:
    """List `repo_id`'s files and read one GGUF header (local copy first, else 4 MiB ranges).

    Raises:
        ModelNotFoundError: the repo holds no GGUF model.
        HubError (and subclasses): the Hub failed.
        ModelHeaderError: the header can't be read as a model (naming the repo and file).
    """
    files = list_repo_files(repo_id)
    described = header_file(files)
    if described is None:
        raise ModelNotFoundError(f"{repo_id} has no GGUF model files.", repo_id=repo_id)
    local = safe_model_path(models_dir, repo_id, described.path)
    header = read_header_local_or_remote(described, local)
    try:
        shape = ModelShape.from_header(header, described.size)
    except ModelHeaderError as exc:
        raise exc.located(repo_id=repo_id, path=described.path) from None
    quant = quant_from_file_type(header.metadata.get("general.file_type"))
    return RepoFacts(
        repo_id=repo_id,
        files=files,
        shape=shape,
        header_quants={described.path: quant} if quant else {},
        chat_template=header.chat_template,
    )


def advise(
    facts: RepoFacts,
    profile: HardwareProfile,
    *,
    goal: Goal | str = Goal.FASTEST,
    context: int | None = None,
    projection: Projection | None = None,
    correction: Correction = NO_CORRECTION,
    workers: tuple[WorkerProbe, ...] = (),
) -> Recommendation:
    """Fit every file of the repo on `profile` at `context` tokens and pick one for `goal`
    (`projection`: llama.cpp's dry run of the model on this machine, see `recommend`;
    `correction`: what this machine's measured loads put on the estimates; `workers`: other
    computers that may take a file too large for this one)."""
    return recommend(
        facts.repo_id,
        facts.files,
        facts.shape,
        profile,
        goal=goal,
        context=context,
        header_quants=facts.header_quants or None,
        projection=projection,
        correction=correction,
        workers=workers,
    )


def curated_picks(
    models: list[CatalogModel],
    profile: HardwareProfile,
    *,
    goal: Goal | str = Goal.FASTEST,
    context: int | None = None,
) -> dict[str, Option | None]:
    """Each curated model's recommended file on `profile` (None: no file of it fits), from the
    facts shipped with the app: arithmetic, no network. Models without shipped facts are left
    out."""
    picks: dict[str, Option | None] = {}
    for model in models:
        facts = shipped_repo_facts(model.repo_id)
        if facts is not None:
            picks[model.repo_id] = advise(facts, profile, goal=goal, context=context).pick
    return picks


# Where a pick runs, best first, for choosing between models.
_FIT_RANK = {Fit.GPU: 0, Fit.PARTIAL: 1, Fit.CPU: 2}


def suited_model(models: list[CatalogModel], picks: dict[str, Option | None]) -> str | None:
    """The curated model that suits the machine: a chat model (a newcomer wants to chat; base
    models only continue text) whose recommended file runs best (wholly on the GPU, then split,
    then on the CPU), the catalog's order deciding between equals (it lists the general pick
    first). None when no chat model fits."""
    ranked = [
        (_FIT_RANK[pick.fit], index, model.repo_id)
        for index, model in enumerate(models)
        if model.kind != "base"
        and (pick := picks.get(model.repo_id)) is not None
        and pick.fit in _FIT_RANK
    ]
    return min(ranked)[2] if ranked else None


def curated_facts_from_hub(models: list[CatalogModel], work_dir: Path) -> dict[str, Any]:
    """The shipped file's `repos`: each curated model's facts as the Hub (`HF_ENDPOINT`) serves
    them now (`work_dir`: an empty folder, so no local copy's header is read instead)."""
    return {
        model.repo_id: facts_to_json(fetch_repo_facts(model.repo_id, work_dir)) for model in models
    }
