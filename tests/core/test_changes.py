"""What changed: an operation's result and a pulled page each say which members and areas
they touched (pos_member.changes)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pos_member import events as E
from pos_member.changes import NOTHING, Area, Changes, changes_of_event
from pos_member.clock import FakeClock
from pos_member.services.pulled_events import apply_page
from pos_member.services.sale_refunds import refund_sale
from pos_member.services.sales import record_sale
from tests.factories import Till, as_changes, make_till, new_data_key, wire_events


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Till, Till]:
    key, clock = new_data_key(), FakeClock()
    clock.advance(minutes=1)
    return (make_till(tmp_path, store_number=1, data_key=key),
            make_till(tmp_path, clock=clock, store_number=2, data_key=key))


def test_changes_add_up_and_answer_what_they_touch() -> None:
    sold = Changes.of(Area.SALES, Area.POINTS, members=("m1", None))
    both = sold | Changes.of(Area.STORED_VALUE, members=("m2",))
    assert both.members == {"m1", "m2"} and both.touches(Area.STORED_VALUE)
    assert both.touches_member("m1") and not both.touches_member(None)
    assert not NOTHING and not NOTHING.touches(Area.SALES) and sold


def test_an_event_names_its_areas_and_members() -> None:
    assert changes_of_event(E.MEMBER_MERGED.type, {
        "winner_member_id": "w", "loser_member_id": "l", "winner_member_no": "1"}) == Changes(
        frozenset({"w", "l"}), frozenset({Area.MEMBERS, Area.POINTS, Area.STORED_VALUE}))
    assert changes_of_event(E.SALE_RECORDED.type, {"member_id": None}) == Changes.of(
        Area.SALES, Area.POINTS)
    assert changes_of_event("coupon.invented_later", {"member_id": "m"}) == Changes.of(
        members=("m",))


def test_a_sale_and_its_refund_say_whose_points_they_moved(pair: tuple[Till, Till]) -> None:
    a, _ = pair
    card = a.register()
    sale = record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B1",
                       amount_fen=10_000, member_id=card.id)
    assert sale.changes == Changes.of(Area.SALES, Area.POINTS, members=(card.id,))
    refund = refund_sale(a.uow, a.cashier, approver=a.manager,
                         txn_id=str(uuid.uuid4()), bill_no="B1")
    assert refund.changes == Changes.of(Area.SALES, Area.POINTS, members=(card.id,))


def test_a_pulled_page_says_which_members_and_areas_it_touched(pair: tuple[Till, Till]) -> None:
    a, b = pair
    card = a.register()
    record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B1", amount_fen=10_000,
                member_id=card.id)
    events = wire_events(a)
    assert b.app.identity is not None
    page = apply_page(b.uow, device_id=b.app.identity.device_id, changes=as_changes(events),
                      cursor=len(events))
    assert card.id in page.changes.members
    assert page.changes.touches(Area.MEMBERS) and page.changes.touches(Area.SALES)
    again = apply_page(b.uow, device_id=b.app.identity.device_id, changes=as_changes(events),
                       cursor=len(events))
    assert again.changes == NOTHING  # repeats change nothing


def test_held_events_applied_after_an_upgrade_say_what_they_changed(
        pair: tuple[Till, Till], monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_member.services import pulled_events as apply_module
    from pos_member.services import quarantine

    a, b = pair
    assert b.app.identity is not None
    card = a.register()
    record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B1", amount_fen=10_000,
                member_id=card.id)
    events = wire_events(a)

    def cannot_read(conn: object, ev: object, payload: object) -> bool:
        raise ValueError("payload version 2 of sale.recorded")

    with monkeypatch.context() as old:
        old.setitem(apply_module._LEDGERS, E.SALE_RECORDED.type, cannot_read)
        first = apply_page(b.uow, device_id=b.app.identity.device_id,
                           changes=as_changes(events), cursor=len(events))
    assert first.held == 1 and not first.changes.touches(Area.SALES)
    monkeypatch.setattr(quarantine, "__version__", "99.0.0")  # the till was upgraded
    later = apply_page(b.uow, device_id=b.app.identity.device_id, changes=[],
                       cursor=len(events))
    assert later.changes == Changes.of(Area.SALES, Area.POINTS, members=(card.id,))
