"""Line refunds at the till (Shift+F4) of a bill the main POS reported with lines: the lines'
share of what was paid, stored value first back into the account, points by share, never more
than a line or the bill, approved by a manager, once per transaction id (docs/rules.md)."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from pos_member.errors import RefundTooLarge
from pos_member.integration.errors import RefundOverLine
from pos_member.integration.reports import (
    Line,
    SaleReport,
    Tender,
    pos_clerk,
    report_sale,
    till_txn_id,
)
from pos_member.permissions import Role
from pos_member.services import points
from pos_member.services.line_refunds import bill_lines, quote_lines, refund_lines_with_pin
from pos_member.services.member_auth import set_member_pin
from pos_member.services.sale_refunds import quote_refund
from pos_member.services.stored_value import PinFactor, pay, top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.stored_value_errors import ApprovalRefused
from tests.factories import PINS, Till

PIN = "739182"
MANAGER = f"1{list(Role).index(Role.MANAGER)}01"  # tests.factories.make_till's numbering
pytestmark = pytest.mark.usefixtures("cheap_hash")


def _sold(till: Till) -> object:
    """A member's bill of three lines (¥60, ¥30, ¥10) paid ¥50 by stored value, ¥50 cash."""
    till.clock.set(datetime.combine(till.clock.local().date().replace(day=10), time(11, 0),
                                    tzinfo=till.clock.zone))  # no member day
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id="t-1")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id, pin=PIN)
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=5_000,
        txn_id=till_txn_id("P-1", "payment"), factor=PinFactor(PIN), online=True)
    ident = till.app.identity
    assert ident is not None
    report_sale(till.uow, pos_clerk(store_id=ident.store_id, device_id=ident.device_id),
                SaleReport("S-1", "B-1", till.clock.now().isoformat(), 10_000,
                           (Line("a", "shoes", 6_000), Line("b", "socks", 3_000),
                            Line("c", "bag", 1_000)),
                           (Tender("stored_value", 5_000, "P-1"), Tender("cash", 5_000)),
                           member=m.member_no))  # type: ignore[attr-defined]
    return m


def test_a_line_refund_gives_stored_value_first_and_the_lines_points(till: Till) -> None:
    m = _sold(till)
    before = get_balance(till.uow, m.id).total_fen  # type: ignore[attr-defined]
    pts = points.points_summary(till.uow, member_id=m.id).balance  # type: ignore[attr-defined]
    assert [(x.line, x.left_fen) for x in bill_lines(till.uow, till.cashier, bill_no="B-1")] \
        == [("a", 6_000), ("b", 3_000), ("c", 1_000)]
    q, back = quote_lines(till.uow, till.cashier, bill_no="B-1", lines=[("a", 6_000)])
    assert q.refund_fen == 6_000 and [(t.kind, t.amount_fen) for t in back] == [
        ("stored_value", 5_000), ("cash", 1_000)]
    done = refund_lines_with_pin(till.uow, till.cashier, manager_code=MANAGER,
                                 manager_pin=PINS[Role.MANAGER], txn_id="r-1", bill_no="B-1",
                                 lines=[("a", 6_000)])
    assert [(t.kind, t.amount_fen) for t in done.back] == [("stored_value", 5_000),
                                                          ("cash", 1_000)]
    assert get_balance(till.uow, m.id).total_fen == before + 5_000  # type: ignore[attr-defined]
    assert pts - points.points_summary(till.uow, member_id=m.id).balance == q.clawed_points > 0  # type: ignore[attr-defined]
    assert [x.left_fen for x in bill_lines(till.uow, till.cashier, bill_no="B-1")] == [0, 3_000,
                                                                                     1_000]
    # A repeat asks no PIN and gives nothing twice; the line is not refunded again.
    dumped = till.dump()
    again = refund_lines_with_pin(till.uow, till.cashier, manager_code=MANAGER, manager_pin="x",
                                  txn_id="r-1", bill_no="B-1", lines=[("a", 6_000)])
    assert again.refund.repeated and till.dump() == dumped
    with pytest.raises(RefundOverLine):
        refund_lines_with_pin(till.uow, till.cashier, manager_code=MANAGER,
                              manager_pin=PINS[Role.MANAGER], txn_id="r-2", bill_no="B-1",
                              lines=[("a", 1)])
    rest = refund_lines_with_pin(till.uow, till.manager, manager_code="", manager_pin="",
                                 txn_id="r-3", bill_no="B-1", lines=[("b", 3_000), ("c", 1_000)])
    assert [(t.kind, t.amount_fen) for t in rest.back] == [("cash", 4_000)]
    assert rest.refund.refunded_total_fen == 10_000
    with pytest.raises(RefundOverLine):
        quote_lines(till.uow, till.cashier, bill_no="B-1", lines=[("c", 1)])
    with pytest.raises(RefundTooLarge):  # nor more than the bill by its amount
        quote_refund(till.uow, till.cashier, bill_no="B-1", amount_fen=1)


def test_a_wrong_manager_pin_refunds_nothing(till: Till) -> None:
    _sold(till)
    dumped = till.dump()
    with pytest.raises(ApprovalRefused):
        refund_lines_with_pin(till.uow, till.cashier, manager_code=MANAGER, manager_pin="000000",
                              txn_id="r-1", bill_no="B-1", lines=[("b", 3_000)])
    assert [x.left_fen for x in bill_lines(till.uow, till.cashier, bill_no="B-1")] == [
        6_000, 3_000, 1_000]
    assert till.dump().count("pos_refunds") == dumped.count("pos_refunds")
