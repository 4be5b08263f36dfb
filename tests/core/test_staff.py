from __future__ import annotations

import sqlite3
from datetime import UTC, timedelta

import pytest

from pos_member.errors import (
    DuplicateStaff,
    InvalidInput,
    LoginFailed,
    LoginLocked,
    PermissionDenied,
    WeakSecret,
)
from pos_member.permissions import Action, Clerk, Role
from pos_member.pin_policy import check_staff_secret as check_secret_strength
from pos_member.services.staff import (
    StaffInfo,
    approve,
    create_staff,
    list_staff,
    login,
)
from tests.factories import PINS, Till

PIN = "280514"


def new_staff(till: Till, *, code: str = "5001", role: Role = Role.CASHIER,
              secret: str = PIN) -> StaffInfo:
    return create_staff(till.uow, clerk=till.manager, code=code, name="新员工", role=role,
                        secret=secret)


def log_in(till: Till, code: str, secret: str) -> Clerk:
    return login(till.uow, code=code, secret=secret, device_id=till.cashier.device_id)


def events_of_type(till: Till, type_: str) -> int:
    con = sqlite3.connect(till.path)
    try:
        return con.execute("SELECT count(*) FROM events WHERE type = ?", (type_,)).fetchone()[0]
    finally:
        con.close()


def fail_logins(till: Till, code: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(LoginFailed):
            log_in(till, code, "000000-wrong")


# --- PIN and password strength -----------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    ["111111", "000000", "123456", "654321", "345678", "12345", "1234567", "", "abc",
     "pass123"],
)
def test_weak_pins_and_short_passwords_are_refused(secret: str) -> None:
    with pytest.raises(WeakSecret):
        check_secret_strength(secret)


@pytest.mark.parametrize("secret", ["135790", "280514", "112233", "correct horse", "Tr0ub4dor"])
def test_strong_pins_and_passwords_are_accepted(secret: str) -> None:
    check_secret_strength(secret)


@pytest.mark.parametrize("secret", ["111111", "123456", "12345", "short"])
def test_create_staff_refuses_a_weak_secret_and_changes_nothing(till: Till, secret: str) -> None:
    before = till.table_counts()
    with pytest.raises(WeakSecret):
        new_staff(till, secret=secret)
    assert till.table_counts() == before


# --- creating staff ----------------------------------------------------------------------


def test_a_manager_creates_a_cashier_with_an_event_and_an_audit_entry(till: Till) -> None:
    before = till.table_counts()
    info = new_staff(till)
    after = till.table_counts()
    assert info.role is Role.CASHIER and info.active
    assert after["staff"] == before["staff"] + 1
    assert after["events"] == before["events"] + 1
    assert after["audit_log"] == before["audit_log"] + 1
    assert events_of_type(till, "staff.created") == len(Role) + 1


def test_the_secret_is_stored_only_as_an_argon2id_hash(till: Till) -> None:
    info = new_staff(till)
    con = sqlite3.connect(till.path)
    try:
        (stored,) = con.execute("SELECT secret_hash FROM staff WHERE id = ?",
                                (info.id,)).fetchone()
    finally:
        con.close()
    assert stored.startswith("$argon2id$")
    assert PIN not in stored


def test_a_cashier_may_not_create_staff_and_nothing_changes(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(PermissionDenied):
        create_staff(till.uow, clerk=till.cashier, code="5002", name="x", role=Role.CASHIER,
                     secret=PIN)
    assert till.table_counts() == before


def test_a_guide_may_not_create_staff(till: Till) -> None:
    with pytest.raises(PermissionDenied):
        create_staff(till.uow, clerk=till.guide, code="5002", name="x", role=Role.GUIDE,
                     secret=PIN)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_a_manager_may_not_create_managers_or_admins(till: Till, role: Role) -> None:
    before = till.table_counts()
    with pytest.raises(PermissionDenied):
        new_staff(till, role=role)
    assert till.table_counts() == before


def test_an_admin_may_create_a_manager(till: Till) -> None:
    info = create_staff(till.uow, clerk=till.clerks[Role.ADMIN], code="5003", name="店长",
                        role=Role.MANAGER, secret=PIN)
    assert info.role is Role.MANAGER


def test_a_taken_staff_number_is_refused_and_nothing_changes(till: Till) -> None:
    new_staff(till, code="5004")
    before = till.table_counts()
    with pytest.raises(DuplicateStaff):
        new_staff(till, code="5004")
    assert till.table_counts() == before


@pytest.mark.parametrize("code", ["12", "123456789", "12a4", ""])
def test_a_staff_number_is_3_to_8_digits(till: Till, code: str) -> None:
    with pytest.raises(InvalidInput):
        new_staff(till, code=code)


def test_list_staff_filters_by_role(till: Till) -> None:
    new_staff(till, code="5005", role=Role.GUIDE)
    assert {s.code for s in list_staff(till.uow, role=Role.GUIDE)} >= {"5005"}
    assert all(s.role is Role.GUIDE for s in list_staff(till.uow, role=Role.GUIDE))


# --- logging in --------------------------------------------------------------------------


def test_login_with_the_right_pin_returns_the_clerk(till: Till) -> None:
    info = new_staff(till)
    clerk = log_in(till, info.code, PIN)
    assert (clerk.staff_id, clerk.role) == (info.id, Role.CASHIER)
    assert clerk.store_id == till.cashier.store_id


def test_login_with_a_password_works_too(till: Till) -> None:
    info = new_staff(till, secret="correct horse")
    assert log_in(till, info.code, "correct horse").staff_id == info.id


def test_login_with_a_wrong_pin_fails(till: Till) -> None:
    info = new_staff(till)
    with pytest.raises(LoginFailed):
        log_in(till, info.code, "975310")


def test_login_with_an_unknown_staff_number_fails_and_changes_nothing(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(LoginFailed):
        log_in(till, "7777", PIN)
    assert till.table_counts() == before


def test_a_wrong_pin_is_audited(till: Till) -> None:
    info = new_staff(till)
    before = till.table_counts()
    fail_logins(till, info.code, 1)
    assert till.table_counts()["audit_log"] == before["audit_log"] + 1


def test_login_locks_after_the_rules_number_of_failures(till: Till) -> None:
    info = new_staff(till)
    tries = till.uow.rules.staff.login_max_failures
    fail_logins(till, info.code, tries - 1)
    with pytest.raises(LoginLocked):
        log_in(till, info.code, "000000-wrong")


def test_the_lock_writes_one_staff_locked_event(till: Till) -> None:
    info = new_staff(till)
    fail_logins(till, info.code, till.uow.rules.staff.login_max_failures - 1)
    with pytest.raises(LoginLocked):
        log_in(till, info.code, "000000-wrong")
    assert events_of_type(till, "staff.locked") == 1


def test_a_locked_login_refuses_even_the_right_pin(till: Till) -> None:
    info = new_staff(till)
    fail_logins(till, info.code, till.uow.rules.staff.login_max_failures - 1)
    with pytest.raises(LoginLocked):
        log_in(till, info.code, "000000-wrong")
    till.clock.advance(minutes=till.uow.rules.staff.login_lock_minutes - 1)
    with pytest.raises(LoginLocked):
        log_in(till, info.code, PIN)


def test_a_lock_ending_on_another_day_says_that_day(till: Till) -> None:
    """Locked at 23:50 store time, a 30-minute lock ends after midnight: the message gives the
    date, not an "00:20" that reads as earlier today (docs/rules.md, "Store time")."""
    info = new_staff(till)
    local = till.clock.local().replace(hour=23, minute=50)
    till.clock.set(local.astimezone(UTC))
    fail_logins(till, info.code, till.uow.rules.staff.login_max_failures - 1)
    with pytest.raises(LoginLocked) as e:
        log_in(till, info.code, "000000-wrong")
    end = local + timedelta(minutes=till.uow.rules.staff.login_lock_minutes)
    assert end.date() != local.date()
    assert e.value.params["until"] == end.strftime("%Y-%m-%d %H:%M")
    till.clock.set(local.replace(hour=9).astimezone(UTC))  # a lock ending today: the time only
    other = new_staff(till, code="8889")
    fail_logins(till, other.code, till.uow.rules.staff.login_max_failures - 1)
    with pytest.raises(LoginLocked) as e:
        log_in(till, other.code, "000000-wrong")
    assert e.value.params["until"] == (local.replace(hour=9) + timedelta(
        minutes=till.uow.rules.staff.login_lock_minutes)).strftime("%H:%M")


def test_a_locked_managers_approval_says_locked_not_wrong_pin(till: Till) -> None:
    """A manager whose login locked (wrong PINs typed for an approval, or at the login) types
    the right PIN for an approval: told the login is locked until when, not "wrong number or
    PIN" — they would try again and again."""
    code = f"1{list(Role).index(Role.MANAGER)}01"  # tests.factories.make_till's numbering
    fail_logins(till, code, till.uow.rules.staff.login_max_failures - 1)
    with pytest.raises(LoginLocked):
        log_in(till, code, "000000-wrong")
    with pytest.raises(LoginLocked):
        approve(till.uow, code=code, pin=PINS[Role.MANAGER], device_id=till.cashier.device_id,
                action=Action.REFUND_SALE)


def test_the_lock_lifts_after_the_lock_time(till: Till) -> None:
    info = new_staff(till)
    fail_logins(till, info.code, till.uow.rules.staff.login_max_failures - 1)
    with pytest.raises(LoginLocked):
        log_in(till, info.code, "000000-wrong")
    till.clock.advance(minutes=16)
    assert log_in(till, info.code, PIN).staff_id == info.id


def test_a_good_login_resets_the_failure_count(till: Till) -> None:
    info = new_staff(till)
    tries = till.uow.rules.staff.login_max_failures
    fail_logins(till, info.code, tries - 1)
    log_in(till, info.code, PIN)
    fail_logins(till, info.code, tries - 1)  # would have locked without the reset
    assert log_in(till, info.code, PIN).staff_id == info.id
