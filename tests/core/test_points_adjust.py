"""Manual adjustments at the till (Ctrl+F7) and one till transaction, one operation: what is
checked before the manager's PIN, what a repeat returns, and a transaction id already used."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable

import pytest

from pos_member.errors import (
    InsufficientPoints,
    InvalidInput,
    LoginFailed,
    MemberNotFound,
    PointsReasonRequired,
    TxnReused,
)
from pos_member.permissions import Role
from pos_member.services import points, sales
from pos_member.services.sale_refunds import refund_sale
from tests.factories import PINS, Till


def txn() -> str:
    return str(uuid.uuid4())




def code_of(t: Till, role: Role) -> str:
    con = sqlite3.connect(t.path)
    try:
        return con.execute("SELECT code FROM staff WHERE id = ?",
                           (t.clerks[role].staff_id,)).fetchone()[0]
    finally:
        con.close()


def adjust_at_till(t: Till, member_id: str, *, points_: int, reason: str,
                   txn_id: str | None = None, pin: str | None = None
                   ) -> points.PointsOpResult:
    """The till's Ctrl+F7: the cashier's inputs and the manager's staff number and PIN."""
    return points.adjust_points_with_pin(
        t.uow, clerk=t.cashier, manager_code=code_of(t, Role.MANAGER),
        manager_pin=PINS[Role.MANAGER] if pin is None else pin, txn_id=txn_id or txn(),
        member_id=member_id, points=points_, reason=reason)


def audit_actions(t: Till) -> list[str]:
    con = sqlite3.connect(t.path)
    try:
        return [r[0] for r in con.execute("SELECT action FROM audit_log ORDER BY rowid")]
    finally:
        con.close()


# -- checked before the manager's PIN --------------------------------------------------------


def test_an_adjustment_without_a_reason_and_a_right_manager_pin_writes_nothing(
        till: Till) -> None:
    m = till.register()
    before = till.dump()
    with pytest.raises(PointsReasonRequired):
        adjust_at_till(till, m.id, points_=50, reason="  ")
    assert till.dump() == before  # not even the manager's staff.login


@pytest.mark.parametrize(("points_", "error"), [
    (0, InvalidInput), (1_000_001, InvalidInput), (-101, InsufficientPoints)])
def test_an_adjustment_refused_for_its_points_with_a_right_manager_pin_writes_nothing(
        till: Till, points_: int, error: type[Exception]) -> None:
    m = till.register()  # 100 welcome points
    before = till.dump()
    with pytest.raises(error):
        adjust_at_till(till, m.id, points_=points_, reason="goodwill")
    assert till.dump() == before


def test_an_adjustment_for_an_unknown_member_with_a_right_manager_pin_writes_nothing(
        till: Till) -> None:
    before = till.dump()
    with pytest.raises(MemberNotFound):
        adjust_at_till(till, "nobody", points_=5, reason="goodwill")
    assert till.dump() == before


def test_a_wrong_manager_pin_refuses_the_adjustment_and_counts_towards_the_lock(
        till: Till) -> None:
    m = till.register()
    with pytest.raises(LoginFailed):
        adjust_at_till(till, m.id, points_=50, reason="goodwill", pin="000000")
    assert points.points_summary(till.uow, member_id=m.id).balance == 100
    assert audit_actions(till)[-1] == "staff.login_failed"


def test_a_till_adjustment_is_approved_by_the_manager_and_audited(till: Till) -> None:
    m = till.register()
    r = adjust_at_till(till, m.id, points_=50, reason="birthday gift")
    assert (r.points, r.balance, r.repeated) == (50, 150, False)
    assert audit_actions(till)[-2:] == ["staff.login", points.ADJUSTED]


def test_a_cashiers_pin_cannot_approve_an_adjustment(till: Till) -> None:
    from pos_member.errors import PermissionDenied

    m = till.register()
    with pytest.raises(PermissionDenied):
        points.adjust_points_with_pin(
            till.uow, clerk=till.cashier, manager_code=code_of(till, Role.CASHIER),
            manager_pin=PINS[Role.CASHIER], txn_id=txn(), member_id=m.id, points=50,
            reason="goodwill")
    assert points.points_summary(till.uow, member_id=m.id).balance == 100


# -- one till transaction, one operation ----------------------------------------------------


def test_a_repeated_adjustment_returns_the_first_result_even_without_its_reason(
        till: Till) -> None:
    m = till.register()
    t_id = txn()
    first = points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager,
                                 txn_id=t_id, member_id=m.id, points=5, reason="goodwill")
    before = till.dump()
    again = points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager,
                                 txn_id=t_id, member_id=m.id, points=5, reason="")
    assert again.repeated and (again.points, again.balance) == (first.points, first.balance)
    assert till.dump() == before


def test_a_repeated_till_adjustment_returns_the_first_result_without_a_second_login(
        till: Till) -> None:
    m = till.register()
    t_id = txn()
    first = adjust_at_till(till, m.id, points_=5, reason="goodwill", txn_id=t_id)
    before = till.dump()
    again = adjust_at_till(till, m.id, points_=5, reason="", txn_id=t_id, pin="")
    assert again.repeated and again.balance == first.balance
    assert till.dump() == before


def _adjust(t: Till, member_id: str, txn_id: str) -> object:
    return points.adjust_points(t.uow, clerk=t.cashier, approver=t.manager, txn_id=txn_id,
                                member_id=member_id, points=5, reason="goodwill")


def _gift(t: Till, member_id: str, txn_id: str) -> object:
    return points.redeem_for_item(t.uow, clerk=t.cashier, txn_id=txn_id, member_id=member_id,
                                  item_code="GIFT-BAG")


def _refund(t: Till, member_id: str, txn_id: str) -> object:
    return refund_sale(t.uow, t.cashier, approver=t.manager,
                             txn_id=txn_id, bill_no="S1", amount_fen=100)


@pytest.mark.parametrize("operation", [_adjust, _gift, _refund],
                         ids=["adjustment", "gift", "refund"])
def test_a_sales_till_transaction_id_is_refused_for_another_operation(
        till: Till, operation: Callable[[Till, str, str], object]) -> None:
    m = till.register()
    t_id = txn()
    sales.record_sale(till.uow, till.cashier, txn_id=t_id, bill_no="S1", amount_fen=50_000,
                      member_id=m.id)  # 600 points: enough for the bag
    before = till.dump()
    with pytest.raises(TxnReused):
        operation(till, m.id, t_id)
    assert till.dump() == before
