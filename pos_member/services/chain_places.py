"""Stores and devices a till knows from pulled events (``services/pulled_events.py``): added
from the ids and numbers a pulled member carries, named by HQ when the till asks
(``sync.engine``)."""

from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from pos_member.db.models import Device, Store
from pos_member.db.prepared import Prepared
from pos_member.db.uow import UnitOfWork

# Run on the driver (pos_member/db/prepared.py): every pulled registration asks both.
_STORES, _DEVICES = Store.__table__, Device.__table__
_STORE_HERE = Prepared(select(_STORES.c.id).where(_STORES.c.id == bindparam("id")))
_DEVICE_HERE = Prepared(select(_DEVICES.c.id).where(_DEVICES.c.id == bindparam("id")))


def ensure_store(conn: Connection, store_id: str, number: int, at: datetime) -> None:
    t = Store.__table__
    if _STORE_HERE.first(conn, {"id": store_id}) is not None:
        return
    if conn.scalar(select(t.c.id).where(t.c.number == number)) is not None:
        number = fallback_number(store_id)  # chain data disagree; keep the member anyway
    conn.execute(insert(t), {"id": store_id, "number": number,
                             "name": f"{PLACEHOLDER_STORE_NAME}{number:04d}", "created_at": at})


PLACEHOLDER_STORE_NAME = "#"  # a store known from pulled events only: "#0002" until named


def unnamed_stores(uow: UnitOfWork) -> bool:
    """Does this till know a store only by its number (from pulled events)?"""
    t = Store.__table__
    with uow.read() as s:
        return s.execute(select(t.c.id).where(t.c.name.startswith(PLACEHOLDER_STORE_NAME))
                         .limit(1)).first() is not None


def unknown_stores(uow: UnitOfWork, store_ids: set[str]) -> bool:
    """Did a pull bring events of a store this till has no row for? (Since pulls are
    filtered, a store's sale of this store's member may come before any of its members.)"""
    ids = store_ids - {"hq"}
    if not ids:
        return False
    t = Store.__table__
    with uow.read() as s:
        known = set(s.scalars(select(t.c.id).where(t.c.id.in_(ids))))
    return bool(ids - known)


def name_stores(uow: UnitOfWork, stores: list[tuple[str, int, str]]) -> int:
    """HQ's names for the chain's stores ``(id, number, name)``: a store this till knows is
    renamed, one it does not know is added (its members and ledgers may arrive later).
    Returns how many names changed. Names are for showing; nothing else depends on them."""
    t = Store.__table__
    changed = 0
    with uow.begin() as tx:
        conn = tx.conn
        now = tx.clock.now()
        for store_id, number, name in stores:
            name = name.strip()[:100]
            if not name:
                continue
            ensure_store(conn, store_id, number, now)
            changed += conn.execute(update(t).where(t.c.id == store_id, t.c.name != name)
                                    .values(name=name)).rowcount
        tx.commit()
    return changed


def ensure_device(
    conn: Connection, device_id: str, store_id: str, number: int, at: datetime
) -> None:
    t = Device.__table__
    if _DEVICE_HERE.first(conn, {"id": device_id}) is not None:
        return
    taken = conn.scalar(select(t.c.id).where(t.c.store_id == store_id, t.c.number == number))
    if taken is not None:
        number = fallback_number(device_id)
    conn.execute(insert(t), {"id": device_id, "store_id": store_id, "number": number,
                             "name": "", "created_at": at})


def fallback_number(some_id: str) -> int:
    """A stable negative number (real ones are positive) for a row whose number is taken."""
    return -(zlib.crc32(some_id.encode()) & 0x7FFFFFFF) - 1
