"""One coupon, one bill, chain-wide (issue 18), end to end: online, a till asks HQ before
redeeming a coupon it did not issue and is refused one HQ holds a bill for; two tills redeem
the same coupon while apart (or HQ not answering); at sync HQ flags it with both bills and
every till stops the member's coupons (``coupon_blocks``) until HQ settles it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.errors import CouponUseBlocked, CouponUsedElsewhere
from pos_member.services import coupons
from pos_member.services.checkout import Tender, checkout
from pos_member.services.coupon_redeem import HqCoupons
from sync.client import SyncClient
from sync.server.cli import main
from tests.factories import table_counts
from tests.sync.harness import Central, Till, enrolled_till


def _redeem(till: Till, member_id: str, code: str, txn: str,
            hq: HqCoupons | None = None) -> None:
    checkout(till.app.uow, till.clerk, txn_id=txn, bill_no=f"B-{txn}", amount_fen=15_000,
             member_id=member_id, tenders=(Tender("cash", 13_000),), coupons=[code],
             online=hq is not None, coupon_hq=hq)


@pytest.mark.usefixtures("cheap_hash")
def test_one_coupon_redeemed_at_two_tills_offline_is_flagged_and_blocks_the_member(
    tmp_path: Path, central: Central, capsys: pytest.CaptureFixture[str],
) -> None:
    a = enrolled_till(central, tmp_path / "a.sqlite", 1)
    b = enrolled_till(central, tmp_path / "b.sqlite", 1)
    card = a.register()[0]  # with the welcome pack
    a.sync()
    b.sync()  # b holds the member and their coupons too
    [code] = [c.qr for c in coupons.usable(b.app.uow, member_id=card.id)
              if c.name == "新人满100减20"]
    _redeem(a, card.id, code, "a-1")  # b has not heard of it: b sees the coupon unused
    a.sync()
    before = table_counts(b.path)
    with b.client() as hq, pytest.raises(CouponUsedElsewhere, match="store 1"):
        _redeem(b, card.id, code, "b-0", hq)  # online: HQ holds a's bill
    assert table_counts(b.path) == before
    with SyncClient("http://127.0.0.1:9", "token", timeout=2) as unreachable:
        _redeem(b, card.id, code, "b-1", unreachable)  # HQ silent: b's own copy decides
    for t in (a, b, a):
        t.sync()
    [flag] = central.flags("coupon_twice")
    assert {flag["first"]["bill_no"], flag["second"]["bill_no"]} == {"B-a-1", "B-b-1"}
    assert flag["member_id"] == card.id
    [pct] = [c.qr for c in coupons.usable(b.app.uow, member_id=card.id)]
    before = table_counts(b.path)
    with pytest.raises(CouponUseBlocked):
        checkout(b.app.uow, b.clerk, txn_id="b-2", bill_no="B-b-2", amount_fen=10_000,
                 member_id=card.id, tenders=(Tender("cash", 9_000),), coupons=[pct])
    assert table_counts(b.path) == before
    for t in (a, b):  # syncing again raises nothing more
        t.sync()
    assert len(central.flags("coupon_twice")) == 1
    assert main(["--database", central.url, "settle-coupons", card.member_no,
                 "--note", "second bill paid in full"]) == 0
    report = capsys.readouterr().out  # HQ sees both bills it settled
    assert "first bill B-a-1 at store 1" in report and "second bill B-b-1 at store 1" in report
    b.sync()
    checkout(b.app.uow, b.clerk, txn_id="b-3", bill_no="B-b-3", amount_fen=10_000,
             member_id=card.id, tenders=(Tender("cash", 9_000),), coupons=[pct])
    b.sync()
    assert len(central.flags("coupon_twice")) == 1
    assert main(["--database", central.url, "settle-coupons", card.member_no,
                 "--note", "again"]) == 1  # nothing open: refused
    central.assert_exactly_once(a)
    central.assert_exactly_once(b)
    a.close()
    b.close()


@pytest.mark.parametrize("server_database_url", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("cheap_hash")
def test_online_the_issuing_till_asks_hq_too(tmp_path: Path, central: Central) -> None:
    """The till that issued a coupon is not the only one that may redeem it (every till of the
    store holds it), nor does a till restored from yesterday's copy know what it redeemed
    since: online, it asks HQ as any till, and a coupon HQ holds a bill for is refused."""
    import sqlite3

    a = enrolled_till(central, tmp_path / "a.sqlite", 1)
    b = enrolled_till(central, tmp_path / "b.sqlite", 1)
    card = a.register()[0]  # the welcome pack, issued by a
    a.sync()
    b.sync()
    fifty, pct = sorted((c for c in coupons.usable(a.app.uow, member_id=card.id)),
                        key=lambda c: c.name != "新人满100减20")
    with b.client() as hq:
        _redeem(b, card.id, fifty.qr, "b-1", hq)  # at the store's other till
    b.sync()
    before = table_counts(a.path)
    with a.client() as hq, pytest.raises(CouponUsedElsewhere, match="store 1"):
        _redeem(a, card.id, fifty.qr, "a-1", hq)  # a has not pulled b's bill yet
    assert table_counts(a.path) == before
    copy = tmp_path / "yesterday.sqlite"  # a's backup, then a redeems the other coupon
    with sqlite3.connect(a.path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with a.client() as hq:
        checkout(a.app.uow, a.clerk, txn_id="a-2", bill_no="B-a-2", amount_fen=10_000,
                 member_id=card.id, tenders=(Tender("cash", 9_000),), coupons=[pct.qr],
                 online=True, coupon_hq=hq)
    a.sync()
    a.app.close()
    with sqlite3.connect(copy) as src, sqlite3.connect(a.path) as dst:
        src.backup(dst)  # put back: a no longer holds the bill a-2
    a.reopen()
    with a.client() as hq, pytest.raises(CouponUsedElsewhere):
        checkout(a.app.uow, a.clerk, txn_id="a-3", bill_no="B-a-3", amount_fen=10_000,
                 member_id=card.id, tenders=(Tender("cash", 9_000),), coupons=[pct.qr],
                 online=True, coupon_hq=hq)
    assert central.flags("coupon_twice") == []
    a.close()
    b.close()
