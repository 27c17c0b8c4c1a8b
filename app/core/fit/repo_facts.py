"""Facts about a Hugging Face GGUF repo, fetched once, then fitted to a machine as often as asked.

The wizard's file chooser moves a goal switch and a context slider; each move must re-fit every
file at once, without the network. `fetch_repo_facts` does the slow part (the file list and one
GGUF header by range request); `advise` is pure arithmetic on those facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ModelHeaderError, ModelNotFoundError
from app.core.fit.memory import ModelShape
from app.core.fit.recommend import Goal, Recommendation, header_file, recommend
from app.core.gguf.quants import quant_from_file_type
from app.core.hub.client import RemoteFile, list_repo_files
from app.core.hub.library import safe_model_path
from app.core.hub.remote_header import read_header_local_or_remote
from app.core.machine.hardware import HardwareProfile


@dataclass(frozen=True)
class RepoFacts:
    """What `advise` needs about a repo: its files, its model's shape, quants from headers."""

    repo_id: str
    files: list[RemoteFile]
    shape: ModelShape
    header_quants: dict[str, str]
    chat_template: str | None


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
) -> Recommendation:
    """Fit every file of the repo on `profile` at `context` tokens and pick one for `goal`."""
    return recommend(
        facts.repo_id,
        facts.files,
        facts.shape,
        profile,
        goal=goal,
        context=context,
        header_quants=facts.header_quants or None,
    )
