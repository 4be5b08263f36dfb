"""Pulled events a till cannot apply are held in quarantine, not lost (issue 13): the reason is
kept, an alert is raised, later events of the same member wait behind them, and an upgrade of the
till applies them in the server's order with the same end state as applying them in order."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pos_member.bootstrap import bootstrap
from pos_member.clock import FakeClock
from pos_member.db.engine import SCHEMA_HEAD, upgrade
from pos_member.events import EVENTS, SV_FROZEN, EventType
from pos_member.services import pulled_events as apply_module
from pos_member.services import quarantine, sales
from pos_member.services.alerts import open_flags
from pos_member.services.member_cards import find_member
from pos_member.services.pulled_events import apply_page
from pos_member.services.quarantine import held_count, held_events
from tests.factories import Till, as_changes, make_till, server_event, wire_events


@pytest.fixture
def b(tmp_path: Path, key: str) -> Till:
    """The store's second till (it holds the store's members in full)."""
    return make_till(tmp_path, store_number=1, device_number=2, data_key=key)


def apply(till: Till, events: list[dict[str, Any]], *, first: int = 1) -> None:
    assert till.app.identity is not None
    apply_page(till.uow, device_id=till.app.identity.device_id,
               changes=as_changes(events, first_position=first), cursor=first + len(events) - 1)


def sell(t: Till, member_id: str, fen: int, bill: str) -> None:
    sales.record_sale(t.uow, t.cashier, txn_id=str(uuid.uuid4()), bill_no=bill, amount_fen=fen,
                      member_id=member_id)


def applied_ids(t: Till) -> set[str]:
    con = sqlite3.connect(t.path)
    try:
        return {r[0] for r in con.execute("SELECT id FROM applied_events")}
    finally:
        con.close()


LEDGER = {
    "sales": "SELECT id, member_id, amount_fen, refunded_fen FROM sales ORDER BY id",
    "entries": "SELECT id, member_id, kind, points FROM points_entries ORDER BY id",
    "lots": "SELECT * FROM points_lots ORDER BY 1",
    "accounts": "SELECT * FROM points_accounts ORDER BY 1",
    "members": "SELECT id, tier, status FROM members ORDER BY id",
}


def ledger_state(t: Till) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(t.path)
    try:
        return {k: con.execute(q).fetchall() for k, q in LEDGER.items()}
    finally:
        con.close()


def upgrade_till(monkeypatch: pytest.MonkeyPatch) -> None:
    """What installing a newer version changes for the quarantine: the till version."""
    monkeypatch.setattr(quarantine, "__version__", "99.0.0")


def test_an_event_of_an_unknown_type_is_held_with_its_reason_not_recorded_as_applied(
    b: Till,
) -> None:
    ev = server_event("coupon.issued_in_2030", {"whatever": 1})
    apply(b, [ev])
    assert ev["id"] not in applied_ids(b)
    assert held_events(b.uow) == [(ev["id"], "coupon.issued_in_2030", 1,
                                   quarantine.UNKNOWN_TYPE)]


def test_holding_raises_one_alert_with_the_count_for_the_manager(b: Till) -> None:
    apply(b, [server_event("coupon.issued_in_2030", {"n": 1}),
              server_event("coupon.issued_in_2030", {"n": 2})])
    apply(b, [server_event("loyalty.new_thing", {})], first=3)
    flags = [f for f in open_flags(b.uow, clerk=b.manager) if f.kind == quarantine.FLAG_KIND]
    assert len(flags) == 1
    assert flags[0].detail["held"] == 3


def test_an_unreadable_event_holds_the_members_later_events_behind_it_but_not_others(
    a: Till, b: Till,
) -> None:
    held_member = a.register()
    other = a.register()
    registrations = wire_events(a)
    apply(b, registrations)
    sell(a, held_member.id, 10_000, "B1")
    sell(a, held_member.id, 5_000, "B2")
    sell(a, other.id, 3_000, "B3")
    first, second, third = wire_events(a)[len(registrations):]
    broken = {**first, "payload": {**first["payload"],
                                   "sale": {**first["payload"]["sale"], "business_day": "?"}}}
    apply(b, [broken, second, third], first=10)
    assert [(t, reason.split(":")[0]) for _, t, _, reason in held_events(b.uow)] == [
        ("sale.recorded", "cannot read"), ("sale.recorded", quarantine.WAITS)]
    assert third["id"] in applied_ids(b)
    assert {broken["id"], second["id"]}.isdisjoint(applied_ids(b))


def test_a_number_no_database_holds_is_held_and_the_pull_goes_on(
    a: Till, b: Till, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tampered till's 2**70 fails only at the write (OverflowError): it stopped the page,
    and so every later pull of every till of the store, for good."""
    from pos_member.services.stored_value import top_up

    held_member, other = a.register(), a.register()
    registrations = wire_events(a)
    apply(b, registrations)
    top_up(a.uow, clerk=a.cashier, member_id=held_member.id, amount_fen=10_000, txn_id="t1",
           method="cash")
    sell(a, other.id, 3_000, "B3")
    topped, sale = wire_events(a)[len(registrations):]
    huge = {**topped, "payload": {**topped["payload"], "principal_delta_fen": 2**70}}
    apply(b, [huge, sale], first=10)
    assert held_events(b.uow) == [(huge["id"], "sv.topped_up", 10, apply_module.TOO_LARGE)]
    assert sale["id"] in applied_ids(b)
    upgrade_till(monkeypatch)  # tried again when the till opens after an upgrade: held still
    assert apply_module.retry_held(b.uow, device_id=b.app.identity.device_id) == 0


def test_a_held_event_pulled_again_stays_held_once(b: Till) -> None:
    ev = server_event("coupon.issued_in_2030", {"n": 1})
    apply(b, [ev])
    apply(b, [ev], first=1)
    assert held_count(b.uow) == 1


def test_after_an_upgrade_held_events_apply_in_order_with_the_same_end_state(
    a: Till, b: Till, tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """B's version cannot read sale.recorded (as an older till could not read a newer payload);
    C can. After B is upgraded and pulls again, B's ledgers equal C's, who applied in order."""
    member = a.register()
    sell(a, member.id, 20_000, "B1")
    sell(a, member.id, 8_000, "B2")
    events = wire_events(a)
    c = make_till(tmp_path / "c", store_number=1, device_number=3, data_key=key)
    apply(c, events)

    def cannot_read(conn: Any, ev: Mapping[str, Any], payload: Any) -> bool:
        raise ValueError("payload version 2 of sale.recorded")

    with monkeypatch.context() as old:
        old.setitem(apply_module._LEDGERS, sales.SALE_RECORDED, cannot_read)
        apply(b, events)
        assert held_count(b.uow) == len([e for e in events if e["type"] == "sale.recorded"])
        assert ledger_state(b) != ledger_state(c)
        apply(b, [], first=len(events) + 1)  # the same version: nothing changes
        assert held_count(b.uow) == 2
    upgrade_till(monkeypatch)
    apply(b, [], first=len(events) + 1)
    assert held_count(b.uow) == 0
    assert ledger_state(b) == ledger_state(c)
    assert {e["id"] for e in events} <= applied_ids(b)
    assert not [f for f in open_flags(b.uow, clerk=b.manager)
                if f.kind == quarantine.FLAG_KIND]  # resolved by itself: nothing left


def test_a_held_event_still_unreadable_after_an_upgrade_keeps_its_followers_held(
    a: Till, b: Till, monkeypatch: pytest.MonkeyPatch,
) -> None:
    member = a.register()
    apply(b, wire_events(a))
    n = len(wire_events(a))
    apply(b, [server_event("points.bonus_2031", {"member_id": member.id}),
              server_event("member.balance_blocked", {"member_id": member.id,
                                                     "reason": "HQ check"})], first=n + 1)
    upgrade_till(monkeypatch)
    apply(b, [], first=n + 3)
    assert [t for _, t, _, _ in held_events(b.uow)] == ["points.bonus_2031",
                                                        "member.balance_blocked"]


def test_opening_an_upgraded_till_applies_what_it_held(
    a: Till, b: Till, monkeypatch: pytest.MonkeyPatch,
) -> None:
    member = a.register()
    with monkeypatch.context() as old:
        old.setitem(apply_module._TYPED, "member.registered", _raise)
        apply(b, wire_events(a))
    # the registration, and the welcome points and coupons behind it
    assert held_count(b.uow) == 4
    b.app.close()
    upgrade_till(monkeypatch)
    app = bootstrap(b.path, keystore=b.keystore, clock=FakeClock())
    try:
        assert held_count(app.uow) == 0
        assert find_member(app.uow, clerk=b.cashier, code=member.member_no).id == member.id
    finally:
        app.close()


def _raise(*args: Any) -> bool:
    raise KeyError("phone_index")


def test_migration_0009_adds_the_quarantine_to_a_till_of_schema_0008(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    upgrade(path, "0008")
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO applied_events VALUES ('e1', 7)")
    con.close()
    upgrade(path)
    con = sqlite3.connect(path)
    try:
        applied = con.execute("SELECT id, position FROM applied_events").fetchall()
        held = con.execute("SELECT count(*) FROM quarantined_events").fetchone()
        version = con.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        con.close()
    assert applied == [("e1", 7)]
    assert held == (0,)
    assert version == (SCHEMA_HEAD,)  # 0009 and every later revision


def test_a_payload_version_newer_than_the_declaration_is_held_until_an_upgrade_reads_it(
    a: Till, b: Till, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """payload_version is read (pos_member.events.decode): a newer till's v2 is not applied as
    if it were v1; the upgraded till, which declares v2 with an upcaster, applies it."""
    member = a.register()
    apply(b, wire_events(a))
    n = len(wire_events(a))
    frozen = {**server_event(SV_FROZEN.type, {"member_id": member.id, "reason": "lost card"}),
              "payload_version": 2}
    apply(b, [frozen], first=n + 1)
    [(_, _, _, reason)] = held_events(b.uow)
    assert "NewerEventVersion" in reason
    newer = EventType(SV_FROZEN.type, 2, SV_FROZEN.payload, {1: lambda d, _: d})
    monkeypatch.setitem(EVENTS, SV_FROZEN.type, newer)
    upgrade_till(monkeypatch)
    apply(b, [], first=n + 2)
    assert held_count(b.uow) == 0
    assert frozen["id"] in applied_ids(b)
