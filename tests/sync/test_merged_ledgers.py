"""A merged loser's points and stored value that reach a till after the merge (found by the
two-store state machine): store 1 registers a phone and syncs; store 2, offline, had registered
the same phone earlier; store 1 rings up a sale for its member (points earned and redeemed) and
tops it up; store 2 syncs (its registration wins: the merge) before store 1 pushes the sale. At
store 2 the sale's points then arrive for a member merged away there already: they must go to
the winner, as the stored value does. Store 1 is the home of both (its registration of the
phone reached HQ first), so it ends with HQ's chain-wide balances.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from pos_member.db.models import Member, Sale
from pos_member.services import member_directory
from tests.factories import new_phone
from tests.sync import harness
from tests.sync.harness import Central, Till, enrolled_till, points_and_balances


def test_a_losers_sale_pulled_after_the_merge_goes_to_the_winner(
    tills: tuple[Till, Till], central: Central,
) -> None:
    one, two = tills
    phone = new_phone()
    winner = harness.new_customer(two.app, two.clerk, two.clock, phone)  # earlier, offline
    one.clock.advance(minutes=1)
    loser = harness.new_customer(one.app, one.clerk, one.clock, phone)
    one.sync()  # the server has only store 1's registration: no merge yet
    bill = harness.sale(one.app, one.clerk, loser, 12_000, redeem=100)
    harness.top_up(one.app, one.clerk, loser)
    two.sync()  # store 2's earlier registration wins: merged, and applied at store 2
    with two.app.uow.read() as s:  # held in full here: it shares a phone with a member here
        assert s.scalar(select(Member.status).where(Member.id == loser.member_id)) == "merged"
        found = member_directory.by_id(s.connection(), loser.member_id)
        assert found is not None and found.status == "merged"
    one.sync()  # the sale and the top-up for the loser reach the server after the merge
    two.sync()  # ... and store 2 after the merge
    one.sync()

    # One home for one phone: store 1's, whose registration reached HQ first. Store 1 holds
    # the whole history and HQ's chain-wide figures; nothing is left on the loser anywhere.
    central.assert_home_agrees(one)
    central.assert_home_agrees(two)
    assert set(points_and_balances(one.app)) == {winner.member_id}
    assert loser.member_id not in points_and_balances(two.app)
    with one.app.uow.read() as s:  # its sale: store 1's (store 2 does not hold it)
        assert s.scalar(select(Sale.member_id).where(Sale.bill_no == bill)) == winner.member_id
    central.assert_consistent(one, two)
    central.assert_till_agrees(one)
    central.assert_till_agrees(two)


def test_a_losers_top_up_pulled_after_composed_merges_goes_to_the_last_winner(
    tmp_path: Path, tills: tuple[Till, Till], central: Central,
) -> None:
    """Three registrations of one phone: A (store 1) merged into B (store 2), then B into C (a
    second till of store 1, registered earliest). A top-up for A pushed after both merges
    must reach C at every till (``member_aliases`` still names B for A)."""
    from sync.engine import push_all

    one, two = tills
    three = enrolled_till(central, tmp_path / "three.sqlite", 1)
    try:
        phone = new_phone()
        c = harness.new_customer(three.app, three.clerk, three.clock, phone)  # earliest
        two.clock.advance(minutes=1)
        b = harness.new_customer(two.app, two.clerk, two.clock, phone)
        one.clock.advance(minutes=2)
        a = harness.new_customer(one.app, one.clerk, one.clock, phone)
        two.sync()  # B stored
        with one.client() as client:
            push_all(one.app, client)  # A stored after B: A→B; store 1 has not pulled it
        harness.top_up(one.app, one.clerk, a)  # A still active at store 1
        three.sync()  # C stored: B→C
        for t in (one, two, three, one, two):
            t.sync()
        both = [points_and_balances(t.app) for t in (one, two, three)]
        assert both[0] == both[2]  # store 1's two tills; C is store 1's member
        assert set(both[0]) == {c.member_id}, (a.member_id, b.member_id, c.member_id)
        assert not set(both[1]) & {a.member_id, b.member_id}
        for t in (one, two, three):
            central.assert_home_agrees(t)
        central.assert_consistent(one, two, three)
        for t in (one, two, three):
            central.assert_till_agrees(t)
    finally:
        three.close()


def test_the_winner_uses_the_losers_coupon_at_either_store_after_the_merge(
    tills: tuple[Till, Till], central: Central,
) -> None:
    """One phone registered at two stores: the coupons of the record merged away (here its
    welcome coupon, issued at store 1) are the winner's, at the store that issued them and at
    the other one, which asks HQ (docs/rules.md, "Coupons after a merge")."""
    from pos_member.coupon_code import code_of
    from pos_member.services import coupons
    from pos_member.services.checkout import Tender, checkout

    one, two = tills
    phone = new_phone()
    winner = harness.new_customer(two.app, two.clerk, two.clock, phone)  # earlier, offline
    one.clock.advance(minutes=1)
    loser = harness.new_customer(one.app, one.clerk, one.clock, phone)
    [key] = [c.key for c in coupons.usable(one.app.uow, member_id=loser.member_id)
             if c.name == "新人满100减20"]
    one.sync()
    two.sync()  # the merge: store 2's registration wins
    one.sync()
    code = "CP1:" + code_of(one.app.uow.cipher, key)
    assert key in {c.key for c in coupons.usable(one.app.uow, member_id=winner.member_id)}
    with two.client() as hq:
        from sync.server.coupons import usable_of

        listed = central.query(lambda c: usable_of(c, winner.member_id, now=two.clock.now()))
        assert [(c.coupon["key"], c.coupon["member_id"]) for c in listed
                if c.coupon["key"] == key] == [(key, winner.member_id)]  # a lookup's list
        r = checkout(two.app.uow, two.clerk, txn_id="m-1", bill_no="M-1", amount_fen=15_000,
                     member_id=winner.member_id, tenders=(Tender("cash", 13_000),),
                     coupons=[code], coupon_hq=hq, online=True)
    assert [u.discount_fen for u in r.coupons] == [2_000]
