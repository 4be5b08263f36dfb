"""Recall campaigns (召回, issue 19): the store manager issues a win-back coupon to members
picked on the recall list, and later sees how many came back (召回率) and what they spent
against what the coupons cost (召回 ROI).

A campaign is one confirmed issue from the recall list: each coupon goes through the coupon
issue path (``coupons.issue_in``: one ``coupon.issued`` event, synced like any coupon) with
source ``recall`` and ``trigger_key`` ``recall:<campaign>:<member>``, so the same campaign
issued again issues nothing more, and every till and HQ can tell a campaign's coupons from
the coupons themselves: nothing is kept beside them. Definitions in docs/rules.md
("Recall campaigns").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, case, func, or_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pos_member.db.models import (
    Coupon,
    CouponEntry,
    Member,
    MemberStanding,
    RecallContact,
    Sale,
)
from pos_member.db.uow import UnitOfWork
from pos_member.errors import InvalidInput
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.services.coupons import RECALL, issue_in
from pos_member.services.coupons_ledger import REDEEMED, RETURNED
from pos_member.services.insight import ratio
from pos_member.spreadsheet import put_cell

LIMIT = 500  # members one campaign takes (the recall list's page)
WINDOW_DAYS = 30  # a member came back: a purchase within 30 days of their coupon
PREFIX = f"{RECALL}:"
BATCH = 200  # coupons per transaction: a sale waits behind one batch at most
CAMPAIGNS = 50  # the most recent campaigns a screen or export shows
_CAMPAIGN = re.compile(r"[0-9a-f]{16}")
_C, _E, _S, _M = Coupon.__table__.c, CouponEntry.__table__.c, Sale.__table__.c, Member.__table__.c
_ST = MemberStanding.__table__.c


@dataclass(frozen=True, slots=True)
class RecallIssue:
    campaign: str
    issued: int  # coupons issued now
    skipped: int  # members passed over: issued in this campaign already, or not to be served


def face_value_fen(template: object, count: int) -> int | None:
    """What ``count`` coupons of an amount-off template take off at most; None otherwise (a
    percentage depends on the bill, a gift on the item)."""
    if getattr(template, "kind", None) != "amount_off":
        return None
    return int(getattr(template, "amount_off_fen", 0)) * count


def issue_recall_coupons(uow: UnitOfWork, *, clerk: Clerk, campaign: str,
                         member_ids: Sequence[str], template_code: str) -> RecallIssue:
    """One coupon of ``template_code`` to each of ``member_ids`` (the clerk's store's members
    picked on the recall list). A manager's (``VIEW_KPI`` and ``ISSUE_COUPON``); frozen,
    blacklisted, erased, merged and other stores' members are passed over; issued in batches
    of :data:`BATCH`, each coupon once per campaign (a retry repeats nothing)."""
    require(clerk, Action.VIEW_KPI)
    require(clerk, Action.ISSUE_COUPON)
    template = uow.rules.coupons.template(template_code)
    if template is None:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "No such coupon in the rules."))
    wanted, due = picked_members(uow, clerk=clerk, campaign=campaign, member_ids=member_ids)
    issued = 0
    for i in range(0, len(due), BATCH):
        with uow.begin() as tx:
            for member_id in due[i:i + BATCH]:
                if issue_in(tx, clerk, member_id=member_id, template=template, source=RECALL,
                            trigger_key=f"{PREFIX}{campaign}:{member_id}") is not None:
                    issued += 1
            tx.commit()
    return RecallIssue(campaign, issued, len(wanted) - issued)


def picked_members(uow: UnitOfWork, *, clerk: Clerk, campaign: str,
                   member_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the members picked, once each; those of them a campaign serves: the clerk's store's
    active members not frozen, blacklisted or erased). Refuses a campaign id that is not one,
    no member or more than :data:`LIMIT`. Read-only: a coupon or a message campaign's check."""
    if not _CAMPAIGN.fullmatch(campaign or ""):
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "The campaign id is missing."))
    wanted = list(dict.fromkeys(member_ids))
    if not wanted:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "Pick the members to send it to."))
    if len(wanted) > LIMIT:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "At most 500 members at a time."))
    refused = select(_ST.member_id).where(
        _ST.member_id == _M.id, or_(_ST.status != "normal", _ST.erased.is_(True))).exists()
    with uow.read() as s:
        served = set(s.scalars(select(_M.id).where(
            _M.id.in_(wanted), _M.store_id == clerk.store_id, _M.status == "active",
            ~refused)))
    return wanted, [m for m in wanted if m in served]


# The plain messages a campaign may send instead of a coupon (``recall_messages``), as the store
# manager picks them and the results name them.
MESSAGES = {
    "recall.miss_you": QT_TRANSLATE_NOOP("recall", "Message: we miss you, come and see us"),
    "points.reminder": QT_TRANSLATE_NOOP("recall", "Message: your points balance"),
    "member_day.invite": QT_TRANSLATE_NOOP("recall", "Message: invitation to the members' day"),
}
_RC = RecallContact.__table__.c
_ADD_CONTACT = sqlite_insert(RecallContact.__table__).on_conflict_do_nothing()


def add_contact(conn: Connection, *, campaign: str, member_id: str, store_id: str, kind: str,
                at: datetime) -> None:
    """A message campaign reached the member (at this till, or pulled from another)."""
    conn.execute(_ADD_CONTACT, {"campaign": campaign, "member_id": member_id,
                                "store_id": store_id, "kind": kind, "contacted_at": at})


def apply_recall_messaged(conn: Connection, ev: Mapping[str, Any], payload: Any) -> bool:
    """A pulled ``member.recall_messaged``: another till's campaign counts here too."""
    add_contact(conn, campaign=payload.campaign, member_id=payload.member_id,
                store_id=ev["store_id"], kind=payload.kind,
                at=datetime.fromisoformat(ev["created_at"]))
    return True


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign: str
    issued_at: datetime  # the campaign's first coupon
    coupon_name: str
    contacted: int  # members sent a coupon
    came_back: int  # of them, with a purchase within WINDOW_DAYS of their coupon
    spend_fen: int  # what they paid in those windows, net of refunds
    coupon_cost_fen: int  # the discounts the campaign's coupons gave (redeemed less returned)
    window_open: bool  # some member's window has not ended yet: the figures may still grow
    message: str | None = None  # a message campaign's kind (MESSAGES; coupon_name empty)

    @property
    def recall_rate(self) -> Decimal | None:  # 召回率
        return ratio(self.came_back, self.contacted)

    @property
    def roi(self) -> Decimal | None:  # 召回 ROI = spend ÷ coupon cost
        if not self.coupon_cost_fen:
            return None
        return (Decimal(self.spend_fen) / Decimal(self.coupon_cost_fen)).quantize(
            Decimal("0.01"))


def campaign_results(uow: UnitOfWork, *, clerk: Clerk,
                     limit: int = CAMPAIGNS) -> list[CampaignResult]:
    """The store's recall campaigns, most recent first, as of now. Read-only."""
    require(clerk, Action.VIEW_KPI)
    now = uow.clock.now()
    window = timedelta(days=WINDOW_DAYS)
    campaign = func.substr(_C.trigger_key, len(PREFIX) + 1, 16)
    buys = [_S.member_id == _C.member_id, _S.sold_at > _C.issued_at,
            _S.refunded_fen < _S.amount_fen]
    in_window = func.julianday(_S.sold_at) <= func.julianday(_C.issued_at) + WINDOW_DAYS
    came = select(_S.id).where(*buys, in_window).correlate(Coupon).exists()
    spent = (select(func.coalesce(func.sum(_S.amount_fen - _S.refunded_fen), 0))
             .where(*buys[:2], in_window).correlate(Coupon).scalar_subquery())
    cost = (select(func.coalesce(func.sum(case((_E.kind == REDEEMED, _E.discount_fen),
                                               (_E.kind == RETURNED, -_E.discount_fen),
                                               else_=0)), 0))
            .where(_E.key == _C.key).correlate(Coupon).scalar_subquery())
    per = (select(campaign.label("campaign"), _C.issued_at, _C.name, came.label("came"),
                  spent.label("spent"), cost.label("cost"))
           .where(_C.trigger_key >= PREFIX, _C.trigger_key < f"{RECALL};",
                  _C.store_id == clerk.store_id).subquery())
    q = (select(per.c.campaign, func.min(per.c.issued_at), func.max(per.c.issued_at),
                func.min(per.c.name), func.count(),
                func.sum(case((per.c.came, 1), else_=0)), func.sum(per.c.spent),
                func.sum(per.c.cost))
         .group_by(per.c.campaign).order_by(func.min(per.c.issued_at).desc()).limit(limit))
    out = []
    with uow.read() as s:
        for cid, first, last, name, n, back, spend, spent_cost in s.execute(q):
            first_at, last_at = _aware(first), _aware(last)
            out.append(CampaignResult(cid, first_at, name, int(n), int(back or 0),
                                      int(spend or 0), int(spent_cost or 0),
                                      last_at + window > now))
        out.extend(_message_results(s, clerk.store_id, now, limit))
    out.sort(key=lambda r: r.issued_at, reverse=True)
    return out[:limit]


def _message_results(s: Any, store_id: str, now: datetime,
                     limit: int) -> list[CampaignResult]:
    """The store's message campaigns, measured as the coupon campaigns are (no coupon cost)."""
    buys = [_S.member_id == _RC.member_id, _S.sold_at > _RC.contacted_at]
    in_window = (func.julianday(_S.sold_at)
                 <= func.julianday(_RC.contacted_at) + WINDOW_DAYS)
    came = select(_S.id).where(*buys, _S.refunded_fen < _S.amount_fen, in_window).exists()
    spent = (select(func.coalesce(func.sum(_S.amount_fen - _S.refunded_fen), 0))
             .where(*buys, in_window).scalar_subquery())
    per = (select(_RC.campaign, _RC.contacted_at, _RC.kind, came.label("came"),
                  spent.label("spent")).where(_RC.store_id == store_id).subquery())
    q = (select(per.c.campaign, func.min(per.c.contacted_at), func.max(per.c.contacted_at),
                func.min(per.c.kind), func.count(), func.sum(case((per.c.came, 1), else_=0)),
                func.sum(per.c.spent))
         .group_by(per.c.campaign).order_by(func.min(per.c.contacted_at).desc()).limit(limit))
    window = timedelta(days=WINDOW_DAYS)
    return [CampaignResult(cid, _aware(first), "", int(n), int(back or 0), int(spend or 0), 0,
                           _aware(last) + window > now, message=kind)
            for cid, first, last, kind, n, back, spend in s.execute(q)]


def _aware(value: object) -> datetime:
    """``min()``/``max()`` of a datetime column come back from SQLite as text."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


SHEET = QT_TRANSLATE_NOOP("recall", "Recall rate")
PERCENT, YUAN, COUNT, TIMES = "0.0%", '"¥"#,##0.00', "#,##0", '0.00"×"'
COLUMNS = (
    (QT_TRANSLATE_NOOP("recall", "Sent on"), "yyyy-mm-dd"),
    (QT_TRANSLATE_NOOP("recall", "Coupon"), None),
    (QT_TRANSLATE_NOOP("recall", "Members sent"), COUNT),
    (QT_TRANSLATE_NOOP("recall", "Came back in 30 days"), COUNT),
    (QT_TRANSLATE_NOOP("recall", "召回率"), PERCENT),
    (QT_TRANSLATE_NOOP("recall", "Their spend"), YUAN),
    (QT_TRANSLATE_NOOP("recall", "Coupon cost"), YUAN),
    (QT_TRANSLATE_NOOP("recall", "召回 ROI"), TIMES),
    (QT_TRANSLATE_NOOP("recall", "Window"), None),
)
OPEN = QT_TRANSLATE_NOOP("recall", "still open")
CLOSED = QT_TRANSLATE_NOOP("recall", "closed")


def result_values(r: CampaignResult, zone: tzinfo,
                  tr_in: Callable[[str, str], str]) -> tuple[Any, ...]:
    """One campaign in ``COLUMNS`` order (None: nothing to divide by, shown "—")."""
    sent: date = r.issued_at.astimezone(zone).date()
    name = r.coupon_name if r.message is None else tr_in("recall", MESSAGES.get(r.message,
                                                                                r.message))
    return (sent, name, r.contacted, r.came_back, r.recall_rate,
            Decimal(r.spend_fen) / 100, Decimal(r.coupon_cost_fen) / 100, r.roi,
            tr_in("recall", OPEN if r.window_open else CLOSED))


def add_results_sheet(wb: Any, results: list[CampaignResult], zone: tzinfo,
                      tr_in: Callable[[str, str], str]) -> None:
    """The campaigns as a sheet of their own in ``wb`` (openpyxl)."""
    fill_sheet(wb.create_sheet(tr_in("recall", SHEET)), COLUMNS,
               (result_values(r, zone, tr_in) for r in results), tr_in, freeze="C2")


def fill_sheet(ws: Any, columns: Sequence[tuple[str, str | None]],
               rows: Iterable[Sequence[object]], tr_in: Callable[[str, str], str], *,
               freeze: str) -> None:
    """A recall sheet (the list, the campaigns): ``columns``' labels (context ``recall``) in
    bold, then ``rows`` in their number formats; None shown "—", unformatted."""
    from openpyxl.styles import Font

    for c, (label, _) in enumerate(columns, start=1):
        ws.cell(row=1, column=c, value=tr_in("recall", label)).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = 16
    for row, values in enumerate(rows, start=2):
        for c, (value, (_, fmt)) in enumerate(zip(values, columns, strict=True), start=1):
            put_cell(ws, row, c, value, fmt)
    ws.freeze_panes = freeze
