"""Recruitment KPIs (issue 7): targets, rosters, hand adjustments, and the dashboard's
covering indexes on members and sales."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base
from pos_member.db.models.members import Member
from pos_member.db.models.sales import Sale

# Projections of ``kpi.*`` events (pos_member/services/targets.py): each row keeps the hybrid
# timestamp and event id that wrote it, so a value pulled from another till of the store wins
# only when it is newer (last writer wins per row, as for profile fields).


class KpiMonthTarget(Base):
    """A store's new-member target for a calendar month (``YYYY-MM``), set by HQ or the manager."""

    __tablename__ = "kpi_month_targets"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str | None] = mapped_column(String(36))
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))


class KpiRoster(Base):
    """Who of the store's guides is on shift on a day (staff ids, the manager's entry)."""

    __tablename__ = "kpi_rosters"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    staff_ids: Mapped[list[str]] = mapped_column(JSON)
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))


class KpiSplitAdjustment(Base):
    """A day's per-guide targets set by hand ({staff id: target}); in force only while it still
    matches the day's roster and adds up to the day's target (otherwise the computed split)."""

    __tablename__ = "kpi_split_adjustments"
    store_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    targets: Mapped[dict[str, Any]]
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))


# The dashboard counts a day's registrations per guide and a day's sales per guide: both read
# straight from these indexes (covering), without touching the rows.
Index("ix_members_store_registered", Member.store_id, Member.registered_at, Member.guide_id)
Index("ix_sales_kpi", Sale.store_id, Sale.business_day, Sale.guide_id, Sale.member_id,
      Sale.amount_fen, Sale.refunded_fen)
