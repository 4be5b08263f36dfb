"""Stored-value blocks set by HQ (a cross-store overdraw): a blocked member cannot pay with the
balance at any till until HQ settles. The server raises the block; tills pull it (apply)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_member.db.models import BalanceBlock


def is_blocked(session: Session, member_id: str) -> bool:
    """True while HQ's block on the member's stored value is in force here."""
    found = session.scalar(select(BalanceBlock.member_id)
                           .where(BalanceBlock.member_id == member_id))
    return found is not None
