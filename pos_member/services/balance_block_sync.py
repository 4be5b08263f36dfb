"""Applying HQ's stored-value blocks pulled from the server (``member.balance_blocked`` /
``member.balance_unblocked``, server events of ``sync/server/balances.py``) to ``balance_blocks``.

Both handlers take the typed payload (decoded once, by the pulled-event dispatcher), check it
all before writing and are idempotent. A block replaces an
older one of the member; an unblock removes the block only when it names the same flag, so an
old settlement never lifts a newer block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from pos_member import events
from pos_member.db.models import BalanceBlock

BALANCE_BLOCKED = events.MEMBER_BALANCE_BLOCKED.type
BALANCE_UNBLOCKED = events.MEMBER_BALANCE_UNBLOCKED.type

_BLOCKS = BalanceBlock.__table__


def _member_and_flag(p: events.MemberBalanceBlocked | events.MemberBalanceUnblocked
                     ) -> tuple[str, str]:
    member_id, flag_id = p.member_id, p.flag_id
    if not 0 < len(member_id) <= 36:
        raise ValueError(f"not a member id: {member_id!r}")
    if not 0 < len(str(flag_id)) <= 36:
        raise ValueError(f"not a flag id: {flag_id!r}")
    return member_id, str(flag_id)


def apply_balance_blocked(conn: Connection, ev: Mapping[str, Any],
                          p: events.MemberBalanceBlocked) -> bool:
    member_id, flag_id = _member_and_flag(p)
    created = ev["created_at"]
    at = created if isinstance(created, datetime) else datetime.fromisoformat(created)
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    current = conn.execute(select(_BLOCKS.c.flag_id).where(_BLOCKS.c.member_id == member_id)
                           ).first()
    values = {"balance_fen": p.balance_fen, "flag_id": flag_id, "blocked_at": at}
    if current is None:
        conn.execute(insert(_BLOCKS).values(member_id=member_id, **values))
    elif current.flag_id != flag_id:
        conn.execute(update(_BLOCKS).where(_BLOCKS.c.member_id == member_id).values(**values))
    return True


def apply_balance_unblocked(conn: Connection, ev: Mapping[str, Any],
                            p: events.MemberBalanceUnblocked) -> bool:
    member_id, flag_id = _member_and_flag(p)
    conn.execute(delete(_BLOCKS).where(_BLOCKS.c.member_id == member_id,
                                       _BLOCKS.c.flag_id == flag_id))
    return True


# Pulled event type → handler(conn, event, typed payload) -> applied?
BALANCE_BLOCK_HANDLERS: dict[str, Callable[[Connection, Mapping[str, Any], Any], bool]] = {
    BALANCE_BLOCKED: apply_balance_blocked,
    BALANCE_UNBLOCKED: apply_balance_unblocked,
}
