"""Personal data at rest: AES-256-GCM for the values, HMAC-SHA256 for the phone lookup index.

The 64-byte data key (32 for AES-GCM, 32 for HMAC) lives in the OS credential store through a
:class:`KeyStore`; the database holds only ciphertext, the keyed hash and a non-secret key id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pos_member.errors import KeyStoreUnavailable

KEYRING_SERVICE = "pos-member"
_NONCE = 12
_VERSION = b"\x01"


class KeyStore(Protocol):
    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...


class KeyringKeyStore:
    """The OS credential store through ``keyring`` (Windows Credential Manager, macOS Keychain,
    Secret Service/GNOME Keyring on Linux). Refuses the insecure fallback backends."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self.service = service

    def _backend(self):  # type: ignore[no-untyped-def]
        import keyring
        from keyring.backends import chainer, fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or (
            isinstance(backend, chainer.ChainerBackend) and not backend.backends
        ):
            raise KeyStoreUnavailable(detail="no keyring backend")
        # keyrings.alt keeps secrets in plain or weakly encrypted files: refused, the data key
        # must never sit in a file beside the database.
        if type(backend).__module__.startswith("keyrings.alt"):
            raise KeyStoreUnavailable(detail=f"{type(backend).__name__} is not an OS store")
        return backend

    def get(self, name: str) -> str | None:
        from keyring.errors import KeyringError

        try:
            return self._backend().get_password(self.service, name)
        except KeyringError as e:
            raise KeyStoreUnavailable(detail=str(e) or type(e).__name__) from None

    def put(self, name: str, value: str) -> None:
        from keyring.errors import KeyringError

        try:
            self._backend().set_password(self.service, name, value)
        except KeyringError as e:
            raise KeyStoreUnavailable(detail=str(e) or type(e).__name__) from None


class MemoryKeyStore:
    """For benchmarks and tests that are not about the key store itself."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def put(self, name: str, value: str) -> None:
        self._values[name] = value


class PiiCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != 64:
            raise ValueError("the data key is 64 bytes")
        self._aead = AESGCM(key[:32])
        self._mac_key = key[32:]

    @classmethod
    def from_keystore(cls, store: KeyStore, key_id: str, *, create: bool) -> PiiCipher:
        """Loads the data key named ``key_id``; makes and stores a new one if ``create``."""
        name = f"data-key:{key_id}"
        encoded = store.get(name)
        if encoded is None:
            if not create:
                raise KeyStoreUnavailable(detail=f"no data key {key_id} in the credential store")
            encoded = base64.b64encode(os.urandom(64)).decode()
            store.put(name, encoded)
        return cls(base64.b64decode(encoded))

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        """``context`` (e.g. ``"member.phone"``) is bound as associated data, so a ciphertext
        copied into another column does not decrypt."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def encrypt_stable(self, plaintext: str, *, context: str) -> bytes:
        """As :meth:`encrypt`, with a synthetic nonce (an HMAC of the context and the value):
        the same value gives the same bytes on every till holding the key, so tills that apply
        the same events in any order hold the same bytes (issue 20: gender, birthday, tags).
        It shows which rows hold equal values, nothing more; decrypts like any other."""
        msg = b"nonce\x00" + context.encode() + b"\x00" + plaintext.encode()
        nonce = hmac.new(self._mac_key, msg, hashlib.sha256).digest()[:_NONCE]
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        nonce, body = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
        return self._aead.decrypt(nonce, body, context.encode()).decode()

    def blind_index(self, value: str, *, context: str) -> str:
        """Keyed hash for equality lookup without storing the value (hex, 64 chars)."""
        msg = context.encode() + b"\x00" + value.encode()
        return hmac.new(self._mac_key, msg, hashlib.sha256).hexdigest()
