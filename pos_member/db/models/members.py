"""Members (personal data only encrypted), per-field last-writer-wins versions, and the
merged members' numbers (duplicate phones)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base

# Rows an older version left with a clear gender, birthday or tags (sealed at the next start:
# ``services/profile_seal.seal_plain``); the partial index makes "is there any?" instant.
CLEAR_PROFILE = "gender IS NOT NULL OR birthday IS NOT NULL OR tags != '[]'"


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (Index("ix_members_clear_profile", "id", sqlite_where=text(CLEAR_PROFILE)),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    phone_index: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Gender, birthday (ISO date) and tags (JSON list) are encrypted like the phone and the name
    # (issue 20; ``services/profile_seal.py``). The clear columns of older versions stay in the
    # table under their names, emptied at the first start after the upgrade (migration 0017
    # cannot: the data key is in the OS credential store).
    gender_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birthday_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    tags_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    legacy_gender: Mapped[str | None] = mapped_column("gender", String(1))
    legacy_birthday: Mapped[date | None] = mapped_column("birthday")
    legacy_tags: Mapped[list[str]] = mapped_column("tags", JSON, default=list)
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
