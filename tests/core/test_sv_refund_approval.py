"""Every stored-value refund needs a manager's approval, enforced in the core (issue 13: any
role could put a payment back): the approver is named in the event, the ledger and the audit;
a refusal writes nothing. Sale refunds: test_refund_approval.py; points adjustments:
test_points_adjust.py."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from pos_member.errors import PermissionDenied
from pos_member.permissions import Role
from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import PinFactor, approve, pay, top_up
from pos_member.services.stored_value_refunds import refund_payment, refund_topup
from pos_member.stored_value_errors import ApprovalRefused
from tests.factories import PINS, Till

pytestmark = pytest.mark.usefixtures("cheap_hash")

PIN = "739182"
MANAGER_CODE = f"1{list(Role).index(Role.MANAGER)}01"  # make_till's numbering
CASHIER_CODE = f"1{list(Role).index(Role.CASHIER)}01"


def member(till: Till) -> str:
    """A member with ¥200 topped up (t1, t2: ¥100 each) and ¥50 paid (p1)."""
    m = till.register()
    for txn in ("t1", "t2"):
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10_000,
               method="cash", txn_id=txn)
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id, pin=PIN)
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=5_000, txn_id="p1",
        factor=PinFactor(PIN), online=True)
    return m.id


def rows(till: Till, sql: str) -> list[Any]:
    con = sqlite3.connect(till.path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def refunds(till: Till) -> list[Any]:
    return rows(till, "SELECT kind, approved_by FROM sv_ledger WHERE kind LIKE '%refund' "
                      "ORDER BY kind")


REFUNDS = [
    (refund_payment, "p1", "payment_refund", "sv.payment_refunded"),
    (refund_topup, "t2", "topup_refund", "sv.topup_refunded"),
]


@pytest.mark.parametrize(("refund", "ref", "kind", "event"), REFUNDS)
def test_a_cashier_alone_cannot_refund_stored_value(
        till: Till, refund: Any, ref: str, kind: str, event: str) -> None:
    mid = member(till)
    before = till.dump()
    with pytest.raises(PermissionDenied):
        refund(till.uow, clerk=till.cashier, approver=till.cashier, member_id=mid,
               ref_txn_id=ref, txn_id="r1")
    assert till.dump() == before


@pytest.mark.parametrize(("refund", "ref", "kind", "event"), REFUNDS)
def test_a_managers_number_and_pin_approve_and_the_event_ledger_and_audit_name_them(
        till: Till, refund: Any, ref: str, kind: str, event: str) -> None:
    mid = member(till)
    manager = approve(till.uow, code=MANAGER_CODE, pin=PINS[Role.MANAGER],
                      device_id=till.cashier.device_id)
    refund(till.uow, clerk=till.cashier, approver=manager, member_id=mid, ref_txn_id=ref,
           txn_id="r1")
    assert refunds(till) == [(kind, manager.staff_id)]
    [payload] = rows(till, f"SELECT payload FROM events WHERE type = '{event}'")
    assert f'"approved_by":"{manager.staff_id}"' in payload[0].replace(" ", "")
    audit = rows(till, "SELECT action, staff_id FROM audit_log WHERE action LIKE 'sv.%refund%'")
    assert sorted(audit) == sorted([(event, till.cashier.staff_id),
                                    (f"sv.{kind}_approved", manager.staff_id)])


@pytest.mark.parametrize(("code", "pin"), [(MANAGER_CODE, "000000"),
                                           (CASHIER_CODE, PINS[Role.CASHIER])])
def test_a_wrong_pin_or_a_cashiers_number_approves_nothing(till: Till, code: str,
                                                           pin: str) -> None:
    member(till)
    with pytest.raises(ApprovalRefused):
        approve(till.uow, code=code, pin=pin, device_id=till.cashier.device_id)
    assert refunds(till) == []


def test_a_logged_in_manager_approves_their_own_refund(till: Till) -> None:
    mid = member(till)
    refund_payment(till.uow, clerk=till.manager, approver=till.manager, member_id=mid,
                   ref_txn_id="p1", txn_id="r1")
    assert refunds(till) == [("payment_refund", till.manager.staff_id)]
