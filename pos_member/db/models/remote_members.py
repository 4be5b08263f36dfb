"""Another store's members as HQ last described them (issue 14): the remote lookup's answers,
cached so the card and the last known balances still show offline, and so the till caps
balance spending for such a member at what it last knew (``services/remote_members.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pos_member.db.models.base import Base


class RemoteMember(Base):
    """HQ's last answer about a member this till does not hold in full. ``card`` is the
    answer's card (masked; no personal value in clear), ``lookup_key`` the key the till asked
    by (a member number, or a phone's blind index), ``hq_position``/``hq_as_of`` what the
    balances reflect, ``acked_seq`` this till's acknowledged event seq when it asked: its own
    money events after that were not in HQ's balance."""

    __tablename__ = "remote_members"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(32), index=True)
    lookup_key: Mapped[str] = mapped_column(String(64), index=True)
    store_id: Mapped[str | None] = mapped_column(String(36))
    card: Mapped[dict[str, Any]]
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)
    blocked: Mapped[bool] = mapped_column(Boolean)
    hq_position: Mapped[int] = mapped_column(BigInteger)
    hq_as_of: Mapped[datetime]
    fetched_at: Mapped[datetime]
    acked_seq: Mapped[int] = mapped_column(Integer)
