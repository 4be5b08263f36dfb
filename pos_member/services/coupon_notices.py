"""What the member is told of their coupons (issue 18), through the notification outbox
(``services/notifications.py``): a coupon arriving, and 3 days before one expires.

Service messages (a coupon the member was given for registering, by a manager or for their
points; an expiry reminder) always go. Marketing messages (``MARKETING_KINDS``: a birthday,
win-back or HQ offer) go only to a member who agreed to marketing, and at most
``coupons.marketing_daily_cap`` a store day per member, counted in this till's outbox; one
over the cap is not queued (docs/rules.md, "Coupons")."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Connection, bindparam, func, or_, select

from pos_member.clock import Clock
from pos_member.db.models import Member, NotificationOutbox
from pos_member.db.prepared import Prepared
from pos_member.db.uow import Transaction
from pos_member.services.notifications import MARKETING_KINDS, enqueue


def tell(tx: Transaction, *, member_id: str, kind: str, params: dict[str, str | int],
         dedupe_key: str, marketed: dict[str, int] | None = None) -> bool:
    """Queues one message unless consent or the cap says no; True when queued. ``marketed``:
    today's marketing messages per member, kept by a job issuing many (``marketed_today``),
    instead of counting the outbox for each."""
    if kind in MARKETING_KINDS and not _may_market(tx, member_id, marketed):
        return False
    queued = enqueue(tx, member_id=member_id, kind=kind, params=params, dedupe_key=dedupe_key)
    if queued and marketed is not None and kind in MARKETING_KINDS:
        marketed[member_id] = marketed.get(member_id, 0) + 1
    return queued


def marketed_today(conn: Connection, clock: Clock) -> dict[str, int]:
    """Today's marketing messages per member, from this till's outbox (one query). Counted
    here, not by a GROUP BY: for one SQLite walks the member index in its order, the whole
    outbox (270 ms at 400,000 rows); without it the day is a range of the day's index (till
    migration 0022), read alone (about 1 ms, docs/benchmarks.md)."""
    local = clock.local(clock.now())
    since = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return dict(Counter(r[0] for r in conn.execute(TODAY, {"since": since})))


_OUT = NotificationOutbox.__table__.c
TODAY = select(_OUT.member_id).where(  # marketed_today's; its plan is tested (0022)
    _OUT.created_at >= bindparam("since"), _OUT.kind.in_(MARKETING_KINDS))
# Compiled once: a trigger asks for every coupon it issues (db/prepared.py).
_CONSENT = Prepared(select(Member.__table__.c.marketing_consent).where(
    Member.__table__.c.id == bindparam("m")))
_MARKETED = Prepared(select(func.count()).where(
    _OUT.member_id == bindparam("m"), or_(*(_OUT.kind == k for k in MARKETING_KINDS)),
    _OUT.created_at >= bindparam("since")))


def _may_market(tx: Transaction, member_id: str, marketed: dict[str, int] | None) -> bool:
    conn = tx.conn
    consent = _CONSENT.first(conn, {"m": member_id})
    if consent is None or not consent[0]:
        return False
    if marketed is not None:
        return marketed.get(member_id, 0) < tx.rules.coupons.marketing_daily_cap
    local = tx.clock.local(tx.clock.now())
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    sent = _MARKETED.first(conn, {"m": member_id, "since": day_start})
    return int(sent[0] if sent else 0) < tx.rules.coupons.marketing_daily_cap
