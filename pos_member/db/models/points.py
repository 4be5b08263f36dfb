"""Points and tiers (issue 5): ledger, lots, accounts, sale points, one-operation results.
Projections of ``sale.*``, ``points.*`` and ``member.tier_changed`` events
(pos_member/services/points.py, sales.py, tiers.py); every row here can be rebuilt from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class PointsEntry(Base):
    """One line of a member's points ledger (积分流水). Append-only by use: corrections are
    new entries. ``id`` comes from the till that made it (the expiry of a lot has an id derived
    from the lot, so two tills expiring one lot post one entry)."""

    __tablename__ = "points_entries"
    __table_args__ = (
        Index("ix_points_entries_member_at", "member_id", "at"),
        # no index by txn_id: nothing reads the ledger by transaction (till migration 0027)
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24))  # earn, welcome, referral, redeem, ...
    points: Mapped[int] = mapped_column(Integer)  # signed
    txn_id: Mapped[str | None] = mapped_column(String(36))
    sale_id: Mapped[str | None] = mapped_column(String(36))
    bill_no: Mapped[str | None] = mapped_column(String(40))
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    clerk_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(36))
    # The clerk's name as the till that made the entry knew it: another store's staff are not
    # on this till, and the ledger still says who served the member.
    clerk_name: Mapped[str | None] = mapped_column(String(60))
    # The member's home store, set by triggers as ``sales.home_store_id`` is (migration 0026).
    home_store_id: Mapped[str | None] = mapped_column(String(36))


class PointsLot(Base):
    """Points from one positive entry, spent oldest-expiry first (FIFO). ``remaining`` is what
    is left; spendable from ``available_at`` (pending points), void at ``expires_at``."""

    __tablename__ = "points_lots"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the entry that made it
    member_id: Mapped[str] = mapped_column(String(36))
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    earned_at: Mapped[datetime]
    available_at: Mapped[datetime]
    expires_at: Mapped[datetime]


# Open lots only: a member's FIFO walk and the expiry job never step over spent or expired lots.
Index("ix_points_lots_member_open", PointsLot.member_id, PointsLot.expires_at,
      sqlite_where=PointsLot.remaining > 0)
Index("ix_points_lots_due", PointsLot.expires_at, sqlite_where=PointsLot.remaining > 0)


class PointsAccount(Base):
    """A member's points balance (the ledger's sum) and tier bookkeeping."""

    __tablename__ = "points_accounts"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    tier_since: Mapped[datetime | None]  # when the tier last went up (90-day protection)
    tier_hlc: Mapped[str | None] = mapped_column(String(24))  # the tier change in force


class SalePoints(Base):
    """The points side of a member sale: the bill before points, what was redeemed on it, what
    it earned, and how much of each a refund has taken back or given back so far."""

    __tablename__ = "sale_points"
    sale_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    bill_fen: Mapped[int] = mapped_column(Integer)
    redeem_points: Mapped[int] = mapped_column(Integer)
    redeem_fen: Mapped[int] = mapped_column(Integer)
    earned: Mapped[int] = mapped_column(Integer)
    clawed: Mapped[int] = mapped_column(Integer, default=0)
    restored: Mapped[int] = mapped_column(Integer, default=0)
    redeem_lots: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[lot, pts, expires]]
    detail: Mapped[dict[str, Any]]  # the sale's result, returned again on a repeated request


class PointsTxn(Base):
    """One operation, one effect: the result of each redeem, refund or adjustment by its till
    transaction id; repeating the request returns it and changes nothing."""

    __tablename__ = "points_txns"
    txn_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    member_id: Mapped[str | None] = mapped_column(String(36))
    result: Mapped[dict[str, Any]]
    at: Mapped[datetime]
