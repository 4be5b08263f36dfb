"""What every event declaration is made of, and the one place payloads are encoded, decoded
and upcast.

An event type is declared once (:func:`declare`): its type string, its current payload
version, a frozen payload struct and its upcasters. A till writes the current version
(``events.payload_version``); a reader of an older version runs the upcasters, oldest
first, to reach the current struct. Nothing else in the code reads ``payload_version``.

Pure: msgspec and the standard library only, so the central server imports it without the
till's services, SQLAlchemy models or argon2.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import msgspec

from pos_member.events.errors import (
    EventNotReadable,
    MalformedPayload,
    NewerEventVersion,
    UnknownEventType,
)


class Payload(msgspec.Struct, frozen=True, kw_only=True):
    """The base of every event payload: frozen, typed. Unknown fields are ignored when reading
    (a newer till's extra field does not make an event unreadable)."""


P = TypeVar("P", bound=Payload)


class Sealer(Protocol):
    """Encrypts a personal value for an event (``pos_member.crypto.PiiCipher`` is one). An
    upcaster that must encrypt a field an older version carried in clear is given one."""

    def encrypt(self, plaintext: str, *, context: str) -> bytes: ...

    def decrypt(self, blob: bytes, *, context: str) -> str: ...


Upcaster = Callable[[dict[str, Any], "Sealer | None"], dict[str, Any]]


@dataclass(frozen=True)
class EventType(Generic[P]):
    """One event type: ``type`` on the wire, the ``version`` this software writes, the
    ``payload`` struct of that version and ``upcasters[n]`` turning version ``n``'s payload
    (a dict) into version ``n + 1``'s."""

    type: str
    version: int
    payload: type[P]
    upcasters: Mapping[int, Upcaster] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [n for n in range(1, self.version) if n not in self.upcasters]
        if missing:
            raise ValueError(f"{self.type}: no upcaster from version {missing}")

    def __str__(self) -> str:
        return self.type


EVENTS: dict[str, EventType[Any]] = {}  # every declared type, by its type string


def declare(type: str, payload: type[P], *, version: int = 1,
            upcasters: Mapping[int, Upcaster] | None = None) -> EventType[P]:
    """Declares an event type; a type string declared twice is a programming error."""
    if type in EVENTS:
        raise ValueError(f"event type {type} is declared twice")
    declared = EventType(type, version, payload, dict(upcasters or {}))
    EVENTS[type] = declared
    return declared


def declaration(type: str) -> EventType[Any]:
    """The declaration of ``type``; ``UnknownEventType`` when there is none."""
    declared = EVENTS.get(type)
    if declared is None:
        raise UnknownEventType(type, "?", "not an event type this version knows")
    return declared


def encode(payload: Payload) -> dict[str, Any]:
    """A typed payload as the JSON object the event log keeps and the wire carries (field
    names and order as declared)."""
    return msgspec.to_builtins(payload)  # type: ignore[no-any-return]


def decode(type: str, version: int, payload: Mapping[str, Any] | bytes | str, *,
           sealer: Sealer | None = None) -> Payload:
    """The typed, current-version payload of an event of ``type`` written at ``version``
    (raw JSON or the already parsed object). Older versions are upcast here and only here.
    Raises ``UnknownEventType``, ``NewerEventVersion`` or ``MalformedPayload``."""
    declared = declaration(type)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MalformedPayload(type, version, "not a payload version")
    if version > declared.version:
        raise NewerEventVersion(type, version,
                                f"this version reads up to v{declared.version}")
    try:
        raw = msgspec.json.decode(payload) if isinstance(payload, bytes | str) else payload
    except msgspec.DecodeError as e:
        raise MalformedPayload(type, version, f"not JSON: {e}") from None
    if not isinstance(raw, Mapping):
        raise MalformedPayload(type, version, "the payload is not an object")
    data = dict(raw)
    try:
        for n in range(version, declared.version):
            data = declared.upcasters[n](data, sealer)
        return msgspec.convert(data, declared.payload)
    except msgspec.ValidationError as e:
        raise MalformedPayload(type, version, str(e)) from None
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, EventNotReadable):
            raise
        raise MalformedPayload(type, version, f"cannot upcast: {e!r}") from None


# -- personal values in events ----------------------------------------------------------------


def seal(sealer: Sealer, value: str | None, *, context: str) -> str | None:
    """A personal value as an event carries it: AES-GCM (``context`` bound), base64."""
    if value is None:
        return None
    return base64.b64encode(sealer.encrypt(value, context=context)).decode()


def unseal(sealer: Sealer, value: str | None, *, context: str) -> str | None:
    if value is None:
        return None
    return sealer.decrypt(base64.b64decode(value, validate=True), context=context)


def need_sealer(type: str, version: int, sealer: Sealer | None) -> Sealer:
    if sealer is None:
        raise EventNotReadable(type, version, "upcasting needs the chain's data key")
    return sealer
