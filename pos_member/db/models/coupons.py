"""Coupons (issue 18): each coupon a member holds, its life's entries, and HQ's blocks of a
member's coupon use (a coupon redeemed twice across stores, until HQ settles it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class Coupon(Base):
    """One coupon. ``key`` is its chain-wide identity (the code's random part, hex); the code
    itself is derived from it (``pos_member.coupon_code``) and never stored. ``terms`` are the
    template's terms as issued (a later rules version does not change a coupon in hand);
    ``valid_from``/``valid_until`` the instants it may be used between (until: exclusive).
    ``state``: issued, redeemed, expired, revoked. ``trigger_key`` makes a trigger's issue
    idempotent (``birthday:<member>:<year>``, ``winback:<member>:<since>``, ``welcome:<member>``,
    ``points:<txn>``)."""

    __tablename__ = "coupons"
    __table_args__ = (Index("ix_coupons_member_state", "member_id", "state"),)
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    template: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    terms: Mapped[dict[str, Any]]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(16))
    trigger_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    issued_at: Mapped[datetime]
    store_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    sale_id: Mapped[str | None] = mapped_column(String(36))  # the bill it was redeemed on
    used_at: Mapped[datetime | None]


class CouponEntry(Base):
    """A coupon's ledger: one row per event of its life (issued, redeemed, returned, expired,
    revoked), the event's id its own."""

    __tablename__ = "coupon_entries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]
    store_id: Mapped[str] = mapped_column(String(36))
    sale_id: Mapped[str | None] = mapped_column(String(36))
    discount_fen: Mapped[int] = mapped_column(default=0)


class CouponBlock(Base):
    """A member whose coupon use HQ has blocked (one coupon redeemed at two stores offline):
    no coupon of theirs is redeemed at any till until HQ settles it. Pulled from the server."""

    __tablename__ = "coupon_blocks"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    flag_id: Mapped[str | None] = mapped_column(String(36))
    blocked_at: Mapped[datetime]
