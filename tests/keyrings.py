"""An in-process keyring backend for tests of code that talks to ``keyring`` (set explicitly
with ``keyring.set_keyring``); the OS keyring has its own tests (tests/keyring_check.py)."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties


class DictKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        # keyring registers every backend class it sees; raising makes this one not viable for
        # its detection, so defining it can never shadow the OS keyring in another test.
        raise RuntimeError("test backend")

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)
