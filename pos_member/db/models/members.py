"""Members (personal data only encrypted), per-field last-writer-wins versions, and the
merged members' numbers (duplicate phones)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class Member(Base):
    __tablename__ = "members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    phone_index: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    gender: Mapped[str | None] = mapped_column(String(1))
    birthday: Mapped[date | None]
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_channel: Mapped[str] = mapped_column(String(16))
    # Chain-wide ids, not foreign keys: a member pulled from another store names that store's
    # staff and possibly a referrer this till has not pulled yet (migration 0002).
    guide_id: Mapped[str | None] = mapped_column(String(36))
    referrer_id: Mapped[str | None] = mapped_column(String(36))
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id"))
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    registered_by: Mapped[str | None] = mapped_column(String(36))
    registered_at: Mapped[datetime]
    privacy_policy_version: Mapped[str] = mapped_column(String(20))
    privacy_consent_at: Mapped[datetime]
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_consent_at: Mapped[datetime | None]
    tier: Mapped[str] = mapped_column(String(16), default="regular")
    # "active", or "merged": the loser of a duplicate-phone merge, whose number scans to the
    # winner through ``member_aliases``.
    status: Mapped[str] = mapped_column(String(16), default="active")
    updated_hlc: Mapped[str] = mapped_column(String(24))


class MemberFieldVersion(Base):
    """Last-writer-wins per profile field: the newest ``(hlc, event_id)`` that wrote the field,
    and the value it wrote (wire form). Kept even before the member row arrives, so an update
    pulled ahead of its registration still wins once the row exists."""

    __tablename__ = "member_field_hlc"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    hlc: Mapped[str] = mapped_column(String(24))
    event_id: Mapped[str] = mapped_column(String(36))
    value: Mapped[Any | None] = mapped_column(JSON)


class MemberAlias(Base):
    """A merged member's number → the member it was merged into (duplicate phones, SPEC §2.1).
    No foreign keys: the merge may be pulled before either member's registration."""

    __tablename__ = "member_aliases"
    member_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(36))
    loser_member_id: Mapped[str] = mapped_column(String(36))
