"""The points expiry job (SPEC §2.3): every lot expires ``expiry_months`` after it was earned;
the job posts an expiry entry for each lot whose time has come, catching up however long the
till was off, and queues the reminders 30 and 7 days before (rules). The till runs it at start
and every hour (``ui/till_points.py``); it is safe to run at any time and any number of times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select

from pos_member import events
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Clerk
from pos_member.points_lots import expiry_entry_id
from pos_member.services import notifications
from pos_member.services.points_ledger import (
    ADD_BALANCE,
    ENTRIES,
    ENTRY_COLUMNS,
    EXPIRE,
    LOTS,
    OPEN,
    SET_REMAINING,
    aware,
    balance_of,
    new_entry,
)
from pos_member.services.points_notices import tell_points

EXPIRING = "points.expiring"  # the reminder's kind (its text: notifications.TEMPLATES)
@dataclass(frozen=True, slots=True)
class ExpiryRun:
    lots: int
    members: int
    points: int
    reminders: int


_DUE = (select(LOTS.c.id, LOTS.c.member_id, LOTS.c.remaining, LOTS.c.expires_at)
        .where(OPEN, LOTS.c.expires_at <= bindparam("now"))
        .order_by(LOTS.c.expires_at)  # the partial index's order: no sort of all due lots
        .limit(bindparam("limit")))


def expire_due(uow: UnitOfWork, *, clerk: Clerk, batch_lots: int = 5000,
               remind: bool = True) -> ExpiryRun:
    """Posts an expiry entry for every lot whose time has come, however long the till was off
    (catching up), in transactions of about ``batch_lots`` lots, one event per member. Safe to
    run again at any time: an expired lot has nothing left, so a second run finds nothing.
    Then queues the expiry reminders (:func:`remind_expiring`).

    The rows of a batch are written with one ``executemany`` per table (entries, lots,
    balances): a due lot is open, so the balance covers it and no debt arises. This is the
    same effect as :func:`post_entry` of each entry, which other tills use when they pull the
    ``points.expired`` events."""
    now = uow.clock.now()
    lots = members = points = 0
    while True:
        with uow.begin() as tx:
            conn = tx.conn
            due = conn.execute(_DUE, {"now": now, "limit": batch_lots}).all()
            if not due:
                break
            ids = {lot.id: expiry_entry_id(lot.id) for lot in due}
            taken = set(conn.scalars(select(ENTRIES.c.id).where(
                ENTRIES.c.id.in_(list(ids.values())))))
            for lot_id, entry_id in ids.items():
                if entry_id in taken:  # expired elsewhere while this till held more of it
                    ids[lot_id] = expiry_entry_id(f"{lot_id}:rest")
            by_member: dict[str, list[Any]] = {}
            for lot in due:
                by_member.setdefault(lot.member_id, []).append(lot)
            rows: list[dict[str, Any]] = []
            balances: list[dict[str, Any]] = []
            for member_id, member_lots in by_member.items():
                entries = [
                    new_entry(tx, clerk, member_id=member_id, kind=EXPIRE,
                              points=-lot.remaining, at=now, entry_id=ids[lot.id],
                              consume=[(lot.id, lot.remaining)],
                              note=uow.clock.local(lot.expires_at).date().isoformat())
                    for lot in member_lots
                ]
                ev = tx.record(clerk, events.POINTS_EXPIRED,
                               events.PointsPosted(member_id=member_id, entries=entries),
                               entity_id=member_id)
                for e in entries:
                    row = {c: e.get(c) for c in ENTRY_COLUMNS}
                    row["at"], row["event_id"] = now, ev.id
                    rows.append(row)
                gone = sum(lot.remaining for lot in member_lots)
                balances.append({"m": member_id, "p": -gone})
                lots += len(member_lots)
                points += gone
                members += 1
            conn.execute(insert(ENTRIES), rows)
            conn.execute(SET_REMAINING, [{"lot": lot.id, "left": 0} for lot in due])
            conn.execute(ADD_BALANCE, balances)
            _tell_expired(tx, clerk, due, gone_by_member={b["m"]: -b["p"] for b in balances})
            tx.commit()
        if len(due) < batch_lots:
            break
    reminders = remind_expiring(uow, clerk=clerk) if remind else 0
    return ExpiryRun(lots, members, points, reminders)


def _tell_expired(tx: Any, clerk: Clerk, due: list[Any], *,
                  gone_by_member: dict[str, int]) -> None:
    """The member is told their points expired (``points_notices``) by the till that made an
    expired lot only (its entry's device), as the reminders are: every till expires the lots
    it holds, and one message per expiry is enough."""
    conn = tx.conn
    own = set(conn.scalars(select(ENTRIES.c.id).where(
        ENTRIES.c.id.in_([lot.id for lot in due]), ENTRIES.c.device_id == clerk.device_id)))
    told = {lot.member_id for lot in due if lot.id in own}
    for member_id in told:
        tell_points(tx, member_id=member_id, change=-gone_by_member[member_id],
                    balance=balance_of(conn, member_id), reason="expired",
                    key=f"expired:{member_id}:{tx.clock.now().isoformat()}")


def remind_expiring(uow: UnitOfWork, *, clerk: Clerk) -> int:
    """Queues a reminder for each lot expiring within each of ``expiry_reminder_days`` (30 and 7
    days), once per lot and threshold (the notification's dedupe key).

    Every till holds the lots of the members it has pulled, and each till has its own outbox:
    only the till that made a lot reminds of it (the lot's entry, which has the lot's id, was
    made by ``clerk.device_id``), so a member gets one reminder per lot chain-wide."""
    now = uow.clock.now()
    days = sorted(uow.rules.points.expiry_reminder_days)
    if not days:
        return 0
    queued = 0
    with uow.begin() as tx:
        conn = tx.conn
        rows = conn.execute(
            select(LOTS.c.id, LOTS.c.member_id, LOTS.c.remaining, LOTS.c.expires_at)
            .join(ENTRIES, ENTRIES.c.id == LOTS.c.id)
            .where(OPEN, LOTS.c.expires_at > now,
                   LOTS.c.expires_at <= now + timedelta(days=days[-1]),
                   ENTRIES.c.device_id == clerk.device_id)
        ).all()
        for lot in rows:
            left = aware(lot.expires_at) - now
            window = next(d for d in days if left <= timedelta(days=d))
            if notifications.enqueue(
                tx, member_id=lot.member_id, kind=EXPIRING,
                params={"points": int(lot.remaining), "days": window,
                        "date": uow.clock.local(lot.expires_at).date().isoformat()},
                dedupe_key=f"expiry:{lot.id}:{window}",
            ):
                queued += 1
        tx.commit()
    return queued
