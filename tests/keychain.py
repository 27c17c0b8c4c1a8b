"""An OS keychain for tests: a real `keyring` backend that keeps its secrets in memory.

This machine has no keychain; the code under test talks to this one through `keyring` exactly
as it would to the macOS, Windows or Secret Service backends.
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class MemoryKeychain(KeyringBackend):
    """A keychain that keeps its secrets in a dict; `locked` makes it refuse everything."""

    priority = 5  # type: ignore[assignment]
    # Only where a test sets it (keyring.set_keyring): never picked by keyring's own discovery,
    # which would otherwise choose it as the default keychain of the whole test run.
    viable = False

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}
        self.locked = False

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._check()
        if (service, username) not in self.secrets:
            raise PasswordDeleteError("not found")
        del self.secrets[(service, username)]

    def _check(self) -> None:
        if self.locked:
            raise KeyringLocked("the keychain is locked")
