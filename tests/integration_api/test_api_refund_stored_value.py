"""A refund the POS reports of a bill paid (partly) with stored value gives the stored value
back into the member's account — stored value first, principal and bonus as the payment took
them — through the real HTTP API, once per refund txn_id (docs/rules.md, "One checkout")."""

from __future__ import annotations

from typing import Any

import pytest

from pos_member.integration.reports import till_txn_id
from pos_member.services.member_cards import find_member
from pos_member.services.stored_value_ledger import get_balance
from pos_member.services.stored_value_refunds import refund_payment
from pos_member.stored_value_errors import PaymentOfABill
from tests.integration_api.conftest import Api, sale_body
from tests.integration_api.test_api_refusals import refused
from tests.integration_api.test_api_stored_value_tender import paid_by_stored_value

pytestmark = pytest.mark.usefixtures("cheap_hash")


def mixed_sale(api: Api, stored: int, cash: int) -> tuple[Any, Any]:
    """A member's sale of ``stored + cash`` (two lines, half each) paid by the POS's stored-value
    payment POS-P1 and cash; the member and their balance right after the payment."""
    no, _ = paid_by_stored_value(api, stored)
    body = sale_body("POS-1", "B-1", stored + cash, member=no)
    body["tenders"] = [{"kind": "stored_value", "amount_fen": stored,
                        "payment_txn_id": "POS-P1"}, {"kind": "cash", "amount_fen": cash}]
    r = api.post("/v1/sales", body)
    assert r.status_code == 200, r.text
    member = find_member(api.till.uow, clerk=api.till.cashier, code=no)
    return member, get_balance(api.till.uow, member.id)


def back(r: Any) -> list[tuple[str, int]]:
    return [(x["kind"], x["amount_fen"]) for x in r.json()["given_back"]]


def test_a_whole_refund_gives_the_stored_value_back_as_it_was_taken(api: Api) -> None:
    no, bonus = paid_by_stored_value(api, 20_000)
    member = find_member(api.till.uow, clerk=api.till.cashier, code=no)
    before = get_balance(api.till.uow, member.id)
    body = sale_body("POS-1", "B-1", 20_000, member=no)
    body["tenders"] = [{"kind": "stored_value", "amount_fen": 20_000,
                        "payment_txn_id": "POS-P1"}]
    assert api.post("/v1/sales", body).status_code == 200
    r = api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1"})
    assert r.status_code == 200, r.text
    assert back(r) == [("stored_value", 20_000)]
    after = get_balance(api.till.uow, member.id)
    assert (after.principal_fen - before.principal_fen, after.bonus_fen - before.bonus_fen) \
        == (20_000 - bonus, bonus)
    assert r.json()["stored_value_fen"] == after.total_fen
    dumped = api.till.dump()
    again = api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1"})
    assert again.json() == {**r.json(), "repeated": True}
    assert api.till.dump() == dumped  # the repeat gave nothing back a second time


def test_a_partial_refund_takes_stored_value_first_then_the_other_tender(api: Api) -> None:
    member, before = mixed_sale(api, 8_000, 4_800)  # lines of 6,400 each
    first = api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1",
                                     "lines": [{"line": "1", "amount_fen": 6_400}]})
    assert first.status_code == 200, first.text
    assert back(first) == [("stored_value", 6_400)]
    assert get_balance(api.till.uow, member.id).total_fen == before.total_fen + 6_400
    rest = api.post("/v1/refunds", {"txn_id": "R-2", "bill_no": "B-1"})
    assert rest.status_code == 200, rest.text
    assert back(rest) == [("stored_value", 1_600), ("cash", 4_800)]
    assert get_balance(api.till.uow, member.id).total_fen == before.total_fen + 8_000
    refused(api, "/v1/refunds", {"txn_id": "R-3", "bill_no": "B-1", "amount_fen": 1}, 422,
            "refund_too_large")


def test_the_payment_of_a_reported_bill_is_not_refunded_alone(api: Api) -> None:
    member, _ = mixed_sale(api, 8_000, 4_800)
    till = api.till
    with pytest.raises(PaymentOfABill):
        refund_payment(till.uow, clerk=till.manager, approver=till.manager,
                       member_id=member.id, ref_txn_id=till_txn_id("POS-P1", "payment"),
                       txn_id="sv-r-1")
