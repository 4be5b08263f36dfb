"""Applying HQ's stored-value blocks pulled from the server (``member.balance_blocked`` /
``member.balance_unblocked``, server events of ``sync/server/balances.py``) to ``balance_blocks``.

Both handlers decode the whole payload before writing and are idempotent. A block replaces an
older one of the member; an unblock removes the block only when it names the same flag, so an
old settlement never lifts a newer block.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from pos_member import events
from pos_member.db.models import BalanceBlock

BALANCE_BLOCKED = events.MEMBER_BALANCE_BLOCKED.type
BALANCE_UNBLOCKED = events.MEMBER_BALANCE_UNBLOCKED.type

_BLOCKS = BalanceBlock.__table__


def _member_and_flag(payload: Mapping[str, Any]) -> tuple[str, str]:
    member_id, flag_id = payload["member_id"], payload["flag_id"]
    if not isinstance(member_id, str) or not 0 < len(member_id) <= 36:
        raise ValueError(f"not a member id: {member_id!r}")
    if type(flag_id) not in (int, str) or not 0 < len(str(flag_id)) <= 36:
        raise ValueError(f"not a flag id: {flag_id!r}")
    return member_id, str(flag_id)


def apply_balance_blocked(conn: Connection, ev: Mapping[str, Any]) -> bool:
    p = ev["payload"]
    member_id, flag_id = _member_and_flag(p)
    balance = p["balance_fen"]
    if type(balance) is not int:
        raise ValueError(f"not an amount in fen: {balance!r}")
    created = ev["created_at"]
    at = created if isinstance(created, datetime) else datetime.fromisoformat(created)
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    current = conn.execute(select(_BLOCKS.c.flag_id).where(_BLOCKS.c.member_id == member_id)
                           ).first()
    values = {"balance_fen": balance, "flag_id": flag_id, "blocked_at": at}
    if current is None:
        conn.execute(insert(_BLOCKS).values(member_id=member_id, **values))
    elif current.flag_id != flag_id:
        conn.execute(update(_BLOCKS).where(_BLOCKS.c.member_id == member_id).values(**values))
    return True


def apply_balance_unblocked(conn: Connection, ev: Mapping[str, Any]) -> bool:
    member_id, flag_id = _member_and_flag(ev["payload"])
    conn.execute(delete(_BLOCKS).where(_BLOCKS.c.member_id == member_id,
                                       _BLOCKS.c.flag_id == flag_id))
    return True
