"""A member's standing (issue 20): status, card generation, a tier set by hand, erasure. One
row per member any of these ever touched (most members have none), for members held in full
and directory members alike, so every till of the chain answers a scan the same way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class MemberStanding(Base):
    """``status``: normal, frozen or blacklisted (``events.STATUSES``) with the manager's
    ``reason``; ``card_generation``: 0 until a card is re-issued (``member_code``); a manual
    ``tier_override`` in force until ``tier_until``; ``erased``. Each part keeps the hybrid
    time of the change that wrote it: a pulled change applies when newer."""

    __tablename__ = "member_standing"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(16), default="normal")
    reason: Mapped[str | None] = mapped_column(String(200))
    status_hlc: Mapped[str] = mapped_column(String(24), default="")
    card_generation: Mapped[int] = mapped_column(Integer, default=0)
    tier_override: Mapped[str | None] = mapped_column(String(16))
    tier_until: Mapped[datetime | None]
    tier_hlc: Mapped[str] = mapped_column(String(24), default="")
    phone_hlc: Mapped[str] = mapped_column(String(24), default="")
    erased: Mapped[bool] = mapped_column(Boolean, default=False)
