"""The till's outbox: events not yet stored by the server, and the sync bookkeeping.

An event is unsent while its ``seq`` is above ``device_counters.acked_event_seq``. Only the
server's ``acked_through`` (every seq up to it is stored, with no gap) moves that mark, and only
forward: a bare HTTP 200, a lost answer or a stale retry can never mark anything sent. Plain
dicts in the wire shape (``sync.protocol.WireEvent``'s fields, JSON-ready) go out, so the core
needs no HTTP or protocol library.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from pos_member.db.models import DeviceCounter, Event, EventMove, Setting
from pos_member.db.uow import UnitOfWork

SYNC_CURSOR = "sync_cursor"
LAST_SYNC_AT = "last_sync_at"
SERVER_URL = "server_url"

# Core rows, not ORM objects: a closing sync reads thousands of events, and the ORM's identity
# map would be most of the cost (SPEC §4: 10,000 events pushed in well under 5 s).
_EVENTS = Event.__table__
_PENDING = (
    select(_EVENTS)
    .join(DeviceCounter, DeviceCounter.device_id == _EVENTS.c.device_id)
    .where(_EVENTS.c.device_id == bindparam("device_id"))
    .where(_EVENTS.c.seq > DeviceCounter.acked_event_seq)
    .order_by(_EVENTS.c.seq)
    .limit(bindparam("limit"))
)
# Events moved here from a device this till was before (``services.reidentity``): same ids,
# their place under this device, and the payload again when a member number changed.
_MOVES = EventMove.__table__
_PENDING_MOVED = (
    select(_EVENTS, _MOVES.c.device_id.label("moved_device_id"),
           _MOVES.c.seq.label("moved_seq"), _MOVES.c.payload.label("moved_payload"))
    .join(_MOVES, _MOVES.c.id == _EVENTS.c.id)
    .join(DeviceCounter, DeviceCounter.device_id == _MOVES.c.device_id)
    .where(_MOVES.c.device_id == bindparam("device_id"))
    .where(_MOVES.c.seq > DeviceCounter.acked_event_seq)
    .order_by(_MOVES.c.seq)
    .limit(bindparam("limit"))
)
_COUNTS = select(DeviceCounter.last_event_seq, DeviceCounter.acked_event_seq).where(
    DeviceCounter.device_id == bindparam("device_id")
)


def wire_event(e: Any) -> dict[str, Any]:
    """One event (a row or an :class:`Event`) as the wire protocol carries it (JSON-ready: the
    time as ISO 8601)."""
    return {
        "id": e.id,
        "store_id": e.store_id,
        "device_id": e.device_id,
        "seq": e.seq,
        "clerk_id": e.clerk_id,
        "hlc": e.hlc,
        "type": e.type,
        "entity_id": e.entity_id,
        "payload_version": e.payload_version,
        "payload": e.payload,
        "rules_version": e.rules_version,
        "created_at": e.created_at.isoformat(),
    }


def pending_events(uow: UnitOfWork, *, device_id: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` unsent events of ``device_id``, in ``seq`` order, in the wire shape:
    its own, and those moved to it from a device this till was before."""
    if limit < 1:
        raise ValueError("limit must be positive")
    with uow.read() as s:
        conn = s.connection()
        params = {"device_id": device_id, "limit": limit}
        events = [wire_event(e) for e in conn.execute(_PENDING, params)]
        moved = [moved_event(e) for e in conn.execute(_PENDING_MOVED, params)]
    if not moved:
        return events
    return sorted(events + moved, key=lambda e: e["seq"])[:limit]


def moved_event(row: Any) -> dict[str, Any]:
    """An event moved to a new device, as that device sends it: the same id, its new place."""
    event = wire_event(row)
    event["device_id"] = row.moved_device_id
    event["seq"] = row.moved_seq
    if row.moved_payload is not None:
        event["payload"] = row.moved_payload
    return event


def pending_count(uow: UnitOfWork, *, device_id: str) -> int:
    """How many events of ``device_id`` the server has not acknowledged."""
    with uow.read() as s:
        row = s.execute(_COUNTS, {"device_id": device_id}).first()
    if row is None:
        return 0
    return int(row.last_event_seq - row.acked_event_seq)


def acked_through(uow: UnitOfWork, *, device_id: str) -> int:
    with uow.read() as s:
        row = s.execute(_COUNTS, {"device_id": device_id}).first()
    return int(row.acked_event_seq) if row else 0


def mark_acked(uow: UnitOfWork, *, device_id: str, acked_through: int) -> int:
    """Records the server's ``acked_through`` for ``device_id``; returns the mark now in force.

    Only moves forward (an older answer arriving late changes nothing), and never past the last
    event this till wrote: a server claiming more than that is capped, not believed.
    """
    with uow.begin() as tx:
        conn = tx.conn
        row = conn.execute(_COUNTS, {"device_id": device_id}).first()
        if row is None:
            raise LookupError(f"device {device_id} has no counters")
        target = min(acked_through, row.last_event_seq)
        if target <= row.acked_event_seq:
            return int(row.acked_event_seq)
        conn.execute(
            update(DeviceCounter)
            .where(DeviceCounter.device_id == device_id)
            .values(acked_event_seq=target)
        )
        tx.commit()
        return target


def get_sync_setting(uow: UnitOfWork, key: str) -> str | None:
    with uow.read() as s:
        row = s.get(Setting, key)
        return row.value if row else None


def on_its_own(uow: UnitOfWork) -> bool:
    """A till never enrolled with an HQ (the demo, a store without HQ): no HQ address kept.
    It has no other till and no HQ: what it holds is the whole chain."""
    return not get_sync_setting(uow, SERVER_URL)


def sync_cursor(uow: UnitOfWork) -> int:
    """The server position up to which this till has applied changes (0: nothing yet)."""
    value = get_sync_setting(uow, SYNC_CURSOR)
    return int(value) if value else 0


def last_sync_at(uow: UnitOfWork) -> datetime | None:
    value = get_sync_setting(uow, LAST_SYNC_AT)
    return datetime.fromisoformat(value) if value else None


def set_last_sync_at(uow: UnitOfWork, *, at: datetime) -> None:
    with uow.begin() as tx:
        put_setting(tx.session, LAST_SYNC_AT, at.isoformat())
        tx.commit()


def put_setting(session: Session, key: str, value: str) -> None:
    """Inserts or replaces one setting inside the caller's transaction."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    elif row.value != value:
        row.value = value
