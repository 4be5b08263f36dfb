"""Pushed payloads against their declarations (``pos_member.events``): the typed decode the
till's own reader does, at push, before anything is written.

An event of a type and version this server declares must decode as that version of that type:
every required field present, each of its declared type (no ``"3"`` for an integer, no float
for an integer, no number over the struct's bounds), and no number that is not finite (``1e400``
is infinity to a JSON parser) anywhere in it. An older version is upcast first, as a reader
does (a till from before a change keeps pushing its own version). A type this server does not
declare, or a newer version of one it does, is relayed unread as before: the tills that cannot
read it hold it in their quarantine (docs/sync.md, "Quarantine").

Cheap on the usual path: one msgspec decode of the raw payload text into its struct, ~1-2 µs
an event (no dict is built). docs/rules.md, "Pushed payloads".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Protocol

import msgspec

from pos_member.events import EVENTS
from pos_member.events.errors import EventNotReadable
from sync.protocol import MAX_BIGINT
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import BadRequest
from sync.server.push_flags import flag_device_once


class _Pushed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def payload_version(self) -> int: ...
    @property
    def raw_payload(self) -> msgspec.Raw: ...


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


class _Unsealed:
    """Upcasting an older version only to check it: what it would seal is not kept."""

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        return b""

    def decrypt(self, blob: bytes, *, context: str) -> str:
        return ""


_AS_DICT = msgspec.json.Decoder(dict[str, Any], float_hook=_finite)


@cache
def _decoder(kind: str) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(EVENTS[kind].payload, float_hook=_finite)


# An integer past MAX_BIGINT has 19 digits or more: looked for as a run of 19 digits (each
# digit read as "0", all else as a space; ~0.4 µs for a 340-byte payload, a regular
# expression ~3 µs), and only then is the payload walked.
_DIGITS = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_RUN = b"0" * 19


def _too_big(value: Any) -> bool:
    """Whether an integer in ``value`` is past ``MAX_BIGINT`` either way (without recursion):
    SQLite's and PostgreSQL's integers, and the till's, stop there (a till held such an event
    in quarantine, b6ced37; HQ's reporting copy left it out, 65ac5e2)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, int) and not -MAX_BIGINT - 1 <= item <= MAX_BIGINT:
            return True
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


def problem(kind: str, version: int, raw: bytes | msgspec.Raw, *,
            long_run: bool | None = None) -> str | None:
    """What is wrong with a payload of ``kind`` at ``version`` (its JSON text), or None when
    it is what its declaration says (or this server does not declare that type or version).
    ``long_run``: False when the caller knows the text has no run of 19 digits."""
    declared = EVENTS.get(kind)
    if declared is None or version > declared.version:
        return None
    if long_run is None:
        long_run = _LONG_RUN in bytes(raw).translate(_DIGITS)
    if long_run and _too_big(_AS_DICT.decode(raw)):
        return f"an integer no database holds (past ±{MAX_BIGINT})"
    try:
        if version == declared.version:
            _decoder(kind).decode(raw)
            return None
        data = _AS_DICT.decode(raw)
        for n in range(version, declared.version):
            data = declared.upcasters[n](data, _Unsealed())
        msgspec.convert(data, declared.payload)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        return str(e)
    except (EventNotReadable, KeyError, TypeError, ValueError, AttributeError) as e:
        return f"cannot upcast v{version}: {type(e).__name__}"
    return None


def problems(events: Iterable[_Pushed]) -> list[tuple[str, str]]:
    """(event id, what is wrong) for each pushed event whose payload is not as declared."""
    found = []
    events = list(events)
    # One look for a 19-digit run over all the payloads (~0.15 µs an event; one a payload
    # ~0.45): usually there is none, and no payload is looked at again for one.
    long_run = None if _LONG_RUN in b" ".join(
        e.raw_payload for e in events).translate(_DIGITS) else False
    for e in events:
        wrong = problem(e.type, e.payload_version, e.raw_payload, long_run=long_run)
        if wrong is not None:
            found.append((e.id, f"{e.type} v{e.payload_version}: {wrong}"))
    return found


SHOWN = 20  # events named in one refusal (and in HQ's flag); the count says how many more
PAYLOAD_FLAG = "payload_refused"


def check_payloads(ctx: ServerContext, device: DeviceIdentity,
                   events: Sequence[_Pushed]) -> None:
    """Refuses the push (``BadRequest``, 422: nothing of it stored) when a payload is not as
    declared, naming each such event's id and what is wrong, and raises a ``payload_refused``
    flag for HQ (once per device while one is open: the till retries the same push)."""
    found = problems(events)
    if not found:
        return
    _flag(ctx, device, found)
    shown = "; ".join(f"event {i}: {wrong}" for i, wrong in found[:SHOWN])
    more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
    raise BadRequest(detail=f"{len(found)} payloads are not as declared: {shown}{more}")


def _flag(ctx: ServerContext, device: DeviceIdentity, found: list[tuple[str, str]]) -> None:
    flag_device_once(ctx, device, kind=PAYLOAD_FLAG, now=ctx.clock.now(), detail={
        "count": len(found),
        "events": [{"id": i, "problem": wrong} for i, wrong in found[:SHOWN]]})
