"""A stored-value payment asked over the API is handed to the till's pay desk (the pay
dialog); without one, or while one is taken, the POS is told so and nothing is written."""

from __future__ import annotations

from integration_api.payments import PaymentOutcome, PaymentRequest
from pos_member.services.stored_value import top_up
from tests.integration_api.conftest import Api
from tests.integration_api.test_api_refusals import refused


class CancellingDesk:
    """Stands in for the till's screen: the cashier cancels every payment."""

    def __init__(self) -> None:
        self.asked: list[PaymentRequest] = []

    def take_payment(self, request: PaymentRequest) -> PaymentOutcome:
        self.asked.append(request)
        return PaymentOutcome(None)


def member(api: Api) -> str:
    m = api.till.register()
    top_up(api.till.uow, clerk=api.till.cashier, member_id=m.id, amount_fen=10_000,
           method="cash", txn_id="t")
    return m.member_no


def payment(no: str) -> dict[str, object]:
    return {"txn_id": "POS-P1", "bill_no": "B-1", "member": no, "amount_fen": 5_000}


def test_without_a_till_window_a_payment_is_409_and_nothing_written(api: Api) -> None:
    refused(api, "/v1/payments", payment(member(api)), 409, "payment_not_possible")


def test_while_a_payment_is_open_another_is_409_till_busy(api: Api) -> None:
    api.ctx.payments = CancellingDesk()
    no = member(api)
    with api.ctx.paying:
        refused(api, "/v1/payments", payment(no), 409, "till_busy")


def test_the_desk_gets_the_member_amount_and_a_till_txn_id_and_its_outcome_is_answered(
        api: Api) -> None:
    desk = CancellingDesk()
    api.ctx.payments = desk
    no = member(api)
    r = api.post("/v1/payments", payment(no))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    [asked] = desk.asked
    assert asked.card.member_no == no and asked.amount_fen == 5_000 and asked.bill_no == "B-1"
    assert len(asked.txn_id) == 36  # the till's own id, derived from the POS's


def test_a_payment_for_an_unknown_member_is_404(api: Api) -> None:
    api.ctx.payments = CancellingDesk()
    refused(api, "/v1/payments", payment("00019900000001"), 404, "member_not_found")
