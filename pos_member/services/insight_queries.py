"""The SQL aggregates behind the programme-health report (``insight.py``): each returns additive
counts per (home store, tier) straight from the ledgers; definitions in docs/rules.md
("Programme health").

A "purchase" is a sale not wholly refunded (``refunded_fen < amount_fen``); amounts are net of
refunds. Member figures follow the member's home store (``members.store_id``) and present tier;
till figures (客单价, member sales share) follow the store the sale was rung up at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from pos_member.db.models import Member, PointsEntry, Sale, SvLedgerEntry
from pos_member.services.points_ledger import (
    CLAWBACK,
    EARN,
    GIFT,
    REDEEM,
    REFERRAL,
    RESTORE,
    WELCOME,
)

__all__ = ["Key", "Period", "Session", "cohort", "tallies", "tzinfo"]

Key = tuple[str, str | None]  # (store id, tier); tier None: walk-ins and unknown buyers
ISSUED = (EARN, WELCOME, REFERRAL, CLAWBACK)  # clawbacks are negative: issued net of refunds
REDEEMED = (REDEEM, GIFT, RESTORE)  # redemptions negative, returns positive
PURCHASE = Sale.refunded_fen < Sale.amount_fen
NET = Sale.amount_fen - Sale.refunded_fen


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # included
    start_at: datetime  # local midnight starting ``start``
    end_at: datetime  # local midnight after ``end``


def _one(cond: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _members(p: Period, store_id: str | None) -> list[ColumnElement[bool]]:
    """The members a row counts: registered by the end, not merged into another."""
    where = [Member.status == "active", Member.registered_at < p.end_at]
    if store_id is not None:
        where.append(Member.store_id == store_id)
    return where


def _in_period(p: Period) -> ColumnElement[bool]:
    return and_(Sale.business_day >= p.start, Sale.business_day <= p.end)


def tallies(s: Session, p: Period, *, store_id: str | None, active_days: int,
            churned_days: int) -> tuple[dict[Key, dict[str, int]], dict[str, int]]:
    """The counts of ``insight.Tally`` per (store, tier), and each store's net sales."""
    out: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    members = _members(p, store_id)
    by = (Member.store_id, Member.tier)

    def put(rows: Any, *names: str) -> None:
        for store, tier, *values in rows:
            for name, value in zip(names, values, strict=True):
                out[(store, tier)][name] += int(value or 0)

    put(s.execute(select(*by, func.count(), _one(Member.registered_at >= p.start_at))
                  .where(*members).group_by(*by)), "members", "new_members")
    put(s.execute(select(*by, func.count(func.distinct(Sale.member_id)))
                  .join(Member, Member.id == Sale.member_id)
                  .where(*members, PURCHASE,
                         Sale.business_day > p.end - timedelta(days=active_days),
                         Sale.business_day <= p.end)
                  .group_by(*by)), "active_members")
    bought = (select(Sale.member_id, _one(PURCHASE).label("n"),
                     func.sum(NET).label("spend"))
              .where(Sale.member_id.is_not(None), _in_period(p))
              .group_by(Sale.member_id).subquery())
    put(s.execute(select(*by, _one(bought.c.n >= 1), _one(bought.c.n >= 2),
                         func.sum(bought.c.spend))
                  .join(bought, bought.c.member_id == Member.id)
                  .where(*members).group_by(*by)),
        "buyers", "repeat_buyers", "member_spend_fen")
    store_sales = _till(s, p, store_id, out)
    _points(s, p, members, out)
    put(s.execute(select(*by, func.sum(SvLedgerEntry.principal_delta_fen),
                         func.sum(SvLedgerEntry.bonus_delta_fen))
                  .join(Member, Member.id == SvLedgerEntry.member_id)
                  .where(*members, SvLedgerEntry.business_day <= p.end).group_by(*by)),
        "sv_principal_fen", "sv_bonus_fen")
    put(_churn(s, p, members, churned_days), "churn_base", "churned")
    return {k: dict(v) for k, v in out.items()}, store_sales


def _till(s: Session, p: Period, store_id: str | None,
          out: dict[Key, dict[str, int]]) -> dict[str, int]:
    """Bills rung up at each store in the period: members' by the buyer's tier, walk-ins'."""
    walk_in = Sale.member_id.is_(None)
    q = (select(Sale.store_id, Member.tier, walk_in.label("walk_in"), _one(PURCHASE),
                func.sum(NET))
         .outerjoin(Member, Member.id == Sale.member_id).where(_in_period(p))
         .group_by(Sale.store_id, Member.tier, walk_in))
    if store_id is not None:
        q = q.where(Sale.store_id == store_id)
    store_sales: dict[str, int] = defaultdict(int)
    for store, tier, is_walk_in, bills, fen in s.execute(q):
        row = out[(store, None if is_walk_in else tier)]
        prefix = "walk_in" if is_walk_in else "member"
        row[f"{prefix}_bills"] += int(bills or 0)
        row[f"{prefix}_bills_fen"] += int(fen or 0)
        store_sales[store] += int(fen or 0)
    return dict(store_sales)


def _points(s: Session, p: Period, members: list[ColumnElement[bool]],
            out: dict[Key, dict[str, int]]) -> None:
    e = PointsEntry
    in_period = e.at >= p.start_at

    def moved(kinds: tuple[str, ...]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((and_(in_period, e.kind.in_(kinds)), e.points),
                                           else_=0)), 0)

    rows = s.execute(select(Member.store_id, Member.tier, moved(ISSUED), moved(REDEEMED),
                            func.sum(e.points))
                     .join(Member, Member.id == e.member_id)
                     .where(*members, e.at < p.end_at).group_by(Member.store_id, Member.tier))
    for store, tier, issued, redeemed, balance in rows:
        row = out[(store, tier)]
        row["points_issued"] += int(issued or 0)
        row["points_redeemed"] += -int(redeemed or 0)
        row["points_outstanding"] += int(balance or 0)


def _churn(s: Session, p: Period, members: list[ColumnElement[bool]],
           churned_days: int) -> Any:
    """Members whose last purchase before the period is under ``churned_days`` old at its
    start (not yet lost), and those of them with no purchase since by the time it is
    ``churned_days`` old on or before the last day (lost during the period)."""
    first_kept = p.start - timedelta(days=churned_days - 1)
    last = (select(Sale.member_id,
                   func.max(case((Sale.business_day < p.start, Sale.business_day))).label("last"),
                   func.max(case((Sale.business_day >= p.start, 1), else_=0)).label("since"))
            .where(Sale.member_id.is_not(None), PURCHASE, Sale.business_day >= first_kept,
                   Sale.business_day <= p.end)
            .group_by(Sale.member_id).subquery())
    lost_by = p.end - timedelta(days=churned_days)
    return s.execute(select(Member.store_id, Member.tier, _one(last.c["last"].is_not(None)),
                            _one(and_(last.c.since == 0, last.c["last"] <= lost_by)))
                     .join(last, last.c.member_id == Member.id)
                     .where(*members).group_by(Member.store_id, Member.tier))


def _days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def cohort(s: Session, p: Period, lo: datetime, hi: datetime, *, store_id: str | None,
           days: tuple[int, ...]) -> Iterator[tuple[Key, int, tuple[int, ...], tuple[int, ...]]]:
    """Members registered in [lo, hi) (and by the end of the period) per (store, tier): how
    many, how many had ``days[i]`` days behind them by the end (matured), and how many of
    those came back to buy more than a day and at most ``days[i]`` days after registering."""
    dialect = s.get_bind().dialect.name
    gap = _days_between(Sale.sold_at, Member.registered_at, dialect)
    back = (select(func.min(gap)).where(Sale.member_id == Member.id, PURCHASE, gap > 1)
            .correlate(Member).scalar_subquery())
    m = (select(Member.store_id, Member.tier, Member.registered_at, back.label("back"))
         .where(*_members(p, store_id), Member.registered_at >= lo, Member.registered_at < hi)
         .subquery())
    matured = [m.c.registered_at <= p.end_at - timedelta(days=n) for n in days]
    cols = [func.count()] + [_one(c) for c in matured] + [
        _one(and_(c, m.c.back <= n)) for c, n in zip(matured, days, strict=True)]
    for store, tier, count, *rest in s.execute(
            select(m.c.store_id, m.c.tier, *cols).group_by(m.c.store_id, m.c.tier)):
        k = len(days)
        yield ((store, tier), int(count), tuple(int(v) for v in rest[:k]),
               tuple(int(v) for v in rest[k:]))
