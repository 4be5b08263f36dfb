"""A sale the POS paid (partly) with stored value names the payment it took through
/v1/payments; the sale earns by the rule the till's checkout follows: the tender's bonus part
earns nothing (points.stored_value_earns = "principal", the default)."""

from __future__ import annotations

import pytest

from pos_member.integration.reports import till_txn_id
from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import PinFactor, pay, top_up
from tests.integration_api.conftest import Api, sale_body
from tests.integration_api.test_api_refusals import refused

PIN = "739182"
pytestmark = pytest.mark.usefixtures("cheap_hash")


def paid_by_stored_value(api: Api, amount: int) -> tuple[str, int]:
    """A member who paid ``amount`` at the till's pay dialog for the POS's payment POS-P1
    (what /v1/payments leads to); the member's number and the bonus part of the payment."""
    till = api.till
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100_000, method="cash",
           txn_id="t")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id, pin=PIN)
    r = pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=amount,
            txn_id=till_txn_id("POS-P1", "payment"), factor=PinFactor(PIN), online=True)
    return m.member_no, -r.bonus_delta_fen


def sv_sale(no: str, amount: int, payment: str | None = "POS-P1") -> dict[str, object]:
    body = sale_body("POS-1", "B-1", amount, member=no)
    body["tenders"] = [{"kind": "stored_value", "amount_fen": amount,
                        "payment_txn_id": payment}]
    return body


def test_the_bonus_part_of_a_stored_value_tender_earns_nothing(api: Api) -> None:
    no, bonus = paid_by_stored_value(api, 20_000)
    assert bonus > 0  # the top-up's bonus pays its share
    expected = api.post("/v1/quotes", {"member": no, "amount_fen": 20_000 - bonus}).json()
    r = api.post("/v1/sales", sv_sale(no, 20_000))
    assert r.status_code == 200, r.text
    assert r.json()["points_earned"] == expected["points_earned"]


def test_a_stored_value_tender_without_its_payment_is_refused(api: Api) -> None:
    no, _ = paid_by_stored_value(api, 20_000)
    refused(api, "/v1/sales", sv_sale(no, 20_000, payment=None), 422, "invalid_input")
    refused(api, "/v1/sales", sv_sale(no, 20_000, payment="POS-NOPE"), 422, "invalid_input")
    refused(api, "/v1/sales", sv_sale(no, 19_000), 422, "invalid_input")  # not that amount


def test_the_reported_sale_shows_in_the_members_purchases_with_its_tenders(api: Api) -> None:
    from pos_member.services.member_cards import find_member
    from pos_member.services.purchases import purchases

    no, _ = paid_by_stored_value(api, 20_000)
    assert api.post("/v1/sales", sv_sale(no, 20_000)).status_code == 200
    member = find_member(api.till.uow, clerk=api.till.cashier, code=no)
    [bought] = purchases(api.till.uow, clerk=api.till.cashier, member_id=member.id)
    assert bought.tenders == (("stored_value", 20_000),)
