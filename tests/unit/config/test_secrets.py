"""The token in the OS keychain (this machine has none: `tests/keychain.py` stands in)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from app.core.config import secrets
from app.core.config.secrets import (
    delete_token,
    keychain_available,
    load_token,
    save_token,
)
from app.core.errors import KeychainError, QuantdeskError
from app.core.hub import client as hub
from tests.keychain import MemoryKeychain

TOKEN = "hf_TestTokenValue1234567890abcdef"


class PlaintextKeyring(MemoryKeychain):
    """Named like keyrings.alt's file backend, which keeps secrets in a plain file."""


@pytest.fixture(autouse=True)
def restore_keyring() -> Iterator[None]:
    """Each test starts with no keychain (the developer's real one is never touched)."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


@pytest.fixture
def keychain(restore_keyring: None) -> MemoryKeychain:
    backend = MemoryKeychain()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keychain(restore_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())


@pytest.fixture
def no_hf_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no `hf auth login` token


def test_save_load_delete_round_trip(keychain: MemoryKeychain) -> None:
    assert keychain_available()
    assert load_token() is None
    save_token(f"  {TOKEN}\n")
    assert load_token() == TOKEN
    assert keychain.secrets == {(secrets.SERVICE, secrets.ACCOUNT): TOKEN}
    save_token("hf_replacement")
    assert load_token() == "hf_replacement"
    delete_token()
    assert load_token() is None
    delete_token()  # nothing stored: no error


def test_an_empty_token_is_refused(keychain: MemoryKeychain) -> None:
    with pytest.raises(ValueError):
        save_token("   ")
    assert keychain.secrets == {}


def test_without_a_keychain_saving_refuses_in_plain_words(no_keychain: None) -> None:
    assert not keychain_available()
    with pytest.raises(KeychainError) as caught:
        save_token(TOKEN)
    assert isinstance(caught.value, QuantdeskError)
    message = str(caught.value)
    assert "keychain" in message and "HF_TOKEN" in message and "hf auth login" in message
    assert TOKEN not in message
    assert load_token() is None
    delete_token()  # nothing to delete: no error


@pytest.mark.parametrize("backend", [null.Keyring(), PlaintextKeyring()])
def test_backends_that_store_nothing_or_plain_text_are_not_a_keychain(
    restore_keyring: None, backend: KeyringBackend
) -> None:
    keyring.set_keyring(backend)
    assert not keychain_available()
    with pytest.raises(KeychainError):
        save_token(TOKEN)


def test_a_locked_keychain_gives_a_sentence_and_no_token(keychain: MemoryKeychain) -> None:
    save_token(TOKEN)
    keychain.locked = True
    assert load_token() is None
    with pytest.raises(KeychainError, match="refused to store"):
        save_token("hf_new")
    with pytest.raises(KeychainError, match="refused to remove"):
        delete_token()


def test_hub_token_prefers_the_keychain(
    keychain: MemoryKeychain, monkeypatch: pytest.MonkeyPatch, no_hf_token: None
) -> None:
    assert hub.hub_token() is None
    monkeypatch.setenv("HF_TOKEN", "hf_from_environment")
    assert hub.hub_token() == "hf_from_environment"
    save_token(TOKEN)
    assert hub.hub_token() == TOKEN
    delete_token()
    assert hub.hub_token() == "hf_from_environment"


def test_hub_token_falls_back_without_a_keychain(
    no_keychain: None, monkeypatch: pytest.MonkeyPatch, no_hf_token: None
) -> None:
    assert hub.hub_token() is None
    monkeypatch.setenv("HF_TOKEN", "hf_from_environment")
    assert hub.hub_token() == "hf_from_environment"


def test_the_token_never_reaches_the_log(
    keychain: MemoryKeychain, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    save_token(TOKEN)
    load_token()
    keychain.locked = True
    load_token()
    for call in (lambda: save_token(TOKEN), delete_token):
        with pytest.raises(KeychainError):
            call()
    keychain.locked = False
    delete_token()
    assert len(caplog.records) >= 4, "the keychain calls are logged"
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.args) for record in caplog.records)
