"""Push: the chain's event log, exactly once and in one global order.

Push (one write transaction beside other pushes, under its device's lock — see ``db`` and
``locks``):

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
  raises a ``clock_ahead`` flag (once per device per hour; the event is still stored;
  ``push_flags``), and a ``member.registered`` whose phone is already registered under
  another member appends a ``member.merged`` server event and raises a ``member_merged``
  flag (``duplicate_phones``); balances are totalled (``balances``).

Pull is in ``pull``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from pos_member.events import FLAG_RAISED, SV_PAID
from pos_member.points_lots import ENTRY_EVENT_TYPES
from sync.protocol import PushRequest, PushResponse, WireEvent
from sync.server import balances, coupons, member_cards, member_service, points
from sync.server.context import DeviceIdentity, ServerContext
from sync.server.driver import Statement
from sync.server.duplicate_phones import merge_duplicate_phones
from sync.server.errors import BadRequest, Conflict, Forbidden, Fork, Forked
from sync.server.forks import check_batch, id_elsewhere, raise_fork
from sync.server.locks import device_key
from sync.server.log import LogWriter
from sync.server.models import DeviceProgress, Event, HeldEvent
from sync.server.payloads import check_payloads
from sync.server.push_flags import check_clock, check_sms_payments, flags_from_tills
from sync.server.wire import IncomingEvent, IncomingPush, encode

HOLD_WINDOW = 100_000  # a seq further ahead of acked_through is a broken till, not a gap

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
    """``push`` answered as the ``PushResponse`` JSON itself, for the HTTP route (msgspec
    writes the same JSON as pydantic's ``to_json``, a third faster)."""
    return encode(store(ctx, device=device, request=request).answer())


def store(ctx: ServerContext, *, device: DeviceIdentity, request: IncomingPush) -> PushOutcome:
    """The push itself (``push``); one write transaction. A fork is flagged in a transaction
    of its own after the push's rolled back, and raised as ``Fork``."""
    _check_ownership(device, request)
    check_batch(request.events)
    check_payloads(ctx, device, request.events)
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
    to_store, stored, duplicates, fresh, new_acked = ctx.db.concurrent(
        lambda conn: _write(conn, device, request, now=now), key=device_key(device.id))
    if to_store is fresh:  # the usual push: every new event stored, in its order
        return PushOutcome(stored, duplicates, [], new_acked)
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


_Written = tuple[list[IncomingEvent], dict[int, int], list[tuple[int, int]],
                 list[IncomingEvent], int]


def _write(conn: Connection, device: DeviceIdentity, request: IncomingPush, *,
           now: datetime) -> _Written:
    """The push's transaction (run again from the start on a deadlock): (events stored,
    seq -> position, duplicates, fresh events, the new acked_through). Beside other pushes:
    the device's lock comes first (``locks``; taken with the write lock, ``_store``), so one
    device's pushes take turns."""
    acked, has_held, position = _device_state(conn, device.id)
    log = LogWriter(conn, now=now, last_position=position, later=True)
    duplicates, fresh = _split_duplicates(conn, device.id, acked, request.events)
    too_far = [e.seq for e in fresh if e.seq > acked + HOLD_WINDOW]
    if too_far:
        raise BadRequest(detail=f"seq {min(too_far)} is over {HOLD_WINDOW} ahead of "
                                f"{acked}, the last stored")
    held_before = _held(conn, device.id) if has_held else {}
    if not held_before and [e.seq for e in fresh] == list(range(acked + 1,
                                                               acked + 1 + len(fresh))):
        # The usual push: the next seqs, in order (each once: ``check_batch``), none held.
        to_store = fresh
        stored = dict(zip(range(acked + 1, acked + 1 + len(fresh)), log.append(fresh),
                          strict=True))
    else:
        for e in fresh:
            other = held_before.get(e.seq)
            if other is not None and other.id != e.id:
                raise Forked(e.seq, other.id, e.id)
        waiting = dict(held_before)
        for e in fresh:
            waiting.setdefault(e.seq, e)
        to_store = []
        while acked + 1 + len(to_store) in waiting:
            to_store.append(waiting.pop(acked + 1 + len(to_store)))
        positions = log.append(to_store)
        stored = {e.seq: p for e, p in zip(to_store, positions, strict=True)}
        _update_held(conn, device.id, held_before, stored, waiting, fresh, now=now)
    new_acked = acked + len(to_store)
    if new_acked != acked:
        log.later.add_progress(device.id, new_acked, existed=acked > 0)

    check_clock(log, conn, device, to_store, now=now)
    after_store(log, conn, to_store)
    log.later.flush()  # what the hooks after the early flush kept (usually nothing)
    return to_store, stored, duplicates, fresh, new_acked


def after_store(log: LogWriter, conn: Connection, stored: list[IncomingEvent]) -> None:
    """What HQ keeps of events just stored (``log.append``), in its order. The member import
    writes the same for its events as sets (``members_import._write``; a test holds them
    equal through this function). A hook that acts only on types none of these events has
    is not called (each would look at every event to find none: ~0.3 µs an event a push)."""
    kinds = {e.type for e in stored}
    merge_duplicate_phones(log, conn, stored)
    service = not kinds.isdisjoint(member_service.TYPES)
    if service:  # phone changes, erasures (issue 20); they read member_index and member_cards
        log.later.flush()
        member_service.phones_after_store(conn, stored)
    if FLAG_RAISED.type in kinds:
        flags_from_tills(log, stored)
    if SV_PAID.type in kinds:
        check_sms_payments(log, conn, stored)
    cards_first = not service and member_cards.new_only(log, stored)
    if cards_first:  # new members' cards alone: no key, nothing read (``member_cards``)
        member_cards.after_store(log, conn, stored)
    log.later.flush()  # before the rows other pushes wait on (below): docs/scale.md
    blocked = coupons.claim(log, conn, stored) \
        if not kinds.isdisjoint(coupons.TYPES) else []  # one coupon, one bill, chain-wide
    balances.after_store(log, conn, stored)  # sv.* totals, overdraw
    coupons.block(log, blocked)  # the server's seq after the balance rows (``locks``)
    if log.merges or not kinds.isdisjoint(ENTRY_EVENT_TYPES):
        points.after_store(log, conn, stored)  # chain-wide points (after balances' redirects)
    if not cards_first:
        member_cards.after_store(log, conn, stored)  # HQ's cards, for the remote lookup
    if service:
        log.later.flush()
        member_service.cards_after_store(conn, stored)


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


def _check_ownership(device: DeviceIdentity, request: IncomingPush) -> None:
    if request.device_id != device.id:
        raise Forbidden(detail="the request's device_id is not this device's")
    for e in request.events:
        if e.device_id != device.id:
            raise Forbidden(detail=f"event {e.id} belongs to another device")
        if e.store_id != device.store_id:
            raise Forbidden(detail=f"event {e.id} belongs to another store")


def _device_state(conn: Connection, device_id: str) -> tuple[int, bool, int]:
    """(acked_through, whether it has held events, a position), in one round trip. The
    position is SQLite's last, read by its one writer (the one to append after); on
    PostgreSQL the first of this transaction (``log``: its id, taken here, after the
    device's lock, which saves the writer a round trip)."""
    statement = _STATE_PG if conn.dialect.name == "postgresql" else _STATE
    row = statement.rows(conn, {"device_id": device_id})[0]
    return row[0] or 0, bool(row[1]), row[2] or 0


def _state(last: Any) -> Any:
    device_id = bindparam("device_id")
    return select(
        select(DeviceProgress.acked_through)
        .where(DeviceProgress.device_id == device_id).scalar_subquery(),
        exists().where(HeldEvent.device_id == device_id),
        last,
    )


# Built once: a statement built per call cost SQLAlchemy ~0.5 ms of CPU a push (its cache key,
# and the cached result's columns adapted to the new statement's), more than the query.
_STATE = Statement(_state(select(func.max(Event.position)).scalar_subquery()))
_STATE_PG = Statement(_state(func.log_position_base()))


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
    if not old and len({e.id for e in events}) == len(events):
        return [], list(events)  # the usual push: all new, each once
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
