"""Member insight kept beside the ledgers (issue 19): each member's RFM figures, updated by
every purchase and refund in its own transaction, and their scores against the nightly
quintile boundaries (``pos_member/services/rfm.py``; the boundaries are a setting)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


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
