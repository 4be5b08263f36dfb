"""The store manager's recall list (召回名单, issue 19): the store's members at risk of being
lost — no purchase for the rules' ``[tags] dormant_days`` or more — with what they are worth
and how long they have been away, sortable either way, and the suggested action.

Read from the figures kept beside the sales (``member_rfm``, ``services/rfm.py``: updated by
every purchase and refund), joined to the store's members; nothing is worked out from the
sales per screen. Read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select

from pos_member.clock import DEFAULT_TZ
from pos_member.db.models import Member, MemberRfm, MemberStanding
from pos_member.db.uow import UnitOfWork
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, require
from pos_member.services.kpi_report import SavedReport, save_workbook
from pos_member.services.member_insight import LOST, SLEEPING, STAGES, WIN_BACK
from pos_member.services.recall_campaigns import CampaignResult, add_results_sheet, fill_sheet
from pos_member.services.rfm import SEGMENTS

LIMIT = 500  # rows a screen or an export takes at once (and a campaign)
SHEET = QT_TRANSLATE_NOOP("recall", "Recall list")


class RecallOrder(StrEnum):
    VALUE = "value"  # most spent first
    AWAY = "away"  # longest away first


@dataclass(frozen=True, slots=True)
class RecallEntry:
    member_id: str
    member_no: str
    tier: str
    last_purchase: date
    days_away: int
    spend_fen: int  # everything the member paid, net of refunds
    purchases: int
    stage: str  # member_insight's stage: "active" (dormant-tagged only), "dormant", "churned"
    action: str  # the suggested action (English; the UI translates)
    segment: str | None = None  # the kept RFM segment's code (rfm.SEGMENTS), None unscored


# An erased member is no one to win back: left out of the list and its workbook (issue 20).
_ERASED = select(MemberStanding.member_id).where(MemberStanding.member_id == Member.id,
                                                 MemberStanding.erased.is_(True)).exists()


def recall_list(uow: UnitOfWork, *, clerk: Clerk, order: RecallOrder = RecallOrder.VALUE,
                limit: int = LIMIT) -> list[RecallEntry]:
    """The clerk's store's members with at least one purchase and none for ``dormant_days``
    (``[tags]``) or more, in ``order`` (ties: member number). Managers only (``VIEW_KPI``)."""
    require(clerk, Action.VIEW_KPI)
    rules = uow.rules
    today = uow.clock.today()
    cutoff = today - timedelta(days=rules.tags.dormant_days)
    r = MemberRfm
    sort = ((r.spend_fen.desc(), Member.member_no) if order is RecallOrder.VALUE
            else (r.last_day.asc(), Member.member_no))
    with uow.read() as s:
        rows = s.execute(
            select(Member.id, Member.member_no, Member.tier, r.last_day, r.spend_fen,
                   r.purchases, r.segment)
            .join(r, r.member_id == Member.id)
            .where(Member.store_id == clerk.store_id, Member.status == "active",
                   r.purchases > 0, r.last_day <= cutoff, ~_ERASED)
            .order_by(*sort).limit(limit)).all()
    life = rules.lifecycle
    out = []
    for member_id, member_no, tier, last_day, spent, n, segment in rows:
        away = (today - last_day).days
        stage = LOST if away >= life.churned_days else (
            SLEEPING if away >= life.dormant_days else "active")
        out.append(RecallEntry(member_id, member_no, tier, last_day, away, int(spent), int(n),
                               stage, WIN_BACK, segment))
    return out


COLUMNS = (
    (QT_TRANSLATE_NOOP("recall", "Member no."), None),
    (QT_TRANSLATE_NOOP("recall", "Tier"), None),
    (QT_TRANSLATE_NOOP("recall", "Last purchase"), "yyyy-mm-dd"),
    (QT_TRANSLATE_NOOP("recall", "Days away"), "#,##0"),
    (QT_TRANSLATE_NOOP("recall", "Spent in all"), '"¥"#,##0.00'),
    (QT_TRANSLATE_NOOP("recall", "Purchases"), "#,##0"),
    (QT_TRANSLATE_NOOP("recall", "Stage"), None),
    (QT_TRANSLATE_NOOP("recall", "RFM segment"), None),
    (QT_TRANSLATE_NOOP("recall", "Suggested action"), None),
)


def entry_values(e: RecallEntry, tiers: Mapping[str, str],
                 tr_in: Callable[[str, str], str]) -> tuple[object, ...]:
    """One entry in ``COLUMNS`` order; ``tr_in(context, text)`` translates stage and action."""
    return (e.member_no, tiers.get(e.tier, e.tier), e.last_purchase, e.days_away,
            Decimal(e.spend_fen) / 100, e.purchases, tr_in("member_insight", STAGES[e.stage]),
            tr_in("rfm", SEGMENTS[e.segment]) if e.segment else "—",
            tr_in("member_insight", e.action))


def write_recall_workbook(entries: list[RecallEntry], path: Path, *, tiers: Mapping[str, str],
                          tr_in: Callable[[str, str], str] = lambda _c, s: s,
                          campaigns: list[CampaignResult] | None = None,
                          zone: tzinfo = DEFAULT_TZ) -> SavedReport:
    """The list as an .xlsx, saved like the day report (``kpi_report``); with ``campaigns``,
    their 召回率 and ROI on a second sheet."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = tr_in("recall", SHEET)
    fill_sheet(ws, COLUMNS, (entry_values(e, tiers, tr_in) for e in entries), tr_in,
               freeze="B2")
    if campaigns is not None:
        add_results_sheet(wb, campaigns, zone, tr_in)
    return save_workbook(wb, path)
