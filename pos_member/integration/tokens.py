"""The till's integration token: one per till, kept in the OS credential store, shown once.

The credential store (``crypto.KeyStore``, name ``integration-token:<device id>``) holds the
token's SHA-256 and its scopes, never the token: once the manager has copied it off the
screen, nobody can read it back — not the till, not someone with the credential store. A lost
token is replaced (rotated), which ends the old one at once. The token is 32 random bytes
(URL-safe base64, prefixed ``pmt_`` so it is recognisable in a config file or a leak scan).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pos_member.crypto import KeyStore
from pos_member.integration.errors import NoTokenIssued, ScopeMissing, TokenInvalid

PREFIX = "pmt_"


class Scope(StrEnum):
    """What a token may ask. ``DEFAULT`` is every scope but ``personal``."""

    LOOKUP = "lookup"  # find a member: masked card, points and stored value
    PERSONAL = "personal"  # the full phone, name and birthday in a lookup (audited)
    SALES = "sales"  # report sales, quote points
    REFUNDS = "refunds"  # report refunds
    PAYMENTS = "payments"  # ask the till to take a stored-value payment
    FIGURES = "figures"  # the store's day


DEFAULT_SCOPES = frozenset(Scope) - {Scope.PERSONAL}
SCOPE_NEEDED_FOR = {
    Scope.LOOKUP: "look up members", Scope.PERSONAL: "see members' personal data",
    Scope.SALES: "report sales", Scope.REFUNDS: "report refunds",
    Scope.PAYMENTS: "ask for stored-value payments", Scope.FIGURES: "read the day's figures",
}


def keystore_name(device_id: str) -> str:
    return f"integration-token:{device_id}"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What the credential store keeps of a token."""

    sha256: str
    scopes: frozenset[Scope]
    issued_at: str

    def to_json(self) -> str:
        return json.dumps({"sha256": self.sha256, "scopes": sorted(self.scopes),
                           "issued_at": self.issued_at})

    @classmethod
    def from_json(cls, text: str) -> TokenRecord:
        d = json.loads(text)
        return cls(d["sha256"], frozenset(Scope(s) for s in d["scopes"]), d["issued_at"])


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(store: KeyStore, *, device_id: str, now: datetime,
                scopes: frozenset[Scope] = DEFAULT_SCOPES) -> tuple[str, TokenRecord]:
    """A new token for this till, replacing any earlier one. The token is returned once, to
    be shown; only its hash is kept."""
    token = PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(_hash(token), frozenset(scopes), now.isoformat(timespec="seconds"))
    store.put(keystore_name(device_id), record.to_json())
    return token, record


def load_token(store: KeyStore, *, device_id: str) -> TokenRecord | None:
    text = store.get(keystore_name(device_id))
    return TokenRecord.from_json(text) if text else None


class Authenticator:
    """The token the running API accepts. Thread-safe: requests check on the server's
    threads while the manager rotates on the GUI thread (``replace``)."""

    def __init__(self, record: TokenRecord | None) -> None:
        self._record = record
        self._lock = threading.Lock()
        self._rotating = threading.Lock()  # one rotation at a time (``rotate``)

    def replace(self, record: TokenRecord | None) -> None:
        with self._lock:
            self._record = record

    @property
    def record(self) -> TokenRecord | None:
        with self._lock:
            return self._record

    def check(self, presented: str | None) -> frozenset[Scope]:
        """The scopes of ``presented`` (a bearer token), or raises :class:`TokenInvalid`
        (compared in constant time) or :class:`NoTokenIssued`."""
        return _verified(self.record, presented).scopes

    def rotate(self, presented: str | None,
               issue: Callable[[TokenRecord], tuple[str, TokenRecord]]) -> tuple[str, TokenRecord]:
        """Replaces the token ``presented`` with the one ``issue`` makes from its record (and
        keeps), atomically: two rotations with the same token at once — both checked before
        either replaced it — gave two new tokens, the first already dead. Now one wins and
        the other is refused as its token is by then (``TokenInvalid``: the token it
        presented has just been replaced)."""
        with self._rotating:
            record = _verified(self.record, presented)
            token, new = issue(record)
            self.replace(new)
            return token, new

    def reissue(self, issue: Callable[[], tuple[str, TokenRecord]]) -> tuple[str, TokenRecord]:
        """The manager's new token (``issue`` makes and keeps it), taking turns with
        ``rotate``: an integrator's rotation under way does not end the manager's token."""
        with self._rotating:
            token, new = issue()
            self.replace(new)
            return token, new


def _verified(record: TokenRecord | None, presented: str | None) -> TokenRecord:
    """``record`` when ``presented`` is its token (compared in constant time), else raises
    :class:`TokenInvalid` (or :class:`NoTokenIssued`)."""
    if record is None:
        raise NoTokenIssued()
    if not presented or not hmac.compare_digest(_hash(presented), record.sha256):
        raise TokenInvalid()
    return record


def require_scope(scopes: frozenset[Scope], scope: Scope) -> None:
    if scope not in scopes:
        raise ScopeMissing(what=SCOPE_NEEDED_FOR[scope], scope=scope.value)
