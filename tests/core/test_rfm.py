"""RFM (issue 19): figures kept as sales arrive (a sale, a refund, a pulled sale), quintile
boundaries and scores once a store day, against a small chain worked out by hand."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import date, datetime, time, timedelta

from pos_member.clock import DEFAULT_TZ
from pos_member.services import rfm
from pos_member.services.sale_refunds import refund_sale
from pos_member.services.sales import record_sale
from tests.factories import Till, apply_pulled, wire_events

TODAY = date(2026, 6, 30)


def at(ago: int, hour: int = 12) -> datetime:
    return datetime.combine(TODAY - timedelta(days=ago), time(hour), tzinfo=DEFAULT_TZ)


def sell(till: Till, member: str, fen: int, bill: str | None = None) -> str:
    bill = bill or f"F-{uuid.uuid4().hex[:8]}"
    record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()), bill_no=bill,
                amount_fen=fen, member_id=member)
    return bill


def kept(till: Till, member: str) -> tuple[object, ...] | None:
    con = sqlite3.connect(till.path)
    try:
        return con.execute("SELECT last_day, purchases, spend_fen, r, f, m, segment "
                           "FROM member_rfm WHERE member_id = ?", (member,)).fetchone()
    finally:
        con.close()


def test_quintiles_score_five_members_1_to_5_and_name_their_segments(till: Till) -> None:
    """Member k (1..5) last bought 6 − k days ago, k times, k × ¥100 each: every dimension's
    ranks are 1..5, so the cuts are the first four members' figures and member k scores k."""
    till.clock.set(at(30))
    ids = [till.register().id for _ in range(5)]
    for k, member in enumerate(ids, start=1):
        for day in range(k):
            till.clock.set(at(6 - k, hour=10 + day))
            sell(till, member, 10_000 * k)
    till.clock.set(at(0))
    run = rfm.nightly(till.uow, clerk=till.manager)
    assert run.bounds is not None and run.bounds.buyers == 5 and run.scored == 5
    assert run.bounds.f_cuts == (1, 2, 3, 4)
    assert run.bounds.r_cuts == tuple(TODAY - timedelta(days=d) for d in (5, 4, 3, 2))
    got = [kept(till, m) for m in ids]
    assert [row[3:6] for row in got] == [(k, k, k) for k in range(1, 6)]  # type: ignore[index]
    assert [row[6] for row in got] == [  # type: ignore[index]
        "gen_winback", "gen_winback", "gen_winback", "imp_value", "imp_value"]
    # Once a store day: the second run today does nothing; tomorrow's does it again.
    assert rfm.nightly(till.uow, clerk=till.manager).bounds is None
    till.clock.set(at(-1, hour=0) + timedelta(minutes=1))
    assert rfm.nightly(till.uow, clerk=till.manager).bounds is not None


def test_a_sale_updates_its_member_in_its_transaction_and_a_refund_works_it_out_again(
        till: Till) -> None:
    till.clock.set(at(10))
    low, high = till.register().id, till.register().id
    sell(till, low, 5_000)
    sell(till, high, 50_000)
    till.clock.set(at(5))
    rfm.nightly(till.uow, clerk=till.manager)  # cuts: R (day −10) ×4, F 1, M ¥50
    assert kept(till, low)[3:] == (1, 1, 1, "gen_winback")  # type: ignore[index]
    till.clock.set(at(0))
    bill = sell(till, low, 100_000)  # today, a second purchase, ¥1,050 in all
    assert kept(till, low) == (TODAY.isoformat(), 2, 105_000, 5, 5, 5, "imp_value")
    refund_sale(till.uow, till.manager, approver=till.manager, txn_id=str(uuid.uuid4()),
                bill_no=bill)  # wholly refunded: no longer a purchase
    assert kept(till, low) == ((TODAY - timedelta(days=10)).isoformat(), 1, 5_000, 1, 1, 1,
                               "gen_winback")


def test_a_pulled_sale_keeps_the_same_figures_at_the_other_till(a: Till, b: Till) -> None:
    member = a.register().id
    sell(a, member, 12_300)
    sell(a, member, 4_500)
    apply_pulled(b, wire_events(a))
    assert kept(b, member) == kept(a, member) == (a.clock.today().isoformat(), 2, 16_800,
                                                 None, None, None, None)


def test_nothing_to_score_without_a_purchase(till: Till) -> None:
    till.register()
    run = rfm.nightly(till.uow, clerk=till.manager)
    assert run.bounds is not None and run.bounds.buyers == 0 and run.scored == 0


def test_migration_0019_fills_the_figures_from_a_till_of_0018_s_sales(a: Till) -> None:
    from pos_member.bootstrap import bootstrap
    from tests.core.test_till_migrations import downgrade, rows

    member = a.register().id
    sell(a, member, 12_300)
    bill = sell(a, member, 4_500)
    refund_sale(a.uow, a.manager, approver=a.manager, txn_id=str(uuid.uuid4()), bill_no=bill)
    want = kept(a, member)
    a.app.close()
    downgrade(a.path, "0018")
    assert "member_rfm" not in rows(a.path)
    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert kept(a, member) == want == (a.clock.today().isoformat(), 1, 12_300,
                                           None, None, None, None)
    finally:
        app.close()


def test_hq_s_fresh_cuts_over_the_chain_are_used_instead_of_the_till_s_own(till: Till) -> None:
    from tests.factories import apply_pulled, server_event

    till.clock.set(at(10))
    m = till.register().id
    sell(till, m, 30_000)  # alone here, the till's own cuts would score it 1-1-1
    till.clock.set(at(0))
    cuts = {"buyers": 1000, "r": [(TODAY - timedelta(days=d)).isoformat() for d in (90, 60,
                                                                                    30, 5)],
            "f": [1, 1, 2, 4], "m": [5_000, 10_000, 20_000, 50_000]}
    apply_pulled(till, [server_event("rfm.bounds_published",
                                     {"day": (TODAY - timedelta(days=1)).isoformat(), **cuts})])
    run = rfm.nightly(till.uow, clerk=till.manager)
    assert run.bounds is not None and run.bounds.source == rfm.HQ
    # 10 days ago: above 3 R cuts; 1 purchase: above none; ¥300: above 3 M cuts.
    assert kept(till, m)[3:] == (4, 1, 4, "imp_grow")  # type: ignore[index]
    assert rfm.nightly(till.uow, clerk=till.manager).bounds is None  # in force already
    till.clock.set(at(-3))  # three days on, no newer cuts from HQ: the till's own again
    assert rfm.nightly(till.uow, clerk=till.manager).bounds.source == rfm.TILL  # type: ignore[union-attr]
