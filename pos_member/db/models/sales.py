"""Sales rung up at the till."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class Sale(Base):
    """A sale rung up at the till (or, later, imported from the main POS): the source of points,
    of a member's rolling spend and of the recruitment KPIs (会销比 counts walk-in sales too).
    ``txn_id`` is the till transaction's id: repeating the request returns the first result."""

    __tablename__ = "sales"
    __table_args__ = (
        UniqueConstraint("store_id", "bill_no"),
        Index("ix_sales_member_sold", "member_id", "sold_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    txn_id: Mapped[str] = mapped_column(String(36), unique=True)
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    bill_no: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(Integer)  # what the customer paid, after discounts
    member_id: Mapped[str | None] = mapped_column(String(36))  # None: a walk-in sale
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    guide_id: Mapped[str | None] = mapped_column(String(36))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    sold_at: Mapped[datetime]
    business_day: Mapped[date]  # the store's local calendar day of ``sold_at``
    refunded_fen: Mapped[int] = mapped_column(Integer, default=0)
    # The member's home store (``members.store_id``), set by triggers (till migration 0026):
    # when the row is written, when its member registers after it, when a merge moves it.
    home_store_id: Mapped[str | None] = mapped_column(String(36))
