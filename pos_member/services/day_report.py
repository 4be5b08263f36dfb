"""The day's figures for closing time (日结), from the till's own database.

This slice reports registrations per guide and the event log's state; points, balances and
sales join as their issues land.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import case, func, select

from pos_member.config import OpeningHours
from pos_member.db.models import Event, Member, PointsEntry, Sale, Staff
from pos_member.db.uow import UnitOfWork
from pos_member.services.stored_value_ledger import DayMovements, day_movements


@dataclass(frozen=True, slots=True)
class GuideCount:
    guide_id: str | None  # None: registered without a guide (walk-in, campaign, ...)
    guide_name: str | None  # None when the guide is not staff of this till
    registrations: int


@dataclass(frozen=True, slots=True)
class DaySummary:
    day: date
    registrations: tuple[GuideCount, ...]  # this store's, busiest guide first
    events_written: int  # events this device wrote during the day
    # Sales and points (issue 5): the store's sales of the day (every till's that synced).
    sales_count: int = 0
    sales_fen: int = 0  # paid, before refunds
    member_sales_count: int = 0
    member_sales_fen: int = 0
    refunded_fen: int = 0  # refunds made on the day's sales so far
    points_earned: int = 0  # purchase points earned in the store during the day
    points_redeemed: int = 0  # points redeemed on bills and for gifts in the store
    # Stored value (issue 6): this till's top-ups, balance payments and refunds of the day.
    stored_value: DayMovements = field(default_factory=DayMovements)

    @property
    def total_registrations(self) -> int:
        return sum(g.registrations for g in self.registrations)


def day_bounds(day: date, tz: tzinfo | None) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, as aware datetimes."""
    start = datetime.combine(day, time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def closing_day(uow: UnitOfWork, *, store_id: str, hours: OpeningHours) -> date:
    """The store day a closing (日结) reports: today's; but yesterday's before the store
    opens while the new day holds no registration or sale of the store yet (a late evening
    closed after midnight is that evening's report, not the new empty day's)."""
    now = uow.clock.local()
    today = now.date()
    if now.time() >= hours.opens:
        return today
    start, end = day_bounds(today, uow.clock.zone)
    with uow.read() as s:
        began = s.scalar(select(Member.id).where(
            Member.store_id == store_id, Member.registered_at >= start,
            Member.registered_at < end).limit(1)) is not None or s.scalar(select(Sale.id).where(
                Sale.store_id == store_id, Sale.business_day == today).limit(1)) is not None
    return today if began else today - timedelta(days=1)


def day_summary(uow: UnitOfWork, *, store_id: str, device_id: str,
                day: date | None = None) -> DaySummary:
    """The figures of ``day`` (default: today on the till's clock, in local time) for the store
    ``store_id`` — members pulled from the store's other tills count too."""
    local_now = uow.clock.local()
    day = day or local_now.date()
    start, end = day_bounds(day, uow.clock.zone)
    with uow.read() as s:
        rows = s.execute(
            select(Member.guide_id, Staff.name, func.count())
            .outerjoin(Staff, Staff.id == Member.guide_id)
            .where(Member.store_id == store_id)
            .where(Member.registered_at >= start, Member.registered_at < end)
            .group_by(Member.guide_id, Staff.name)
        ).all()
        events = s.scalar(
            select(func.count()).select_from(Event)
            .where(Event.device_id == device_id)
            .where(Event.created_at >= start, Event.created_at < end)
        )
        sales = s.execute(
            select(func.count(), func.coalesce(func.sum(Sale.amount_fen), 0),
                   func.count(Sale.member_id),
                   func.coalesce(func.sum(case((Sale.member_id.is_not(None), Sale.amount_fen),
                                               else_=0)), 0),
                   func.coalesce(func.sum(Sale.refunded_fen), 0))
            .where(Sale.store_id == store_id, Sale.business_day == day)
        ).one()
        moved = dict(s.execute(
            select(PointsEntry.kind, func.sum(PointsEntry.points))
            .where(PointsEntry.store_id == store_id, PointsEntry.kind.in_(("earn", "redeem",
                                                                             "gift")))
            .where(PointsEntry.at >= start, PointsEntry.at < end)
            .group_by(PointsEntry.kind)
        ).all())
        sv = day_movements(s, device_id=device_id, day=day)
    counts = sorted((GuideCount(g, n, c) for g, n, c in rows),
                    key=lambda g: (-g.registrations, g.guide_name or "", g.guide_id or ""))
    return DaySummary(day, tuple(counts), int(events or 0), int(sales[0]), int(sales[1]),
                      int(sales[2]), int(sales[3]), int(sales[4]), int(moved.get("earn") or 0),
                      -int((moved.get("redeem") or 0) + (moved.get("gift") or 0)), sv)
