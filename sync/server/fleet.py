"""HQ's view of its tills (``pos-member-server list-devices``, ``resolve-flag``; ``list-flags`` is
``services.list_flags``)
and the health answer a load balancer asks for.

A device's *last push* is when HQ received the last event it acknowledged (the event stored
under ``(device, acked_through)``: one index lookup per device, whatever the size of the log).
*Held* counts events waiting for an earlier one of the same till (a gap). A flag is resolved
with a note and the operator who resolved it, kept on the flag itself (``detail.resolution``);
an overdraw is settled with ``settle-overdraw`` instead, which also lifts the member's block.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import OperationalError

from sync.protocol import HealthResponse
from sync.server.context import ServerContext
from sync.server.db import SCHEMA_HEAD, require_current_schema
from sync.server.errors import BadRequest, DatabaseUnavailable, FlagNotFound
from sync.server.models import Device, DeviceProgress, Event, Flag, HeldEvent, Store
from sync.server.services import FlagView, store_id_of

MAX_NOTE = 500
SETTLED_ELSEWHERE = {"overdraw": "settle-overdraw"}  # kinds resolved by their own command


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: str
    store_number: int
    number: int
    name: str
    enrolled_at: datetime
    last_push_at: datetime | None
    acked_through: int
    held: int
    revoked_at: datetime | None
    retired_at: datetime | None

    @property
    def state(self) -> str:
        if self.retired_at is not None:
            return "retired"
        return "revoked" if self.revoked_at is not None else "active"


def list_devices(ctx: ServerContext, *, store_number: int | None = None) -> list[DeviceView]:
    """The chain's devices (or one store's), by store and device number."""
    held = (select(HeldEvent.device_id, func.count().label("held"))
            .group_by(HeldEvent.device_id).subquery())
    last = (select(Event.received_at)
            .where(Event.device_id == Device.id, Event.seq == DeviceProgress.acked_through)
            .scalar_subquery())
    query = (
        select(Device.id, Store.number.label("store_number"), Device.number, Device.name,
               Device.enrolled_at, Device.revoked_at, Device.retired_at,
               func.coalesce(DeviceProgress.acked_through, 0).label("acked"),
               func.coalesce(held.c.held, 0).label("held"), last.label("last_push"))
        .join(Store, Store.id == Device.store_id)
        .outerjoin(DeviceProgress, DeviceProgress.device_id == Device.id)
        .outerjoin(held, held.c.device_id == Device.id)
        .order_by(Store.number, Device.number)
    )
    with ctx.db.read() as conn:
        if store_number is not None:
            store_id_of(conn, store_number)
            query = query.where(Store.number == store_number)
        rows = conn.execute(query).all()
    return [DeviceView(r.id, r.store_number, r.number, r.name, r.enrolled_at, r.last_push,
                       r.acked, r.held, r.revoked_at, r.retired_at) for r in rows]


def resolve_flag(ctx: ServerContext, *, flag_id: int, note: str,
                 by: str | None = None) -> FlagView:
    """Resolves an open flag with ``note``, recording who (``by``, default the OS user running
    the command) and when. Refused: an empty or long note, an unknown or resolved flag, a kind
    that has its own command (an overdraw: ``settle-overdraw``)."""
    note = note.strip()
    if not 1 <= len(note) <= MAX_NOTE:
        raise BadRequest(detail=f"the note must be 1-{MAX_NOTE} characters")
    by = by or getpass.getuser()
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = conn.execute(select(Flag.__table__).where(Flag.id == flag_id)
                           .with_for_update()).first()
        if row is None:
            raise FlagNotFound(flag_id=flag_id)
        if row.resolved_at is not None:
            raise BadRequest(detail=f"flag {flag_id} was resolved before")
        command = SETTLED_ELSEWHERE.get(row.kind)
        if command is not None:
            raise BadRequest(detail=f"a {row.kind} flag is resolved with {command}")
        detail = {**(row.detail or {}),
                  "resolution": {"note": note, "by": by, "at": now.isoformat()}}
        conn.execute(update(Flag).where(and_(Flag.id == flag_id, Flag.resolved_at.is_(None)))
                     .values(resolved_at=now, detail=detail))
    return FlagView(id=row.id, kind=row.kind, store_id=row.store_id, detail=detail,
                    raised_at=row.raised_at, resolved_at=now)


def health(ctx: ServerContext) -> HealthResponse:
    """What ``GET /v1/health`` answers: the database answers at the schema this server expects
    (``DatabaseUnavailable`` or ``SchemaNotCurrent``, both 503, otherwise). Reads nothing of
    the chain's data."""
    try:
        require_current_schema(ctx.db)
    except OperationalError:
        raise DatabaseUnavailable() from None
    return HealthResponse(status="ok", schema_version=SCHEMA_HEAD)
