"""A manager's staff work at one till: edit, deactivate, reactivate, new PIN, the list; who may
do what; bad input refused with nothing changed; each change an event and an audit entry; a
deactivated or re-roled clerk refused at their next action; the approvers' PIN rule."""

from __future__ import annotations

import sqlite3

import pytest

from pos_member.errors import (
    ClerkNoLongerActive,
    DuplicateStaff,
    InvalidInput,
    LoginFailed,
    OwnStaffRecord,
    PermissionDenied,
    UnknownStaff,
    WeakApproverPin,
    WeakSecret,
)
from pos_member.permissions import Clerk, Role
from pos_member.services.member_cards import reveal_personal_data
from pos_member.services.members import register_member
from pos_member.services.staff import StaffInfo, create_staff, hash_secret, login
from pos_member.services.staff_admin import (
    reset_staff_pin,
    set_staff_active,
    staff_roster,
    update_staff,
)
from tests.factories import PINS, Till, new_phone

GUIDE_PIN = "135792"


def new_guide(till: Till, code: str = "5001") -> StaffInfo:
    return create_staff(till.uow, clerk=till.manager, code=code, name="导购甲", role=Role.GUIDE,
                        secret=GUIDE_PIN)


def log_in(till: Till, code: str, secret: str) -> Clerk:
    return login(till.uow, code=code, secret=secret, device_id=till.cashier.device_id)


def last_event(till: Till) -> tuple[str, str]:
    con = sqlite3.connect(till.path)
    try:
        row = con.execute("SELECT type, payload FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return row[0], row[1]
    finally:
        con.close()


def test_a_manager_renames_and_reroles_a_guide_with_an_event_and_an_audit_entry(
    till: Till,
) -> None:
    guide = new_guide(till)
    before = till.table_counts()
    info = update_staff(till.uow, clerk=till.manager, staff_id=guide.id, name="导购乙",
                        role=Role.CASHIER)
    after = till.table_counts()
    assert (info.name, info.role) == ("导购乙", Role.CASHIER)
    assert after["events"] == before["events"] + 1
    assert after["audit_log"] == before["audit_log"] + 1
    assert last_event(till)[0] == "staff.updated"
    assert log_in(till, "5001", GUIDE_PIN).role is Role.CASHIER


def test_an_edit_that_changes_nothing_writes_nothing(till: Till) -> None:
    guide = new_guide(till)
    before = till.table_counts()
    update_staff(till.uow, clerk=till.manager, staff_id=guide.id, name="导购甲")
    assert till.table_counts() == before


def test_a_deactivated_colleague_cannot_log_in_until_reactivated(till: Till) -> None:
    guide = new_guide(till)
    set_staff_active(till.uow, clerk=till.manager, staff_id=guide.id, active=False)
    assert last_event(till)[0] == "staff.deactivated"
    with pytest.raises(LoginFailed):
        log_in(till, "5001", GUIDE_PIN)
    set_staff_active(till.uow, clerk=till.manager, staff_id=guide.id, active=True)
    assert last_event(till)[0] == "staff.reactivated"
    assert log_in(till, "5001", GUIDE_PIN).staff_id == guide.id


def test_a_clerk_logged_in_when_deactivated_is_refused_at_the_next_action(till: Till) -> None:
    guide = new_guide(till)
    logged_in = log_in(till, "5001", GUIDE_PIN)
    set_staff_active(till.uow, clerk=till.manager, staff_id=guide.id, active=False)
    before = till.table_counts()
    with pytest.raises(ClerkNoLongerActive):
        register_member(till.uow, phone=new_phone(), privacy_consent=True, clerk=logged_in)
    assert till.table_counts() == before


def test_a_manager_deactivated_while_logged_in_reveals_no_phone(till: Till) -> None:
    """Revealing a member's full phone writes only an audit row, no event: a manager
    deactivated (here, or at HQ and pulled by a headless sync the window never saw) must not
    go on reading members' personal data at a till still showing their session."""
    member = till.register()
    admin = till.clerks[Role.ADMIN]
    set_staff_active(till.uow, clerk=admin, staff_id=till.manager.staff_id or "", active=False)
    before = till.table_counts()
    with pytest.raises(ClerkNoLongerActive):
        reveal_personal_data(till.uow, clerk=till.manager, member_id=member.id)
    assert till.table_counts() == before


def test_a_clerk_logged_in_with_a_role_taken_away_is_refused_at_the_next_action(
    till: Till,
) -> None:
    demoted = create_staff(till.uow, clerk=till.clerks[Role.ADMIN], code="5002", name="店长乙",
                           role=Role.MANAGER, secret="864209")
    manager = log_in(till, "5002", "864209")
    update_staff(till.uow, clerk=till.clerks[Role.ADMIN], staff_id=demoted.id,
                 role=Role.CASHIER)
    before = till.table_counts()
    with pytest.raises(ClerkNoLongerActive):
        create_staff(till.uow, clerk=manager, code="5003", name="x", role=Role.GUIDE,
                     secret=GUIDE_PIN)
    assert till.table_counts() == before


def test_a_new_pin_replaces_the_old_and_lifts_the_lock(till: Till) -> None:
    guide = new_guide(till)
    for _ in range(till.uow.rules.staff.login_max_failures):
        with pytest.raises(Exception):  # noqa: B017 - wrong PINs, then the lock
            log_in(till, "5001", "000000-wrong")
    assert {r.code: r.locked for r in staff_roster(till.uow, clerk=till.manager)}["5001"]
    reset_staff_pin(till.uow, clerk=till.manager, staff_id=guide.id, secret="975312")
    assert not {r.code: r.locked for r in staff_roster(till.uow, clerk=till.manager)}["5001"]
    event_type, payload = last_event(till)
    assert event_type == "staff.pin_reset" and "$argon2id$" in payload and "975312" not in payload
    with pytest.raises(LoginFailed):
        log_in(till, "5001", GUIDE_PIN)
    assert log_in(till, "5001", "975312").staff_id == guide.id


def test_the_roster_shows_inactive_colleagues_too(till: Till) -> None:
    guide = new_guide(till)
    set_staff_active(till.uow, clerk=till.manager, staff_id=guide.id, active=False)
    rows = {r.code: r for r in staff_roster(till.uow, clerk=till.manager)}
    assert not rows["5001"].active and rows["5001"].holds_number
    assert rows["1201"].active and rows["1201"].role is Role.MANAGER
    assert len(rows) == len(Role) + 1


# --- who may -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CASHIER, Role.GUIDE])
def test_a_cashier_or_guide_may_not_manage_staff_and_nothing_changes(
    till: Till, role: Role,
) -> None:
    guide = new_guide(till)
    clerk = till.clerks[role]
    before = till.table_counts()
    for act in (
        lambda: update_staff(till.uow, clerk=clerk, staff_id=guide.id, name="x"),
        lambda: set_staff_active(till.uow, clerk=clerk, staff_id=guide.id, active=False),
        lambda: reset_staff_pin(till.uow, clerk=clerk, staff_id=guide.id, secret="975312"),
        lambda: staff_roster(till.uow, clerk=clerk),
    ):
        with pytest.raises(PermissionDenied):
            act()
    assert till.table_counts() == before


def test_a_manager_may_not_manage_administrators_or_make_managers(till: Till) -> None:
    admin = till.clerks[Role.ADMIN]
    guide = new_guide(till)
    before = till.table_counts()
    with pytest.raises(PermissionDenied):
        set_staff_active(till.uow, clerk=till.manager, staff_id=admin.staff_id or "",
                         active=False)
    with pytest.raises(PermissionDenied):
        reset_staff_pin(till.uow, clerk=till.manager, staff_id=admin.staff_id or "",
                        secret="975312")
    with pytest.raises(PermissionDenied):
        update_staff(till.uow, clerk=till.manager, staff_id=guide.id, role=Role.MANAGER)
    assert till.table_counts() == before


def test_an_administrator_may_deactivate_a_manager(till: Till) -> None:
    set_staff_active(till.uow, clerk=till.clerks[Role.ADMIN], staff_id=till.manager.staff_id
                     or "", active=False)
    with pytest.raises(LoginFailed):
        log_in(till, "1201", PINS[Role.MANAGER])


def test_nobody_deactivates_themselves_or_changes_their_own_role(till: Till) -> None:
    admin = till.clerks[Role.ADMIN]
    before = till.table_counts()
    with pytest.raises(OwnStaffRecord):
        set_staff_active(till.uow, clerk=admin, staff_id=admin.staff_id or "", active=False)
    with pytest.raises(OwnStaffRecord):
        update_staff(till.uow, clerk=admin, staff_id=admin.staff_id or "", role=Role.MANAGER)
    assert till.table_counts() == before


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("code", "12"), ("code", "123456789"), ("code", "12a4"), ("code", "１２３"),
    ("name", ""), ("name", "   "), ("name", "长" * 51),
    ("name", "甲\x1b[2J"), ("name", "甲\n乙"),  # a terminal's escape, a line break
])
def test_a_bad_number_or_name_is_refused_and_nothing_changes(
    till: Till, field: str, value: str,
) -> None:
    guide = new_guide(till)
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        update_staff(till.uow, clerk=till.manager, staff_id=guide.id, **{field: value})
    assert till.table_counts() == before


def test_a_taken_number_is_refused_even_a_deactivated_colleagues(till: Till) -> None:
    guide, other = new_guide(till), new_guide(till, "5002")
    set_staff_active(till.uow, clerk=till.manager, staff_id=other.id, active=False)
    before = till.table_counts()
    with pytest.raises(DuplicateStaff):
        update_staff(till.uow, clerk=till.manager, staff_id=guide.id, code="5002")
    assert till.table_counts() == before


def test_an_unknown_colleague_is_refused(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(UnknownStaff):
        update_staff(till.uow, clerk=till.manager, staff_id="no-such-id", name="x")
    with pytest.raises(UnknownStaff):
        set_staff_active(till.uow, clerk=till.manager, staff_id="no-such-id", active=False)
    with pytest.raises(UnknownStaff):
        reset_staff_pin(till.uow, clerk=till.manager, staff_id="no-such-id", secret="975312")
    assert till.table_counts() == before


def test_deactivating_twice_says_so(till: Till) -> None:
    guide = new_guide(till)
    set_staff_active(till.uow, clerk=till.manager, staff_id=guide.id, active=False)
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        set_staff_active(till.uow, clerk=till.manager, staff_id=guide.id, active=False)
    assert till.table_counts() == before


# --- one PIN policy where the risk is the same --------------------------------------------


@pytest.mark.parametrize("pin", ["112233", "123321", "121212", "147258", "520520"])
def test_a_manager_or_administrator_pin_is_held_to_the_member_pin_rules(
    till: Till, pin: str,
) -> None:
    before = till.table_counts()
    with pytest.raises(WeakApproverPin):
        create_staff(till.uow, clerk=till.clerks[Role.ADMIN], code="5003", name="店长",
                     role=Role.MANAGER, secret=pin)
    with pytest.raises(WeakApproverPin):
        reset_staff_pin(till.uow, clerk=till.clerks[Role.ADMIN],
                        staff_id=till.manager.staff_id or "", secret=pin)
    assert till.table_counts() == before


def test_a_cashier_keeps_the_staff_rule(till: Till) -> None:
    create_staff(till.uow, clerk=till.manager, code="5004", name="收银", role=Role.CASHIER,
                 secret="112233")
    with pytest.raises(WeakSecret):
        create_staff(till.uow, clerk=till.manager, code="5005", name="收银", role=Role.CASHIER,
                     secret="123456")


def test_a_manager_password_of_eight_or_more_is_accepted(till: Till) -> None:
    info = create_staff(till.uow, clerk=till.clerks[Role.ADMIN], code="5006", name="店长",
                        role=Role.MANAGER, secret="long enough")
    assert log_in(till, "5006", "long enough").staff_id == info.id


def test_an_existing_weak_manager_pin_keeps_working(till: Till) -> None:
    con = sqlite3.connect(till.path)
    try:
        con.execute("UPDATE staff SET secret_hash = ? WHERE id = ?",
                    (hash_secret("112233"), till.manager.staff_id))
        con.commit()
    finally:
        con.close()
    assert log_in(till, "1201", "112233").role is Role.MANAGER
