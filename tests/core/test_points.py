"""Points: earn, redeem, refund claw-back, expiry, adjustment, one operation one effect, sync."""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pos_member.errors import (
    DomainError,
    InsufficientPoints,
    InvalidSaleAmount,
    PermissionDenied,
    PointsReasonRequired,
    RedeemOverCap,
    RefundTooLarge,
    SaleNotFound,
)
from pos_member.services import points, points_expiry, sales, tiers
from pos_member.services.pulled_events import apply_page
from pos_member.services.sale_refunds import refund_sale
from tests.factories import (
    Till,
    apply_pulled,
    as_changes,
    make_till,
    new_data_key,
    wire_events,
)


def txn() -> str:
    return str(uuid.uuid4())



def sell(t: Till, member_id: str | None, fen: int, bill: str, **kw: object) -> sales.SaleResult:
    return sales.record_sale(t.uow, t.cashier, txn_id=txn(), bill_no=bill, amount_fen=fen,
                             member_id=member_id, **kw)  # type: ignore[arg-type]


def balance(t: Till, member_id: str) -> int:
    return points.points_summary(t.uow, member_id=member_id).balance


def check_invariants(t: Till) -> None:
    con = sqlite3.connect(t.path)
    try:
        for member_id, bal in con.execute("SELECT member_id, balance FROM points_accounts"):
            total = con.execute("SELECT coalesce(sum(points),0) FROM points_entries "
                                "WHERE member_id=?", (member_id,)).fetchone()[0]
            lots = con.execute("SELECT coalesce(sum(remaining),0) FROM points_lots "
                               "WHERE member_id=? AND remaining>0", (member_id,)).fetchone()[0]
            assert bal == total
            assert lots == max(0, bal)
    finally:
        con.close()


def test_registration_gives_welcome_points_in_the_same_transaction(till: Till) -> None:
    m = till.register()
    assert balance(till, m.id) == 100
    assert till.table_counts()["points_entries"] == 1


def test_a_member_sale_earns_and_the_receipt_explains_it(till: Till) -> None:
    m = till.register()
    r = sell(till, m.id, 25_050, "A1")
    assert r.earn is not None and r.earn.earned == 250 and r.paid_fen == 25_050
    assert r.balance == 350


def test_walk_in_sale_is_recorded_without_points(till: Till) -> None:
    r = sell(till, None, 9_900, "W1")
    assert r.earn is None and r.member_id is None
    assert till.table_counts()["points_entries"] == 0


def test_member_day_doubles_and_the_daily_cap_stops_at_5000(tmp_path: Path) -> None:
    from pos_member.clock import FakeClock

    t = make_till(tmp_path, clock=FakeClock(datetime(2026, 3, 28, 4, 0, tzinfo=UTC)))
    m = t.register()
    r = sell(t, m.id, 400_000, "D1")  # 4000 × 2 + 100 bonus = 8100, capped
    assert r.earn is not None
    assert r.earn.earned == 5000 and r.earn.not_earned == 3100
    r2 = sell(t, m.id, 10_000, "D2")
    assert r2.earn is not None and r2.earn.earned == 0 and r2.earn.not_earned == 200


def test_referrer_gets_ten_percent_of_the_first_purchase_only(till: Till) -> None:
    a = till.register()
    b = till.register(channel="referral", referrer=a.member_no)
    sell(till, b.id, 50_000, "R1")
    sell(till, b.id, 50_000, "R2")
    assert balance(till, a.id) == 100 + 50


def test_the_first_sale_makes_the_points_accounts_of_a_member_and_referrer_without_one(
        till: Till) -> None:
    """With no welcome points a member has no points account until a sale earns them some:
    the sale makes it, and the referrer's for the referral reward, in its transaction."""
    rules = till.uow.rules
    till.uow.rules = dataclasses.replace(rules, registration=dataclasses.replace(
        rules.registration, welcome_points=0))
    a = till.register()
    b = till.register(channel="referral", referrer=a.member_no)
    con = sqlite3.connect(till.path)
    try:
        assert con.execute("SELECT count(*) FROM points_accounts").fetchone() == (0,)
    finally:
        con.close()
    first = sell(till, b.id, 50_000, "N1")
    assert first.earn is not None and first.balance == first.earn.earned == balance(till, b.id)
    assert first.referral_points == balance(till, a.id) == 50
    second = sell(till, b.id, 10_000, "N2")
    assert second.earn is not None
    assert balance(till, b.id) == first.earn.earned + second.earn.earned == second.balance
    check_invariants(till)


def test_a_repeated_sale_request_returns_the_first_result_and_changes_nothing(till: Till) -> None:
    m = till.register()
    t_id = txn()
    first = sales.record_sale(till.uow, till.cashier, txn_id=t_id, bill_no="X1",
                              amount_fen=10_000, member_id=m.id)
    before = till.dump()
    again = sales.record_sale(till.uow, till.cashier, txn_id=t_id, bill_no="X1",
                              amount_fen=10_000, member_id=m.id)
    assert again.repeated and again.earn == first.earn and again.balance == first.balance
    assert till.dump() == before


@pytest.mark.parametrize("kw", [
    {"amount_fen": 0}, {"amount_fen": -5}, {"bill_no": "A1"}, {"bill_no": " "},
    {"redeem_points": 10_000}, {"redeem_points": 200}, {"member_id": "nobody"},
])
def test_bad_sales_are_refused_and_change_nothing(till: Till, kw: dict[str, object]) -> None:
    m = till.register()
    sell(till, m.id, 10_000, "A1")  # balance 200; cap on ¥100 is 5,000 points
    args: dict[str, object] = {"txn_id": txn(), "bill_no": "A2", "amount_fen": 300,
                               "member_id": m.id}
    args.update(kw)
    before = till.dump()
    with pytest.raises(DomainError):
        sales.record_sale(till.uow, till.cashier, **args)  # type: ignore[arg-type]
    assert till.dump() == before


def test_redeem_any_amount_up_to_half_the_bill(till: Till) -> None:
    m = till.register()
    sell(till, m.id, 100_000, "A1")  # +1100
    r = sell(till, m.id, 1_000, "A2", redeem_points=500)
    assert (r.redeem_fen, r.paid_fen) == (500, 500)
    with pytest.raises(RedeemOverCap):
        sell(till, m.id, 1_000, "A3", redeem_points=501)


def test_redeem_spends_the_oldest_lot_first(till: Till) -> None:
    m = till.register()  # welcome 100, expires first
    till.clock.advance(days=10)
    sell(till, m.id, 20_000, "A1")
    sell(till, m.id, 1_000, "A2", redeem_points=150)
    con = sqlite3.connect(till.path)
    left = dict(con.execute("SELECT coalesce(bill_no, kind), l.remaining FROM points_lots l "
                            "JOIN points_entries e ON e.id = l.id WHERE l.member_id=?",
                            (m.id,)).fetchall())
    con.close()
    assert left == {"welcome": 0, "A1": 200 - 50, "A2": 8}


def test_refund_claws_back_points_already_spent_and_flags_the_member(till: Till) -> None:
    m = till.register()
    sell(till, m.id, 100_000, "A1")  # +1100 → 1200
    sell(till, m.id, 2_000, "A2", redeem_points=1000)  # → 200 + 10
    r = refund_sale(till.uow, till.cashier, approver=till.manager, txn_id=txn(), bill_no="A1")
    assert r.clawed_points == 1100 and r.balance == 210 - 1100 and r.flagged
    assert till.table_counts()["flags"] == 1
    check_invariants(till)


def test_partial_refunds_restore_redeemed_points_with_their_original_expiry(till: Till) -> None:
    m = till.register()
    sell(till, m.id, 2_000, "A1", redeem_points=100)  # the welcome lot, paid ¥19
    refund_sale(till.uow, till.cashier, approver=till.manager,
                      txn_id=txn(), bill_no="A1", amount_fen=950)
    refund_sale(till.uow, till.cashier, approver=till.manager,
                      txn_id=txn(), bill_no="A1", amount_fen=950)
    con = sqlite3.connect(till.path)
    rows = con.execute("SELECT l.remaining, l.expires_at FROM points_lots l JOIN points_entries "
                       "e ON e.id=l.id WHERE e.kind='restore'").fetchall()
    welcome_exp = con.execute("SELECT expires_at FROM points_lots l JOIN points_entries e "
                              "ON e.id=l.id WHERE e.kind='welcome'").fetchone()[0]
    con.close()
    assert sum(r[0] for r in rows) == 100
    assert {r[1] for r in rows} == {welcome_exp}
    assert balance(till, m.id) == 100
    with pytest.raises(RefundTooLarge):
        refund_sale(till.uow, till.cashier, approver=till.manager,
                          txn_id=txn(), bill_no="A1", amount_fen=1)


def test_a_refund_larger_than_the_sale_changes_nothing(till: Till) -> None:
    m = till.register()
    sell(till, m.id, 10_000, "A1")
    before = till.dump()
    with pytest.raises(RefundTooLarge):
        refund_sale(till.uow, till.cashier, approver=till.manager,
                          txn_id=txn(), bill_no="A1", amount_fen=10_001)
    with pytest.raises(SaleNotFound):
        refund_sale(till.uow, till.cashier, approver=till.manager,
                          txn_id=txn(), bill_no="NOPE")
    assert till.dump() == before



def test_a_repeated_refund_returns_the_first_result_and_changes_nothing(till: Till) -> None:
    m = till.register()
    sell(till, m.id, 100_000, "A1")  # +1100 → 1200
    sell(till, m.id, 2_000, "A2", redeem_points=1000)  # → 210
    t_id = txn()
    first = refund_sale(till.uow, till.cashier, approver=till.manager,
                              txn_id=t_id, bill_no="A1",
                              amount_fen=50_000)
    before = till.dump()
    again = refund_sale(till.uow, till.cashier, approver=till.manager,
                              txn_id=t_id, bill_no="A1",
                              amount_fen=50_000)
    assert again.repeated and not first.repeated
    assert (again.refund_fen, again.clawed_points, again.balance, again.flagged) == (
        first.refund_fen, first.clawed_points, first.balance, first.flagged)
    assert till.dump() == before


@pytest.mark.parametrize("amount_fen", [0, -5])
def test_a_refund_of_nothing_or_less_is_refused_and_changes_nothing(
        till: Till, amount_fen: int) -> None:
    m = till.register()
    sell(till, m.id, 10_000, "A1")
    before = till.dump()
    with pytest.raises(InvalidSaleAmount):
        refund_sale(till.uow, till.cashier, approver=till.manager, txn_id=txn(), bill_no="A1",
                          amount_fen=amount_fen)
    assert till.dump() == before


def test_an_adjustment_of_zero_points_is_refused_and_changes_nothing(till: Till) -> None:
    from pos_member.errors import InvalidInput

    m = till.register()
    before = till.dump()
    with pytest.raises(InvalidInput):
        points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager, txn_id=txn(),
                             member_id=m.id, points=0, reason="goodwill")
    assert till.dump() == before


def test_expiry_catches_up_once_after_weeks_off_and_is_idempotent(till: Till) -> None:
    m = till.register()
    till.clock.advance(days=365 * 2 + 40)
    run = points_expiry.expire_due(till.uow, clerk=till.cashier)
    assert (run.lots, run.points) == (1, 100)
    before = till.dump()
    assert points_expiry.expire_due(till.uow, clerk=till.cashier).lots == 0
    assert till.dump() == before
    assert balance(till, m.id) == 0


def test_reminders_30_and_7_days_before_expiry_once_each(till: Till) -> None:
    till.register()
    till.clock.set(datetime(2027, 12, 10, 9, 0, tzinfo=UTC))  # 26 days before expiry
    assert points_expiry.remind_expiring(till.uow, clerk=till.cashier) == 1
    assert points_expiry.remind_expiring(till.uow, clerk=till.cashier) == 0
    till.clock.set(datetime(2028, 1, 1, 9, 0, tzinfo=UTC))  # 4 days before
    assert points_expiry.remind_expiring(till.uow, clerk=till.cashier) == 1
    assert points_expiry.remind_expiring(till.uow, clerk=till.cashier) == 0


def test_adjustment_needs_a_manager_and_a_reason_and_is_audited(till: Till) -> None:
    m = till.register()
    before = till.dump()
    with pytest.raises(PermissionDenied):
        points.adjust_points(till.uow, clerk=till.cashier, approver=till.cashier, txn_id=txn(),
                             member_id=m.id, points=50, reason="goodwill")
    with pytest.raises(PointsReasonRequired):
        points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager, txn_id=txn(),
                             member_id=m.id, points=50, reason="  ")
    assert till.dump() == before
    t_id = txn()
    r = points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager, txn_id=t_id,
                             member_id=m.id, points=-30, reason="double scan")
    again = points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager,
                                 txn_id=t_id, member_id=m.id, points=-30, reason="double scan")
    assert r.balance == 70 and again.repeated and balance(till, m.id) == 70
    con = sqlite3.connect(till.path)
    assert con.execute("SELECT count(*) FROM audit_log WHERE action='points.adjusted'"
                       ).fetchone()[0] == 1
    con.close()


def test_gift_from_the_catalogue(till: Till) -> None:
    m = till.register()
    sell(till, m.id, 50_000, "A1")  # 600
    r = points.redeem_for_item(till.uow, clerk=till.cashier, txn_id=txn(), member_id=m.id,
                               item_code="GIFT-BAG")
    assert r.points == -500 and r.balance == 100


def test_pending_points_are_not_spendable_until_the_return_window_ends(tmp_path: Path) -> None:
    from dataclasses import replace

    t = make_till(tmp_path)
    t.uow.rules = replace(t.uow.rules, points=replace(t.uow.rules.points, pending_days=7))
    m = t.register()
    sell(t, m.id, 100_000, "A1")
    s = points.points_summary(t.uow, member_id=m.id)
    assert (s.spendable, s.pending) == (100, 1100)
    with pytest.raises(InsufficientPoints):
        sell(t, m.id, 10_000, "A2", redeem_points=200)
    t.clock.advance(days=7)
    assert sell(t, m.id, 10_000, "A3", redeem_points=200).redeem_points == 200


def test_upgrade_at_once_and_quarterly_downgrade_after_protection(till: Till) -> None:
    m = till.register()
    r = sell(till, m.id, 500_000, "A1")
    assert (r.tier_before, r.tier_after) == ("regular", "silver")
    till.clock.advance(days=60)
    assert tiers.evaluate_tiers(till.uow, clerk=till.cashier, force=True).downgraded == 0
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id=txn(), bill_no="A1")
    till.clock.advance(days=40)
    run = tiers.evaluate_tiers(till.uow, clerk=till.cashier)
    assert run.downgraded == 1
    assert tiers.tier_standing(till.uow, member_id=m.id).tier == "regular"
    assert tiers.evaluate_tiers(till.uow, clerk=till.cashier).ran is False


def test_another_till_rebuilds_the_same_ledger_from_the_events(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key, device_number=1)
    b = make_till(tmp_path, data_key=key, device_number=2)
    m = a.register()
    sell(a, m.id, 100_000, "A1")
    sell(a, m.id, 2_000, "A2", redeem_points=1000)
    refund_sale(a.uow, a.cashier, approver=a.manager,
                      txn_id=txn(), bill_no="A2", amount_fen=500)
    a.clock.advance(days=800)
    points_expiry.expire_due(a.uow, clerk=a.cashier, remind=False)
    page = as_changes(wire_events(a))
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=page, cursor=len(page))
    counts = b.dump()
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=page, cursor=len(page))
    assert b.dump() == counts
    assert balance(b, m.id) == balance(a, m.id)
    assert [(x.kind, x.points) for x in points.ledger(b.uow, clerk=b.cashier, member_id=m.id)] \
        == [(x.kind, x.points) for x in points.ledger(a.uow, clerk=a.cashier, member_id=m.id)]
    check_invariants(b)


def test_two_tills_spending_one_lot_offline_leave_the_lots_equal_to_the_balance(
        tmp_path: Path) -> None:
    """A pulled spend names the lots its till took; here one of them was emptied by this
    till's own spend, another holds more than named. What the named lots do not cover comes
    from every open lot, a named one's remainder too (it was skipped: the lots kept 100
    points the balance had paid out; found by tests/sync/test_two_stores_stateful.py)."""
    from sqlalchemy import select

    from pos_member.db.models import PointsLot

    key = new_data_key()
    a = make_till(tmp_path, data_key=key, device_number=1)
    b = make_till(tmp_path, data_key=key, device_number=2)
    m = a.register()  # welcome lot W: 100
    a.clock.advance(minutes=1)
    points.adjust_points(a.uow, clerk=a.cashier, approver=a.manager, txn_id=txn(),
                         member_id=m.id, points=500, reason="goodwill")  # lot J: 500
    apply_pulled(b, wire_events(a))
    # Both offline: A's gift names W 100 and J 400; B's adjustment takes W's 100 (FIFO).
    a.clock.advance(minutes=1)
    gift = points.redeem_for_item(a.uow, clerk=a.cashier, txn_id=txn(), member_id=m.id,
                                  item_code="GIFT-BAG")
    assert gift.points == -500
    b.clock.advance(minutes=2)
    points.adjust_points(b.uow, clerk=b.cashier, approver=b.manager, txn_id=txn(),
                         member_id=m.id, points=-100, reason="double scan")
    a_events, b_events = wire_events(a), wire_events(b)
    apply_pulled(b, a_events)  # W is empty at B: the gift's last 100 come from J
    apply_pulled(a, b_events, first=len(a_events) + 1)
    for t in (a, b):
        assert balance(t, m.id) == 0
        with t.uow.read() as s:
            left = s.scalars(select(PointsLot.remaining)
                             .where(PointsLot.member_id == m.id)).all()
        assert sum(left) == 0
        check_invariants(t)


def test_a_merge_moves_the_losers_points_to_the_winner(till: Till) -> None:
    from tests.factories import server_event

    w, lo = till.register(), till.register()
    sell(till, lo.id, 10_000, "L1")
    ev = server_event("member.merged", {"winner_member_id": w.id, "loser_member_id": lo.id,
                                        "loser_member_no": lo.member_no,
                                        "winner_member_no": w.member_no})
    apply_page(till.uow, device_id=till.app.identity.device_id, changes=as_changes([ev]),
               cursor=1)
    # The winner's welcome and the loser's purchase points; the loser's welcome is reversed
    # (issue 13: one welcome bonus per person, tests/core/test_welcome_reversal.py).
    assert balance(till, w.id) == 100 + 100
    check_invariants(till)


def test_birthday_month_doubles(tmp_path: Path) -> None:
    from pos_member.clock import FakeClock

    t = make_till(tmp_path, clock=FakeClock(datetime(2026, 5, 10, 4, 0, tzinfo=UTC)))
    m = t.register(birthday=date(1990, 5, 1))
    r = sell(t, m.id, 10_000, "B1")
    assert r.earn is not None and r.earn.earned == 200


def test_the_day_report_counts_sales_member_sales_and_points(till: Till) -> None:
    from pos_member.services.day_report import day_summary

    m = till.register()
    sell(till, m.id, 10_000, "A1")
    sell(till, None, 5_000, "W1")
    sell(till, m.id, 1_000, "A2", redeem_points=100)
    s = day_summary(till.uow, store_id=till.cashier.store_id, device_id=till.cashier.device_id)
    assert (s.sales_count, s.sales_fen) == (3, 10_000 + 5_000 + 900)
    assert (s.member_sales_count, s.member_sales_fen) == (2, 10_900)
    assert (s.points_earned, s.points_redeemed) == (100 + 9, 100)


def test_growth_value_is_one_per_ten_yuan_plus_ten_per_purchase_net_of_refunds(
        till: Till) -> None:
    m = till.register()
    sell(till, m.id, 12_345, "G1")  # 12 + 10
    sell(till, m.id, 999, "G2")  # 0 + 10
    sell(till, m.id, 50_000, "G3")  # refunded in full: 0
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id=txn(), bill_no="G3")
    standing = tiers.tier_standing(till.uow, member_id=m.id)
    assert (standing.spend_fen, standing.growth) == (12_345 + 999, 22 + 10)


def test_welcome_points_and_tier_changes_reach_another_till(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key, device_number=1)
    b = make_till(tmp_path, data_key=key, device_number=2)
    m = a.register()
    sell(a, m.id, 2_000_000, "T1")  # gold at once
    page = as_changes(wire_events(a))
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=page, cursor=len(page))
    assert tiers.tier_standing(b.uow, member_id=m.id).tier == "gold"
    assert balance(b, m.id) == balance(a, m.id) == 100 + 5_000  # the daily cap


def test_one_bill_number_used_offline_on_two_tills_keeps_both_sales(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key, device_number=1)
    b = make_till(tmp_path, data_key=key, device_number=2)
    sell(a, None, 1_000, "SAME")
    sell(b, None, 2_000, "SAME")
    events = [e for e in wire_events(a) if e["type"] == "sale.recorded"]
    events[0]["payload"]["sale"]["store_id"] = b.cashier.store_id  # as if one store's tills
    page = as_changes(events)
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=page, cursor=len(page))
    con = sqlite3.connect(b.path)
    bills = sorted(r[0] for r in con.execute("SELECT bill_no FROM sales"))
    con.close()
    assert len(bills) == 2 and bills[0] == "SAME" and bills[1].startswith("SAME~")


def test_the_quote_counts_only_points_spendable_now(tmp_path: Path) -> None:
    from dataclasses import replace

    t = make_till(tmp_path)
    t.uow.rules = replace(t.uow.rules, points=replace(t.uow.rules.points, pending_days=7))
    m = t.register()  # 100 welcome points, spendable at once
    sell(t, m.id, 100_000, "Q1")  # 1,100 pending for 7 days
    q = sales.quote_sale(t.uow, member_id=m.id, amount_fen=50_000, redeem_points=5_000)
    assert (q.spendable, q.cap_points) == (100, 25_000)
    assert q.paid_fen == 50_000 - 100  # the redeem is cut to what can be spent now
    t.clock.advance(days=7)
    q = sales.quote_sale(t.uow, member_id=m.id, amount_fen=50_000, redeem_points=5_000)
    assert q.spendable == 1_200 and q.paid_fen == 50_000 - 1_200
