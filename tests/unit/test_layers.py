"""The core is plain Python: importing it must not pull in Qt (nor slow libraries at start-up)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import app.core


def _modules_after_import(modules: list[str]) -> set[str]:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print('\\n'.join(sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_core_never_imports_qt() -> None:
    core = [f"app.core.{info.name}" for info in pkgutil.iter_modules(app.core.__path__)]
    assert len(core) >= 8
    loaded = _modules_after_import(core)
    assert not {m for m in loaded if m.startswith(("PySide6", "shiboken6", "app.ui"))}


def test_heavy_libraries_stay_off_the_start_up_path() -> None:
    loaded = _modules_after_import(["app.cli", "app.core.engine.engine", "app.ui.main_window"])
    assert "llama_cpp" not in loaded
    assert "huggingface_hub" not in loaded
    # The local API server's web stack loads when it is turned on, not with the window.
    assert "uvicorn" not in loaded
    assert "starlette" not in loaded
