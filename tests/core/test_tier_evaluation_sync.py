"""The quarterly tier evaluation on a till that syncs waits until it has synced in the period:
a downgrade decided without the member's purchases at other stores would be wrong, and it is
not taken back when those arrive."""

from __future__ import annotations

import uuid
from pathlib import Path

from pos_member.services import sales, tiers
from pos_member.services.outbox import SERVER_URL, put_setting, set_last_sync_at
from pos_member.services.pulled_events import apply_page
from tests.factories import Till, as_changes, make_till, new_data_key, wire_events


def _txn() -> str:
    return str(uuid.uuid4())


def _pull(into: Till, src: Till, first_position: int = 1) -> None:
    changes = as_changes(wire_events(src), first_position=first_position)
    apply_page(into.uow, device_id=into.app.identity.device_id, changes=changes,
               cursor=first_position + len(changes) - 1)


def _enrol(till: Till) -> None:
    with till.uow.begin() as tx:
        put_setting(tx.session, SERVER_URL, "http://hq.example")
        tx.commit()


def _silver_member_with_a_purchase_elsewhere(tmp_path: Path) -> tuple[Till, Till, str]:
    """Store 1 made the member silver 370 days ago; store 2 sold them ¥5,000 70 days ago,
    which store 1 has not pulled yet."""
    key = new_data_key()
    one = make_till(tmp_path, data_key=key, store_number=1)
    two = make_till(tmp_path, data_key=key, store_number=2)
    member = one.register()
    first = sales.record_sale(one.uow, one.cashier, txn_id=_txn(), bill_no="A1",
                              amount_fen=500_000, member_id=member.id)
    assert first.tier_after == "silver"
    _pull(two, one)
    for t in (one, two):
        t.clock.advance(days=300)
    sales.record_sale(two.uow, two.cashier, txn_id=_txn(), bill_no="C1", amount_fen=500_000,
                      member_id=member.id)
    for t in (one, two):
        t.clock.advance(days=70)
    return one, two, member.id


def test_an_enrolled_till_waits_for_a_sync_in_the_period_before_evaluating(tmp_path: Path
                                                                           ) -> None:
    one, _, member_id = _silver_member_with_a_purchase_elsewhere(tmp_path)
    _enrol(one)
    set_last_sync_at(one.uow, at=one.clock.now().replace(year=one.clock.now().year - 1))

    run = tiers.evaluate_tiers(one.uow, clerk=one.cashier)

    assert run.waiting_for_sync and not run.ran
    assert tiers.tier_standing(one.uow, member_id=member_id).tier == "silver"


def test_after_the_sync_the_evaluation_sees_the_purchases_at_other_stores(tmp_path: Path
                                                                          ) -> None:
    one, two, member_id = _silver_member_with_a_purchase_elsewhere(tmp_path)
    _enrol(one)
    _pull(one, two)
    set_last_sync_at(one.uow, at=one.clock.now())

    run = tiers.evaluate_tiers(one.uow, clerk=one.cashier)

    assert run.ran and run.downgraded == 0
    assert tiers.tier_standing(one.uow, member_id=member_id).tier == "silver"


def test_a_till_on_its_own_evaluates_at_once(tmp_path: Path) -> None:
    one, _, member_id = _silver_member_with_a_purchase_elsewhere(tmp_path)

    run = tiers.evaluate_tiers(one.uow, clerk=one.cashier)

    # It knows only its own sale, 370 days ago: nothing holds the member in silver.
    assert run.ran and run.downgraded == 1
    assert tiers.tier_standing(one.uow, member_id=member_id).tier == "regular"
