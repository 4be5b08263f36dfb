"""The member is told of every change of their points (issue 18; seed 000 "积分变动"): earned
and redeemed on a sale, taken back or given back by its refund, a gift or coupon exchange, a
manager's adjustment, an expiry. One service message (``points.changed``: never capped, no
marketing consent needed) per operation, queued in its own transaction through the outbox,
only by the till that did it (an expiry: by the till that made the lot, as its reminder)."""

from __future__ import annotations

from collections.abc import Callable

from pos_member.db.uow import Transaction
from pos_member.services.notifications import enqueue

CHANGED = "points.changed"
# (change, balance, key): how a caller that tells the member of a sale's points in a message of
# its own takes them instead (a checkout paid by stored value: one message for both, rules.md).
PointsNotice = Callable[[int, int, str], None]
# What each reason reads as in the member's message (Chinese: the members' language).
REASONS = {"earned": "消费获得", "redeemed": "兑换使用", "refunded": "退款调整",
           "adjusted": "人工调整", "expired": "到期清零", "sale": "消费"}


def tell_points(tx: Transaction, *, member_id: str, change: int, balance: int, reason: str,
                key: str) -> bool:
    """Queues the message unless nothing changed; ``key`` makes it once per operation."""
    if not change:
        return False
    return enqueue(tx, member_id=member_id, kind=CHANGED,
                   params={"change": f"{change:+d}", "balance": balance,
                           "reason": REASONS.get(reason, reason)},
                   dedupe_key=f"{CHANGED}:{key}")
