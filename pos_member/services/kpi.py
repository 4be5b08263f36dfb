"""Recruitment KPIs (SPEC §2.7): today's registrations per guide against their split target,
pace, 会销比 and member sales share, and the trends of the last days.

Read-only: every function here reads on the reader engine and writes nothing.

- **Registrations** are members of this store (pulled ones from its other tills included)
  credited to the recruiting guide (``members.guide_id``), on the local business day of
  ``registered_at`` (the till's local date, as ``day_report``). Members merged away as a
  duplicate phone do not count.
- **Sales** come from ``sales``: a sale counts once it is not fully refunded; its amount is what
  was paid less what was refunded. 会销比 = member-attached sales ÷ all sales (count);
  member sales share = member sales amount ÷ all sales amount. Per guide: the sales credited to
  that guide (``sales.guide_id``); the store's figures count every sale, with a guide or not.
- **Pace**: by now a guide should have ``target × elapsed opening minutes // total opening
  minutes`` registrations; fewer is *behind* (no alert before the first whole one is due).
- **达标** (met): on shift and registrations ≥ own split target.

Ratios are integer pairs; :func:`permille` rounds half up to tenths of a percent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from pos_member.config import DEFAULT_HOURS, OpeningHours
from pos_member.db.models import Member, Sale
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Action, Clerk, Role, require
from pos_member.services.day_report import day_bounds
from pos_member.services.targets import (
    DayPlan,
    GuideRef,
    day_plan,
    day_targets,
    month_targets,
    store_guides,
)
from pos_member.targets_rules import month_days, month_of

TREND_DAYS = (7, 30)


def permille(num: int, den: int) -> int | None:
    """``num / den`` in tenths of a percent, rounded half up; None when ``den`` is 0."""
    if den <= 0:
        return None
    return (num * 2000 + den) // (2 * den)


@dataclass(frozen=True, slots=True)
class SalesFigures:
    sales: int = 0  # sales that count (not fully refunded)
    member_sales: int = 0  # of which with a member attached
    amount_fen: int = 0  # paid less refunded
    member_amount_fen: int = 0

    @property
    def ratio_permille(self) -> int | None:  # 会销比
        return permille(self.member_sales, self.sales)

    @property
    def share_permille(self) -> int | None:  # 会员销售占比
        return permille(self.member_amount_fen, self.amount_fen)

    def __add__(self, other: SalesFigures) -> SalesFigures:
        return SalesFigures(self.sales + other.sales, self.member_sales + other.member_sales,
                            self.amount_fen + other.amount_fen,
                            self.member_amount_fen + other.member_amount_fen)


@dataclass(frozen=True, slots=True)
class GuideDay:
    """One guide's day. ``target`` is 0 when not on shift."""

    staff_id: str
    code: str
    name: str
    on_shift: bool
    target: int
    registrations: int
    expected_now: int  # registrations due by now at an even pace over the opening hours
    sales: SalesFigures

    @property
    def met(self) -> bool:  # 达标
        return self.on_shift and self.registrations >= self.target

    @property
    def behind(self) -> bool:
        return self.on_shift and not self.met and self.registrations < self.expected_now

    @property
    def progress_permille(self) -> int | None:
        return permille(self.registrations, self.target)


@dataclass(frozen=True, slots=True)
class Dashboard:
    store_id: str
    day: date
    now: datetime  # local
    hours: OpeningHours
    elapsed_minutes: int
    plan: DayPlan
    guides: tuple[GuideDay, ...]  # on shift first, by staff number; then others who recruited
    registrations: int  # the store's, with a guide or not
    unassigned_registrations: int  # without a guide on this store's guide list
    sales: SalesFigures
    month_target: int | None
    month_registrations: int
    ratio_target_permille: int  # the rules' 会销比 target

    @property
    def met_count(self) -> int:
        return sum(g.met for g in self.guides)

    @property
    def on_shift_count(self) -> int:
        return sum(g.on_shift for g in self.guides)

    @property
    def behind(self) -> tuple[GuideDay, ...]:
        return tuple(g for g in self.guides if g.behind)

    @property
    def store_expected_now(self) -> int:
        return _expected(self.plan.day_target, self.elapsed_minutes, self.hours.total_minutes)


@dataclass(frozen=True, slots=True)
class TrendDay:
    day: date
    target: int
    registrations: int
    sales: SalesFigures = field(default_factory=SalesFigures)


def _expected(target: int, elapsed: int, total: int) -> int:
    return target * elapsed // total if total > 0 else target


def _local_now(uow: UnitOfWork) -> datetime:
    return uow.clock.local()


# -- queries -----------------------------------------------------------------------------------

_M = Member.__table__
_S = Sale.__table__
_NET = _S.c.amount_fen - _S.c.refunded_fen
_COUNTS = _S.c.refunded_fen < _S.c.amount_fen
_IS_MEMBER = _S.c.member_id.is_not(None)


def _sales_columns() -> list[object]:
    return [
        func.count(),
        func.coalesce(func.sum(case((_IS_MEMBER, 1), else_=0)), 0),
        func.coalesce(func.sum(_NET), 0),
        func.coalesce(func.sum(case((_IS_MEMBER, _NET), else_=0)), 0),
    ]


def _registrations_by_guide(s: Session, store_id: str, start: datetime, end: datetime
                            ) -> dict[str | None, int]:
    rows = s.execute(
        select(_M.c.guide_id, func.count())
        .where(_M.c.store_id == store_id, _M.c.registered_at >= start,
               _M.c.registered_at < end, _M.c.status != "merged")
        .group_by(_M.c.guide_id)
    ).all()
    return {g: int(n) for g, n in rows}


def _sales_by_guide(s: Session, store_id: str, day: date) -> dict[str | None, SalesFigures]:
    rows = s.execute(
        select(_S.c.guide_id, *_sales_columns())
        .where(_S.c.store_id == store_id, _S.c.business_day == day, _COUNTS)
        .group_by(_S.c.guide_id)
    ).all()
    return {r[0]: SalesFigures(int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


def _compute(uow: UnitOfWork, *, store_id: str, day: date | None, hours: OpeningHours
             ) -> Dashboard:
    now = _local_now(uow)
    day = day or now.date()
    tz = now.tzinfo
    start, end = day_bounds(day, tz)
    if day < now.date():
        elapsed = hours.total_minutes
    elif day > now.date():
        elapsed = 0
    else:
        elapsed = hours.elapsed_minutes(now.time())
    weights = uow.rules.kpi.weekday_weights_percent
    month = month_of(day)
    with uow.read() as s:
        guides = store_guides(s, store_id)
        plan = day_plan(s, store_id=store_id, day=day, weights_percent=weights, guides=guides)
        regs = _registrations_by_guide(s, store_id, start, end)
        sales = _sales_by_guide(s, store_id, day)
        month_target = month_targets(s, store_id, [month]).get(month)
        first, _ = day_bounds(month_days(month)[0], tz)
        month_regs = int(s.scalar(
            select(func.count()).select_from(_M)
            .where(_M.c.store_id == store_id, _M.c.registered_at >= first,
                   _M.c.registered_at < end, _M.c.status != "merged")
        ) or 0)
        names = {g.id: g for g in guides}
        extra = [g for g in (set(regs) | set(sales)) - set(plan.roster) - {None}
                 if g not in names]
        if extra:  # off the guide list now (left, or another role) but recruited today
            from pos_member.db.models import Staff

            for sid, code, name in s.execute(
                    select(Staff.id, Staff.code, Staff.name).where(Staff.id.in_(extra))):
                names[sid] = GuideRef(sid, code, name)
    total_minutes = hours.total_minutes
    rows: list[GuideDay] = []
    for sid in plan.roster:
        ref = names.get(sid, GuideRef(sid, "?", "?"))
        target = plan.split.get(sid, 0)
        rows.append(GuideDay(sid, ref.code, ref.name, True, target, regs.get(sid, 0),
                             _expected(target, elapsed, total_minutes),
                             sales.get(sid, SalesFigures())))
    for sid in sorted((set(regs) | set(sales)) - set(plan.roster) - {None},
                      key=lambda x: (names[x].code if x in names else "~", x)):
        if sid not in names:
            continue  # a guide of another store (pulled member): counted as unassigned
        ref = names[sid]
        rows.append(GuideDay(sid, ref.code, ref.name, False, 0, regs.get(sid, 0), 0,
                             sales.get(sid, SalesFigures())))
    listed = {g.staff_id for g in rows}
    store_sales = sum(sales.values(), SalesFigures())
    return Dashboard(
        store_id=store_id, day=day, now=now, hours=hours, elapsed_minutes=elapsed, plan=plan,
        guides=tuple(rows), registrations=sum(regs.values()),
        unassigned_registrations=sum(n for g, n in regs.items() if g not in listed),
        sales=store_sales, month_target=month_target, month_registrations=month_regs,
        ratio_target_permille=uow.rules.kpi.member_sales_ratio_target_percent * 10,
    )


# -- services ----------------------------------------------------------------------------------


def dashboard(uow: UnitOfWork, *, clerk: Clerk, day: date | None = None,
              hours: OpeningHours = DEFAULT_HOURS) -> Dashboard:
    """The store manager's view of ``day`` (default: today, local)."""
    require(clerk, Action.VIEW_KPI)
    return _compute(uow, store_id=clerk.store_id, day=day, hours=hours)


def my_progress(uow: UnitOfWork, *, clerk: Clerk, hours: OpeningHours = DEFAULT_HOURS
                ) -> GuideDay | None:
    """A guide's own day: target, registrations, pace (None for a clerk who is not a guide).
    Everyone may see their own figures."""
    if clerk.role is not Role.GUIDE or clerk.staff_id is None:
        return None
    board = _compute(uow, store_id=clerk.store_id, day=None, hours=hours)
    for g in board.guides:
        if g.staff_id == clerk.staff_id:
            return g
    return GuideDay(clerk.staff_id, "", clerk.name, False, 0, 0, 0, SalesFigures())


def trend(uow: UnitOfWork, *, clerk: Clerk, days: int, end: date | None = None
          ) -> tuple[TrendDay, ...]:
    """The store's last ``days`` days up to ``end`` (default today): target, registrations and
    sales figures per day, oldest first."""
    require(clerk, Action.VIEW_KPI)
    return store_trend(uow, store_id=clerk.store_id, days=days, end=end)


def store_trend(uow: UnitOfWork, *, store_id: str, days: int, end: date | None = None
                ) -> tuple[TrendDay, ...]:
    now = _local_now(uow)
    end = end or now.date()
    first = end - timedelta(days=days - 1)
    tz: tzinfo | None = now.tzinfo
    start, stop = day_bounds(first, tz)[0], day_bounds(end, tz)[1]
    with uow.read() as s:
        targets = day_targets(s, store_id, uow.rules.kpi.weekday_weights_percent, first, end)
        times = s.scalars(
            select(_M.c.registered_at)
            .where(_M.c.store_id == store_id, _M.c.registered_at >= start,
                   _M.c.registered_at < stop, _M.c.status != "merged")
        ).all()
        rows = s.execute(
            select(_S.c.business_day, *_sales_columns())
            .where(_S.c.store_id == store_id, _S.c.business_day >= first,
                   _S.c.business_day <= end, _COUNTS)
            .group_by(_S.c.business_day)
        ).all()
    regs: dict[date, int] = {}
    for at in times:
        d = at.astimezone(tz).date()
        regs[d] = regs.get(d, 0) + 1
    sales = {r[0]: SalesFigures(int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}
    return tuple(
        TrendDay(d, targets.get(d, 0), regs.get(d, 0), sales.get(d, SalesFigures()))
        for d in (first + timedelta(days=i) for i in range(days))
    )


def trends(uow: UnitOfWork, *, clerk: Clerk, lengths: Sequence[int] = TREND_DAYS,
           end: date | None = None) -> dict[int, tuple[TrendDay, ...]]:
    """The trends the dashboard draws (7 and 30 days), read once for the longest."""
    require(clerk, Action.VIEW_KPI)
    longest = store_trend(uow, store_id=clerk.store_id, days=max(lengths), end=end)
    return {n: longest[-n:] for n in lengths}
