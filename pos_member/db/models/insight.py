"""Member insight kept beside the ledgers (issue 19): each member's RFM figures, updated by
every purchase and refund in its own transaction, and their scores against the nightly
quintile boundaries (``pos_member/services/rfm.py``; the boundaries are a setting)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base
from pos_member.db.models.members import Member
from pos_member.db.models.points import PointsEntry
from pos_member.db.models.sales import Sale


class MemberRfm(Base):
    """One member's recency, frequency and money (sales not wholly refunded; money net of
    refunds) and their 1–5 scores and segment (None until the first nightly boundaries)."""

    __tablename__ = "member_rfm"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_day: Mapped[date | None]  # the business day of the last purchase
    purchases: Mapped[int] = mapped_column(Integer, default=0)
    spend_fen: Mapped[int] = mapped_column(Integer, default=0)
    r: Mapped[int | None] = mapped_column(Integer)
    f: Mapped[int | None] = mapped_column(Integer)
    m: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[str | None] = mapped_column(String(16))


class RecallContact(Base):
    """A member sent a recall campaign's plain message (issue 19): one row per campaign and
    member, from this till's ``member.recall_messaged`` events and those pulled, so the
    campaign's 召回率 is worked out as a coupon campaign's is (``services/recall_campaigns``)."""

    __tablename__ = "recall_contacts"
    campaign: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))  # the message (notifications.TEMPLATES)
    contacted_at: Mapped[datetime]


class MemberLedgerSums(Base):
    """Each member's running sums of their whole points and stored-value ledgers, for the
    programme-health report at a chain's scale (issue 19; till migration 0026). Kept by
    triggers on ``points_entries`` and ``sv_ledger`` (insert, delete, and an update of a row's
    member or amounts: a merge moves the loser's rows), so they change in the statement that
    changes the rows, whoever writes them, and cannot drift from them."""

    __tablename__ = "member_ledger_sums"
    __table_args__ = ({"sqlite_with_rowid": False},)
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sv_principal_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sv_bonus_fen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# The report's indexes (till migration 0026; docs/rules.md, "Programme health"):
# each member's purchase days (a sale not wholly refunded), kept by SQLite as sales are
# written, refunded or moved by a merge: a member's last purchase before a day is one look-up.
PURCHASE_DAYS = "member_id IS NOT NULL AND refunded_fen < amount_fen"
Index("ix_sales_member_purchase_day", Sale.member_id, Sale.business_day, Sale.amount_fen,
      Sale.refunded_fen, sqlite_where=text(PURCHASE_DAYS))
# A period of a home store's member sales and points entries, in time order, covered.
HOMED = "home_store_id IS NOT NULL"
Index("ix_sales_home_sold", Sale.home_store_id, Sale.sold_at, Sale.member_id, Sale.amount_fen,
      Sale.refunded_fen, sqlite_where=text(HOMED))
Index("ix_points_entries_home_at", PointsEntry.home_store_id, PointsEntry.at,
      PointsEntry.member_id, PointsEntry.kind, PointsEntry.points, sqlite_where=text(HOMED))
# The report's members per home store and tier, and in id order (the chain's, and a ledger
# row's member), covered.
Index("ix_members_report", Member.store_id, Member.tier, Member.status, Member.registered_at,
      Member.id)
Index("ix_members_report_id", Member.id, Member.store_id, Member.tier, Member.status,
      Member.registered_at)
