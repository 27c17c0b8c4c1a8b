"""Where Quantdesk keeps its files.

Only this module reads environment variables, and only when called. `QUANTDESK_HOME` relocates
everything (tests, portable installs) into one tree::

    $QUANTDESK_HOME/
        models/     GGUF files, models/<owner>/<repo>/<file>.gguf
        data/       chat database
        config/     settings
        cache/      partial downloads, derived data
        logs/       quantdesk.log

Without it, each kind of file goes where the OS expects it (platformdirs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "Quantdesk"
HOME_ENV = "QUANTDESK_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders Quantdesk writes to."""

    models: Path
    data: Path
    config: Path
    cache: Path
    logs: Path

    def ensure(self) -> AppPaths:
        """Create every folder that does not exist yet, and return self."""
        for folder in (self.models, self.data, self.config, self.cache, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def log_file(self) -> Path:
        return self.logs / "quantdesk.log"


def app_paths() -> AppPaths:
    """The folders for this run: under `$QUANTDESK_HOME` if set, else the OS's usual places."""
    home = os.environ.get(HOME_ENV, "").strip()
    if home:
        root = Path(home).expanduser().resolve()
        return AppPaths(
            models=root / "models",
            data=root / "data",
            config=root / "config",
            cache=root / "cache",
            logs=root / "logs",
        )
    import platformdirs

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    data = Path(dirs.user_data_dir)
    return AppPaths(
        models=data / "models",
        data=data,
        config=Path(dirs.user_config_dir),
        cache=Path(dirs.user_cache_dir),
        logs=Path(dirs.user_log_dir),
    )


DEFAULT_HUB_ENDPOINT = "https://huggingface.co"


def hub_endpoint() -> str:
    """The Hugging Face endpoint: `HF_ENDPOINT` (a mirror, or the tests' local Hub) or the Hub.

    Read when called, not at import, unlike `huggingface_hub.constants.ENDPOINT`.
    """
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB_ENDPOINT).rstrip("/")
