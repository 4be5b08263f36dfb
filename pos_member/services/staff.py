"""Staff: creating them, and logging in with a personal PIN or password (argon2id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_member import events
from pos_member.clock import until_text
from pos_member.db.models import Staff
from pos_member.db.uow import UnitOfWork
from pos_member.errors import DuplicateStaff, InvalidInput, LoginFailed, LoginLocked
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.permissions import Action, Clerk, Role, require
from pos_member.pin_policy import check_staff_secret
from pos_member.services.field_versions import STAFF_FIELDS
from pos_member.services.staff_fields import claim_of
from pos_member.stored_value_errors import ApprovalRefused

STAFF_CREATED = events.STAFF_CREATED.type
STAFF_LOCKED = events.STAFF_LOCKED.type

# argon2id, RFC 9106's second recommended option scaled to a till: 19 MiB, 2 passes (~30 ms).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when a staff number is unknown, so a wrong number costs the same time as a wrong PIN.
_DUMMY_HASH = _hasher.hash("not-a-real-secret")


@dataclass(frozen=True, slots=True)
class StaffInfo:
    id: str
    code: str
    name: str
    role: Role
    active: bool


def check_staff_code(code: str) -> str:
    """A staff number: 3 to 8 digits (trimmed). Raises :class:`InvalidInput`."""
    code = code.strip()
    if not (code.isascii() and code.isdigit() and 3 <= len(code) <= 8):
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "A staff number is 3 to 8 digits."))
    return code


def check_staff_name(name: str) -> str:
    """A colleague's name: 1 to 50 characters (trimmed), none a control character (a line
    break, a terminal's escape: the name is shown on every till and in HQ's listings).
    Raises :class:`InvalidInput`."""
    name = name.strip()
    if not name or len(name) > 50:
        raise InvalidInput(QT_TRANSLATE_NOOP("errors", "A staff name is 1 to 50 characters."))
    if not name.isprintable():
        raise InvalidInput(QT_TRANSLATE_NOOP(
            "errors", "A staff name is one line with no control characters."))
    return name


def approves(role: Role) -> bool:
    """Managers and administrators approve payments and refunds with their PIN."""
    return role in (Role.MANAGER, Role.ADMIN)


def check_staff_fields(code: str, name: str, secret: str,
                       role: Role = Role.CASHIER) -> tuple[str, str]:
    """Validates a new colleague's number, name and secret (held to the approvers' rule for
    a manager or administrator); returns the trimmed number and name.
    Raises :class:`InvalidInput` or :class:`WeakSecret`."""
    code, name = check_staff_code(code), check_staff_name(name)
    check_staff_secret(secret, approves=approves(role))  # pos_member/pin_policy.py
    return code, name


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def number_taken(session: Session, code: str) -> bool:
    """Whether any colleague here, active or not, has staff number ``code`` (numbers are not
    given again: the audit log names staff by number)."""
    return session.scalar(select(Staff.id).where(Staff.code == code).limit(1)) is not None


def create_staff(
    uow: UnitOfWork, *, clerk: Clerk, code: str, name: str, role: Role, secret: str
) -> StaffInfo:
    require(clerk, Action.MANAGE_STAFF)
    if role in (Role.MANAGER, Role.ADMIN):
        require(clerk, Action.MANAGE_MANAGERS)
    code, name = check_staff_fields(code, name, secret, role)
    with uow.begin() as tx:
        if number_taken(tx.session, code):
            raise DuplicateStaff(code=code)
        staff = Staff(
            id=tx.new_id(),
            store_id=clerk.store_id,
            code=code,
            name=name,
            role=role.value,
            secret_hash=_hasher.hash(secret),
            failed_logins=0,
            locked_until=None,
            active=True,
            created_at=uow.clock.now(),
        )
        tx.session.add(staff)
        tx.session.flush()
        public = {"id": staff.id, "code": code, "name": name, "role": role.value}
        # The event carries the argon2id hash (slow, salted; never the PIN) and the store, so
        # the store's other tills can let this colleague log in (services/pulled_events.py). The
        # audit row keeps the public view only.
        payload = events.StaffCreated(**public, store_id=clerk.store_id,
                                      secret_hash=staff.secret_hash)
        ev = tx.record(clerk, events.STAFF_CREATED, payload, entity_id=staff.id)
        staff.code_claim = claim_of(ev.hlc, ev.id)
        STAFF_FIELDS.claim(tx.conn, staff.id, created_fields(payload), ev.hlc, ev.id)
        tx.audit(clerk, STAFF_CREATED, "staff", staff.id, after=public, event=ev)
        tx.commit()
    return StaffInfo(staff.id, code, name, role, True)


def created_fields(p: events.StaffCreated) -> dict[str, Any]:
    """The fields a ``staff.created`` writes, as last-writer-wins field values."""
    return {"code": p.code, "name": p.name, "role": p.role, "active": True,
            "secret_hash": p.secret_hash}


def list_staff(uow: UnitOfWork, *, role: Role | None = None) -> list[StaffInfo]:
    with uow.read() as s:
        q = select(Staff).where(Staff.active.is_(True)).order_by(Staff.code)
        if role is not None:
            q = q.where(Staff.role == role.value)
        return [
            StaffInfo(r.id, r.code, r.name, Role(r.role), r.active) for r in s.scalars(q)
        ]


def still_valid(uow: UnitOfWork, *, clerk: Clerk) -> bool:
    """Whether the clerk logged in is still active in the role they logged in with (a pulled
    change may have deactivated them: the till then logs them out). The system clerk is."""
    if clerk.staff_id is None:
        return True
    with uow.read() as s:
        row = s.execute(select(Staff.active, Staff.role).where(Staff.id == clerk.staff_id)
                        ).first()
    return row is None or (bool(row.active) and row.role == clerk.role.value)


def login(uow: UnitOfWork, *, code: str, secret: str, device_id: str) -> Clerk:
    """Checks a staff number and PIN/password. ``max_failures`` wrong tries in a row lock the
    login for ``login_lock_minutes`` (rules); the lock is an event and an audit entry.

    A refused login commits its failure count and raises; a good one resets the count.
    """
    rules = uow.rules.staff
    now = uow.clock.now()
    with uow.begin() as tx:
        # Two colleagues may share a number after two tills gave it out offline: the first
        # to claim it holds it (services/staff_fields.py).
        staff = tx.session.scalar(select(Staff).where(Staff.code == code.strip())
                                  .order_by(Staff.code_claim, Staff.id).limit(1))
        if staff is None or not staff.active:
            _verify(_DUMMY_HASH, secret)
            raise LoginFailed()
        clerk = Clerk(staff.id, staff.name, Role(staff.role), staff.store_id, device_id)
        if staff.locked_until is not None and staff.locked_until > now:
            longest = now + timedelta(minutes=rules.login_lock_minutes)
            if staff.locked_until > longest:  # set by a till whose clock runs ahead (pulled)
                staff.locked_until = longest  # no longer than the rule from when it is met
                tx.commit()
            raise LoginLocked(until=until_text(uow.clock, staff.locked_until))
        if not _verify(staff.secret_hash, secret):
            staff.failed_logins += 1
            tx.audit(clerk, "staff.login_failed", "staff", staff.id,
                     after={"failed_logins": staff.failed_logins})
            if staff.failed_logins >= rules.login_max_failures:
                staff.failed_logins = 0
                staff.locked_until = now + timedelta(minutes=rules.login_lock_minutes)
                payload = events.StaffLocked(staff_id=staff.id,
                                             locked_until=staff.locked_until.isoformat())
                ev = tx.record(clerk, events.STAFF_LOCKED, payload, entity_id=staff.id)
                tx.audit(clerk, STAFF_LOCKED, "staff", staff.id, after=ev.payload, event=ev)
                tx.commit()
                raise LoginLocked(until=until_text(uow.clock, staff.locked_until))
            tx.commit()
            raise LoginFailed()
        if _hasher.check_needs_rehash(staff.secret_hash):
            staff.secret_hash = _hasher.hash(secret)
        staff.failed_logins = 0
        staff.locked_until = None
        tx.audit(clerk, "staff.login", "staff", staff.id)
        tx.commit()
        return clerk


def _verify(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def approve(uow: UnitOfWork, *, code: str, pin: str, device_id: str, action: Action) -> Clerk:
    """A manager at the till approves ``action`` with their staff number and PIN: the login
    check with its lockout and its audited ``staff.login``. Returns the approving manager;
    ``ApprovalRefused`` for a wrong number or PIN or staff who may not; ``LoginLocked`` (until
    when) for a login locked by wrong PINs, as the login screen says it: a manager told
    "wrong PIN" would type the right one again and again."""
    try:
        manager = login(uow, code=code, secret=pin, device_id=device_id)
    except LoginFailed:
        raise ApprovalRefused() from None
    if not manager.may(action):
        raise ApprovalRefused()
    return manager
