"""One checkout (issue 17): a member's sale with points redeemed, paid partly by stored value
behind the PIN and partly in cash, is one sale in 会销比 with its tenders kept; the stored-value
tender earns per the rules; refusals move nothing; a retry repeats the first result."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time

import pytest

from pos_member.errors import DomainError
from pos_member.member_service_errors import MemberFrozen
from pos_member.services import member_service, points
from pos_member.services.checkout import Tender, checkout
from pos_member.services.member_auth import set_member_pin
from pos_member.services.purchases import purchases
from pos_member.services.stored_value import PinFactor, top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.stored_value_errors import WrongMemberPin
from tests.factories import Till

pytestmark = pytest.mark.usefixtures("cheap_hash")

PIN = "739182"


def _member(till: Till) -> object:
    till.clock.set(datetime.combine(till.clock.local().date().replace(day=10), time(11, 0),
                                    tzinfo=till.clock.zone))  # no member day
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id="t-1")  # ¥1,000 + ¥150 bonus
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id, pin=PIN)
    return m


def _pay(till: Till, m: object, *, txn: str = "c-1", pin: str = PIN,
         tenders: tuple[Tender, ...] = (Tender("stored_value", 20_000), Tender("cash", 9_900))
         ) -> object:
    return checkout(till.uow, till.cashier, txn_id=txn, bill_no="B-1", amount_fen=30_000,
                    member_id=m.id, redeem_points=100, tenders=tenders,  # type: ignore[attr-defined]
                    factor=PinFactor(pin), online=True)


def test_a_member_sale_paid_by_stored_value_and_cash_is_one_sale(till: Till) -> None:
    m = _member(till)
    r = _pay(till, m)
    assert r.sale.paid_fen == 29_900 and r.sale.redeem_points == 100  # type: ignore[attr-defined]
    assert r.stored_value.amount_fen == 20_000  # type: ignore[attr-defined]
    assert get_balance(till.uow, m.id).total_fen == 115_000 - 20_000  # type: ignore[attr-defined]
    # ¥299 paid; of the ¥200 from stored value, ¥26.08 was bonus money: it earns nothing.
    assert r.sale.earn.earned == (29_900 - 2_608) // 100  # type: ignore[attr-defined]
    [bill] = purchases(till.uow, clerk=till.cashier, member_id=m.id)  # type: ignore[attr-defined]
    assert bill.tenders == (("stored_value", 20_000), ("cash", 9_900))
    with till.uow.read() as s:
        count = s.connection().exec_driver_sql(
            "SELECT count(*) FROM sales WHERE member_id = ?", (m.id,)).scalar()  # type: ignore[attr-defined]
    assert count == 1  # 会销比 counts it once, as a member sale


@pytest.mark.parametrize(("mode", "earned"), [("all", 299), ("none", 99)])
def test_the_rules_say_what_a_stored_value_tender_earns(till: Till, mode: str,
                                                       earned: int) -> None:
    rules = till.uow.rules
    till.uow.rules = dataclasses.replace(
        rules, points=dataclasses.replace(rules.points, stored_value_earns=mode))
    m = _member(till)
    assert _pay(till, m).sale.earn.earned == earned  # type: ignore[attr-defined]


def test_a_wrong_pin_records_no_sale_and_moves_nothing(till: Till) -> None:
    m = _member(till)
    before = till.table_counts()
    with pytest.raises(WrongMemberPin):
        _pay(till, m, pin="000001")
    after = till.table_counts()
    assert after["sales"] == before["sales"] and after["sv_ledger"] == before["sv_ledger"]
    assert points.points_summary(till.uow, member_id=m.id).balance == 100  # type: ignore[attr-defined]


def test_tenders_that_do_not_pay_the_bill_are_refused(till: Till) -> None:
    m = _member(till)
    before = till.dump()
    with pytest.raises(DomainError):
        _pay(till, m, tenders=(Tender("stored_value", 20_000), Tender("cash", 5_000)))
    assert till.dump() == before


def test_a_retry_gives_the_first_result_once(till: Till) -> None:
    m = _member(till)
    first = _pay(till, m)
    again = _pay(till, m)
    assert again.sale.repeated and again.sale.sale_id == first.sale.sale_id  # type: ignore[attr-defined]
    assert get_balance(till.uow, m.id).total_fen == 95_000  # type: ignore[attr-defined]


def test_a_refund_from_the_bill_gives_stored_value_back_first_as_it_was_taken(
        till: Till) -> None:
    from pos_member.services.bill_refunds import refund_bill_with_pin
    from pos_member.services.purchases import purchases as bills

    m = _member(till)
    _pay(till, m)  # ¥200 stored value (¥173.92 principal + ¥26.08 bonus) + ¥99 cash
    before = get_balance(till.uow, m.id)  # type: ignore[attr-defined]
    first = refund_bill_with_pin(till.uow, till.manager, manager_code="", manager_pin="",
                                 txn_id="r-1", bill_no="B-1", amount_fen=10_000)
    assert [(t.kind, t.amount_fen) for t in first.back] == [("stored_value", 10_000)]
    second = refund_bill_with_pin(till.uow, till.manager, manager_code="", manager_pin="",
                                  txn_id="r-2", bill_no="B-1")  # all that is left: ¥199
    assert [(t.kind, t.amount_fen) for t in second.back] == [("stored_value", 10_000),
                                                            ("cash", 9_900)]
    after = get_balance(till.uow, m.id)  # type: ignore[attr-defined]
    # Exactly what the payment took, principal and bonus, is back in the account.
    assert (after.principal_fen - before.principal_fen, after.bonus_fen - before.bonus_fen) \
        == (20_000 - 2_608, 2_608)
    [bill] = bills(till.uow, clerk=till.cashier, member_id=m.id)  # type: ignore[attr-defined]
    assert bill.refundable_fen == 0
    # The points: what the sale earned taken back, the 100 redeemed returned.
    assert points.points_summary(till.uow, member_id=m.id).balance == 100  # type: ignore[attr-defined]
    again = refund_bill_with_pin(till.uow, till.manager, manager_code="", manager_pin="",
                                 txn_id="r-2", bill_no="B-1")
    assert again.refund.repeated
    assert get_balance(till.uow, m.id).total_fen == after.total_fen  # type: ignore[attr-defined]


def test_a_walk_in_pays_by_card_and_cannot_pay_by_stored_value(till: Till) -> None:
    r = checkout(till.uow, till.cashier, txn_id="w-1", bill_no="W-1", amount_fen=5_000,
                 tenders=(Tender("card", 5_000),))
    assert r.sale.member_id is None and r.stored_value is None and r.sale.earn is None
    before = till.dump()
    with pytest.raises(DomainError):
        checkout(till.uow, till.cashier, txn_id="w-2", bill_no="W-2", amount_fen=5_000,
                 tenders=(Tender("stored_value", 5_000),))
    assert till.dump() == before


def test_a_large_stored_value_tender_needs_a_managers_approval(till: Till) -> None:
    from pos_member.permissions import Role
    from tests.factories import PINS

    m = _member(till)
    limit = till.uow.rules.stored_value.manager_approval_fen
    big = (Tender("stored_value", limit),)
    before = till.table_counts()
    with pytest.raises(DomainError):
        checkout(till.uow, till.cashier, txn_id="big-1", bill_no="BIG-1", amount_fen=limit,
                 member_id=m.id, tenders=big, factor=PinFactor(PIN), online=True)  # type: ignore[attr-defined]
    assert till.table_counts()["sales"] == before["sales"]
    code = f"1{list(Role).index(Role.MANAGER)}01"  # tests.factories.make_till's numbering
    r = checkout(till.uow, till.cashier, txn_id="big-2", bill_no="BIG-2", amount_fen=limit,
                 member_id=m.id, tenders=big, factor=PinFactor(PIN), online=True,  # type: ignore[attr-defined]
                 manager_code=code, manager_pin=PINS[Role.MANAGER])
    assert r.stored_value is not None and r.stored_value.amount_fen == limit


def test_a_checkouts_payment_is_refunded_from_its_bill_not_alone(till: Till) -> None:
    from pos_member.services.checkout import sv_txn_id
    from pos_member.services.stored_value_refunds import refund_payment
    from pos_member.stored_value_errors import PaymentOfABill

    m = _member(till)
    _pay(till, m)
    before = till.dump()
    with pytest.raises(PaymentOfABill):
        refund_payment(till.uow, clerk=till.manager, approver=till.manager,
                       member_id=m.id, ref_txn_id=sv_txn_id("c-1"), txn_id="alone")  # type: ignore[attr-defined]
    assert till.dump() == before


def test_a_checkout_reads_the_members_standing_and_stored_value_once(till: Till) -> None:
    """The sale's reads are kept for its payment's checks in the same transaction (issue 17):
    one read of each, where there were two."""
    m = _member(till)
    sql: list[str] = []
    with till.uow.begin() as tx:  # the till's one write connection, traced
        tx.conn.connection.driver_connection.set_trace_callback(sql.append)  # type: ignore[union-attr]
    try:
        _pay(till, m)
        sql = list(sql)  # the checkout's alone
    finally:
        with till.uow.begin() as tx:
            tx.conn.connection.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
    reads = [s.split("WHERE")[0] for s in sql if s.lstrip().upper().startswith("SELECT")]
    assert sum("member_standing" in s for s in reads) == 1
    assert sum("sv_accounts" in s for s in reads) == 1
    # One durable commit, and one message to the member in it (docs/rules.md).
    assert [s for s in sql if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert sum(s.startswith("INSERT INTO notification_outbox") for s in sql) == 1


def test_a_frozen_members_stored_value_tender_is_refused_with_nothing_written(till: Till) -> None:
    """The standing the sale read (a frozen member's sale may go in, earning nothing) is the
    one the payment checks: its stored value is refused, and the sale with it."""
    m = _member(till)
    member_service.set_status(till.uow, clerk=till.manager, member_id=m.id,  # type: ignore[attr-defined]
                              status="frozen", reason="会员投诉处理中")
    before = till.table_counts()
    with pytest.raises(MemberFrozen):
        checkout(till.uow, till.cashier, txn_id="c-f", bill_no="B-F", amount_fen=30_000,
                 member_id=m.id, tenders=(Tender("stored_value", 20_000),  # type: ignore[attr-defined]
                                          Tender("cash", 10_000)),
                 factor=PinFactor(PIN), online=True)
    assert till.table_counts() == before


def test_a_checkout_paid_by_stored_value_tells_the_member_once(till: Till) -> None:
    """One message for the payment and the sale's points (docs/rules.md), where a payment's
    and a sale's were two; a checkout without stored value keeps the points message."""
    from sqlalchemy import select

    from pos_member.db.models import NotificationOutbox
    from pos_member.services.notifications import render

    m = _member(till)
    with till.uow.read() as s:
        before = set(s.scalars(select(NotificationOutbox.id)))
    r = _pay(till, m)
    cash = checkout(till.uow, till.cashier, txn_id="c-2", bill_no="B-2", amount_fen=10_000,
                    member_id=m.id, tenders=(Tender("cash", 10_000),))  # type: ignore[attr-defined]
    with till.uow.read() as s:
        new = [(o.kind, o.params) for o in s.scalars(select(NotificationOutbox)
                                                      .order_by(NotificationOutbox.id))
               if o.id not in before]
    change = r.sale.earn.earned - 100  # type: ignore[attr-defined]
    assert new == [
        ("sv.paid_with_points", {"amount_fen": 20_000, "balance_fen": 95_000,
                                 "change": f"{change:+d}", "points": r.sale.balance}),  # type: ignore[attr-defined]
        ("points.changed", {"change": f"+{cash.sale.earn.earned}",  # type: ignore[union-attr]
                            "balance": cash.sale.balance, "reason": "消费"})]
    assert render(*new[0]) == (f"【会员】您的储值卡消费¥200.00，余额¥950.00；积分{change:+d}，"
                               f"当前积分{r.sale.balance}。如非本人操作请联系门店。")  # type: ignore[attr-defined]


def test_a_checkout_whose_payment_id_was_taken_is_refused_with_nothing_written(
        till: Till) -> None:
    """The payment's id is derived from the checkout's (``<id>/sv``) and not looked up first:
    the ledger's unique transaction id refuses it at the booking, and the sale goes with it."""
    from pos_member.services.checkout import sv_txn_id
    from pos_member.services.stored_value import pay
    from pos_member.stored_value_errors import TxnIdConflict

    m = _member(till)
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=500,  # type: ignore[attr-defined]
        txn_id=sv_txn_id("c-1"), factor=PinFactor(PIN), online=True)
    before = till.table_counts()
    with pytest.raises(TxnIdConflict):
        _pay(till, m)
    assert till.table_counts() == before


def test_a_category_with_a_control_character_is_refused_with_nothing_written(
        till: Till) -> None:
    """The sale dialog's categories go into ``sale.recorded`` as typed: a NUL there is refused
    by HQ's push and would hold every later event of the till."""
    before = till.table_counts()
    with pytest.raises(DomainError):
        checkout(till.uow, till.cashier, txn_id="t-nul", bill_no="B-nul", amount_fen=1_000,
                 tenders=(Tender("cash", 1_000),), categories=("食品\x00",))
    assert till.table_counts() == before
