"""Writing a colleague's fields, the one way both a manager's edit at this till and an edit
pulled from another till go (:mod:`pos_member.services.staff_admin`,
:mod:`pos_member.services.staff_sync`).

- Each field (``code``, ``name``, ``role``, ``active``, ``secret_hash``) is last writer wins by
  ``(hlc, event id)`` (:data:`field_versions.STAFF_FIELDS`), as members' profile fields.
- A new PIN lifts the colleague's login lock on every till it reaches.
- Staff numbers: two tills offline may give out one number. Both colleagues are kept; the one
  whose number was claimed first (``staff.code_claim``, the ``hlc/event id`` that gave it)
  holds it and logs in with it; the other cannot log in until a manager gives them another
  number, and every till of the store shows the manager a ``staff_number_clash`` alert while
  the clash lasts (docs/rules.md, "Staff numbers").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pos_member.db.models import Flag, Staff
from pos_member.permissions import Role
from pos_member.services.field_versions import STAFF_FIELDS

CLASH_FLAG = "staff_number_clash"

_STAFF = Staff.__table__
_FLAGS = Flag.__table__
FIELDS = ("code", "name", "role", "active", "secret_hash")


def claim_of(hlc: str, event_id: str) -> str:
    """The ``staff.code_claim`` of a number given by the event ``(hlc, event_id)``: sorts like
    the pair (the hybrid timestamp is fixed-width)."""
    return f"{hlc}/{event_id}"


def columns(won: Mapping[str, Any], claim: str) -> dict[str, Any]:
    """Won field values → staff columns. Unknown fields are left out (a newer till's)."""
    out: dict[str, Any] = {}
    for name, value in won.items():
        if name == "code":
            out["code"], out["code_claim"] = str(value), claim
        elif name == "role":
            out["role"] = Role(value).value
        elif name == "active":
            out["active"] = bool(value)
        elif name == "name":
            out["name"] = str(value)
        elif name == "secret_hash":
            out.update(secret_hash=str(value), failed_logins=0, locked_until=None)
    return out


def write_fields(conn: Connection, staff_id: str, fields: Mapping[str, Any], *, hlc: str,
                 event_id: str) -> dict[str, Any]:
    """Claims ``fields`` at ``(hlc, event_id)`` and writes those it won to the colleague's row
    (if the row is here: an edit pulled before its colleague is laid over them on arrival).
    Returns the won fields."""
    won = STAFF_FIELDS.claim(conn, staff_id, dict(fields), hlc, event_id)
    cols = columns(won, claim_of(hlc, event_id))
    if cols:
        conn.execute(update(_STAFF).where(_STAFF.c.id == staff_id).values(**cols))
    return won


def newer_columns(conn: Connection, staff_id: str, *, hlc: str, event_id: str) -> dict[str, Any]:
    """Columns of the edits recorded after ``(hlc, event_id)``: pulled before the colleague."""
    out: dict[str, Any] = {}
    for name, (value, claim) in STAFF_FIELDS.newer(conn, staff_id, hlc, event_id).items():
        out.update(columns({name: value}, claim))
    return out


def number_holder(conn: Connection, code: str) -> str | None:
    """The id of the colleague who holds staff number ``code`` here: the first to claim it."""
    return conn.scalar(select(_STAFF.c.id).where(_STAFF.c.code == code)
                       .order_by(_STAFF.c.code_claim, _STAFF.c.id).limit(1))


def sync_clash_flag(conn: Connection, *, code: str, store_id: str, device_id: str | None,
                    at: datetime, new_id: Callable[[], str]) -> None:
    """One open ``staff_number_clash`` alert per number held by more than one colleague here
    (the detail: the number and who waits for another one); resolved by itself once the
    clash is gone (renumbered). Flags are this till's own: nothing is pushed."""
    ids = list(conn.scalars(select(_STAFF.c.id).where(_STAFF.c.code == code)
                            .order_by(_STAFF.c.code_claim, _STAFF.c.id)))
    open_flags = [r for r in conn.execute(select(_FLAGS.c.id, _FLAGS.c.detail).where(
        _FLAGS.c.kind == CLASH_FLAG, _FLAGS.c.resolved_at.is_(None))) if
        (r.detail or {}).get("code") == code]
    if len(ids) <= 1:
        for r in open_flags:
            conn.execute(update(_FLAGS).where(_FLAGS.c.id == r.id).values(resolved_at=at))
        return
    detail = {"code": code, "holder_id": ids[0], "waiting_ids": ids[1:]}
    if open_flags:
        conn.execute(update(_FLAGS).where(_FLAGS.c.id == open_flags[0].id)
                     .values(detail=detail))
    else:
        conn.execute(insert(_FLAGS), {"id": new_id(), "kind": CLASH_FLAG, "store_id": store_id,
                                      "device_id": device_id, "raised_at": at,
                                      "detail": detail})
