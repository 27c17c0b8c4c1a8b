"""hub/client.py is the one module that knows huggingface_hub's HTTP transport."""

from __future__ import annotations

import ast
from pathlib import Path

import app

TRANSPORTS = {"httpx", "httpx2", "requests"}


def test_only_the_hub_client_imports_the_http_transport() -> None:
    # The transport is huggingface_hub's dependency, not ours (pyproject doesn't declare it):
    # a second module importing it would break silently when huggingface_hub changes it.
    root = Path(app.__file__).parent
    importers = set()
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] in TRANSPORTS for name in names):
                importers.add(source.relative_to(root).as_posix())
    assert importers == {"core/hub/client.py"}
