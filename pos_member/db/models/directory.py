"""The chain-wide member directory: what a scan needs to recognise any member of the chain
offline, kept small (docs/scale.md, "What a till holds"; ``services/member_directory``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class DirectoryEntry(Base):
    """One member of the chain: number (as an integer, 14 digits), id and phone blind index as
    raw bytes (16 and 32), status, tier, flags (``member_directory.BLOCKED``, ``FROZEN``), the
    home store's number. ``tier_at`` orders tier changes (the hybrid timestamp as one integer).
    Without a rowid: the number is the key, the row is stored in its index."""

    __tablename__ = "member_directory"
    __table_args__ = (
        Index("ix_member_directory_member_id", "member_id", unique=True),
        Index("ix_member_directory_phone", "phone"),
        {"sqlite_with_rowid": False},
    )
    member_no: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_id: Mapped[bytes] = mapped_column(LargeBinary(36))
    phone: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # None: merged away
    status: Mapped[str] = mapped_column(String(8))
    tier: Mapped[str] = mapped_column(String(16))
    tier_at: Mapped[int] = mapped_column(BigInteger)
    flags: Mapped[int] = mapped_column(SmallInteger)
    store_no: Mapped[int] = mapped_column(Integer)
