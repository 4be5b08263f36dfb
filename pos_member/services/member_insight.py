"""A member's automatic tags, lifecycle stage, churn warning and the suggested action (issue 19,
SPEC §2.8), worked out from their own purchases when the card is shown, with the RFM scores
and segment kept beside the sales (``services/rfm.py``).

Read from the sales ledger through the member's index range (``ix_sales_member_sold``): a
member's history is short, and nothing is stored beside it that could drift. Thresholds come
from the rules' ``[tags]`` and ``[lifecycle]``; the definitions are in docs/rules.md
("Member tags and lifecycle").
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import select

from pos_member.db.models import Member, Sale
from pos_member.db.uow import UnitOfWork
from pos_member.errors import MemberNotFound
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.rules_config import LifecycleRules, TagRules
from pos_member.services.rfm import NONE, Scores, scores_of

HIGH_TICKET = QT_TRANSLATE_NOOP("member_insight", "高客单价")
DORMANT = QT_TRANSLATE_NOOP("member_insight", "沉睡客户")
FREQUENT = QT_TRANSLATE_NOOP("member_insight", "高频客户")
CATEGORY = QT_TRANSLATE_NOOP("member_insight", "品类偏好")
NEW, ACTIVE, SLEEPING, LOST = "new", "active", "dormant", "churned"
STAGES = {
    NEW: QT_TRANSLATE_NOOP("member_insight", "新客"),
    ACTIVE: QT_TRANSLATE_NOOP("member_insight", "活跃"),
    SLEEPING: QT_TRANSLATE_NOOP("member_insight", "沉睡"),
    LOST: QT_TRANSLATE_NOOP("member_insight", "流失"),
}
CHURN_WARNING = QT_TRANSLATE_NOOP("member_insight", "流失预警")
WIN_BACK = QT_TRANSLATE_NOOP("member_insight", "Send a win-back coupon (送回归券)")
REMIND_POINTS = QT_TRANSLATE_NOOP("member_insight", "Remind them of their points (提醒积分余额)")
INVITE = QT_TRANSLATE_NOOP("member_insight", "Invite them to the member day (邀请参加会员日)")
WARNING_FACTOR = 1.5  # seed 001: the gap runs 50 % past the member's usual interval
WARNING_MIN_INTERVALS = 2  # a "usual interval" needs at least two gaps (three purchase days)


@dataclass(frozen=True, slots=True)
class Purchase:
    day: date
    paid_fen: int  # net of refunds
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MemberInsight:
    tags: tuple[str, ...]  # automatic tags (English keys above; the UI translates)
    favourite_category: str | None  # with the 品类偏好 tag
    stage: str  # NEW, ACTIVE, SLEEPING or LOST
    churn_warning: bool
    days_since: int  # since the last purchase, or since joining when none
    usual_interval_days: float | None  # the median gap between purchase days
    action: str | None  # the suggested action (English, translated by the UI)
    rfm: Scores = NONE  # the kept RFM scores and segment (services/rfm.py)


def member_insight(uow: UnitOfWork, *, clerk: Clerk, member_id: str) -> MemberInsight:
    """The member's insight as of today (the store's calendar)."""
    require(clerk, Action.VIEW_MEMBER)
    with uow.read() as s:
        joined = s.scalar(select(Member.registered_at).where(Member.id == member_id))
        if joined is None:
            raise MemberNotFound(query=member_id[:8])
        rows = s.execute(
            select(Sale.business_day, Sale.amount_fen - Sale.refunded_fen, Sale.categories)
            .where(Sale.member_id == member_id, Sale.refunded_fen < Sale.amount_fen)
            .order_by(Sale.sold_at)).all()
    purchases = [Purchase(d, int(fen), tuple(cats or ())) for d, fen, cats in rows]
    rules = uow.rules
    found = assess(purchases, joined=uow.clock.local(joined).date(), today=uow.clock.today(),
                   tags=rules.tags, lifecycle=rules.lifecycle)
    return replace(found, rfm=scores_of(uow, member_id))


def assess(purchases: list[Purchase], *, joined: date, today: date, tags: TagRules,
           lifecycle: LifecycleRules) -> MemberInsight:
    """The rules applied to one member's purchases (oldest first)."""
    last = purchases[-1].day if purchases else joined
    days_since = (today - last).days
    found: list[str] = []
    if any(p.paid_fen >= tags.high_ticket_fen for p in purchases):
        found.append(HIGH_TICKET)
    if days_since >= tags.dormant_days:
        found.append(DORMANT)
    window_from = today - timedelta(days=tags.frequent_window_days - 1)
    if sum(1 for p in purchases if p.day >= window_from) >= tags.frequent_count:
        found.append(FREQUENT)
    counts = Counter(c for p in purchases for c in p.categories)
    favourite = min(counts, key=lambda c: (-counts[c], c)) if counts else None
    if favourite is not None:
        found.append(CATEGORY)
    if days_since >= lifecycle.churned_days:
        stage = LOST
    elif days_since >= lifecycle.dormant_days:
        stage = SLEEPING
    else:
        stage = NEW if len({p.day for p in purchases}) <= 1 else ACTIVE
    days = sorted({p.day for p in purchases})
    gaps = [(b - a).days for a, b in pairwise(days)]
    usual = statistics.median(gaps) if len(gaps) >= WARNING_MIN_INTERVALS else None
    # Only before the dormant threshold: past it the member is 沉睡 and the win-back applies.
    warning = stage == ACTIVE and usual is not None and days_since > WARNING_FACTOR * usual
    if stage in (SLEEPING, LOST):
        action: str | None = WIN_BACK
    elif warning:
        action = REMIND_POINTS
    elif HIGH_TICKET in found:
        action = INVITE
    else:
        action = None
    return MemberInsight(tuple(found), favourite, stage, warning, days_since, usual, action)
