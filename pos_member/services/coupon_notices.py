"""What the member is told of their coupons (issue 18), through the notification outbox
(``services/notifications.py``): a coupon arriving, and 3 days before one expires.

Service messages (a coupon the member was given for registering, by a manager or for their
points; an expiry reminder) always go. Marketing messages (``MARKETING_KINDS``: a birthday,
win-back or HQ offer) go only to a member who agreed to marketing, and at most
``coupons.marketing_daily_cap`` a store day per member, counted in this till's outbox; one
over the cap is not queued (docs/rules.md, "Coupons")."""

from __future__ import annotations

from sqlalchemy import func, select

from pos_member.db.models import Member, NotificationOutbox
from pos_member.db.uow import Transaction
from pos_member.services.notifications import enqueue

MARKETING_KINDS = ("coupon.offer",)


def tell(tx: Transaction, *, member_id: str, kind: str, params: dict[str, str | int],
         dedupe_key: str) -> bool:
    """Queues one message unless consent or the cap says no; True when queued."""
    if kind in MARKETING_KINDS and not _may_market(tx, member_id):
        return False
    return enqueue(tx, member_id=member_id, kind=kind, params=params, dedupe_key=dedupe_key)


def _may_market(tx: Transaction, member_id: str) -> bool:
    conn = tx.conn
    if not conn.scalar(select(Member.marketing_consent).where(Member.id == member_id)):
        return False
    local = tx.clock.local(tx.clock.now())
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    sent = conn.scalar(select(func.count()).select_from(NotificationOutbox).where(
        NotificationOutbox.member_id == member_id,
        NotificationOutbox.kind.in_(MARKETING_KINDS),
        NotificationOutbox.created_at >= day_start))
    return int(sent or 0) < tx.rules.coupons.marketing_daily_cap
