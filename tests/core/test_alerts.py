from __future__ import annotations

import pytest

from pos_member.errors import InvalidInput, PermissionDenied, RegistrationRateLimited
from pos_member.services.alerts import FlagView, open_flags, resolve_flag
from pos_member.services.members import BURST_FLAG
from tests.factories import Till


def raise_burst_flag(till: Till) -> FlagView:
    for _ in range(till.uow.rules.registration.rate_limit_count):
        till.register()
    with pytest.raises(RegistrationRateLimited):
        till.register()
    (flag,) = open_flags(till.uow, clerk=till.manager)
    return flag


def test_a_registration_burst_shows_as_an_open_flag_for_the_manager(till: Till) -> None:
    flag = raise_burst_flag(till)
    assert flag.kind == BURST_FLAG
    assert flag.raised_at == till.clock.now()
    assert flag.detail["registrations"] == 30
    assert flag.detail["clerk_id"] == till.cashier.staff_id


def test_no_flags_are_open_on_a_quiet_till(till: Till) -> None:
    till.register()
    assert open_flags(till.uow, clerk=till.manager) == []


@pytest.mark.parametrize("role", ["cashier", "guide"])
def test_only_managers_may_review_flags(till: Till, role: str) -> None:
    clerk = till.cashier if role == "cashier" else till.guide
    with pytest.raises(PermissionDenied):
        open_flags(till.uow, clerk=clerk)


def test_a_cashier_may_not_resolve_a_flag_and_nothing_changes(till: Till) -> None:
    flag = raise_burst_flag(till)
    before = till.table_counts()
    with pytest.raises(PermissionDenied):
        resolve_flag(till.uow, clerk=till.cashier, flag_id=flag.id, note="ok")
    assert till.table_counts() == before


def test_resolving_a_flag_closes_it_with_an_event_and_an_audit_entry(till: Till) -> None:
    flag = raise_burst_flag(till)
    before = till.table_counts()
    resolve_flag(till.uow, clerk=till.manager, flag_id=flag.id, note="开业活动，已核实")
    after = till.table_counts()
    assert open_flags(till.uow, clerk=till.manager) == []
    assert (after["events"], after["audit_log"]) == (before["events"] + 1,
                                                     before["audit_log"] + 1)


def test_resolving_needs_a_note_and_changes_nothing_without_one(till: Till) -> None:
    flag = raise_burst_flag(till)
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        resolve_flag(till.uow, clerk=till.manager, flag_id=flag.id, note="   ")
    assert till.table_counts() == before


def test_a_flag_cannot_be_resolved_twice(till: Till) -> None:
    flag = raise_burst_flag(till)
    resolve_flag(till.uow, clerk=till.manager, flag_id=flag.id, note="checked")
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        resolve_flag(till.uow, clerk=till.manager, flag_id=flag.id, note="again")
    assert till.table_counts() == before


def test_an_unknown_flag_cannot_be_resolved(till: Till) -> None:
    with pytest.raises(InvalidInput):
        resolve_flag(till.uow, clerk=till.manager, flag_id="nope", note="x")
