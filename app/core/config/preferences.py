"""The person's preferences: models folder, defaults for loading models, theme, hardware fixes,
and the model to load again at start.

Kept in `config/preferences.json`. A file someone edited by hand, or one written by another
version, never stops the app: each field that can't be read falls back to its default and
`load_preferences` says which, in one sentence. The Hugging Face token is never stored here (it
lives in the OS keychain: `app.core.config.secrets`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core._util.files import moved_path, write_json_atomic

log = logging.getLogger(__name__)

PREFERENCES_FILE = "preferences.json"
THEMES = ("system", "light", "dark")
# The languages the app is translated into (app/ui/translations), and "system": the OS's choice.
LANGUAGES = ("system", "en", "zh_CN")
DEFAULT_CONTEXT = 4096
MIN_CONTEXT = 512
MAX_CONTEXT = 1_048_576
MAX_THREADS = 1024
MAX_GPU_LAYERS = 10_000
# What the model chooser fits files for: `app.core.fit.recommend.Goal`'s values (config sits
# below fit in the layers, so they are written out; a test keeps them equal).
CHOOSER_GOALS = ("fastest", "quality")
# Model files whose chosen context length is remembered; the oldest are forgotten past this.
MAX_REMEMBERED_CONTEXTS = 200
# Other computers a person may add (Settings); more would be a list nobody reads.
MAX_WORKERS = 16
API_PORT = 8080  # the local API server's port until the person picks another (llama-server's)
ALL_GPU_LAYERS = -1
CPU_ONLY = 0


@dataclass(frozen=True)
class Preferences:
    """What the person chose in the wizard and the Settings page.

    Attributes:
        first_run_done: the first-run wizard was finished (or skipped).
        models_dir: the models folder, or None for the default one (`AppPaths.models`).
        default_context: the context length new chats load models with, in tokens.
        threads: CPU threads for llama.cpp, or None for automatic.
        gpu_layers: layers to offload: None automatic (from the recommendation), -1 all of them,
            0 none (CPU only), n > 0 that many.
        theme: "system", "light" or "dark".
        language: the app's language, one of `LANGUAGES`; read at start.
        hardware_overrides: corrections made by hand to what was detected:
            {"ram_bytes": int, "vram_bytes": {"<gpu index>": int}}, each key optional.
        chooser_goal: what the model chooser (wizard, Discover) fits files for: "fastest" or
            "quality".
        chooser_context: the context length it fits them at, or None for `default_context`.
        model_contexts: the context length chosen for each model file (absolute path: tokens),
            used whenever that file loads without one given.
        load_last_model: load `last_model` again when the app starts.
        last_model: the path of the model loaded last (None before the first load).
        workers: other computers that hold part of a model (`quantdesk worker` on each), as
            "host:port"; none is contacted unless the person added it.
        api_port: the port the local API server listens on when turned on (0: any free one);
            kept so that programs set up with its URL find it again after a restart.
        api_save_requests: the local API's chat requests are saved in the person's chats.
    """

    first_run_done: bool = False
    models_dir: str | None = None
    default_context: int = DEFAULT_CONTEXT
    threads: int | None = None
    gpu_layers: int | None = None
    theme: str = "system"
    language: str = "system"
    hardware_overrides: dict[str, Any] = field(default_factory=dict)
    chooser_goal: str = CHOOSER_GOALS[0]
    chooser_context: int | None = None
    model_contexts: dict[str, int] = field(default_factory=dict)
    load_last_model: bool = True
    last_model: str | None = None
    workers: tuple[str, ...] = ()
    api_port: int = API_PORT
    api_save_requests: bool = False

    def __post_init__(self) -> None:
        for name, check in _CHECKS.items():
            value = getattr(self, name)
            if not check(value):
                raise ValueError(f"invalid preference {name}={value!r}")
        # Private copies, so a caller's dict can't change a frozen value behind its back.
        object.__setattr__(self, "hardware_overrides", copy.deepcopy(self.hardware_overrides))
        object.__setattr__(self, "model_contexts", dict(self.model_contexts))
        object.__setattr__(self, "workers", tuple(self.workers))  # a JSON list when read

    def replace(self, **changes: Any) -> Preferences:
        """A copy with `changes` applied (ValueError for an unknown field or a bad value)."""
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def ram_override(self) -> int | None:
        """RAM in bytes as corrected by hand, or None."""
        return self.hardware_overrides.get("ram_bytes")

    def vram_override(self, gpu_index: int) -> int | None:
        """VRAM in bytes of GPU `gpu_index` as corrected by hand, or None."""
        return self.hardware_overrides.get("vram_bytes", {}).get(str(gpu_index))

    @property
    def chooser_context_or_default(self) -> int:
        return self.chooser_context or self.default_context

    def model_context(self, path: Path | str) -> int | None:
        """The context length chosen for the model file `path`, or None."""
        return self.model_contexts.get(_model_key(path))

    def with_model_context(self, path: Path | str, tokens: int) -> dict[str, int]:
        """`model_contexts` with `tokens` remembered for `path` (the newest last; the oldest
        forgotten past MAX_REMEMBERED_CONTEXTS): for `replace(model_contexts=...)`."""
        key = _model_key(path)
        contexts = {k: v for k, v in self.model_contexts.items() if k != key}
        contexts[key] = tokens
        return dict(list(contexts.items())[-MAX_REMEMBERED_CONTEXTS:])

    def models_moved(self, old: Path, new: Path) -> dict[str, Any]:
        """The changes that make `last_model` and `model_contexts` follow files that moved
        with the models folder from `old` to `new` (for `replace(**...)`); {} when none did."""
        changes: dict[str, Any] = {}
        last = moved_path(self.last_model, old, new) if self.last_model else None
        if last is not None:
            changes["last_model"] = str(last)
        contexts = {}
        for key, tokens in self.model_contexts.items():
            moved = moved_path(key, old, new)
            contexts[_model_key(moved) if moved is not None else key] = tokens
        if contexts != self.model_contexts:
            changes["model_contexts"] = contexts
        return changes


def _model_key(path: Path | str) -> str:
    # One spelling per file: absolute, "~" expanded (symlinks kept: the name the person used).
    return str(Path(path).expanduser().absolute())


def _is_context(value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and MIN_CONTEXT <= value <= MAX_CONTEXT
    )


def _valid_contexts(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and k and _is_context(v) for k, v in value.items()
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _valid_hardware(value: object) -> bool:
    if not isinstance(value, dict) or not set(value) <= {"ram_bytes", "vram_bytes"}:
        return False
    ram = value.get("ram_bytes")
    if ram is not None and not (_is_int(ram) and ram > 0):
        return False
    vram = value.get("vram_bytes")
    if vram is None:
        return True
    return isinstance(vram, dict) and all(
        isinstance(k, str) and k.isdigit() and _is_int(v) and v >= 0 for k, v in vram.items()
    )


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "first_run_done": lambda v: isinstance(v, bool),
    "models_dir": lambda v: v is None or (isinstance(v, str) and v.strip() != ""),
    "default_context": lambda v: _is_int(v) and MIN_CONTEXT <= v <= MAX_CONTEXT,
    "threads": lambda v: v is None or (_is_int(v) and 1 <= v <= MAX_THREADS),
    "gpu_layers": lambda v: v is None or (_is_int(v) and -1 <= v <= MAX_GPU_LAYERS),
    "theme": lambda v: v in THEMES,
    "language": lambda v: v in LANGUAGES,
    "hardware_overrides": _valid_hardware,
    "chooser_goal": lambda v: v in CHOOSER_GOALS,
    "chooser_context": lambda v: v is None or _is_context(v),
    "model_contexts": _valid_contexts,
    "load_last_model": lambda v: isinstance(v, bool),
    "last_model": lambda v: v is None or (isinstance(v, str) and v.strip() != ""),
    "api_port": lambda v: _is_int(v) and 0 <= v <= 65535,
    "api_save_requests": lambda v: isinstance(v, bool),
    "workers": lambda v: (
        isinstance(v, (list, tuple))
        and len(v) <= MAX_WORKERS
        and all(isinstance(w, str) and 0 < len(w.strip()) <= 300 for w in v)
    ),
}

# How each field is named in the note about a bad file.
_FIELD_WORDS = {
    "first_run_done": "first-run state",
    "models_dir": "models folder",
    "default_context": "default context length",
    "threads": "threads",
    "gpu_layers": "GPU offload",
    "theme": "theme",
    "language": "language",
    "hardware_overrides": "hardware corrections",
    "workers": "other computers",
    "api_port": "local API server's port",
    "api_save_requests": "saving the local API's requests",
    "chooser_goal": "goal for choosing files",
    "chooser_context": "context length for choosing files",
    "model_contexts": "context lengths chosen per model",
    "load_last_model": "loading the last model at start",
    "last_model": "last model",
}


def preferences_path(config_dir: Path) -> Path:
    return config_dir / PREFERENCES_FILE


def load_preferences(config_dir: Path) -> tuple[Preferences, str | None]:
    """The saved preferences and a note for the person (None when all was well).

    A missing file gives the defaults. A file that isn't JSON, or fields with unknown values,
    give the defaults for what couldn't be read; never raises for bad content.
    """
    path = preferences_path(config_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Preferences(), None
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("can't read preferences path=%s error=%s", path, exc)
        return Preferences(), (
            f"Your settings file ({path}) could not be read, so the default settings are used."
        )
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, Mapping):
        log.warning("preferences file is not a JSON object path=%s", path)
        return Preferences(), (
            f"Your settings file ({path}) is damaged, so the default settings are used; "
            "saving a setting writes a fresh one."
        )
    values: dict[str, Any] = {}
    bad: list[str] = []
    for name, check in _CHECKS.items():
        if name not in data:
            continue
        if check(data[name]):
            values[name] = data[name]
        else:
            bad.append(name)
    if bad:
        log.warning("preferences reset to defaults fields=%s path=%s", ",".join(bad), path)
        words = ", ".join(_FIELD_WORDS[name] for name in bad)
        return Preferences(**values), (
            f"Some settings in {path.name} had values Quantdesk can't use and were reset to "
            f"their defaults: {words}."
        )
    return Preferences(**values), None


def save_preferences(config_dir: Path, prefs: Preferences) -> None:
    """Write `prefs` to `config_dir/preferences.json` (readers see the old file or the new)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(preferences_path(config_dir), prefs.to_json())
