"""Last-writer-wins bookkeeping for member profile fields (used by local edits and by sync).

Each profile field remembers the ``(hlc, event_id)`` of the event that last wrote it and the value
it wrote, in wire form. A write wins when its ``(hlc, event_id)`` is greater: the hybrid clock
orders causally related edits, and the event id (UUIDv7) breaks the tie between two tills that
issued the same timestamp, so every till picks the same winner whatever order events arrive in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from pos_member.db.models import MemberFieldVersion

_T = MemberFieldVersion.__table__
_GET = select(_T.c.hlc, _T.c.event_id).where(
    _T.c.member_id == bindparam("m"), _T.c.field == bindparam("f")
)
_INSERT = insert(_T)
_UPDATE = (
    update(_T)
    .where(_T.c.member_id == bindparam("m"), _T.c.field == bindparam("f"))
    .values(hlc=bindparam("h"), event_id=bindparam("e"), value=bindparam("v"))
)


def claim_fields(
    conn: Connection, *, member_id: str, fields: dict[str, Any], hlc: str, event_id: str
) -> dict[str, Any]:
    """Records the write of ``fields`` at ``(hlc, event_id)``; returns the fields it won (those
    whose stored version is older or missing), which the caller then writes to the member."""
    won: dict[str, Any] = {}
    for name, value in fields.items():
        current = conn.execute(_GET, {"m": member_id, "f": name}).first()
        if current is None:
            conn.execute(_INSERT, {"member_id": member_id, "field": name, "hlc": hlc,
                                   "event_id": event_id, "value": value})
        elif (current.hlc, current.event_id) < (hlc, event_id):
            conn.execute(_UPDATE, {"m": member_id, "f": name, "h": hlc, "e": event_id,
                                   "v": value})
        else:
            continue
        won[name] = value
    return won


def newer_fields(conn: Connection, *, member_id: str, hlc: str, event_id: str) -> dict[str, Any]:
    """Field values written after ``(hlc, event_id)``: updates pulled before the registration
    they apply to, laid over the row when it is finally inserted."""
    rows = conn.execute(
        select(_T.c.field, _T.c.hlc, _T.c.event_id, _T.c.value).where(
            _T.c.member_id == member_id
        )
    ).all()
    return {r.field: r.value for r in rows if (r.hlc, r.event_id) > (hlc, event_id)}
