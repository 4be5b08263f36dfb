"""Decoding push bodies on the server's hot path: ``decode_push(body) -> IncomingPush``.

The contract is ``sync.protocol.PushRequest`` (pydantic; the OpenAPI document is built from
it). Decoding a 1,000-event body with it costs ~7 ms, most of it building each payload's
dict, which the server then serialises back to JSON to store it. Here the same shape is
declared as msgspec structs with the same constraints (the hlc's pattern checked for all of a
push's events in one match, ``_hlcs_valid``), and each payload is kept as the raw
JSON text it arrived as (``msgspec.Raw``: checked to be well-formed JSON, not decoded), which
goes to the ``events.payload`` column as it is: ~1 ms per 1,000 events, and no re-encoding.

The fast decoder is never more lenient than the contract: it is as strict or stricter (no
coercion of ``"3"`` to ``3``, digits ``0-9`` only, a payload must be a JSON object). Whatever
it refuses is decoded again by ``PushRequest`` itself, so a body the contract accepts is
accepted, and a refusal carries pydantic's own error list (``PushRefused``).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from pydantic import ValidationError
from pydantic_core import ErrorDetails, to_json

from pos_member.events.check import any_value
from sync.protocol import MAX_BATCH, MAX_BIGINT, MAX_INT, PushRequest, WireEvent
from sync.server.errors import PushRefused

# ``protocol.Text`` (no control character) is checked by ``_storable``, not by a pattern on each
# field: a pattern costs ~3 ms per 1,000 events, and JSON text holds a control character only
# as an escape (``\u00XX``, ``\n`` ...) or a raw DEL, which a search of the body rules out.
_Id = Annotated[str, msgspec.Meta(min_length=36, max_length=36)]
_Ref = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
_OptRef = Annotated[str, msgspec.Meta(max_length=36)] | None
_Seq = Annotated[int, msgspec.Meta(ge=1, le=MAX_BIGINT)]
_Version = Annotated[int, msgspec.Meta(ge=1, le=MAX_INT)]
HLC_LENGTH = 22  # 15 digits, "-", 6 digits
# created_at, in UTC: what both databases and every till can hold and convert
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


class IncomingEvent(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False
):
    """One pushed event, as ``WireEvent`` declares it, with the payload as raw JSON text.

    ``payload`` decodes it on demand (a dict, as on a ``WireEvent``) for the few events the
    server reads; ``payload_text`` is what is stored. Not tracked by the garbage collector
    (``gc=False``: its fields are strings, numbers and times, so it can hold no cycle): a
    1,000-event push then does not set off full collections.
    """

    id: _Id
    store_id: _Ref
    device_id: _Ref
    seq: _Seq
    # ``protocol.WireEvent``'s pattern (``[0-9]{15}-[0-9]{6}``) is checked for all of a push's at
    # once (``_hlcs_valid``): a pattern on the field costs ~0.65 µs an event, a third of the
    # decode. The length here is the pattern's.
    hlc: Annotated[str, msgspec.Meta(min_length=HLC_LENGTH, max_length=HLC_LENGTH)]
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=48)]
    payload_version: _Version
    raw_payload: msgspec.Raw = msgspec.field(name="payload")
    rules_version: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    created_at: datetime
    clerk_id: _OptRef = None
    entity_id: _OptRef = None

    @property
    def payload(self) -> dict[str, Any]:
        decoded: dict[str, Any] = msgspec.json.decode(self.raw_payload)
        return decoded

    @property
    def payload_text(self) -> str:
        """The payload's JSON text as it arrived (well-formed, an object)."""
        return str(self.raw_payload, "utf-8")

    def to_json_dict(self) -> dict[str, Any]:
        """The event as ``WireEvent.model_dump(mode="json")`` gives it (held events' body)."""
        return WireEvent.model_validate_json(msgspec.json.encode(self)).model_dump(mode="json")

    @classmethod
    def from_wire(cls, event: WireEvent) -> IncomingEvent:
        """A validated ``WireEvent`` (the server's own events, a held event, the slow path)."""
        return msgspec.json.decode(event.model_dump_json(), type=cls)


class _Registration(msgspec.Struct):
    """The fields of a ``member.registered`` payload the server reads; the rest is skipped."""

    phone_index: Any = None
    member_id: Any = None
    member_no: Any = None


_REGISTRATION = msgspec.json.Decoder(_Registration)


def registration_fields(event: IncomingEvent) -> tuple[Any, Any, Any]:
    """(phone_index, member_id, member_no) as the payload has them (any JSON type, None when
    absent), without decoding the rest of it."""
    r = _REGISTRATION.decode(event.raw_payload)
    return r.phone_index, r.member_id, r.member_no


class IncomingPush(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``PushRequest``, as decoded here."""

    device_id: _Ref
    events: Annotated[list[IncomingEvent], msgspec.Meta(max_length=MAX_BATCH)]


_DECODER = msgspec.json.Decoder(IncomingPush)
MAX_DEPTH = 32  # objects and arrays nested in one payload (the payload itself is 1)
_TOO_DEEP = f"a payload nests objects or arrays more than {MAX_DEPTH} deep"
RawJson = msgspec.Raw  # JSON text that ``encode`` writes as it is (a stored payload)
encode = msgspec.json.Encoder().encode  # JSON of dicts, lists, str, int, datetimes, RawJson


def decode_push(body: bytes) -> IncomingPush:
    """The push body, validated as ``PushRequest``; raises ``PushRefused`` when it is not one,
    or when it holds what the server cannot store alike on both databases (``_storable``)."""
    try:
        push = _DECODER.decode(body)
    except RecursionError:  # nested deeper than the decoder goes
        raise PushRefused([_problem(("events",), _TOO_DEEP)]) from None
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _storable(_decode_by_contract(body), body)
    if not all(memoryview(e.raw_payload)[:1] == b"{" for e in push.events) \
            or not _hlcs_valid(push.events):  # a payload not an object, an hlc not as declared
        return _storable(_decode_by_contract(body), body)
    return _storable(push, body)


# Every hlc is ``HLC_LENGTH`` characters (the decoder checked), so in all of them joined the
# k-th block of ``HLC_LENGTH`` characters is the k-th hlc, whatever it holds, and one match of
# the blocks checks every hlc as ``^[0-9]{15}-[0-9]{6}\Z`` would (``\Z``, not ``$``: Python's ``$``
# would let a trailing newline through; pydantic's not).
_HLCS = re.compile(r"(?:[0-9]{15}-[0-9]{6})*")  # ASCII digits: ``\d`` takes any script's


def _hlcs_valid(events: list[IncomingEvent]) -> bool:
    """Whether every event's hlc is as ``protocol.WireEvent`` declares it (~0.15 µs an
    event, against ~0.65 for a pattern on the field)."""
    return _HLCS.fullmatch("".join([e.hlc for e in events])) is not None


def _storable(push: IncomingPush, body: bytes) -> IncomingPush:
    """Refuses what the fast decoder's types let through but the contract, a database or a
    till does not take alike:

    - a control character in a named text field (``protocol.Text``; PostgreSQL cannot store
      U+0000, SQLite can), or U+0000 in a payload string (a field the server reads goes to a
      text column). Looked for only when the body has such an escape (``\\u00XX``,
      ``\\n`` ...) or a DEL at all;
    - a ``created_at`` outside 1970..9998 in UTC (converting year 1 at +14:00 overflows);
    - a payload nested more than ``MAX_DEPTH`` deep (a till's JSON parser stops at 200
      levels, PostgreSQL's at its stack depth: such an event would block every till's pull).
    """
    control = (b"\\" in body and _ESCAPE.search(body) is not None) or b"\x7f" in body
    if control and _CONTROL.search(push.device_id):
        raise PushRefused([_problem(("device_id",), _CONTROL_TEXT)])
    problems: list[ErrorDetails] = []
    # Brackets past the body's own (its object, the events' array, each event's object and
    # each payload's own): a payload holds at most one more than that, so when that is within
    # MAX_DEPTH no payload is counted (brackets inside strings count too: only more careful).
    # (A count is a pass over the body, ~0.2 µs an event: none for arrays when the body has
    # none but the events' own, which a search for a second finds much faster.)
    first = body.find(b"[")
    arrays = body.count(b"[") if first >= 0 and body.find(b"[", first + 1) >= 0 \
        else int(first >= 0)
    spare = arrays + body.count(b"{") - 2 - 2 * len(push.events)
    may_nest = spare + 1 > MAX_DEPTH
    if not control and not may_nest:  # the usual push: the times alone
        problems = [_problem(("events", i, "created_at"), _TIME_TEXT)
                    for i, e in enumerate(push.events) if not 1970 < e.created_at.year < 9998
                    and not EARLIEST <= _aware(e.created_at) < LATEST]
        if problems:
            raise PushRefused(problems)
        return push
    for i, e in enumerate(push.events):
        if control:
            problems.extend(_problem(("events", i, name), _CONTROL_TEXT)
                            for name in _TEXT_FIELDS
                            if _CONTROL.search(getattr(e, name) or ""))
        if not 1970 < e.created_at.year < 9998 \
                and not EARLIEST <= _aware(e.created_at) < LATEST:
            problems.append(_problem(("events", i, "created_at"), _TIME_TEXT))
        raw = bytes(e.raw_payload) if may_nest else b""
        if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth(e.payload) > MAX_DEPTH:
            problems.append(_problem(("events", i, "payload"), _TOO_DEEP))
        elif control and _holds_nul(e.payload):
            problems.append(_problem(("events", i, "payload"),
                                     "a string in the payload holds U+0000"))
    if problems:
        raise PushRefused(problems)
    return push


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _depth(value: Any) -> int:
    """How deep objects and arrays nest in ``value`` (a scalar: 0), without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in children)
    return deepest


# how JSON text writes U+0000-U+001F (raw, they are not JSON): ``\u00XX``, ``\n`` ...
_ESCAPE = re.compile(rb"\\(?:u00|[bfnrt])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TIME_TEXT = "must be between 1970 and 9998 in UTC"
_HLC_TEXT = "must be 15 digits, '-' and 6 digits"
_CONTROL_TEXT = "must not hold a control character (U+0000-U+001F, U+007F)"
_TEXT_FIELDS = ("id", "store_id", "device_id", "clerk_id", "type", "entity_id", "rules_version")


def _problem(loc: tuple[str | int, ...], msg: str) -> ErrorDetails:
    return {"type": "value_error", "loc": loc, "msg": msg, "input": None}


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _decode_by_contract(body: bytes) -> IncomingPush:
    """The slow path: ``PushRequest`` decides (what it accepts is re-encoded as JSON)."""
    try:
        request = PushRequest.model_validate_json(body)
    except ValidationError as e:
        raise PushRefused(e.errors()) from None
    # NaN and Infinity, which pydantic reads, were written back as null: refused
    bad = [_problem(("events", i, "payload"), "NaN and Infinity are not JSON numbers")
           for i, e in enumerate(request.events) if _non_finite(e.payload)]
    if bad:
        raise PushRefused(bad)
    try:
        push = _DECODER.decode(to_json(request, inf_nan_mode="null"))
    except msgspec.ValidationError as e:  # an exotic value only pydantic takes: refused
        raise PushRefused([{"type": "value_error", "loc": (), "msg": str(e),
                            "input": None}]) from None
    if not _hlcs_valid(push.events):  # what pydantic's pattern takes and Python's not
        raise PushRefused([_problem(("events", i, "hlc"), _HLC_TEXT)
                           for i, e in enumerate(push.events)
                           if _HLCS.fullmatch(e.hlc) is None])
    return push


def _non_finite(value: Any) -> bool:
    """Whether a float in ``value`` is NaN or infinite."""
    return any_value(value, lambda v: isinstance(v, float) and not math.isfinite(v))
