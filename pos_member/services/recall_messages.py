"""A plain message to members picked on the recall list (召回, issue 19): the store manager's
other way to win them back, beside a coupon (``recall_campaigns``).

A message campaign is one confirmed send: each member picked gets one marketing message of the
chosen kind (:data:`MESSAGES`) through the notification outbox (``coupon_notices.tell``: only
with their marketing consent and within ``coupons.marketing_daily_cap`` a store day, as every
marketing message), ``dedupe_key`` ``recall:<campaign>:<member>`` so a retry queues nothing
twice. Each message queued is one ``member.recall_messaged`` event (synced to HQ like a
coupon's ``coupon.issued``; every till of the store keeps it in ``recall_contacts``, so the
campaign's 召回率 is measured like a coupon campaign's) and its audit row. Rules in
docs/rules.md ("Recall campaigns").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from pos_member import events
from pos_member.db.models import PointsAccount
from pos_member.db.uow import UnitOfWork
from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.services.coupon_notices import tell
from pos_member.services.recall_campaigns import (
    BATCH,
    MESSAGES,
    PREFIX,
    add_contact,
    picked_members,
)

MISS_YOU, POINTS_REMINDER, MEMBER_DAY = "recall.miss_you", "points.reminder", "member_day.invite"
_PA = PointsAccount.__table__.c


@dataclass(frozen=True, slots=True)
class RecallMessage:
    campaign: str
    sent: int  # messages queued now
    skipped: int  # members passed over: not served, no marketing consent, the day's cap
    # reached, or messaged in this campaign already


def send_recall_message(uow: UnitOfWork, *, clerk: Clerk, campaign: str,
                        member_ids: Sequence[str], kind: str) -> RecallMessage:
    """One ``kind`` message to each of ``member_ids`` (see the module). A manager's
    (``VIEW_KPI``); the members a coupon campaign passes over are passed over; queued in
    transactions of :data:`BATCH`."""
    require(clerk, Action.VIEW_KPI)
    if kind not in MESSAGES:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "No such message."))
    wanted, due = picked_members(uow, clerk=clerk, campaign=campaign, member_ids=member_ids)
    sent = 0
    for i in range(0, len(due), BATCH):
        batch = due[i:i + BATCH]
        with uow.begin() as tx:
            points = ({} if kind != POINTS_REMINDER else dict(tx.conn.execute(
                select(_PA.member_id, _PA.balance).where(_PA.member_id.in_(batch))).all()))
            for member_id in batch:
                params = ({"points": int(points.get(member_id) or 0)}
                          if kind == POINTS_REMINDER else {})
                if not tell(tx, member_id=member_id, kind=kind, params=params,
                            dedupe_key=f"{PREFIX}{campaign}:{member_id}"):
                    continue
                ev = tx.record(clerk, events.RECALL_MESSAGED, events.RecallMessaged(
                    member_id=member_id, campaign=campaign, kind=kind), entity_id=member_id)
                add_contact(tx.conn, campaign=campaign, member_id=member_id,
                            store_id=clerk.store_id, kind=kind, at=tx.clock.now())
                tx.audit(clerk, events.RECALL_MESSAGED.type, "member", member_id,
                         after={"campaign": campaign, "kind": kind}, event=ev)
                sent += 1
            tx.commit()
    return RecallMessage(campaign, sent, len(wanted) - sent)
