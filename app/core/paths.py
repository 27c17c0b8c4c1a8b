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


def hub_client_environment() -> dict[str, str]:
    """What `huggingface_hub` must read from the environment, set before it is imported.

    Its constants are fixed at import. Telemetry stays off (it also fetches and caches an
    "agent harnesses" list from the endpoint for a day: one malformed reply broke every call), and
    the client's state (caches, that list) lives in our cache folder, not `~/.cache/huggingface`.
    The token saved by `hf auth login` is still found where that command put it.
    """
    env = {
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HOME": str(app_paths().cache / "huggingface"),
    }
    if not os.environ.get("HF_TOKEN_PATH"):
        env["HF_TOKEN_PATH"] = str(_user_hf_home() / "token")
    return env


def _user_hf_home() -> Path:
    """Where `huggingface_hub` keeps its state for the user: `$HF_HOME`, else the XDG cache."""
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "huggingface"
