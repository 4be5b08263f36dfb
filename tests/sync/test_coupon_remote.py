"""Another store's member redeems a coupon (issue 18, docs/rules.md "Another store's
member"): online, HQ describes the coupon to the till of store 2, which redeems it; the
redemption reaches the home store, whose tills then show it used. A coupon withdrawn at the
home store is refused online. What the till learned (the checkout's check, the member
lookup's card) is kept: two stores redeeming one coupon while both offline end in one
``coupon_twice`` flag, settled by ``settle-coupons``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.errors import CouponAlreadyUsed, CouponAtHomeStore, CouponUseBlocked
from pos_member.services import coupons
from pos_member.services.checkout import Tender, checkout
from pos_member.services.coupon_redeem import HqCoupons, plan
from pos_member.services.coupons_ledger import row_of
from sync.remote_lookup import find_remote
from sync.server.cli import main
from tests.factories import table_counts
from tests.sync.harness import Central, Till

FIFTY = "新人满100减20"


def _redeem(till: Till, member_id: str, code: str, txn: str,
            hq: HqCoupons | None = None) -> None:
    checkout(till.app.uow, till.clerk, txn_id=txn, bill_no=f"B-{txn}", amount_fen=15_000,
             member_id=member_id, tenders=(Tender("cash", 13_000),), coupons=[code],
             online=hq is not None, coupon_hq=hq)


def _state(till: Till, key: str) -> str | None:
    with till.app.uow.db.read.connect() as conn:
        row = row_of(conn, key)
    return None if row is None else str(row.state)


# The tills' side: one backend (HQ's coupon_terms on PostgreSQL: tests/server/test_coupon_twice.py).
@pytest.mark.parametrize("server_database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("cheap_hash")
def test_store_2_redeems_store_1_s_coupons_online_and_offline_one_flag_when_both_did(
        tills: tuple[Till, Till], central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = tills
    one, two = a.register(2)  # store 1's members, each with the welcome pack
    a.sync()
    b.sync()  # b knows them from the chain's directory, none of their coupons
    mine = coupons.usable(a.app.uow, member_id=one.id)
    [fifty] = [c for c in mine if c.name == FIFTY]
    other = next(c for c in mine if c.name != FIFTY)
    [fifty2] = [c for c in coupons.usable(a.app.uow, member_id=two.id) if c.name == FIFTY]
    before = table_counts(b.path)
    with pytest.raises(CouponAtHomeStore, match="store 1"):
        _redeem(b, one.id, fifty.qr, "b-0")  # offline: b has never heard of it
    assert table_counts(b.path) == before
    with b.client() as hq:
        # two's card looked up at HQ while online: their usable coupons come with it, kept
        find_remote(b.app.uow, clerk=b.clerk, code=two.member_no, hq=hq)
        # one's coupon scanned at b's checkout while online: the quote learns it
        plan(b.app.uow, b.clerk, codes=[other.qr], member_id=one.id, bill_fen=15_000,
             redeem_points=0, hq=hq, quoting=True)  # then withdrawn at store 1
    assert {c.key for c in coupons.usable(b.app.uow, member_id=two.id)} == {
        c.key for c in coupons.usable(a.app.uow, member_id=two.id)}
    _redeem(a, two.id, fifty2.qr, "a-1")  # at the home store, offline
    assert coupons.revoke(a.app.uow, clerk=a.clerk, approver=a.clerk, key=other.key,
                          reason="issued by mistake")
    a.sync()
    with b.client() as hq:
        _redeem(b, one.id, fifty.qr, "b-1", hq)  # HQ describes it: b redeems it
        with pytest.raises(CouponAlreadyUsed):
            _redeem(b, one.id, other.qr, "b-2", hq)  # withdrawn at store 1: HQ knows
    assert _state(b, other.key) == "revoked"  # so b's kept copy says so offline too
    with pytest.raises(CouponAlreadyUsed):
        _redeem(b, one.id, other.qr, "b-2")
    _redeem(b, two.id, fifty2.qr, "b-3")  # offline, on the terms b kept
    assert _state(b, fifty.key) == "redeemed"
    for t in (b, a):
        t.sync()
    assert _state(a, fifty.key) == "redeemed"  # the home store shows it used
    [flag] = central.flags("coupon_twice")  # fifty2: redeemed at both stores while apart
    assert (flag["first"]["bill_no"], flag["second"]["bill_no"]) == ("B-a-1", "B-b-3")
    [pct] = [c for c in coupons.usable(a.app.uow, member_id=two.id) if c.name != FIFTY]
    with pytest.raises(CouponUseBlocked):  # every till stops the member's coupons
        checkout(a.app.uow, a.clerk, txn_id="a-2", bill_no="B-a-2", amount_fen=10_000,
                 member_id=two.id, tenders=(Tender("cash", 9_000),), coupons=[pct.qr])
    assert main(["--database", central.url, "settle-coupons", two.member_no,
                 "--note", "second bill paid in full"]) == 0
    report = capsys.readouterr().out
    assert "first bill B-a-1 at store 1" in report and "second bill B-b-3 at store 2" in report
    a.sync()
    checkout(a.app.uow, a.clerk, txn_id="a-3", bill_no="B-a-3", amount_fen=10_000,
             member_id=two.id, tenders=(Tender("cash", 9_000),), coupons=[pct.qr])
    for t in (a, b):
        t.sync()
    assert len(central.flags("coupon_twice")) == 1
    central.assert_exactly_once(a)
    central.assert_exactly_once(b)


@pytest.mark.parametrize("server_database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("cheap_hash")
def test_a_coupon_hq_says_was_used_is_not_kept_for_offline_at_another_store(
        tills: tuple[Till, Till]) -> None:
    from pos_member.errors import CouponUsedElsewhere

    a, b = tills
    [one] = a.register(1)
    [fifty] = [c for c in coupons.usable(a.app.uow, member_id=one.id) if c.name == FIFTY]
    _redeem(a, one.id, fifty.qr, "a-1")  # used at the home store
    a.sync()
    b.sync()
    before = table_counts(b.path)
    with b.client() as hq:
        for quoting in (True, False):  # the quote as the bill is typed, then the checkout
            with pytest.raises(CouponUsedElsewhere, match="store 1"):
                plan(b.app.uow, b.clerk, codes=[fifty.qr], member_id=one.id,
                     bill_fen=15_000, redeem_points=0, hq=hq, quoting=quoting)
        with pytest.raises(CouponUsedElsewhere):
            _redeem(b, one.id, fifty.qr, "b-1", hq)
    assert table_counts(b.path) == before  # nothing kept: offline, b still does not know it
    with pytest.raises(CouponAtHomeStore):
        _redeem(b, one.id, fifty.qr, "b-2")


@pytest.mark.parametrize("server_database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("cheap_hash")
def test_a_bill_refunded_at_another_till_of_the_store_gives_the_remote_coupon_back(
        tills: tuple[Till, Till], central: Central, tmp_path: Path) -> None:
    """Store 2's till b redeems store 1's member's coupon (HQ described it to b alone); the
    bill is refunded in full at store 2's other till c, which never learned the coupon: the
    coupon comes back all the same, at HQ and at the member's home store."""
    from sqlalchemy import select

    from pos_member.services.sale_refunds import refund_sale
    from sync.server.models import CouponUse
    from tests.sync.harness import enrolled_till

    a, b = tills
    c = enrolled_till(central, tmp_path / "c.sqlite", 2)
    [one] = a.register(1)
    [fifty] = [x for x in coupons.usable(a.app.uow, member_id=one.id) if x.name == FIFTY]
    a.sync()
    b.sync()
    with b.client() as hq:
        _redeem(b, one.id, fifty.qr, "b-1", hq)
    b.sync()
    c.sync()
    refund_sale(c.app.uow, c.clerk, approver=c.clerk, txn_id="r-1", bill_no="B-b-1")
    c.sync()
    a.sync()
    assert _state(a, fifty.key) == "issued"  # usable again at home
    assert central.query(lambda conn: conn.execute(select(CouponUse.key).where(
        CouponUse.key == fifty.key)).all()) == []  # HQ holds no bill for it any more
    c.close()
