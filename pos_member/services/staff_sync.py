"""Staff at a till that pulls other tills' changes: the ``staff.*`` events of this till's own
store (another till of the store, or HQ). Other stores' staff are not applied (the dispatcher,
:mod:`pos_member.services.pulled_events`, skips them).

- ``staff.created`` adds the colleague with the argon2id hash the event carries, so they log
  in here too; edits pulled before it are laid over it.
- ``staff.updated`` (number, name, role), ``staff.deactivated`` / ``staff.reactivated`` and
  ``staff.pin_reset`` write their fields by last writer wins per field
  (:mod:`pos_member.services.staff_fields`), as local edits do. A deactivated colleague can no
  longer log in here, and one logged in here is refused at their next action.
- ``staff.locked`` sets ``locked_until`` (the later one stays).
- A staff number given out by two tills offline: both colleagues are kept, the first to claim
  the number holds it, and a ``staff_number_clash`` alert asks the manager to renumber the
  other (docs/rules.md, "Staff numbers"). Every till reaches the same holder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from msgspec import UNSET
from sqlalchemy import Connection, insert, select, update

from pos_member import events
from pos_member.clock import to_ms
from pos_member.crypto import PiiCipher
from pos_member.db.models import Staff
from pos_member.ids import uuid7_str
from pos_member.permissions import Role
from pos_member.services.field_versions import STAFF_FIELDS
from pos_member.services.staff import STAFF_CREATED, STAFF_LOCKED, created_fields
from pos_member.services.staff_fields import (
    claim_of,
    newer_columns,
    sync_clash_flag,
    write_fields,
)
from pos_member.services.wire_values import wire_datetime

log = logging.getLogger(__name__)

_STAFF = Staff.__table__


def _argon2(secret_hash: object) -> bool:
    return isinstance(secret_hash, str) and secret_hash.startswith("$argon2")


def _clash_check(conn: Connection, ev: Mapping[str, Any], code: str) -> None:
    at = wire_datetime(ev["created_at"])
    sync_clash_flag(conn, code=code, store_id=ev["store_id"], device_id=ev["device_id"], at=at,
                    new_id=lambda: uuid7_str(lambda: to_ms(at)))


def apply_staff_created(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                        p: events.StaffCreated, position: int) -> bool:
    staff_id, secret_hash = p.id, p.secret_hash
    if not _argon2(secret_hash):
        log.warning("pulled staff %s not applied: no argon2 hash (an older till's event)",
                    staff_id)
        return False  # nothing a newer version could do with it: not held
    if conn.scalar(select(_STAFF.c.id).where(_STAFF.c.id == staff_id)) is not None:
        return False
    row = {"id": staff_id, "store_id": ev["store_id"], "code": p.code, "name": p.name,
           "role": Role(p.role).value, "secret_hash": secret_hash, "failed_logins": 0,
           "locked_until": None, "active": True, "created_at": wire_datetime(ev["created_at"]),
           "code_claim": claim_of(ev["hlc"], ev["id"])}
    row.update(newer_columns(conn, staff_id, hlc=ev["hlc"], event_id=ev["id"]))
    STAFF_FIELDS.claim(conn, staff_id, created_fields(p), ev["hlc"], ev["id"])
    conn.execute(insert(_STAFF), row)
    _clash_check(conn, ev, row["code"])
    return True


def apply_staff_updated(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                        p: events.StaffUpdated, position: int) -> bool:
    fields = {k: getattr(p, k) for k in ("code", "name", "role")
              if getattr(p, k) is not UNSET}
    if "role" in fields:
        Role(fields["role"])  # decodes before anything is written
    old_code = conn.scalar(select(_STAFF.c.code).where(_STAFF.c.id == p.staff_id))
    won = write_fields(conn, p.staff_id, fields, hlc=ev["hlc"], event_id=ev["id"])
    if "code" in won and old_code is not None:
        _clash_check(conn, ev, old_code)
        _clash_check(conn, ev, won["code"])
    return True


def _apply_active(active: bool) -> Callable[[Connection, PiiCipher | None, Mapping[str, Any],
                                             events.StaffActiveSet, int], bool]:
    def apply(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
              p: events.StaffActiveSet, position: int) -> bool:
        write_fields(conn, p.staff_id, {"active": active}, hlc=ev["hlc"], event_id=ev["id"])
        return True
    return apply


def apply_staff_pin_reset(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                          p: events.StaffPinReset, position: int) -> bool:
    if not _argon2(p.secret_hash):
        raise ValueError("a PIN reset without an argon2 hash")
    write_fields(conn, p.staff_id, {"secret_hash": p.secret_hash}, hlc=ev["hlc"],
                 event_id=ev["id"])
    return True


def apply_staff_locked(conn: Connection, cipher: PiiCipher | None, ev: Mapping[str, Any],
                       p: events.StaffLocked, position: int) -> bool:
    staff_id, until = p.staff_id, wire_datetime(p.locked_until)
    current = conn.execute(select(_STAFF.c.locked_until)
                           .where(_STAFF.c.id == staff_id)).first()
    if current is None:
        return False  # not a colleague known here (an older till's event)
    if current.locked_until is not None and wire_datetime(current.locked_until) >= until:
        return True
    conn.execute(update(_STAFF).where(_STAFF.c.id == staff_id).values(locked_until=until))
    return True


# Pulled event type → handler(conn, cipher, event, typed payload, position) -> applied?
STAFF_HANDLERS: dict[str, Callable[[Connection, PiiCipher | None, Mapping[str, Any], Any, int],
                                   bool]] = {
    STAFF_CREATED: apply_staff_created,
    STAFF_LOCKED: apply_staff_locked,
    events.STAFF_UPDATED.type: apply_staff_updated,
    events.STAFF_DEACTIVATED.type: _apply_active(False),
    events.STAFF_REACTIVATED.type: _apply_active(True),
    events.STAFF_PIN_RESET.type: apply_staff_pin_reset,
}
