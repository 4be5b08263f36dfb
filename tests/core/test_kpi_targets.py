"""Recruitment targets: the monthly target, its daily and per-guide splits, the roster, hand
adjustments; bad input changes nothing; pulled events apply idempotently."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_member.errors import (
    InvalidMonth,
    InvalidTarget,
    NotAGuide,
    PermissionDenied,
    RosterEmpty,
    SplitDoesNotAddUp,
    SplitNotOnRoster,
)
from pos_member.permissions import Clerk, Role
from pos_member.services.pulled_events import apply_page
from pos_member.services.staff import create_staff
from pos_member.services.targets import (
    adjust_split,
    day_plan,
    parse_target,
    set_month_target,
    set_rosters,
)
from pos_member.targets_rules import daily_targets, guide_split, largest_remainder
from tests.factories import (
    Till,
    as_changes,
    make_till,
    new_data_key,
    server_event,
    wire_events,
)

WEIGHTS = (100, 100, 100, 100, 100, 150, 150)
NOV = "2026-11"  # 30 days: Sunday 1st; 9 weekend days, 21 weekdays


def add_guides(till: Till, n: int) -> list[Clerk]:
    system = till.app.identity.system_clerk()
    out = []
    for i in range(n):
        info = create_staff(till.uow, clerk=system, code=f"7{i:03d}", name=f"导购{i}",
                            role=Role.GUIDE, secret="246801")
        out.append(Clerk(info.id, info.name, Role.GUIDE, system.store_id, system.device_id))
    return out


def plan(till: Till, day: date):  # type: ignore[no-untyped-def]
    with till.uow.read() as s:
        return day_plan(s, store_id=till.manager.store_id, day=day, weights_percent=WEIGHTS)


# -- the arithmetic ------------------------------------------------------------------------------


def test_weekend_days_get_half_as_much_again_as_weekdays() -> None:
    per_day = daily_targets(2 * (21 * 100 + 9 * 150) // 50, NOV, WEIGHTS)  # 138
    assert per_day[date(2026, 11, 2)] * 3 == per_day[date(2026, 11, 1)] * 2  # Mon 4, Sun 6
    assert sum(per_day.values()) == 138


def test_the_leftover_goes_to_the_largest_remainders_earliest_first() -> None:
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(10, [1, 1, 1], first=2) == [3, 3, 4]
    assert largest_remainder(7, [100, 150]) == [3, 4]  # 2.8 and 4.2: the .8 gets the unit


@given(total=st.integers(0, 100_000),
       weights=st.lists(st.integers(0, 300), min_size=1, max_size=31).filter(lambda w: sum(w)))
def test_a_split_always_adds_up_and_each_part_is_within_one_of_its_quota(
        total: int, weights: list[int]) -> None:
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    for part, w in zip(parts, weights, strict=True):
        assert total * w // sum(weights) <= part <= total * w // sum(weights) + 1


@given(target=st.integers(0, 100_000), month=st.integers(1, 12))
def test_the_days_of_a_month_add_up_to_its_target(target: int, month: int) -> None:
    assert sum(daily_targets(target, f"2027-{month:02d}", WEIGHTS).values()) == target


def test_the_extra_registration_rotates_among_the_guides_from_day_to_day() -> None:
    ids = ["a", "b", "c"]
    carriers = {max(guide_split(4, ids, date(2026, 11, d)).items(), key=lambda kv: kv[1])[0]
                for d in range(1, 4)}
    assert carriers == {"a", "b", "c"}


@pytest.mark.parametrize("raw", [-1, "-3", "2.5", 2.0, "abc", "", True, 100_001])
def test_a_target_must_be_a_whole_number_in_range(raw: object) -> None:
    with pytest.raises(InvalidTarget):
        parse_target(raw)


def test_full_width_digits_are_a_target() -> None:
    assert parse_target("１２０") == 120


# -- the services --------------------------------------------------------------------------------


def test_the_manager_sets_the_month_target_with_an_event_and_an_audit_row(till: Till) -> None:
    before = till.table_counts()
    set_month_target(till.uow, clerk=till.manager, month=NOV, target="138")
    after = till.table_counts()
    assert after["kpi_month_targets"] == before["kpi_month_targets"] + 1
    assert after["events"] == before["events"] + 1
    assert after["audit_log"] == before["audit_log"] + 1
    assert plan(till, date(2026, 11, 1)).day_target == 6


@pytest.mark.parametrize("raw", [-5, "12.5", "十"])
def test_a_bad_target_changes_nothing(till: Till, raw: object) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidTarget):
        set_month_target(till.uow, clerk=till.manager, month=NOV, target=raw)
    assert till.table_counts() == before


def test_a_bad_month_changes_nothing(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidMonth):
        set_month_target(till.uow, clerk=till.manager, month="2026-13", target=10)
    assert till.table_counts() == before


def test_a_guide_cannot_set_the_target(till: Till) -> None:
    with pytest.raises(PermissionDenied):
        set_month_target(till.uow, clerk=till.guide, month=NOV, target=10)


def test_the_day_is_split_over_the_guides_on_the_roster(till: Till) -> None:
    g = add_guides(till, 3)
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=138)
    set_rosters(till.uow, clerk=till.manager,
                rosters={date(2026, 11, 1): [g[0].staff_id, g[2].staff_id]})
    p = plan(till, date(2026, 11, 1))
    assert p.roster_entered and set(p.split) == {g[0].staff_id, g[2].staff_id}
    assert sorted(p.split.values()) == [3, 3]


def test_without_a_roster_every_active_guide_counts_as_on_shift(till: Till) -> None:
    add_guides(till, 2)
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=138)
    p = plan(till, date(2026, 11, 1))
    assert not p.roster_entered and len(p.roster) == 3  # the factory's guide too
    assert sum(p.split.values()) == 6


def test_a_roster_with_nobody_on_a_day_with_a_target_is_refused(till: Till) -> None:
    g = add_guides(till, 1)
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=138)
    before = till.table_counts()
    with pytest.raises(RosterEmpty):
        set_rosters(till.uow, clerk=till.manager, rosters={
            date(2026, 11, 2): [g[0].staff_id], date(2026, 11, 3): []})
    assert till.table_counts() == before


def test_nobody_on_shift_is_fine_on_a_day_without_a_target(till: Till) -> None:
    set_rosters(till.uow, clerk=till.manager, rosters={date(2026, 11, 3): []})
    assert plan(till, date(2026, 11, 3)).roster == ()


def test_only_guides_can_be_on_the_roster(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(NotAGuide):
        set_rosters(till.uow, clerk=till.manager,
                    rosters={date(2026, 11, 3): [till.cashier.staff_id]})
    assert till.table_counts() == before


def test_the_manager_adjusts_a_day_s_split_by_hand(till: Till) -> None:
    g = add_guides(till, 2)
    day = date(2026, 11, 1)
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=138)
    set_rosters(till.uow, clerk=till.manager, rosters={day: [g[0].staff_id, g[1].staff_id]})
    audits = till.table_counts()["audit_log"]
    adjust_split(till.uow, clerk=till.manager, day=day,
                 targets={g[0].staff_id: 5, g[1].staff_id: "1"})
    p = plan(till, day)
    assert p.adjusted and p.split == {g[0].staff_id: 5, g[1].staff_id: 1}
    assert till.table_counts()["audit_log"] == audits + 1


def test_an_adjustment_that_breaks_the_total_changes_nothing(till: Till) -> None:
    g = add_guides(till, 2)
    day = date(2026, 11, 1)
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=138)
    set_rosters(till.uow, clerk=till.manager, rosters={day: [g[0].staff_id, g[1].staff_id]})
    before = till.table_counts()
    with pytest.raises(SplitDoesNotAddUp):
        adjust_split(till.uow, clerk=till.manager, day=day,
                     targets={g[0].staff_id: 5, g[1].staff_id: 5})
    with pytest.raises(SplitNotOnRoster):
        adjust_split(till.uow, clerk=till.manager, day=day, targets={g[0].staff_id: 6})
    with pytest.raises(InvalidTarget):
        adjust_split(till.uow, clerk=till.manager, day=day,
                     targets={g[0].staff_id: 7, g[1].staff_id: -1})
    assert till.table_counts() == before


def test_a_new_month_target_falls_back_to_the_computed_split(till: Till) -> None:
    g = add_guides(till, 1)
    day = date(2026, 11, 1)
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=138)
    set_rosters(till.uow, clerk=till.manager, rosters={day: [g[0].staff_id]})
    adjust_split(till.uow, clerk=till.manager, day=day, targets={g[0].staff_id: 6})
    set_month_target(till.uow, clerk=till.manager, month=NOV, target=276)
    p = plan(till, day)
    assert not p.adjusted and p.split == {g[0].staff_id: 12}


# -- sync ------------------------------------------------------------------------------------------


def test_targets_rosters_and_adjustments_reach_the_store_s_other_till(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key)
    b = make_till(tmp_path, device_number=2, data_key=key)
    day = date(2026, 11, 1)
    guide = a.guide.staff_id
    set_month_target(a.uow, clerk=a.manager, month=NOV, target=138)
    set_rosters(a.uow, clerk=a.manager, rosters={day: [guide]})
    adjust_split(a.uow, clerk=a.manager, day=day, targets={guide: 6})
    page = as_changes(wire_events(a))
    for _ in range(2):  # applying a page again changes nothing
        apply_page(b.uow, device_id=b.app.identity.device_id, changes=page, cursor=len(page))
    with b.uow.read() as s:
        p = day_plan(s, store_id=a.manager.store_id, day=day, weights_percent=WEIGHTS)
    assert (p.month_target, p.roster, p.split, p.adjusted) == (138, (guide,), {guide: 6}, True)


def test_an_older_pulled_target_does_not_overwrite_a_newer_one(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key)
    b = make_till(tmp_path, device_number=2, data_key=key)
    set_month_target(a.uow, clerk=a.manager, month=NOV, target=100)
    a.clock.advance(minutes=5)
    set_month_target(a.uow, clerk=a.manager, month=NOV, target=200)  # later: wins
    page = as_changes(list(reversed(wire_events(a))))  # the newer one arrives first
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=page, cursor=len(page))
    with b.uow.read() as s:
        p = day_plan(s, store_id=a.manager.store_id, day=date(2026, 11, 2),
                     weights_percent=WEIGHTS)
    assert p.month_target == 200


def test_a_pulled_till_event_naming_another_store_is_ignored_not_applied_there(
        tmp_path: Path) -> None:
    """Store 1's till cannot set store 2's target, roster or split on store 2's tills (a till
    pulling the whole chain); HQ's own target for store 2 still applies (docs/rules.md,
    "Store-scoped events")."""
    key = new_data_key()
    a = make_till(tmp_path, data_key=key)  # store 1
    b = make_till(tmp_path, store_number=2, data_key=key)
    day = date(2026, 11, 1)
    set_month_target(a.uow, clerk=a.manager, month=NOV, target=138)
    set_rosters(a.uow, clerk=a.manager, rosters={day: [a.guide.staff_id]})
    adjust_split(a.uow, clerk=a.manager, day=day, targets={a.guide.staff_id: 6})
    store_2 = b.manager.store_id
    forged = [e | {"payload": e["payload"] | {"store_id": store_2}} for e in wire_events(a)
              if e["type"].startswith("kpi.")]
    assert len(forged) == 3
    result = apply_page(b.uow, device_id=b.app.identity.device_id, changes=as_changes(forged),
                        cursor=len(forged))
    assert (result.applied, result.ignored, result.held) == (0, 3, 0)
    p = plan(b, day)
    assert (p.month_target, p.adjusted) == (None, False)
    hq = server_event("kpi.target_set", {"store_id": store_2, "month": NOV, "target": 60})
    apply_page(b.uow, device_id=b.app.identity.device_id,
               changes=as_changes([hq], first_position=4), cursor=4)
    assert plan(b, day).month_target == 60
