"""Staff at a till that pulls other tills' changes: ``staff.created`` and ``staff.locked`` of
this till's own store (another till of the store). The colleague is added with the argon2id
hash the event carries, so they log in here too; a lock sets ``locked_until`` (the later one
stays). Other stores' staff are not applied (the dispatcher,
:mod:`pos_member.services.pulled_events`, skips them). A pulled colleague whose staff number
is already used here by someone else is not applied (logged): staff numbers are unique in a
store, the local one keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pos_member import events
from pos_member.crypto import PiiCipher
from pos_member.db.models import Staff
from pos_member.permissions import Role
from pos_member.services.staff import STAFF_CREATED, STAFF_LOCKED
from pos_member.services.wire_values import wire_datetime

log = logging.getLogger(__name__)

_STAFF = Staff.__table__


def apply_staff_created(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                   p: events.StaffCreated, position: int) -> bool:
    staff_id, code, secret_hash = p.id, p.code, p.secret_hash
    if not isinstance(secret_hash, str) or not secret_hash.startswith("$argon2"):
        log.warning("pulled staff %s not applied: no argon2 hash (an older till's event)",
                    staff_id)
        return False  # nothing a newer version could do with it: not held
    row = {"id": staff_id, "store_id": ev["store_id"], "code": code, "name": p.name,
           "role": Role(p.role).value, "secret_hash": secret_hash, "failed_logins": 0,
           "locked_until": None, "active": True, "created_at": wire_datetime(ev["created_at"])}
    if conn.scalar(select(_STAFF.c.id).where(_STAFF.c.id == staff_id)) is not None:
        return False
    if conn.scalar(select(_STAFF.c.id).where(_STAFF.c.code == code)) is not None:
        log.warning("pulled staff %s not applied: staff number %s is taken here", staff_id, code)
        return False
    conn.execute(insert(_STAFF), row)
    return True


def apply_staff_locked(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                  p: events.StaffLocked, position: int) -> bool:
    staff_id, until = p.staff_id, wire_datetime(p.locked_until)
    current = conn.execute(select(_STAFF.c.locked_until)
                           .where(_STAFF.c.id == staff_id)).first()
    if current is None:
        return False  # not a colleague known here (a number clash, or an older till's event)
    if current.locked_until is not None and wire_datetime(current.locked_until) >= until:
        return True
    conn.execute(update(_STAFF).where(_STAFF.c.id == staff_id).values(locked_until=until))
    return True


# Pulled event type → handler(conn, cipher, event, typed payload, position) -> applied?
STAFF_HANDLERS: dict[str, Callable[[Connection, PiiCipher | None, Mapping[str, Any], Any, int],
                                   bool]] = {
    STAFF_CREATED: apply_staff_created,
    STAFF_LOCKED: apply_staff_locked,
}
