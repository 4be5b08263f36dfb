"""Refunding a top-up whose bonus was partly spent: the principal comes back out, the bonus
still in the balance is taken back, and the bonus already spent is deducted from the cash."""

from __future__ import annotations

import pytest

from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import PinFactor, pay, top_up
from pos_member.services.stored_value_ledger import get_balance, ledger_totals
from pos_member.services.stored_value_refunds import refund_topup
from tests.factories import Till

PIN = "739182"


pytestmark = pytest.mark.usefixtures("cheap_hash")


def test_refund_of_a_topup_deducts_the_bonus_already_spent_from_the_cash(till: Till) -> None:
    m = till.register()
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin=PIN)
    for txn, amount in (("t1", 10000), ("t2", 50000)):  # bonuses ¥10 and ¥60
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=amount,
               method="cash", txn_id=txn)
    # principal 60000, bonus 7000: paying 10050 spends bonus 10050·7000 ÷ 67000 = 1050
    paid = pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10050, txn_id="p",
               factor=PinFactor(PIN), online=True)
    assert (paid.principal_delta_fen, paid.bonus_delta_fen) == (-9000, -1050)
    # left: principal 51000 (t2's 50000 is all there), bonus 5950 (50 short of t2's 6000)

    r = refund_topup(till.uow, clerk=till.manager, approver=till.manager, member_id=m.id,
                     ref_txn_id="t2", txn_id="r")

    assert (r.principal_delta_fen, r.bonus_delta_fen) == (-50000, -5950)
    assert r.cash_fen == 50000 - 50
    b = get_balance(till.uow, m.id)
    assert (b.principal_fen, b.bonus_fen) == (1000, 0)
    with till.uow.read() as s:
        assert ledger_totals(s, m.id) == (1000, 0)
