"""llama.cpp's own projection for a repo's model on this machine, before any download.

The repo's header file (a local copy when there is one, else a sparse stub: its header's bytes
read with range requests, then a hole up to the file's size) is dry-run in a child process
(`app/core/engine/projection.py`). Its KV and compute figures then stand in for the formula's
in `recommend` wherever they apply. Any failure leaves the formula in charge: a projection is a
refinement, never a reason for a recommendation to fail.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.engine.projection import Projection, project_memory, write_stub
from app.core.errors import QuantdeskError
from app.core.fit.recommend import header_file
from app.core.hub.client import RemoteFile
from app.core.hub.library import safe_model_path
from app.core.hub.remote_header import read_remote_header_bytes
from app.core.machine.hardware import HardwareProfile

if TYPE_CHECKING:
    from app.core.fit.repo_facts import RepoFacts

log = logging.getLogger(__name__)


def project_repo(
    repo_id: str,
    files: list[RemoteFile],
    profile: HardwareProfile,
    *,
    context: int,
    remote: bool,
    layers: int,
    trained_context: int | None,
    models_dir: Path,
    stubs_dir: Path,
) -> Projection | None:
    """llama.cpp's projection of the repo's model on this machine at `context` tokens (capped
    at `trained_context`, as `recommend` caps it), all `layers` on the GPU when the engine here
    can use one, else on the CPU. `remote`: the header may be read from the Hub when no local
    copy of the file is there. None when it can't be had (the formula answers then)."""
    described = header_file(files)
    if described is None:
        return None
    context = min(context, trained_context) if trained_context else context
    gpu_layers = layers if any(gpu.engine_usable for gpu in profile.gpus) else 0
    try:
        path = _local_or_stub(repo_id, described, models_dir, stubs_dir, remote=remote)
        if path is None:
            return None
        return project_memory(path, context=context, gpu_layers=gpu_layers)
    except (QuantdeskError, OSError, ValueError) as exc:
        log.warning("no llama.cpp projection repo=%s error=%s", repo_id, exc)
        return None


def project_facts(
    facts: RepoFacts, profile: HardwareProfile, *, context: int, models_dir: Path, cache_dir: Path
) -> Projection | None:
    """`project_repo` for a repo's facts: facts that came without the Hub (shipped, or saved
    while it can't be reached) use a local copy of the header file or the formula, with no
    request the pick didn't need."""
    from app.core.fit.repo_facts import FactsSource

    return project_repo(
        facts.repo_id,
        facts.files,
        profile,
        context=context,
        remote=facts.source is FactsSource.HUB,
        layers=facts.shape.layers,
        trained_context=facts.shape.trained_context,
        models_dir=models_dir,
        stubs_dir=cache_dir / "header-stubs",
    )


def _local_or_stub(
    repo_id: str, described: RemoteFile, models_dir: Path, stubs_dir: Path, *, remote: bool
) -> Path | None:
    local = safe_model_path(models_dir, repo_id, described.path)
    if local.is_file() and local.stat().st_size == described.size:
        return local
    if not remote:
        return None
    # What llama.cpp makes of bytes a server sent is its child's risk: an abort there only
    # leaves the formula in charge.
    _header, prefix = read_remote_header_bytes(described)
    name = hashlib.sha256(f"{repo_id}/{described.path}".encode()).hexdigest()[:16]
    return write_stub(prefix, described.size, stubs_dir / f"{name}.gguf")
