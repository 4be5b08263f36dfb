"""Refunds of sales need a manager's approval, enforced in the core (issue 13: any role could
refund a sale): the approver is named in the event and the audit; a refusal writes nothing."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from pos_member.errors import PermissionDenied
from pos_member.permissions import Role
from pos_member.services import sales
from pos_member.services.sale_refunds import refund_sale, refund_sale_with_pin
from pos_member.stored_value_errors import ApprovalRefused
from tests.factories import PINS, Till, make_till

MANAGER_CODE = f"1{list(Role).index(Role.MANAGER)}01"  # make_till's numbering
CASHIER_CODE = f"1{list(Role).index(Role.CASHIER)}01"


@pytest.fixture
def till(tmp_path: Path) -> Till:
    t = make_till(tmp_path)
    m = t.register()
    sales.record_sale(t.uow, t.cashier, txn_id=str(uuid.uuid4()), bill_no="B1",
                      amount_fen=10_000, member_id=m.id)
    return t


def refunded(t: Till) -> tuple[int, int]:
    con = sqlite3.connect(t.path)
    try:
        (fen,) = con.execute("SELECT refunded_fen FROM sales WHERE bill_no='B1'").fetchone()
        (n,) = con.execute("SELECT count(*) FROM events WHERE type='sale.refunded'").fetchone()
    finally:
        con.close()
    return fen, n


def test_a_cashier_cannot_approve_a_refund(till: Till) -> None:
    with pytest.raises(PermissionDenied):
        refund_sale(till.uow, till.cashier, approver=till.cashier,
                          txn_id=str(uuid.uuid4()), bill_no="B1")
    assert refunded(till) == (0, 0)


@pytest.mark.parametrize("code,pin", [(MANAGER_CODE, "000000"), ("", ""),
                                      (CASHIER_CODE, PINS[Role.CASHIER])])
def test_a_refund_at_the_till_without_a_managers_number_and_pin_is_refused(
    till: Till, code: str, pin: str,
) -> None:
    with pytest.raises((ApprovalRefused, PermissionDenied)):
        refund_sale_with_pin(till.uow, till.cashier, manager_code=code, manager_pin=pin,
                                   txn_id=str(uuid.uuid4()), bill_no="B1")
    assert refunded(till) == (0, 0)


def test_a_managers_number_and_pin_approve_and_the_event_and_audit_name_the_manager(
    till: Till,
) -> None:
    r = refund_sale_with_pin(till.uow, till.cashier, manager_code=MANAGER_CODE,
                                   manager_pin=PINS[Role.MANAGER], txn_id=str(uuid.uuid4()),
                                   bill_no="B1", amount_fen=4_000)
    assert r.refund_fen == 4_000
    assert refunded(till) == (4_000, 1)
    con = sqlite3.connect(till.path)
    try:
        (payload,) = con.execute(
            "SELECT payload FROM events WHERE type='sale.refunded'").fetchone()
        (after,) = con.execute(
            "SELECT after FROM audit_log WHERE action='sale.refunded'").fetchone()
    finally:
        con.close()
    assert json.loads(payload)["approved_by"] == till.manager.staff_id
    assert json.loads(after)["approved_by"] == till.manager.staff_id


def test_a_logged_in_manager_approves_their_own_refund(till: Till) -> None:
    refund_sale_with_pin(till.uow, till.manager, manager_code="", manager_pin="",
                               txn_id=str(uuid.uuid4()), bill_no="B1")
    assert refunded(till) == (10_000, 1)


def test_a_repeat_of_a_done_refund_asks_for_no_pin_again(till: Till) -> None:
    txn = str(uuid.uuid4())
    refund_sale_with_pin(till.uow, till.cashier, manager_code=MANAGER_CODE,
                               manager_pin=PINS[Role.MANAGER], txn_id=txn, bill_no="B1")
    again = refund_sale_with_pin(till.uow, till.cashier, manager_code="",
                                       manager_pin="", txn_id=txn, bill_no="B1")
    assert again.repeated
    assert refunded(till) == (10_000, 1)
