"""What a till pulls (protocol v2, ``GET /v2/pull``): its own store's events, the server's,
the chain-wide member directory, and every other store's events about its own members.

Routing is decided once, when an event is stored, and kept in ``event_routes`` (insert-only):

- ``*`` (``EVERYONE``): the server's events (``store_id="hq"``: merges, balance blocks, rules,
  flags) and the directory types (``DIRECTORY_TYPES``: what a scan needs to recognise any
  member of the chain offline);
- a member's *home store*: the store of its ``member.registered``, or, when HQ already holds
  another registration of its phone, that member's home (``member_homes``: one home per
  person, the store whose registration of the phone reached HQ first), for every member the
  event names
  (``member_keys``: its ``entity_id`` and the ``member_id``, ``winner_member_id``,
  ``loser_member_id`` of its payload, one level down included — a sale's, ledger entries'),
  when that store is not the event's own.

A store's filtered log is then ``events.store_id = S`` or a route to ``S`` or ``*``: a pure
function of the store and of rows that never change, so the one integer cursor (the last
position pulled) stays exactly-once. Staff events are never routed: they stay in their store.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec
from sqlalchemy import Connection, Row, Table, text
from sqlalchemy.dialects import sqlite

from pos_member import events
from sync.server.later import Later
from sync.server.locks import lock_keys, phone_key
from sync.server.models import SERVER_STORE_ID, EventRoute, MemberHome, MemberIndex

EVERYONE = "*"
REGISTERED = events.MEMBER_REGISTERED.type
# What every till holds of every member (the directory, pos_member/services/member_directory):
# who they are, merges, tier, balance blocks, stored-value freezes.
DIRECTORY_TYPES = frozenset(t.type for t in (
    events.MEMBER_REGISTERED, events.MEMBER_MERGED, events.MEMBER_TIER_CHANGED,
    events.MEMBER_BALANCE_BLOCKED, events.MEMBER_BALANCE_UNBLOCKED, events.SV_FROZEN,
    events.SV_UNFROZEN, *events.SERVICE_TYPES))  # status, cards, phones, erasure (issue 20)
STAFF = "staff."  # a store's staff events stay in their store
_MEMBER_FIELDS = ("member_id", "winner_member_id", "loser_member_id")
_HOMES: Table = MemberHome.__table__  # type: ignore[assignment]
_ROUTES: Table = EventRoute.__table__  # type: ignore[assignment]
_INDEX: Table = MemberIndex.__table__  # type: ignore[assignment]
_decode = msgspec.json.decode


class _Named(msgspec.Struct):
    """The member fields at a payload's top level; the rest is skipped unread."""

    member_id: Any = None
    winner_member_id: Any = None
    loser_member_id: Any = None


class _Registered(msgspec.Struct):
    """What a registration's home is made of; the rest of its payload is skipped unread."""

    member_id: Any = None
    store_id: Any = None
    phone_index: Any = None


_NAMED = msgspec.json.Decoder(_Named)
_REGISTERED = msgspec.json.Decoder(_Registered)
_NO_KEYS: tuple[str, ...] = ()


class _Event(Protocol):
    """What routing reads of a stored event (``wire.IncomingEvent``), beside its payload's
    text."""

    @property
    def store_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def entity_id(self) -> str | None: ...


def keys_of(entity_id: str | None, payload_text: str) -> Collection[str]:
    """``member_keys`` of a store's event from its payload's text, decoding as little as it
    can. A payload that names no member but by the event's own ``entity_id`` (most of a
    store's events) is not decoded at all; one with no object or array inside it (no ``{``
    after its first character, no ``[``) has its member keys read at its top level without
    building its dict (~1.8 µs an event less than decoding it and ``member_keys``); any other
    is decoded whole."""
    if "\\" not in payload_text and (entity_id is None or '"' not in entity_id):
        # No member field at all, or one whose value is the entity's id: the keys are the
        # entity's, without decoding anything. ``member_id"`` with its quote ends a key (or a
        # string value) wherever it is: inside a string a quote is escaped, and a payload with
        # an escape anywhere (a key could be spelled with one) goes the long way. Without an
        # escape every quote of the text delimits a string, so ``"member_id":"<entity id>"``
        # (an id holding no quote) is that key with that value.
        fields = payload_text.count('member_id"')
        if fields == 0:
            return (entity_id,) if entity_id else _NO_KEYS
        if fields == 1 and entity_id and (
                f'"member_id":"{entity_id}"' in payload_text
                or f'"member_id": "{entity_id}"' in payload_text):
            return (entity_id,)
    if payload_text.find("{", 1) < 0 and "[" not in payload_text:
        try:
            named = _NAMED.decode(payload_text)
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass  # not an object after all: decoded whole below
        else:
            keys = {entity_id} if entity_id else set()
            for v in (named.member_id, named.winner_member_id, named.loser_member_id):
                if v and isinstance(v, str):
                    keys.add(v)
            return keys
    return member_keys(entity_id, decode_payload(payload_text))


def member_keys(entity_id: str | None, payload: Mapping[str, Any] | None) -> set[str]:
    """The ids an event may name a member by (ids that are no member's match no home)."""
    keys = {entity_id} if entity_id else set()
    if not isinstance(payload, dict) and not isinstance(payload, Mapping):
        return keys
    # ``dict`` and ``list`` checked as such: what JSON decodes to, and ~5x faster than the
    # ``Mapping`` ABC's check, which cost a tenth of a push (a payload decodes to dicts only).
    parts: list[Mapping[str, Any]] = [payload]
    for value in payload.values():
        if isinstance(value, dict):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, dict))
    for part in parts:
        for f in _MEMBER_FIELDS:
            v = part.get(f)
            if v and isinstance(v, str):
                keys.add(v)
    return keys


def decode_payload(text: str | bytes) -> Mapping[str, Any] | None:
    try:
        value = _decode(text)
    except msgspec.DecodeError:
        return None
    return value if isinstance(value, dict) else None  # what JSON decodes an object to


def route(conn: Connection, first: int, events: Sequence[_Event], texts: Sequence[str],
          phones: dict[str, Row[Any] | None], later: Later) -> None:
    """Records the homes of the members these events register, then each event's routes (in
    the transaction that stores them), through ``later`` (a push writes them at its end,
    the homes of the members an event names looked up there). The events are at positions
    ``first``, ``first + 1`` ..., their payloads' texts ``texts``. ``phones``: the
    ``member_index`` rows of the phones they register, locked and read here, by phone (None:
    an owner-less phone), for ``duplicate_phones`` to use rather than lock and read them
    again. One loop over the events: a push routes a thousand."""
    fixed: list[tuple[str, int]] = []
    wanted: list[tuple[int, str, str]] = []  # (position, own store, member key)
    registered: list[tuple[str, str]] = []  # (store, payload text) of each registration
    position = first
    for e, payload in zip(events, texts, strict=True):
        kind, store = e.type, e.store_id
        if store == SERVER_STORE_ID or kind in DIRECTORY_TYPES:
            fixed.append((EVERYONE, position))
            if kind == REGISTERED:
                registered.append((store, payload))
        elif not kind.startswith(STAFF):
            for key in keys_of(e.entity_id, payload):
                wanted.append((position, store, key))
        position += 1
    later.add_routes(_new_homes(conn, registered, phones), fixed, wanted)


def insert_routes(conn: Connection, rows: list[tuple[str, int]]) -> None:
    """``event_routes`` rows (store, position), through the driver's own bulk path (COPY on
    PostgreSQL): a push routes many rows."""
    if rows:
        from sync.server.log import insert_values  # (log imports this module)

        insert_values(conn, _ROUTES, ("store_id", "position"), rows)


def _new_homes(conn: Connection, registered: Sequence[tuple[str, str]],
               read: dict[str, Row[Any] | None]) -> dict[str, str]:
    """The home of each member these registrations (their store and payload text) register:
    the home of the member that already holds the phone at HQ (``member_index``: the phone's
    first registration to reach HQ, or the winner of its merges), else the registering store
    (the payload's ``store_id``, else the event's). So a phone's members share one home, the
    store whose registration HQ stored first: every event about either of them is stored
    after that (a till pushes a registration before anything about its member, and other
    stores learn the member from HQ), so that store's log has the whole history. A payload
    that is no object registers no one."""
    regs: list[tuple[str, str, str | None]] = []
    for event_store, payload in registered:
        try:
            r = _REGISTERED.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        member_id, store, phone = r.member_id, r.store_id or event_store, r.phone_index
        if isinstance(member_id, str) and member_id and isinstance(store, str):
            regs.append((member_id, store[:36], phone if isinstance(phone, str) else None))
    if not regs:
        return {}
    from sync.server.duplicate_phones import rows_by_key  # (it imports log, this)

    phones = {p for _, _, p in regs if p}
    # The phone's owner stays put until this push commits (the key merge_duplicate_phones
    # locks next, in the same order after the device's: docs/scale.md).
    lock_keys(conn, [phone_key(p) for p in phones])
    rows = {r.phone_index: r for r in rows_by_key(conn, _INDEX, "phone_index", sorted(phones))}
    read.update((p, rows.get(p)) for p in phones)
    owners = {p: r.member_id for p, r in rows.items()}
    owner_homes = homes_of(conn, set(owners.values()))
    by_phone = {p: owner_homes[m] for p, m in owners.items() if m in owner_homes}
    homes: dict[str, str] = {}
    for member_id, store, phone in regs:
        home = by_phone.get(phone, store) if phone else store
        if phone:
            by_phone.setdefault(phone, home)  # a second registration of it in this push
        homes.setdefault(member_id, home)
    return homes


def homes_of(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """member id → home store (those with a registration at HQ)."""
    from sync.server.duplicate_phones import rows_by_key

    return {r.member_id: r.store_id for r in rows_by_key(conn, _HOMES, "member_id", ids)}


_PG_HOMES = text(
    "INSERT INTO member_homes (member_id, store_id) SELECT m, s "
    "FROM json_to_recordset(CAST(:rows AS json)) AS v(m text, s text) "
    "ON CONFLICT (member_id) DO NOTHING")


def insert_homes(conn: Connection, homes: Mapping[str, str]) -> None:
    """``member_homes`` rows (member id → store); a member registered twice (a restored
    till's copy under the same member id) keeps its first home. On PostgreSQL one statement
    over one JSON document of the rows (an ``executemany`` of 1,000 rows took ~90 ms a push
    of registrations)."""
    if not homes:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_HOMES, {"rows": json.dumps(
            [{"m": m, "s": s} for m, s in homes.items()])})
    else:
        conn.execute(sqlite.insert(_HOMES).on_conflict_do_nothing(),
                     [{"member_id": m, "store_id": s} for m, s in homes.items()])

