"""Push and pull: the chain's event log, exactly once and in one global order.

Push (one write transaction, under the write lock — see ``db``):

- every event must carry the device's own ``store_id`` and ``device_id``, else the whole
  request is refused (``Forbidden``) before anything is written;
- an event whose ``id`` or ``(device_id, seq)`` is stored already is a *duplicate*: it is
  answered with its position and nothing is written for it;
- events are stored in ``seq`` order only: ``seq == acked_through + 1`` is stored, then every
  held event that is now contiguous; an event further ahead is *held* (``held_events``) until
  the gap fills (a seq more than ``HOLD_WINDOW`` ahead is refused: nothing is written);
- after storing: a hybrid timestamp more than ``CLOCK_AHEAD`` ahead of the server's clock
  raises a ``clock_ahead`` flag (once per device per hour; the event is still stored), and a
  ``member.registered`` whose phone is already registered under another member appends a
  ``member.merged`` server event and raises a ``member_merged`` flag.

Pull reads ``position > cursor`` in position order: every store's events and the server's.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic_core import to_json
from sqlalchemy import (
    ColumnElement,
    Connection,
    Text,
    bindparam,
    cast,
    delete,
    insert,
    not_,
    or_,
    select,
    update,
)

from pos_member.clock import to_ms
from pos_member.hlc import HLCTimestamp
from sync.protocol import MAX_PAGE, Change, PullResponse, PushRequest, PushResponse, WireEvent
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import BadRequest, Forbidden
from sync.server.log import LogWriter, bulk_insert
from sync.server.models import DeviceProgress, Event, Flag, HeldEvent, MemberIndex

CLOCK_AHEAD = timedelta(minutes=5)
CLOCK_AHEAD_FLAG_EVERY = timedelta(hours=1)
HOLD_WINDOW = 100_000  # a seq further ahead of acked_through is a broken till, not a gap
MEMBER_REGISTERED = "member.registered"
MEMBER_MERGED = "member.merged"

_WIRE_FIELDS = tuple(WireEvent.model_fields)
_BEFORE_PAYLOAD = _WIRE_FIELDS[:_WIRE_FIELDS.index("payload")]
_AFTER_PAYLOAD = _WIRE_FIELDS[_WIRE_FIELDS.index("payload") + 1:]
_PULL_JSON = select(
    Event.position,
    *(getattr(Event, name) for name in _BEFORE_PAYLOAD + _AFTER_PAYLOAD),
    cast(Event.payload, Text).label("payload_json"),
).order_by(Event.position)
_IN_CHUNK = 500  # values per IN (...) list
_OWNERS = select(MemberIndex.__table__).where(
    MemberIndex.phone_index.in_(bindparam("phones", expanding=True))
)


class _Owner(NamedTuple):
    """The registration that owns a phone in ``member_index``."""

    member_id: str
    member_no: str
    hlc: str
    event_id: str


_BY_ID = select(Event.id, Event.position).where(Event.id.in_(bindparam("ids", expanding=True)))
_BY_SEQ = select(Event.seq, Event.position).where(
    Event.device_id == bindparam("device_id"), Event.seq.in_(bindparam("seqs", expanding=True))
)


def push(ctx: ServerContext, *, device: DeviceIdentity, request: PushRequest) -> PushResponse:
    """Stores the device's events exactly once; see the module docstring for the rules.

    Committed in one transaction: stored events, held events, the device's progress, server
    events and flags. Raises ``Forbidden`` (nothing written) for another store's or device's
    events.
    """
    _check_ownership(device, request)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        log = LogWriter(conn, now=now)
        acked = _acked_through(conn, device.id)
        duplicates, fresh = _split_duplicates(conn, device.id, request.events)
        too_far = [e.seq for e in fresh if e.seq > acked + HOLD_WINDOW]
        if too_far:
            raise BadRequest(detail=f"seq {min(too_far)} is over {HOLD_WINDOW} ahead of "
                                    f"{acked}, the last stored")
        held_rows = {
            r.seq: r.body
            for r in conn.execute(
                select(HeldEvent.seq, HeldEvent.body).where(HeldEvent.device_id == device.id)
            )
        }
        waiting: dict[int, WireEvent] = {
            seq: WireEvent.model_validate(body) for seq, body in held_rows.items()
        }
        for e in fresh:
            waiting.setdefault(e.seq, e)
        to_store: list[WireEvent] = []
        while acked + 1 + len(to_store) in waiting:
            to_store.append(waiting.pop(acked + 1 + len(to_store)))
        positions = log.append(to_store)
        stored = {e.seq: p for e, p in zip(to_store, positions, strict=True)}
        new_acked = acked + len(to_store)

        moved = [s for s in stored if s in held_rows]
        if moved:
            conn.execute(
                delete(HeldEvent).where(HeldEvent.device_id == device.id, HeldEvent.seq.in_(moved))
            )
        newly_held: dict[int, WireEvent] = {}
        for e in fresh:
            if e.seq in waiting and e.seq not in held_rows:
                newly_held.setdefault(e.seq, waiting[e.seq])
        if newly_held:
            conn.execute(insert(HeldEvent), [
                {"device_id": device.id, "seq": seq, "body": e.model_dump(mode="json"),
                 "received_at": now}
                for seq, e in newly_held.items()
            ])
        if new_acked != acked:
            _save_progress(conn, device.id, new_acked, existed=acked > 0)

        _check_clock(log, conn, device, to_store, now=now)
        _merge_duplicate_phones(log, conn, to_store)

    # What was not a duplicate before: stored now, a repeat of something stored now, or held.
    stored_ids = {e.id for e in to_store}
    held: set[int] = set()
    for e in fresh:
        if e.seq not in stored:
            held.add(e.seq)
        elif e.id in stored_ids:
            stored_ids.discard(e.id)  # answered in ``stored``; a second copy is a duplicate
        else:
            duplicates.append((e.seq, stored[e.seq]))
    # One validation of the whole answer (in pydantic's core) instead of one per Ack.
    return PushResponse.model_validate({
        "stored": [{"seq": s, "position": p} for s, p in sorted(stored.items())],
        "duplicates": [{"seq": s, "position": p} for s, p in duplicates],
        "held": sorted(held),
        "acked_through": new_acked,
    })


def _check_page(cursor: int, limit: int) -> None:
    if cursor < 0:
        raise BadRequest(detail="cursor must not be negative")
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(detail=f"limit must be between 1 and {MAX_PAGE}")


def _visible_to(device: DeviceIdentity) -> ColumnElement[bool]:
    """What a device may pull: everything (members are chain-wide) except other stores' staff
    events, which carry the argon2 hashes of their PINs — those stay within their store."""
    return or_(not_(Event.type.startswith("staff.")), Event.store_id == device.store_id)


def pull(ctx: ServerContext, *, device: DeviceIdentity, cursor: int, limit: int) -> PullResponse:
    """Changes after ``cursor`` in position order, at most ``limit``; ``more`` if others follow.

    Every store's events and the server's are included (members are chain-wide), but staff
    events only for the caller's own store (:func:`_visible_to`). Reads committed rows only.
    """
    _check_page(cursor, limit)
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(Event.__table__)
            .where(Event.position > cursor, _visible_to(device))
            .order_by(Event.position)
            .limit(limit + 1)
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    # The rows were validated as WireEvents when they were stored (and server events are
    # built as WireEvents): rebuilding them without validating again saves most of a pull.
    changes = [
        Change.model_construct(position=r.position, event=WireEvent.model_construct(
            **{name: getattr(r, name) for name in _WIRE_FIELDS}))
        for r in rows
    ]
    return PullResponse(
        changes=changes, cursor=rows[-1].position if rows else cursor, more=more
    )


def pull_json(ctx: ServerContext, *, device: DeviceIdentity, cursor: int, limit: int) -> bytes:
    """``pull`` answered as the ``PullResponse`` JSON itself, for the HTTP route.

    The same page as ``pull``, without building a model per change: each stored payload goes
    out as the JSON text the database holds (valid JSON, as stored), the other fields through
    pydantic's serialiser, so the answer parses to the same ``PullResponse``.
    """
    _check_page(cursor, limit)
    with ctx.db.read() as conn:
        rows = conn.execute(
            _PULL_JSON.where(Event.position > cursor, _visible_to(device)).limit(limit + 1)
        ).all()
    more = len(rows) > limit
    rows = rows[:limit]
    changes = []
    for r in rows:
        head = to_json({name: getattr(r, name) for name in _BEFORE_PAYLOAD})
        tail = to_json({name: getattr(r, name) for name in _AFTER_PAYLOAD})
        payload = r.payload_json
        if "NaN" in payload or "Infinity" in payload:  # not JSON: as the model would write it
            payload = to_json(json.loads(payload), inf_nan_mode="null").decode()
        changes.append(b"".join((
            b'{"position":', str(r.position).encode(), b',"event":', head[:-1],
            b',"payload":', payload.encode(), b",", tail[1:], b"}",
        )))
    next_cursor = rows[-1].position if rows else cursor
    return b"".join((
        b'{"changes":[', b",".join(changes), b'],"cursor":', str(next_cursor).encode(),
        b',"more":', b"true" if more else b"false", b"}",
    ))


def _check_ownership(device: DeviceIdentity, request: PushRequest) -> None:
    if request.device_id != device.id:
        raise Forbidden(detail="the request's device_id is not this device's")
    for e in request.events:
        if e.device_id != device.id:
            raise Forbidden(detail=f"event {e.id} belongs to another device")
        if e.store_id != device.store_id:
            raise Forbidden(detail=f"event {e.id} belongs to another store")


def _acked_through(conn: Connection, device_id: str) -> int:
    value = conn.execute(
        select(DeviceProgress.acked_through).where(DeviceProgress.device_id == device_id)
    ).scalar()
    return value or 0


def _save_progress(conn: Connection, device_id: str, acked: int, *, existed: bool) -> None:
    if existed:
        conn.execute(
            update(DeviceProgress)
            .where(DeviceProgress.device_id == device_id)
            .values(acked_through=acked)
        )
    else:
        conn.execute(insert(DeviceProgress).values(device_id=device_id, acked_through=acked))


def _split_duplicates(
    conn: Connection, device_id: str, events: list[WireEvent]
) -> tuple[list[tuple[int, int]], list[WireEvent]]:
    """Events stored before, as (seq, position) to answer, and the rest."""
    if not events:
        return [], []
    by_id = dict(conn.execute(_BY_ID, {"ids": [e.id for e in events]}).all())
    by_seq = dict(
        conn.execute(
            _BY_SEQ, {"device_id": device_id, "seqs": [e.seq for e in events]}
        ).all()
    )
    duplicates: list[tuple[int, int]] = []
    fresh: list[WireEvent] = []
    seen_ids: set[str] = set()
    for e in events:
        position = by_id.get(e.id, by_seq.get(e.seq))
        if position is None:
            if e.id not in seen_ids:  # the same event twice in one request: answered once
                seen_ids.add(e.id)
                fresh.append(e)
        else:
            duplicates.append((e.seq, position))
    return duplicates, fresh


def _check_clock(
    log: LogWriter, conn: Connection, device: DeviceIdentity, stored: list[WireEvent],
    *, now: datetime,
) -> None:
    if not stored:
        return
    latest = max(HLCTimestamp.unpack(e.hlc) for e in stored)
    if latest.wall_ms <= to_ms(now + CLOCK_AHEAD):
        return
    recent = conn.execute(
        select(Flag.detail).where(
            Flag.kind == "clock_ahead",
            Flag.store_id == device.store_id,
            Flag.raised_at > now - CLOCK_AHEAD_FLAG_EVERY,
        )
    ).scalars()
    if any(d.get("device_id") == device.id for d in recent):
        return
    log.raise_flag(kind="clock_ahead", store_id=device.store_id, detail={
        "device_id": device.id,
        "device_number": device.number,
        "hlc": latest.pack(),
        "ahead_ms": latest.wall_ms - to_ms(now),
    })


def _registration(payload: dict[str, Any]) -> tuple[str, str, str] | None:
    """(phone_index, member_id, member_no) of a ``member.registered`` payload, if well formed."""
    phone_index = payload.get("phone_index")
    member_id = payload.get("member_id")
    member_no = payload.get("member_no")
    if not (isinstance(phone_index, str) and 0 < len(phone_index) <= 64):
        return None
    if not (isinstance(member_id, str) and 0 < len(member_id) <= 36):
        return None
    if not (isinstance(member_no, str) and 0 < len(member_no) <= 32):
        return None
    return phone_index, member_id, member_no


def _merge_duplicate_phones(log: LogWriter, conn: Connection, stored: list[WireEvent]) -> None:
    """One member per phone, chain-wide: the earlier registration (hlc, then event id) wins.

    The stored events are taken in order, each against the owner its phone has at that point
    (an earlier event of the same batch included). The owners are read in one query and the
    index is written once per phone at the end; merges are appended in event order.
    """
    registrations = [
        (e, reg) for e in stored
        if e.type == MEMBER_REGISTERED and (reg := _registration(e.payload)) is not None
    ]
    if not registrations:
        return
    phones = list(dict.fromkeys(reg[0] for _, reg in registrations))
    owners: dict[str, _Owner] = {}
    for i in range(0, len(phones), _IN_CHUNK):
        for r in conn.execute(_OWNERS, {"phones": phones[i:i + _IN_CHUNK]}):
            owners[r.phone_index] = _Owner(r.member_id, r.member_no, r.hlc, r.event_id)
    known = set(owners)  # phones with a row in member_index before this batch
    changed: set[str] = set()
    for e, (phone_index, member_id, member_no) in registrations:
        owner = owners.get(phone_index)
        if owner is None:
            owners[phone_index] = _Owner(member_id, member_no, e.hlc, e.id)
            changed.add(phone_index)
            continue
        if owner.member_id == member_id:
            continue
        newcomer_wins = (e.hlc, e.id) < (owner.hlc, owner.event_id)
        if newcomer_wins:
            winner, loser = (member_id, member_no), (owner.member_id, owner.member_no)
            owners[phone_index] = _Owner(member_id, member_no, e.hlc, e.id)
            changed.add(phone_index)
        else:
            winner, loser = (owner.member_id, owner.member_no), (member_id, member_no)
        payload = {
            "winner_member_id": winner[0],
            "loser_member_id": loser[0],
            "winner_member_no": winner[1],
            "loser_member_no": loser[1],
        }
        merged = log.append_server_event(type=MEMBER_MERGED, entity_id=winner[0], payload=payload)
        log.raise_flag(kind="member_merged", store_id=e.store_id,
                       detail={**payload, "event_id": merged.id})
    new_rows = [
        {"phone_index": phone, **owners[phone]._asdict()}
        for phone in changed if phone not in known
    ]
    bulk_insert(conn, MemberIndex.__table__, new_rows)
    for phone in changed & known:
        conn.execute(
            update(MemberIndex.__table__)
            .where(MemberIndex.phone_index == phone)
            .values(**owners[phone]._asdict())
        )
