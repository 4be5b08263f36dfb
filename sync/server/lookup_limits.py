"""How many remote member lookups a till may make, and the audit of every one.

``GET /v1/members/lookup`` answers a member's card and balances for any member number or
phone blind index; member numbers are short and sequential enough to be enumerated with a
till's token. So HQ counts each device's lookups in fixed windows of ``WINDOW`` and refuses
past ``PER_WINDOW`` with 429 ``lookup_rate_limited`` and ``Retry-After`` (the seconds until
the window ends): far above a cashier's pace (a lookup is a scan of another store's member
that the till does not hold), far below an enumeration's (1,000,000 members would take one
device about 70 days). The count is one row per device (``lookup_windows``) moved up in one
statement, under that row's lock, so two server processes never both let a lookup over.

Every lookup, let in or refused, is kept in ``member_lookups``: the device and its store, the
time, and the key as asked — the member number, or the phone's blind index (never a phone
number, never a name; the server's log names only the device). A refused lookup counts too,
so a device that keeps asking stays refused until its window ends. docs/scale.md, "Lookup
limits and audit".
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy import Connection, insert, text
from sqlalchemy.dialects import sqlite

from sync.server.context import DeviceIdentity
from sync.server.db import ServerDatabase
from sync.server.errors import LookupRateLimited
from sync.server.models import LookupWindow, MemberLookupAudit

WINDOW = timedelta(minutes=10)
PER_WINDOW = 100
log = logging.getLogger(__name__)

_T = LookupWindow.__table__
# One round trip on PostgreSQL: count the lookup in the device's window (a new window when the
# last one ended) and keep the audit row, refused when the count passed the limit.
_COUNT_AND_AUDIT = text("""
WITH w AS (
    INSERT INTO lookup_windows AS w (device_id, started_at, lookups)
    VALUES (:device, :now, 1)
    ON CONFLICT (device_id) DO UPDATE SET
        started_at = CASE WHEN w.started_at <= :since THEN :now ELSE w.started_at END,
        lookups = CASE WHEN w.started_at <= :since THEN 1 ELSE w.lookups + 1 END
    RETURNING w.started_at, w.lookups
)
INSERT INTO member_lookups (at, device_id, store_id, kind, key, refused)
SELECT :now, :device, :store, :kind, :key, w.lookups > :limit FROM w
RETURNING refused, (SELECT started_at FROM w)
""")


def admit(db: ServerDatabase, conn: Connection, *, device: DeviceIdentity, kind: str,
          key: str, now: datetime) -> None:
    """Counts and records the lookup; raises ``LookupRateLimited`` past ``PER_WINDOW``.
    On PostgreSQL on ``conn``, the lookup's own connection to the primary, in autocommit:
    the count and the record commit at once. On SQLite (one writer) in a write transaction
    of its own."""
    params = {"device": device.id, "store": device.store_id, "kind": kind, "key": key[:64],
              "now": now, "since": now - WINDOW, "limit": PER_WINDOW}
    if conn.dialect.name == "postgresql":
        refused, started = conn.execute(_COUNT_AND_AUDIT, params).one()
    else:
        with db.write() as writer:
            refused, started = _sqlite_count(writer, params)
    if refused:
        if started.tzinfo is None:
            started = started.replace(tzinfo=now.tzinfo)
        seconds = max(1, math.ceil((started + WINDOW - now).total_seconds()))
        log.warning("member lookups of device %s over %d in %s: refused for %d s",
                    device.id, PER_WINDOW, WINDOW, seconds)
        raise LookupRateLimited(seconds=seconds)


def _sqlite_count(conn: Connection, p: dict[str, object]) -> tuple[bool, datetime]:
    """The same on SQLite (one writer: no race), in two statements."""
    started_at, lookups = _T.c.started_at, _T.c.lookups
    ended = started_at <= p["since"]
    row = conn.execute(
        sqlite.insert(_T).values(device_id=p["device"], started_at=p["now"], lookups=1)
        .on_conflict_do_update(index_elements=[_T.c.device_id], set_={
            "started_at": _case(ended, p["now"], started_at),
            "lookups": _case(ended, 1, lookups + 1)})
        .returning(started_at, lookups)).one()
    refused = row.lookups > int(p["limit"])  # type: ignore[call-overload]
    conn.execute(insert(MemberLookupAudit).values(
        at=p["now"], device_id=p["device"], store_id=p["store"], kind=p["kind"], key=p["key"],
        refused=refused))
    return refused, row.started_at


def _case(condition: object, then: object, otherwise: object) -> object:
    from sqlalchemy import case

    return case((condition, then), else_=otherwise)  # type: ignore[arg-type]
