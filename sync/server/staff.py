"""A store's staff as HQ sees them (SPEC §2.9: "HQ can do the same for any store"): the list,
folded from the store's ``staff.*`` events in the log, adding a colleague (any role),
deactivating and reactivating one and giving one a new PIN (a store whose only administrator
forgot theirs: no one there may reset it).

HQ keeps no staff table: the store's tills are where staff live, and every change they make is
in the log. The fold is the tills' own rule (last writer wins per field by ``(hlc, event id)``;
a number held by the first to claim it), so HQ shows what the store's tills show once synced.
A deactivation by HQ is a ``staff.deactivated`` server event written under the store's id, so
HQ's pull delivers it to that store's tills only, which apply it as a manager's
(``pos_member/services/staff_sync.py``); an addition likewise a ``staff.created`` and a new
PIN a ``staff.pin_reset``, each with the argon2id hash (never the PIN), the new PIN lifting
the colleague's login lock on each till. Each is held to the tills' own checks (a number the
store gave any colleague, a weak secret, an inactive colleague: refused, nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msgspec import UNSET
from sqlalchemy import func, select

from pos_member import events
from pos_member.clock import to_ms
from pos_member.errors import DuplicateStaff, InvalidInput
from pos_member.ids import uuid7_str
from pos_member.permissions import Role
from pos_member.pin_policy import check_staff_secret
from pos_member.services.staff import approves, check_staff_fields, hash_secret
from sync.server.context import ServerContext
from sync.server.errors import InactiveStaffNotFoundAtHq, StaffNotFoundAtHq
from sync.server.log import LogWriter
from sync.server.models import Event
from sync.server.services import store_id_of


@dataclass(frozen=True)
class HqStaff:
    id: str
    code: str
    name: str
    role: str
    active: bool
    holds_number: bool = True


def _fold(rows: list[Any]) -> list[HqStaff]:
    """The tills' rule over the store's staff events, in any order."""
    fields: dict[str, dict[str, tuple[tuple[str, str], Any]]] = {}
    claims: dict[str, tuple[str, str]] = {}

    def put(staff_id: str, version: tuple[str, str], **values: Any) -> None:
        mine = fields.setdefault(staff_id, {})
        for name, value in values.items():
            if name not in mine or mine[name][0] < version:
                mine[name] = (version, value)

    created: set[str] = set()
    for r in rows:
        p = events.decode(r.type, r.payload_version, r.payload)
        v = (r.hlc, r.id)
        if isinstance(p, events.StaffCreated):
            created.add(p.id)
            put(p.id, v, code=p.code, name=p.name, role=p.role, active=True)
        elif isinstance(p, events.StaffUpdated):
            put(p.staff_id, v, **{k: getattr(p, k) for k in ("code", "name", "role")
                                  if getattr(p, k) is not UNSET})
        elif isinstance(p, events.StaffActiveSet):
            put(p.staff_id, v, active=r.type == events.STAFF_REACTIVATED.type)
    out = []
    for staff_id in created:
        f = {k: value for k, (_, value) in fields[staff_id].items()}
        claims[staff_id] = fields[staff_id]["code"][0]
        out.append(HqStaff(staff_id, f["code"], f["name"], f["role"], bool(f["active"])))
    out.sort(key=lambda s: (s.code, claims[s.id]))
    seen: set[str] = set()
    result = []
    for s in out:
        result.append(HqStaff(s.id, s.code, s.name, s.role, s.active, s.code not in seen))
        seen.add(s.code)
    return result


_STAFF_TYPES = (events.STAFF_CREATED.type, events.STAFF_UPDATED.type,
                events.STAFF_DEACTIVATED.type, events.STAFF_REACTIVATED.type)


def _staff_rows(conn: Any, store_number: int) -> tuple[str, list[Any]]:
    store_id = store_id_of(conn, store_number)
    rows = conn.execute(
        select(Event.id, Event.hlc, Event.type, Event.payload_version, Event.payload,
               Event.entity_id)
        .where(Event.store_id == store_id, Event.type.in_(_STAFF_TYPES))
        .order_by(Event.position)).all()
    return store_id, rows


def _store_staff(conn: Any, store_number: int) -> tuple[str, list[HqStaff]]:
    store_id, rows = _staff_rows(conn, store_number)
    return store_id, _fold(rows)


def list_store_staff(ctx: ServerContext, *, store_number: int) -> list[HqStaff]:
    """Every colleague of store ``store_number``, active or not, by number."""
    with ctx.db.read() as conn:
        return _store_staff(conn, store_number)[1]


def _active_holder(conn: Any, store_number: int, code: str, *, active: bool = True
                   ) -> tuple[str, HqStaff, str]:
    """The store's id, the active (``active=False``: inactive) colleague holding number
    ``code`` there, and the newest HLC of their changes, which HQ's own change must sort after
    to win on every till (even over one a till stamped with a clock far ahead; docs/rules.md,
    "Staff"). Refuses an unknown store or number and a colleague not in that state
    (``StaffNotFoundAtHq``, ``InactiveStaffNotFoundAtHq``)."""
    store_id, rows = _staff_rows(conn, store_number)
    target = next((s for s in _fold(rows) if s.code == code.strip() and s.holds_number), None)
    if target is None or target.active != active:
        raise (StaffNotFoundAtHq if active else InactiveStaffNotFoundAtHq)(
            code=code.strip()[:8], number=store_number)
    newest = conn.execute(select(func.max(Event.hlc)).where(
        Event.store_id == store_id, Event.entity_id == target.id,
        Event.type.in_((*_STAFF_TYPES, events.STAFF_PIN_RESET.type)))).scalar()
    return store_id, target, newest


def deactivate_store_staff(ctx: ServerContext, *, store_number: int, code: str) -> HqStaff:
    """Deactivates the colleague holding staff number ``code`` in the store: a
    ``staff.deactivated`` event for that store's tills. Refuses an unknown store or number and
    one already inactive (``StaffNotFoundAtHq``), writing nothing."""
    return _set_active(ctx, store_number, code, active=False)


def _set_active(ctx: ServerContext, store_number: int, code: str, *, active: bool) -> HqStaff:
    """A ``staff.reactivated`` (``active``) or ``staff.deactivated`` of the colleague holding
    number ``code``, sorting after every change of theirs HQ holds; refused unless they are
    in the other state now."""
    with ctx.db.write() as conn:
        store_id, target, newest = _active_holder(conn, store_number, code, active=not active)
        LogWriter(conn, now=ctx.clock.now()).append_server_event(
            type=events.STAFF_REACTIVATED if active else events.STAFF_DEACTIVATED,
            entity_id=target.id, store_id=store_id,
            payload=events.StaffActiveSet(staff_id=target.id, store_id=store_id),
            after_hlc=newest)
    return HqStaff(target.id, target.code, target.name, target.role, active)


def add_store_staff(ctx: ServerContext, *, store_number: int, code: str, name: str,
                    role: str, secret: str) -> HqStaff:
    """Adds a colleague to the store (SPEC §2.9: HQ can do what a store's managers do; an
    administrator too): a ``staff.created`` with the argon2id hash (never the PIN) for that
    store's tills, where they log in from the next sync. Checked as the till checks a new
    colleague (number, name, the secret by the role's rule); a number any colleague of the
    store has, active or not, is refused (``DuplicateStaff``), writing nothing."""
    staff_role = _role(role)
    code, name = check_staff_fields(code, name, secret, staff_role)
    with ctx.db.write() as conn:
        store_id, rows = _staff_rows(conn, store_number)
        if any(s.code == code for s in _fold(rows)):
            raise DuplicateStaff(code=code)
        staff_id = uuid7_str(lambda: to_ms(ctx.clock.now()))
        LogWriter(conn, now=ctx.clock.now()).append_server_event(
            type=events.STAFF_CREATED, entity_id=staff_id, store_id=store_id,
            payload=events.StaffCreated(id=staff_id, code=code, name=name,
                                        role=staff_role.value, store_id=store_id,
                                        secret_hash=hash_secret(secret)))
    return HqStaff(staff_id, code, name, staff_role.value, True)


def _role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput("A role is one of {roles}, not {got}.",
                           roles=", ".join(r.value for r in Role),
                           got=repr(text.strip()[:20])) from None


def reactivate_store_staff(ctx: ServerContext, *, store_number: int, code: str) -> HqStaff:
    """Reactivates the inactive colleague holding staff number ``code`` in the store (one HQ
    or a manager deactivated by mistake: a store's managers may not reactivate an
    administrator): a ``staff.reactivated`` event for that store's tills. Refuses an unknown
    store or number and one already active, writing nothing."""
    return _set_active(ctx, store_number, code, active=True)


def reset_store_staff_pin(ctx: ServerContext, *, store_number: int, code: str,
                          secret: str) -> HqStaff:
    """Gives the active colleague holding staff number ``code`` in the store a new PIN or
    password, held to the till's rule for their role (an approver's PIN approves payments):
    a ``staff.pin_reset`` with its argon2id hash for that store's tills, which lifts their
    login lock there. Refuses a weak secret (``WeakSecret``), an unknown store or number and
    an inactive colleague, writing nothing."""
    with ctx.db.write() as conn:
        store_id, target, newest = _active_holder(conn, store_number, code)
        check_staff_secret(secret, approves=approves(Role(target.role)))
        LogWriter(conn, now=ctx.clock.now()).append_server_event(
            type=events.STAFF_PIN_RESET, entity_id=target.id, store_id=store_id,
            payload=events.StaffPinReset(staff_id=target.id, store_id=store_id,
                                         secret_hash=hash_secret(secret)),
            after_hlc=newest)
    return target
