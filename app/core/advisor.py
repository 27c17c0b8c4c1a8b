"""Facts about a Hugging Face GGUF repo, fetched once, then fitted to a machine as often as asked.

The wizard's file chooser moves a goal switch and a context slider; each move must re-fit every
file at once, without the network. `fetch_repo_facts` does the slow part (the file list and one
GGUF header by range request); `advise` is pure arithmetic on those facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.errors import ModelNotFoundError
from app.core.hardware import HardwareProfile
from app.core.hub import RemoteFile, list_repo_files
from app.core.library import safe_model_path
from app.core.memory import ModelShape
from app.core.quants import quant_from_file_type
from app.core.recommend import Recommendation, header_file, recommend
from app.core.remote_gguf import read_header_local_or_remote


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
        ValueError: the header can't be read as a model.
    """
    files = list_repo_files(repo_id)
    described = header_file(files)
    if described is None:
        raise ModelNotFoundError(f"{repo_id} has no GGUF model files.", repo_id=repo_id)
    local = safe_model_path(models_dir, repo_id, described.path)
    header = read_header_local_or_remote(described, local)
    shape = ModelShape.from_header(header, described.size)
    quant = quant_from_file_type(header.metadata.get("general.file_type"))
    return RepoFacts(
        repo_id=repo_id,
        files=files,
        shape=shape,
        header_quants={described.path: quant} if quant else {},
        chat_template=header.chat_template,
    )


def advise(
    facts: RepoFacts, profile: HardwareProfile, *, goal: str = "fastest", context: int | None = None
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


def local_fit(path: Path, profile: HardwareProfile, *, context: int) -> str:
    """How a model file on disk fits `profile` at `context` tokens: "gpu", "partial", "cpu",
    "too_large", or "unknown" when its header can't be read."""
    fitted = _fit_local_file(path, profile, context)
    return fitted[0] if fitted else "unknown"


def automatic_gpu_layers(path: Path, profile: HardwareProfile | None, *, context: int) -> int:
    """Layers to offload when the person left GPU offload on automatic: what the memory
    estimate says fits this machine's usable GPU (0 without one, or when the header is
    unreadable; the load then reports the file's own problem)."""
    if profile is None or not any(gpu.engine_usable for gpu in profile.gpus):
        return 0
    fitted = _fit_local_file(path, profile, context)
    return fitted[1] if fitted and fitted[0] in ("gpu", "partial") else 0


def _fit_local_file(path: Path, profile: HardwareProfile, context: int) -> tuple[str, int] | None:
    from app.core.gguf_file import check_model_file
    from app.core.recommend import fit_option, machine_budget

    try:
        header = check_model_file(path)
        size = path.stat().st_size
        shape = ModelShape.from_header(header, size)
    except (OSError, ValueError):
        return None
    trained = shape.trained_context
    fit, layers, _estimate = fit_option(
        shape, size, machine_budget(profile), min(context, trained) if trained else context
    )
    return fit, layers
