"""Pushed payloads against their declarations (``pos_member.events``): the typed decode the
till's own reader does, at push, before anything is written.

An event of a type and version this server declares must decode as that version of that type:
every required field present, each of its declared type (no ``"3"`` for an integer, no float
for an integer, no number over the struct's bounds), and no number that is not finite (``1e400``
is infinity to a JSON parser) or an integer past ±(2^63 − 1) anywhere in it, in a field its
declaration names or not (the typed decode skips an undeclared field unread; the text is also
read untyped). An older version is upcast first, as a reader
does (a till from before a change keeps pushing its own version). A type this server does not
declare, or a newer version of one it does, is relayed unread as before: the tills that cannot
read it hold it in their quarantine (docs/sync.md, "Quarantine"). A store-scoped event (a
target, a roster, a split, staff: ``pos_member.events.scope``) whose payload names a store
other than its own is refused the same way (docs/rules.md, "Store-scoped events").

Cheap on the usual path: two msgspec decodes of the raw payload text, into its struct and
untyped (a dict), ~1 µs an event for a 340-byte payload. docs/rules.md, "Pushed payloads".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import msgspec

from pos_member.events.check import DIGITS, LONG_RUN, problem
from pos_member.events.scope import other_store
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import BadRequest
from sync.server.push_flags import flag_device_once


class _Pushed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def store_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def payload_version(self) -> int: ...
    @property
    def raw_payload(self) -> msgspec.Raw: ...


def problems(events: Iterable[_Pushed]) -> list[tuple[str, str]]:
    """(event id, what is wrong) for each pushed event whose payload is not as declared."""
    found = []
    events = list(events)
    # One look for a 19-digit run over all the payloads (~0.15 µs an event; one a payload
    # ~0.45): usually there is none, and no payload is looked at again for one.
    long_run = None if LONG_RUN in b" ".join(
        e.raw_payload for e in events).translate(DIGITS) else False
    for e in events:
        wrong = problem(e.type, e.payload_version, e.raw_payload, long_run=long_run)
        if wrong is None and (named := other_store(e.type, e.store_id, e.raw_payload)):
            wrong = f"names store {named}, not the event's own (docs/rules.md, " \
                    "\"Store-scoped events\")"
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
