"""Shared fixtures: a temporary QUANTDESK_HOME for every test, and the real tiny test models."""

from __future__ import annotations

import atexit
import faulthandler
import gc
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Qt must never try to open a real display in tests.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may send the developer's own Hugging Face token (the one `hf auth login` saved):
# huggingface_hub reads its token path once, at import, so a per-test HF_HOME can't hide it.
os.environ["HF_TOKEN_PATH"] = str(Path(tempfile.gettempdir()) / "quantdesk-tests" / "no-hf-token")

from tests import models

if TYPE_CHECKING:
    from tests.localhub import LocalHub

GUI_DIR = Path(__file__).parent / "gui"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if GUI_DIR in Path(item.fspath).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def quantdesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty Quantdesk home (models, database, settings, logs)."""
    home = tmp_path / "quantdesk-home"
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_real_keychain() -> Iterator[None]:
    """No test reads or writes the developer's real keychain (a stored Hugging Face token)."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def tiny_model() -> Path:
    """SmolLM2-135M-Instruct Q4_1: a real GGUF with a ChatML template."""
    return models.base_model()


@pytest.fixture(scope="session")
def nemotron_model() -> Path:
    """The tiny weights with a Llama-3.1 Nemotron Nano chat template and general.name."""
    return models.variant("nemotron")


@pytest.fixture(scope="session")
def think_model() -> Path:
    """The tiny weights with a ChatML template whose generation prompt opens <think>."""
    return models.variant("chatml-think")


@pytest.fixture(scope="session")
def qwen3_model() -> Path:
    """SmolLM2's weights with a Qwen3-style template (`enable_thinking`)."""
    return models.variant("qwen3")


@pytest.fixture(scope="session")
def q4_0_model() -> Path:
    """The tiny weights requantized to Q4_0 by llama.cpp: repacked on AVX2 and ARM CPUs."""
    return models.requantized("Q4_0")


@pytest.fixture(scope="session")
def huge_context_model() -> Path:
    """The tiny model declaring a 1,048,576-token training context: a KV cache of 22.5 GiB at
    full length, more than `address_space_capped` allows (and than this VM's RAM)."""
    return models.with_number("llama.context_length", HUGE_CONTEXT)


@pytest.fixture
def address_space_capped() -> Iterator[None]:
    """This process's address space capped at what it has now plus `ADDRESS_ROOM` while the
    test runs (its children inherit the cap).

    The huge-context loads must fail to allocate on every machine, also one with 128 GiB of RAM
    where the allocation would succeed and clearing the cache would touch 22.5 GiB. The soft
    limit is restored after the test."""
    resource = pytest.importorskip("resource")
    if not sys.platform.startswith("linux"):
        pytest.skip("RLIMIT_AS is kept only on Linux")
    with open("/proc/self/status", encoding="ascii") as status:
        vm_size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = vm_size + ADDRESS_ROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# The longest context the app lets a person choose (preferences.MAX_CONTEXT); the tiny model's KV
# cache (30 layers x 3 KV heads x (64 + 64) x 2 bytes: 22.5 KiB a cell) is then 22.5 GiB.
HUGE_CONTEXT = 2**20
# What a capped test may still map beside what it has: a short-context load of the tiny model
# and the window's work take far less; the huge context's cache far more.
ADDRESS_ROOM = 8 * 2**30


@pytest.fixture(scope="session")
def base_model() -> Path:
    """The tiny weights with no chat template: a base model."""
    return models.variant("base")


@pytest.fixture(scope="session")
def hostile_model() -> Path:
    """The tiny weights with a chat template that tries to run a shell command."""
    return models.variant("hostile")


@pytest.fixture(scope="session")
def broken_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Broken copies: truncated, header-cut, wrong-magic, empty, random."""
    return models.broken_models(tmp_path_factory.mktemp("broken"))


# What each broken copy must be reported as (the reason part of the message).
BROKEN_REASONS = {
    "truncated": "file is truncated: 38.1\u00a0MiB of 93.8\u00a0MiB",
    "header-cut": "header is cut short",
    "wrong-magic": "not a GGUF model",
    "empty": "file is empty (0 bytes)",
    "random": "not a GGUF model",
}


@pytest.fixture
def local_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[LocalHub]:
    """A Hub-speaking server on loopback; the real huggingface_hub client is pointed at it."""
    from tests.localhub import LocalHub

    hub = LocalHub().start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no stored token of the developer's
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    yield hub
    hub.stop()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End Qt in order while Python is whole, and let a crash in what is left fail the run.

    pytest-qt's session QApplication and the windows the tests made would otherwise be destroyed
    by the interpreter's final garbage collection in no particular order (that once aborted with
    "Fatal Python error: bool_dealloc" after every test had passed). Here they are closed and
    deleted on the GUI thread first. A crash after this is not hidden: faulthandler prints its
    stack and the process ends by a signal, which fails the run.
    """
    atexit.register(faulthandler.enable, file=sys.__stderr__, all_threads=True)
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
