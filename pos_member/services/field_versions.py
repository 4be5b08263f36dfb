"""Last-writer-wins bookkeeping per field, for member profiles and staff (local edits and sync).

Each field remembers the ``(hlc, event_id)`` of the event that last wrote it and the value
it wrote, in wire form. A write wins when its ``(hlc, event_id)`` is greater: the hybrid clock
orders causally related edits, and the event id (UUIDv7) breaks the tie between two tills that
issued the same timestamp, so every till picks the same winner whatever order events arrive in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update

from pos_member.db.models import MemberFieldVersion, StaffFieldVersion


class FieldVersions:
    """The versions kept in ``table``, whose owner column (a member, a colleague) is ``key``."""

    def __init__(self, table: Table, key: str) -> None:
        self._t, self._key = table, table.c[key]
        self._get = select(table.c.hlc, table.c.event_id).where(
            self._key == bindparam("m"), table.c.field == bindparam("f"))
        self._insert = insert(table)
        self._update = (
            update(table)
            .where(self._key == bindparam("m"), table.c.field == bindparam("f"))
            .values(hlc=bindparam("h"), event_id=bindparam("e"), value=bindparam("v"))
        )

    def claim(self, conn: Connection, owner_id: str, fields: dict[str, Any], hlc: str,
              event_id: str) -> dict[str, Any]:
        """Records the write of ``fields`` at ``(hlc, event_id)``; returns the fields it won
        (those whose stored version is older or missing), which the caller then writes."""
        won: dict[str, Any] = {}
        for name, value in fields.items():
            current = conn.execute(self._get, {"m": owner_id, "f": name}).first()
            if current is None:
                conn.execute(self._insert, {self._key.key: owner_id, "field": name, "hlc": hlc,
                                            "event_id": event_id, "value": value})
            elif (current.hlc, current.event_id) < (hlc, event_id):
                conn.execute(self._update, {"m": owner_id, "f": name, "h": hlc, "e": event_id,
                                            "v": value})
            else:
                continue
            won[name] = value
        return won

    def newer(self, conn: Connection, owner_id: str, hlc: str,
              event_id: str) -> dict[str, tuple[Any, str]]:
        """Field values written after ``(hlc, event_id)``, each with its ``hlc/event_id``:
        updates pulled before the row they apply to, laid over it when it arrives."""
        t = self._t
        rows = conn.execute(select(t.c.field, t.c.hlc, t.c.event_id, t.c.value)
                            .where(self._key == owner_id)).all()
        return {r.field: (r.value, f"{r.hlc}/{r.event_id}") for r in rows
                if (r.hlc, r.event_id) > (hlc, event_id)}


MEMBER_FIELDS = FieldVersions(MemberFieldVersion.__table__, "member_id")
STAFF_FIELDS = FieldVersions(StaffFieldVersion.__table__, "staff_id")


def claim_fields(
    conn: Connection, *, member_id: str, fields: dict[str, Any], hlc: str, event_id: str
) -> dict[str, Any]:
    """A member's profile fields: :meth:`FieldVersions.claim`."""
    return MEMBER_FIELDS.claim(conn, member_id, fields, hlc, event_id)


def newer_fields(conn: Connection, *, member_id: str, hlc: str, event_id: str) -> dict[str, Any]:
    """A member's profile fields written after ``(hlc, event_id)`` (values only)."""
    return {k: v for k, (v, _) in MEMBER_FIELDS.newer(conn, member_id, hlc, event_id).items()}
