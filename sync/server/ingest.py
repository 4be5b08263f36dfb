"""Push and pull: the chain's event log, exactly once and in one global order.

Push (one write transaction, under the write lock — see ``db``):

- every event must carry the device's own ``store_id`` and ``device_id``, else the whole
  request is refused (``Forbidden``) before anything is written;
- an event's identity is its ``id``: an event whose ``(device_id, seq)`` is stored already
  *with the same id* is a *duplicate*, answered with its position, nothing written for it;
- a *fork* refuses the whole request (409 ``fork``, nothing of it stored) and raises a
  ``fork`` flag for HQ (once per device while open): a ``(device_id, seq)`` stored or held
  under another id, or an id stored under another device (the till's data was restored from
  an older copy, or copied; the till takes a new identity, ``reidentify``);
- a request that contradicts itself (two events under one seq, one id under two seqs) or an
  id stored under another seq of the same device refuses the request (409 ``conflict``);
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
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from pydantic_core import to_json
from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from pos_member.clock import to_ms
from pos_member.events import (
    FLAG_RAISED,
    MEMBER_MERGED,
    MEMBER_REGISTERED,
    SV_PAID,
    MemberMerged,
)
from pos_member.events import encode as payload_object
from pos_member.hlc import HLCTimestamp
from sync.protocol import (
    MAX_BIGINT,
    MAX_PAGE,
    Change,
    PullResponse,
    PushRequest,
    PushResponse,
    WireEvent,
)
from sync.server import balances
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.errors import BadRequest, Conflict, Forbidden, Fork
from sync.server.forks import Forked, check_batch, id_elsewhere, raise_fork
from sync.server.log import LogWriter, insert_values
from sync.server.models import DeviceProgress, Event, Flag, HeldEvent, MemberIndex, SmsCode
from sync.server.wire import (
    IncomingEvent,
    IncomingPush,
    RawJson,
    encode,
    registration_fields,
)

CLOCK_AHEAD = timedelta(minutes=5)
CLOCK_AHEAD_FLAG_EVERY = timedelta(hours=1)
HOLD_WINDOW = 100_000  # a seq further ahead of acked_through is a broken till, not a gap
_INDEX_TABLE: Table = MemberIndex.__table__  # type: ignore[assignment]

_WIRE_FIELDS = tuple(WireEvent.model_fields)
_PULL_JSON = select(  # the driver's values of payload (text) and created_at: no processors
    Event.position,
    *(getattr(Event, name) for name in _WIRE_FIELDS if name not in ("payload", "created_at")),
    cast(Event.payload, Text).label("payload"),
    type_coerce(Event.created_at, String).label("created_at"),
).order_by(Event.position)
_PULL_FIELDS = tuple(c.key for c in _PULL_JSON.selected_columns)  # position + _WIRE_FIELDS


class _Owner(NamedTuple):
    """The registration that owns a phone in ``member_index``."""

    member_id: str
    member_no: str
    hlc: str
    event_id: str


_BY_SEQ = select(Event.seq, Event.position, Event.id).where(
    Event.device_id == bindparam("device_id"),
    Event.seq.between(bindparam("low"), bindparam("high")),
)


class PushOutcome(NamedTuple):
    """What one push did, before it is put in a ``PushResponse``."""

    stored: dict[int, int]  # seq -> position, stored by this request (held ones included)
    duplicates: list[tuple[int, int]]  # (seq, position) stored before, in request order
    held: list[int]  # seqs waiting for an earlier one, ascending
    acked_through: int

    def answer(self) -> dict[str, Any]:
        """The ``PushResponse`` as plain data (the route serialises it without a model)."""
        return {
            "stored": [{"seq": s, "position": p} for s, p in sorted(self.stored.items())],
            "duplicates": [{"seq": s, "position": p} for s, p in self.duplicates],
            "held": self.held,
            "acked_through": self.acked_through,
        }


def push(
    ctx: ServerContext, *, device: DeviceIdentity, request: PushRequest | IncomingPush
) -> PushResponse:
    """Stores the device's events exactly once; see the module docstring for the rules.

    Committed in one transaction: stored events, held events, the device's progress, server
    events and flags. Raises ``Forbidden`` (nothing written) for another store's or device's
    events.
    """
    if isinstance(request, PushRequest):
        request = IncomingPush(device_id=request.device_id,
                               events=[IncomingEvent.from_wire(e) for e in request.events])
    return PushResponse.model_validate(store(ctx, device=device, request=request).answer())


def push_json(ctx: ServerContext, *, device: DeviceIdentity, request: IncomingPush) -> bytes:
    """``push`` answered as the ``PushResponse`` JSON itself, for the HTTP route."""
    return to_json(store(ctx, device=device, request=request).answer())


def store(ctx: ServerContext, *, device: DeviceIdentity, request: IncomingPush) -> PushOutcome:
    """The push itself (``push``); one write transaction. A fork is flagged in a transaction
    of its own after the push's rolled back, and raised as ``Fork``."""
    _check_ownership(device, request)
    check_batch(request.events)
    now = ctx.clock.now()
    try:
        return _store(ctx, device, request, now=now)
    except Forked as fork:
        raise_fork(ctx, device, fork.detail, now=now)
        raise Fork(detail=fork.text()) from None
    except IntegrityError:
        fork = id_elsewhere(ctx, device, request.events)
        if fork is None:
            raise Conflict(detail="an event id is stored under another seq") from None
        raise_fork(ctx, device, fork.detail, now=now)
        raise Fork(detail=fork.text()) from None


def _store(ctx: ServerContext, device: DeviceIdentity, request: IncomingPush, *,
           now: datetime) -> PushOutcome:
    with ctx.db.write() as conn:
        acked, has_held, last_position = _device_state(conn, device.id)
        log = LogWriter(conn, now=now, last_position=last_position)
        duplicates, fresh = _split_duplicates(conn, device.id, acked, request.events)
        too_far = [e.seq for e in fresh if e.seq > acked + HOLD_WINDOW]
        if too_far:
            raise BadRequest(detail=f"seq {min(too_far)} is over {HOLD_WINDOW} ahead of "
                                    f"{acked}, the last stored")
        held_before = _held(conn, device.id) if has_held else {}
        for e in fresh:
            other = held_before.get(e.seq)
            if other is not None and other.id != e.id:
                raise Forked(e.seq, other.id, e.id)
        waiting = dict(held_before)
        for e in fresh:
            waiting.setdefault(e.seq, e)
        to_store: list[IncomingEvent] = []
        while acked + 1 + len(to_store) in waiting:
            to_store.append(waiting.pop(acked + 1 + len(to_store)))
        positions = log.append(to_store)
        stored = {e.seq: p for e, p in zip(to_store, positions, strict=True)}
        new_acked = acked + len(to_store)
        _update_held(conn, device.id, held_before, stored, waiting, fresh, now=now)
        if new_acked != acked:
            _save_progress(conn, device.id, new_acked, existed=acked > 0)

        _check_clock(log, conn, device, to_store, now=now)
        _merge_duplicate_phones(log, conn, to_store)
        _flags_from_tills(log, to_store)
        _check_sms_payments(log, conn, to_store)
        balances.after_store(log, conn, to_store, positions)  # sv.* totals, overdraw

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
    return PushOutcome(stored, duplicates, sorted(held), new_acked)


def _held(conn: Connection, device_id: str) -> dict[int, IncomingEvent]:
    """The device's held events (usually none), by seq."""
    rows = conn.execute(
        select(HeldEvent.seq, HeldEvent.body).where(HeldEvent.device_id == device_id)
    ).all()
    return {r.seq: IncomingEvent.from_wire(WireEvent.model_validate(r.body)) for r in rows}


def _update_held(
    conn: Connection, device_id: str, held_before: dict[int, IncomingEvent],
    stored: dict[int, int], waiting: dict[int, IncomingEvent], fresh: list[IncomingEvent],
    *, now: datetime,
) -> None:
    """Drops the held events stored now and holds the request's events still after a gap."""
    moved = [s for s in stored if s in held_before]
    if moved:
        conn.execute(
            delete(HeldEvent).where(HeldEvent.device_id == device_id, HeldEvent.seq.in_(moved))
        )
    newly_held: dict[int, IncomingEvent] = {}
    for e in fresh:
        if e.seq in waiting and e.seq not in held_before:
            newly_held.setdefault(e.seq, waiting[e.seq])
    if newly_held:
        conn.execute(insert(HeldEvent), [
            {"device_id": device_id, "seq": seq, "body": e.to_json_dict(), "received_at": now}
            for seq, e in newly_held.items()
        ])


def _check_page(cursor: int, limit: int) -> None:
    if not 0 <= cursor <= MAX_BIGINT:
        raise BadRequest(detail=f"cursor must be between 0 and {MAX_BIGINT}")
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
    out as the JSON text the database holds (valid JSON, as stored), and the page is encoded
    in one call (``wire.encode``), so the answer parses to the same ``PullResponse``.
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
        event = dict(zip(_PULL_FIELDS, r, strict=True))
        payload = event["payload"]
        if "NaN" in payload or "Infinity" in payload:  # not JSON: as the model would write it
            payload = to_json(json.loads(payload), inf_nan_mode="null").decode()
        event["payload"] = RawJson(payload)
        event["created_at"] = _utc_time(event["created_at"])
        changes.append({"position": event.pop("position"), "event": event})
    next_cursor = rows[-1].position if rows else cursor
    return encode({"changes": changes, "cursor": next_cursor, "more": more})


def _utc_time(stored: datetime | str) -> datetime:
    """``events.created_at`` as the driver returns it: UTC text on SQLite (as SQLAlchemy
    writes it), a datetime on PostgreSQL; parsed here, ~10x faster than the column type's
    result processor."""
    if isinstance(stored, str):
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return stored.astimezone(UTC)


def _check_ownership(device: DeviceIdentity, request: IncomingPush) -> None:
    if request.device_id != device.id:
        raise Forbidden(detail="the request's device_id is not this device's")
    for e in request.events:
        if e.device_id != device.id:
            raise Forbidden(detail=f"event {e.id} belongs to another device")
        if e.store_id != device.store_id:
            raise Forbidden(detail=f"event {e.id} belongs to another store")


def _device_state(conn: Connection, device_id: str) -> tuple[int, bool, int]:
    """(acked_through, whether it has held events, the log's last position), in one round
    trip: read under the write lock, so the position is the one to append after."""
    row = conn.execute(select(
        select(DeviceProgress.acked_through)
        .where(DeviceProgress.device_id == device_id).scalar_subquery(),
        exists().where(HeldEvent.device_id == device_id),
        select(func.max(Event.position)).scalar_subquery(),
    )).one()
    return row[0] or 0, bool(row[1]), row[2] or 0


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
    conn: Connection, device_id: str, acked: int, events: list[IncomingEvent]
) -> tuple[list[tuple[int, int]], list[IncomingEvent]]:
    """Events stored before, as (seq, position) to answer, and the rest (each id once).

    The device's stored seqs are exactly ``1..acked`` (stored only gaplessly), so an event
    is stored before when its seq is at most ``acked``: one range query, and none at all for
    a batch of new events. A stored seq under another id is a fork (``Forked``). A new
    event whose ``id`` is already stored (under another seq) contradicts the log: the
    insert's unique constraint refuses it (``store`` tells a fork from a conflict).
    """
    old = [e.seq for e in events if e.seq <= acked]
    by_seq = {r.seq: (r.position, r.id) for r in conn.execute(
        _BY_SEQ, {"device_id": device_id, "low": min(old), "high": max(old)}
    )} if old else {}
    duplicates: list[tuple[int, int]] = []
    fresh: list[IncomingEvent] = []
    seen_ids: set[str] = set()
    for e in events:
        known = by_seq.get(e.seq)
        if known is not None:
            if known[1] != e.id:  # another event under this seq: the till's log forked
                raise Forked(e.seq, known[1], e.id)
            duplicates.append((e.seq, known[0]))
        elif e.id not in seen_ids:  # the same event twice in one request: answered once
            seen_ids.add(e.id)
            fresh.append(e)
    return duplicates, fresh


def _one_of(conn: Connection, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column IN (...)`` over a list bound as *one* parameter (``_list_value``): a JSON
    array through ``json_each`` on SQLite, an array with ``= ANY`` on PostgreSQL. A
    1,000-value ``IN`` list costs SQLAlchemy more to render than the query takes to run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String)))
    values = func.json_each(bindparam(name, type_=String)).table_valued("value")
    return column.in_(select(values.c.value))


def _list_value(conn: Connection, values: list[str]) -> Any:
    """The bound value for ``_one_of``."""
    return values if conn.dialect.name == "postgresql" else json.dumps(values)


def _flags_from_tills(log: LogWriter, stored: Sequence[IncomingEvent]) -> None:
    """A flag a till raised (a registration burst, points clawed back below zero) joins HQ's
    list, with the till's detail and the device and flag ids that name it there."""
    for e in stored:
        if e.type == FLAG_RAISED.type:  # a till's own flag (registration burst, negative points)
            payload = e.payload
            detail = {k: v for k, v in payload.items() if k != "kind"}
            log.raise_flag(kind=str(payload.get("kind", "till")), store_id=e.store_id,
                           detail={**detail, "device_id": e.device_id, "event_id": e.id})


def _check_sms_payments(log: LogWriter, conn: Connection,
                        stored: Sequence[IncomingEvent]) -> None:
    """A balance payment a till says an SMS code verified must name a code HQ sent for that
    member, amount and transaction, and verified. The money has moved at the till already,
    so a payment that does not (a till's software tampered with, or a bug) is stored like any
    other and flagged for HQ (``sms_unverified``) rather than refused."""
    for e in stored:
        if e.type != SV_PAID.type:  # before the payload: reading it may decode it
            continue
        p = e.payload
        if p.get("factor") != "sms":
            continue
        challenge = p.get("sms_challenge_id")
        row = conn.execute(
            select(SmsCode.member_id, SmsCode.amount_fen, SmsCode.txn_id, SmsCode.verified_at)
            .where(SmsCode.id == challenge)).first() if isinstance(challenge, str) else None
        problem = ("no such code" if row is None
                   else "not verified" if row.verified_at is None
                   else "for another payment" if (row.member_id, row.amount_fen, row.txn_id)
                   != (p.get("member_id"), p.get("amount_fen"), p.get("txn_id")) else None)
        if problem is not None:
            log.raise_flag(kind="sms_unverified", store_id=e.store_id, detail={
                "problem": problem, "member_id": p.get("member_id"), "txn_id": p.get("txn_id"),
                "amount_fen": p.get("amount_fen"), "device_id": e.device_id,
                "event_id": e.id})


def _check_clock(
    log: LogWriter, conn: Connection, device: DeviceIdentity, stored: list[IncomingEvent],
    *, now: datetime,
) -> None:
    if not stored:
        return
    if max(int(e.hlc[:15]) for e in stored) <= to_ms(now + CLOCK_AHEAD):  # the wall ms
        return
    latest = max(HLCTimestamp.unpack(e.hlc) for e in stored)
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


def _registration(event: IncomingEvent) -> tuple[str, str, str] | None:
    """(phone_index, member_id, member_no) of a ``member.registered`` payload, if well formed."""
    phone_index, member_id, member_no = registration_fields(event)
    if not (isinstance(phone_index, str) and 0 < len(phone_index) <= 64):
        return None
    if not (isinstance(member_id, str) and 0 < len(member_id) <= 36):
        return None
    if not (isinstance(member_no, str) and 0 < len(member_no) <= 32):
        return None
    return phone_index, member_id, member_no


def _merge_duplicate_phones(
    log: LogWriter, conn: Connection, stored: list[IncomingEvent]
) -> None:
    """One member per phone, chain-wide: the earlier registration (hlc, then event id) wins.

    The stored events are taken in order, each against the owner its phone has at that point
    (an earlier event of the same batch included). The owners are read in one query and the
    index is written once per phone at the end; merges are appended in event order.
    """
    registrations = [
        (e, reg) for e in stored
        if e.type == MEMBER_REGISTERED.type and (reg := _registration(e)) is not None
    ]
    if not registrations:
        return
    phones = list(dict.fromkeys(reg[0] for _, reg in registrations))
    owners: dict[str, _Owner] = {}
    found = conn.execute(
        select(MemberIndex.__table__).where(_one_of(conn, MemberIndex.phone_index, "phones")),
        {"phones": _list_value(conn, phones)},
    )
    for r in found:
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
        payload = MemberMerged(winner_member_id=winner[0], loser_member_id=loser[0],
                               winner_member_no=winner[1], loser_member_no=loser[1])
        merged = log.append_server_event(type=MEMBER_MERGED, entity_id=winner[0], payload=payload)
        log.raise_flag(kind="member_merged", store_id=e.store_id,
                       detail={**payload_object(payload), "event_id": merged.id})
    new_rows = [(phone, *owners[phone]) for phone in changed if phone not in known]
    insert_values(conn, _INDEX_TABLE, ("phone_index", *_Owner._fields), new_rows)
    for phone in changed & known:
        conn.execute(
            update(MemberIndex.__table__)
            .where(MemberIndex.phone_index == phone)
            .values(**owners[phone]._asdict())
        )
