"""Local model files.

Models live in a browsable tree under the models folder::

    models/<owner>/<repo>/<file>.gguf

This first version lists what is there; downloads and imports come later.
"""

from __future__ import annotations

from pathlib import Path


def find_local_models(models_dir: Path) -> list[Path]:
    """Every `.gguf` file under `models_dir`, sorted by path; none if the folder doesn't exist."""
    if not models_dir.is_dir():
        return []
    return sorted(
        path
        for path in models_dir.rglob("*.gguf")
        if path.is_file() and not path.name.startswith(".")
    )
