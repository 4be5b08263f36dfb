"""The chain's personal-data key, kept wrapped by a key-encryption key (KEK) HQ holds apart.

The 64-byte data key encrypts every member's phone, name and birthday in the events and keys
the phone's blind index; every till receives it at enrolment. HQ's database keeps it only
wrapped (AES-256-GCM under the KEK), so a copy of the database alone reveals no personal data.
The KEK (32 bytes, base64) comes from ``$POS_MEMBER_SERVER_KEK``, else from the OS credential
store (``keyring``: service ``pos-member``, name ``server-kek``); it is never written to the
database or a log. ``pos-member-server kek new`` makes one, ``kek rotate`` re-wraps the data
key under a new one (docs/deploy.md).

``chain_settings.data_key`` holds ``kek1:`` + base64(nonce ‖ ciphertext ‖ tag); a value
without the prefix is a plain key of an older server, wrapped in place by migration 0006.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, insert, select, update

from pos_member.crypto import KeyringKeyStore
from pos_member.errors import KeyStoreUnavailable
from sync.server.errors import KekInvalid, KekMissing, KekWrong
from sync.server.locks import lock_keys
from sync.server.models import ChainSetting

ENV_KEK = "POS_MEMBER_SERVER_KEK"
KEYRING_NAME = "server-kek"  # in the OS keyring, service ``pos-member`` (as the SMS gateway's)
DATA_KEY = "data_key"  # the chain_settings row
DATA_KEY_BYTES = 64
KEK_BYTES = 32
WRAPPED = "kek1:"
_NONCE = 12
_AAD = b"pos-member chain data key"


def new_kek() -> str:
    """A fresh random KEK, base64."""
    return base64.b64encode(os.urandom(KEK_BYTES)).decode()


def parse_kek(text: str, *, source: str) -> bytes:
    """The KEK's bytes; ``KekInvalid`` unless ``text`` is base64 of 32 bytes."""
    try:
        kek = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        kek = b""
    if len(kek) != KEK_BYTES:
        raise KekInvalid(source=source)
    return kek


def is_wrapped(value: str) -> bool:
    return value.startswith(WRAPPED)


def wrap(kek: bytes, data_key: str) -> str:
    """``data_key`` (base64 of 64 bytes) wrapped under ``kek``, as stored."""
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(kek).encrypt(nonce, base64.b64decode(data_key), _AAD)
    return WRAPPED + base64.b64encode(nonce + sealed).decode()


def unwrap(kek: bytes, value: str, *, source: str) -> str:
    """The data key (base64) from its stored form; ``KekWrong`` if ``kek`` did not wrap it."""
    raw = base64.b64decode(value.removeprefix(WRAPPED))
    try:
        key = AESGCM(kek).decrypt(raw[:_NONCE], raw[_NONCE:], _AAD)
    except InvalidTag:
        raise KekWrong(source=source) from None
    return base64.b64encode(key).decode()


@dataclass(frozen=True)
class Kek:
    key: bytes
    source: str  # where it came from, for messages: never the key itself


def load_kek(keystore: KeyringKeyStore | None = None) -> Kek | None:
    """The KEK from ``$POS_MEMBER_SERVER_KEK``, else from the OS keyring; None if neither has
    one (or no OS keyring is reachable). ``KekInvalid`` if the one found is not a key."""
    text = os.environ.get(ENV_KEK)
    if text:
        return Kek(parse_kek(text, source=f"${ENV_KEK}"), f"${ENV_KEK}")
    source = f"the OS keyring (pos-member/{KEYRING_NAME})"
    try:
        text = (keystore or KeyringKeyStore()).get(KEYRING_NAME)
    except KeyStoreUnavailable:
        return None
    return Kek(parse_kek(text, source=source), source) if text else None


@dataclass
class ChainKeys:
    """A server database's keys: the KEK (given, else found by :func:`load_kek` when first
    needed) and the data key once unwrapped, so a running server keeps working while HQ
    rotates the KEK (rotation re-wraps; the data key itself never changes)."""

    given: Kek | None = None
    _data_key: str | None = field(default=None, repr=False)

    def kek(self) -> Kek:
        """The KEK; ``KekMissing`` if there is none."""
        found = self.given or load_kek()
        if found is None:
            raise KekMissing(env=ENV_KEK)
        return found

    def data_key(self, conn: Connection) -> str:
        """The chain's data key (base64), created (wrapped) on first call."""
        if self._data_key is not None:
            return self._data_key
        stored = conn.execute(select(ChainSetting.value).where(ChainSetting.key == DATA_KEY)
                              ).scalar()
        kek = self.kek()
        if stored is None:  # beside another writer (``locks``): made once, by one of them
            lock_keys(conn, ["data-key"])
            stored = conn.execute(select(ChainSetting.value)
                                  .where(ChainSetting.key == DATA_KEY)).scalar()
        if stored is None:  # not cached: this transaction may yet roll back
            key = base64.b64encode(os.urandom(DATA_KEY_BYTES)).decode()
            conn.execute(insert(ChainSetting).values(key=DATA_KEY, value=wrap(kek.key, key)))
            return key
        if not is_wrapped(stored):  # only before migration 0006, which wraps it
            return stored
        self._data_key = unwrap(kek.key, stored, source=kek.source)
        return self._data_key


def rewrap(conn: Connection, *, old: Kek, new: bytes) -> None:
    """Re-wraps the stored data key under ``new`` (``KekWrong`` if ``old`` does not open it)."""
    stored = conn.execute(select(ChainSetting.value).where(ChainSetting.key == DATA_KEY)
                          ).scalar()
    if stored is None:  # a database never upgraded: its first upgrade makes one
        return
    key = unwrap(old.key, stored, source=old.source) if is_wrapped(stored) else stored
    conn.execute(update(ChainSetting).where(ChainSetting.key == DATA_KEY)
                 .values(value=wrap(new, key)))
