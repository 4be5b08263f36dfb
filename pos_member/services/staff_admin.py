"""A manager's staff work at the till (SPEC §2.9): the store's staff list with who is active,
editing a colleague's number, name and role, deactivating and reactivating, and a new PIN for
one who forgot theirs. Creating staff is :func:`pos_member.services.staff.create_staff`.

Each change is one transaction: the row, a ``staff.*`` event for the store's other tills
(:mod:`pos_member.services.staff_sync` applies it there, last writer wins per field) and an
audit entry. Managers manage cashiers and guides; managers and administrators only someone who
may ``MANAGE_MANAGERS`` (an administrator). Nobody deactivates themselves or changes their own
role (a store must not lock out its last manager by a slip). A new PIN is checked against the
colleague's role (managers' and administrators' PINs approve payments: pin_policy.py) and only
its argon2id hash leaves this function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select

from pos_member import events
from pos_member.db.models import Staff
from pos_member.db.uow import RecordedEvent, Transaction, UnitOfWork
from pos_member.errors import (
    DuplicateStaff,
    InvalidInput,
    OwnStaffRecord,
    StaffEditedAheadElsewhere,
    UnknownStaff,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, Role, require
from pos_member.pin_policy import check_staff_secret
from pos_member.services.staff import (
    StaffInfo,
    approves,
    check_staff_code,
    check_staff_name,
    hash_secret,
    number_taken,
)
from pos_member.services.staff_fields import sync_clash_flag, write_fields

STAFF_UPDATED = events.STAFF_UPDATED.type
STAFF_DEACTIVATED = events.STAFF_DEACTIVATED.type
STAFF_REACTIVATED = events.STAFF_REACTIVATED.type
STAFF_PIN_RESET = events.STAFF_PIN_RESET.type

_STAFF = Staff.__table__


@dataclass(frozen=True, slots=True)
class StaffRow:
    """One line of the manager's staff list. ``holds_number`` False: another colleague
    claimed the same number first (two tills offline); this one cannot log in until renumbered."""

    id: str
    code: str
    name: str
    role: Role
    active: bool
    holds_number: bool = True
    locked: bool = False


def staff_roster(uow: UnitOfWork, *, clerk: Clerk) -> list[StaffRow]:
    """Every colleague of the clerk's store, active or not, by number."""
    require(clerk, Action.MANAGE_STAFF)
    now = uow.clock.now()
    with uow.read() as s:
        rows = s.execute(select(_STAFF).where(_STAFF.c.store_id == clerk.store_id)
                         .order_by(_STAFF.c.code, _STAFF.c.code_claim, _STAFF.c.id)).all()
    out: list[StaffRow] = []
    seen: set[str] = set()
    for r in rows:
        locked = r.locked_until is not None and r.locked_until > now
        out.append(StaffRow(r.id, r.code, r.name, Role(r.role), bool(r.active),
                            holds_number=r.code not in seen, locked=locked))
        seen.add(r.code)
    return out


def _target(tx: Transaction, clerk: Clerk, staff_id: str) -> Row[Any]:
    row = tx.conn.execute(select(_STAFF).where(_STAFF.c.id == staff_id)).first()
    if row is None or row.store_id != clerk.store_id:
        raise UnknownStaff()
    _may_manage(clerk, Role(row.role))
    return row


def _may_manage(clerk: Clerk, role: Role) -> None:
    require(clerk, Action.MANAGE_STAFF)
    if approves(role):
        require(clerk, Action.MANAGE_MANAGERS)


def _write_or_refuse(tx: Transaction, staff_id: str, fields: dict[str, Any],
                     ev: RecordedEvent) -> None:
    """Writes the manager's change at its event's ``(hlc, id)``. A field last written by a
    till whose clock runs far ahead (not folded into this till's clock: pulled_events.py)
    would keep its value here and at every till while the event said otherwise: refused,
    and the transaction with its event and audit row is rolled back."""
    if set(fields) - set(write_fields(tx.conn, staff_id, fields, hlc=ev.hlc, event_id=ev.id)):
        raise StaffEditedAheadElsewhere()


def update_staff(uow: UnitOfWork, *, clerk: Clerk, staff_id: str, code: str | None = None,
                 name: str | None = None, role: Role | None = None) -> StaffInfo:
    """Changes a colleague's number, name and/or role (``None``: unchanged). A number another
    colleague has here is refused (:class:`DuplicateStaff`); nothing changed writes nothing."""
    require(clerk, Action.MANAGE_STAFF)
    wanted: dict[str, Any] = {}
    if code is not None:
        wanted["code"] = check_staff_code(code)
    if name is not None:
        wanted["name"] = check_staff_name(name)
    if role is not None:
        _may_manage(clerk, role)
        wanted["role"] = Role(role).value
    with uow.begin() as tx:
        row = _target(tx, clerk, staff_id)
        changes = {k: v for k, v in wanted.items() if getattr(row, k) != v}
        if "role" in changes and staff_id == clerk.staff_id:
            raise OwnStaffRecord()
        if "code" in changes and number_taken(tx.session, changes["code"]):
            raise DuplicateStaff(code=changes["code"])
        info = StaffInfo(row.id, changes.get("code", row.code), changes.get("name", row.name),
                         Role(changes.get("role", row.role)), bool(row.active))
        if not changes:
            return info
        payload = events.StaffUpdated(staff_id=staff_id, store_id=row.store_id, **changes)
        ev = tx.record(clerk, events.STAFF_UPDATED, payload, entity_id=staff_id)
        _write_or_refuse(tx, staff_id, changes, ev)
        if "code" in changes:  # a clash this colleague was in may be over
            sync_clash_flag(tx.conn, code=row.code, store_id=row.store_id,
                            device_id=clerk.device_id, at=uow.clock.now(), new_id=tx.new_id)
        tx.audit(clerk, STAFF_UPDATED, "staff", staff_id,
                 before={k: getattr(row, k) for k in changes}, after=changes, event=ev)
        tx.commit()
    return info


def set_staff_active(uow: UnitOfWork, *, clerk: Clerk, staff_id: str, active: bool) -> None:
    """Deactivates (``active=False``) or reactivates a colleague. A deactivated colleague
    cannot log in, and one logged in is refused at their next action that changes anything
    (:meth:`Transaction.record`), here and at every till of the store once synced."""
    require(clerk, Action.MANAGE_STAFF)
    with uow.begin() as tx:
        row = _target(tx, clerk, staff_id)
        if staff_id == clerk.staff_id:
            raise OwnStaffRecord()
        if bool(row.active) == active:
            raise InvalidInput(
                QT_TRANSLATE_NOOP("errors", "This colleague is already active.") if active
                else QT_TRANSLATE_NOOP("errors", "This colleague is already inactive."))
        declared = events.STAFF_REACTIVATED if active else events.STAFF_DEACTIVATED
        payload = events.StaffActiveSet(staff_id=staff_id, store_id=row.store_id)
        ev = tx.record(clerk, declared, payload, entity_id=staff_id)
        _write_or_refuse(tx, staff_id, {"active": active}, ev)
        tx.audit(clerk, declared.type, "staff", staff_id, before={"active": not active},
                 after={"active": active}, event=ev)
        tx.commit()


def reset_staff_pin(uow: UnitOfWork, *, clerk: Clerk, staff_id: str, secret: str) -> None:
    """Gives a colleague who forgot their PIN a new one (or a password), with the logged-in
    manager's authority; lifts their login lock. The new secret is held to the rule of the
    colleague's role (:func:`check_staff_secret`); the event carries its argon2id hash."""
    require(clerk, Action.MANAGE_STAFF)
    with uow.begin() as tx:
        row = _target(tx, clerk, staff_id)
        check_staff_secret(secret, approves=approves(Role(row.role)))
        payload = events.StaffPinReset(staff_id=staff_id, store_id=row.store_id,
                                       secret_hash=hash_secret(secret))
        ev = tx.record(clerk, events.STAFF_PIN_RESET, payload, entity_id=staff_id)
        _write_or_refuse(tx, staff_id, {"secret_hash": payload.secret_hash}, ev)
        tx.audit(clerk, STAFF_PIN_RESET, "staff", staff_id, after={"pin_reset": True}, event=ev)
        tx.commit()
