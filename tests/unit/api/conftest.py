"""The local API server on the real tiny model: one engine thread for the module, a server per
test (each on a free port of 127.0.0.1), and the test variants in the library."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core._util.cancel import CancelToken
from app.core.api.owner import EngineOwner
from app.core.api.server import ApiServer, ApiService, RequestRecord, ServerSettings
from app.core.engine.engine import Engine
from app.core.fit.measured import LoadTable
from app.core.machine.hardware import detect
from app.core.paths import app_paths
from tests import models

# The variants a test may ask for by name, as the library lists them.
LIBRARY = ("chatml-think", "nemotron", "base")
CONTEXT = 1024


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineOwner]:
    """The one engine thread, with the plain tiny model loaded (as `quantdesk serve MODEL`)."""
    folder = tmp_path_factory.mktemp("engine")
    owner = EngineOwner(
        Engine(load_checks=folder / "load-checks.json"),
        context=CONTEXT,
        hardware=detect(),
        loads=LoadTable.in_folder(folder),
    )
    owner.start()
    owner.call(lambda session: session.use_model(models.base_model(), CancelToken()))
    yield owner
    owner.close()


@pytest.fixture
def library(quantdesk_home: Path) -> dict[str, Path]:
    """The test variants in this test's library (linked into the models tree, by repo)."""
    folder = app_paths().ensure().models / "test" / "SmolLM2-variants"
    folder.mkdir(parents=True, exist_ok=True)
    placed = {}
    for name in LIBRARY:
        source = models.variant(name)
        target = folder / source.name
        os.symlink(source, target)
        placed[name] = target
    return placed


@pytest.fixture
def records() -> list[RequestRecord]:
    """Every change to every request, as the server reports them (copies, in order)."""
    return []


@pytest.fixture
def serve(
    owner: EngineOwner, library: dict[str, Path], records: list[RequestRecord]
) -> Iterator[Callable[..., ApiServer]]:
    """Start a server over the module's engine thread; stopped after the test."""
    started: list[ApiServer] = []

    def start(**settings: object) -> ApiServer:
        import dataclasses

        def listen(record: RequestRecord) -> None:
            records.append(dataclasses.replace(record))

        service = ApiService(
            owner,
            ServerSettings(**{"port": 0, **settings}),  # type: ignore[arg-type]
            app_paths(),
            served=models.base_model(),
            listener=listen,
        )
        server = ApiServer(service)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
