"""The Hugging Face token, kept in the OS keychain (never in a settings file or a log).

The keychain is whatever `keyring` finds: macOS Keychain, Windows Credential Locker, the
Secret Service (GNOME Keyring, KWallet) on Linux. Backends that would keep the token in a plain
file, or that store nothing, don't count as a keychain: without one, saving refuses, and the
token still comes from `HF_TOKEN` or `hf auth login` (see `app.core.hub.client.hub_token`).

`keyring` is imported when first needed: looking for backends takes a moment.
"""

from __future__ import annotations

import logging
from typing import Any

from app.core.errors import KeychainError

log = logging.getLogger(__name__)

SERVICE = "Quantdesk"
ACCOUNT = "huggingface-token"

# Backends that are not a keychain: they store nothing, refuse everything, or keep secrets in
# a file anyone who can read the disk can read.
_NOT_A_KEYCHAIN_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _is_keychain(backend: Any) -> bool:
    module = type(backend).__module__
    if any(module == m or module.startswith(f"{m}.") for m in _NOT_A_KEYCHAIN_MODULES):
        return False
    if "plaintext" in type(backend).__name__.lower():
        return False
    try:
        return float(backend.priority) > 0
    except Exception:  # noqa: BLE001 - a backend that can't say is not usable here
        return False


def _keychain() -> Any | None:
    """The keychain backend to use, or None. A chain of backends yields its best secure one."""
    try:
        import keyring
        from keyring.backends.chainer import ChainerBackend

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - no keyring at all is "no keychain"
        log.warning("keyring unavailable: %s", type(exc).__name__)
        return None
    if isinstance(backend, ChainerBackend):
        return next((b for b in backend.backends if _is_keychain(b)), None)
    return backend if _is_keychain(backend) else None


def keychain_available() -> bool:
    """Whether a real OS keychain can hold the token."""
    return _keychain() is not None


NO_KEYCHAIN = (
    "No system keychain is available, so Quantdesk can't store the token safely and won't keep "
    "it in a plain file. Set HF_TOKEN or run `hf auth login` instead."
)


def save_token(token: str) -> None:
    """Store the Hugging Face token in the keychain, replacing any stored before.

    Raises:
        KeychainError: no keychain, or it refused (locked, or the person declined).
        ValueError: an empty token.
    """
    token = token.strip()
    if not token:
        raise ValueError("empty token")
    backend = _keychain()
    if backend is None:
        raise KeychainError(NO_KEYCHAIN)
    try:
        backend.set_password(SERVICE, ACCOUNT, token)
    except Exception as exc:  # noqa: BLE001 - the message may not be ours; never log the token
        log.warning("keychain refused to store the token: %s", type(exc).__name__)
        raise KeychainError(
            "The system keychain refused to store the token (it may be locked). "
            "Unlock it and try again, or set HF_TOKEN instead."
        ) from None
    log.info("Hugging Face token stored in the keychain")


def load_token() -> str | None:
    """The token stored in the keychain, or None (no keychain, none stored, or unreadable)."""
    backend = _keychain()
    if backend is None:
        return None
    try:
        token = backend.get_password(SERVICE, ACCOUNT)
    except Exception as exc:  # noqa: BLE001 - a locked keychain means "no token from it"
        log.warning("keychain did not give the token: %s", type(exc).__name__)
        return None
    return token or None


def delete_token() -> None:
    """Remove the stored token; nothing happens when none is stored.

    Raises:
        KeychainError: the keychain refused to delete it.
    """
    backend = _keychain()
    if backend is None:
        return
    from keyring.errors import PasswordDeleteError

    try:
        backend.delete_password(SERVICE, ACCOUNT)
    except PasswordDeleteError:
        return  # nothing stored
    except Exception as exc:  # noqa: BLE001
        log.warning("keychain refused to delete the token: %s", type(exc).__name__)
        raise KeychainError(
            "The system keychain refused to remove the token (it may be locked). "
            "Unlock it and try again."
        ) from None
    log.info("Hugging Face token removed from the keychain")
