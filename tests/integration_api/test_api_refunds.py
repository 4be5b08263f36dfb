"""Refunds reported over the API: of a whole bill, an amount or some lines, idempotent, never
more than was sold (of the bill or of a line)."""

from __future__ import annotations

from tests.integration_api.conftest import Api, sale_body
from tests.integration_api.test_api_refusals import refused


def sold(api: Api, amount: int = 12_800, member: bool = True) -> str:
    m = api.till.register().member_no if member else None
    assert api.post("/v1/sales", sale_body("POS-1", "B-1", amount, member=m)).status_code == 200
    return "B-1"


def test_a_refund_of_lines_pays_their_share_back_and_takes_their_points(api: Api) -> None:
    sold(api)  # lines 1 and 2: 6,400 each; 128 points earned
    r = api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1",
                                 "lines": [{"line": "2", "amount_fen": 6_400}]})
    assert r.status_code == 200, r.text
    assert (r.json()["refund_fen"], r.json()["points_clawed"]) == (6_400, 64)
    day = api.get("/v1/day").json()
    assert (day["sales"], day["amount_fen"]) == (1, 6_400)


def test_refunding_every_line_in_parts_ends_where_a_whole_refund_would(api: Api) -> None:
    sold(api, 10_001)  # lines of 5,000 and 5,001
    for n, (line, fen) in enumerate((("1", 1_000), ("2", 5_001), ("1", 4_000)), start=1):
        r = api.post("/v1/refunds", {"txn_id": f"R-{n}", "bill_no": "B-1",
                                     "lines": [{"line": line, "amount_fen": fen}]})
        assert r.status_code == 200, r.text
    assert r.json()["refunded_total_fen"] == 10_001 and r.json()["points_balance"] == 100
    day = api.get("/v1/day").json()
    assert (day["sales"], day["amount_fen"]) == (0, 0)  # fully refunded: no longer counts


def test_a_whole_bill_refund_and_its_repeat(api: Api) -> None:
    sold(api, member=False)
    first = api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1"})
    assert first.status_code == 200 and first.json()["refund_fen"] == 12_800
    before = api.till.dump()
    again = api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1"})
    assert again.json() == {**first.json(), "repeated": True}
    assert api.till.dump() == before


def test_a_refund_txn_id_reused_with_other_content_is_refused(api: Api) -> None:
    sold(api)
    api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1", "amount_fen": 100})
    refused(api, "/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1", "amount_fen": 200}, 409,
            "txn_id_reused")


def test_a_refund_over_what_was_sold_is_refused(api: Api) -> None:
    sold(api)
    refused(api, "/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1", "amount_fen": 12_801},
            422, "refund_too_large")


def test_a_refund_over_what_is_left_of_a_line_is_refused(api: Api) -> None:
    sold(api)
    assert api.post("/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1", "lines": [
        {"line": "1", "amount_fen": 6_000}]}).status_code == 200
    answer = refused(api, "/v1/refunds", {"txn_id": "R-2", "bill_no": "B-1", "lines": [
        {"line": "1", "amount_fen": 401}]}, 422, "refund_over_line")
    assert "400" in answer["message"]


def test_a_refund_of_a_line_not_on_the_bill_is_refused(api: Api) -> None:
    sold(api)
    refused(api, "/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1", "lines": [
        {"line": "9", "amount_fen": 1}]}, 422, "line_not_on_bill")


def test_a_refund_of_an_unknown_bill_is_404(api: Api) -> None:
    refused(api, "/v1/refunds", {"txn_id": "R-1", "bill_no": "NOPE"}, 404, "sale_not_found")


def test_a_refund_naming_lines_and_an_amount_is_refused(api: Api) -> None:
    sold(api)
    refused(api, "/v1/refunds", {"txn_id": "R-1", "bill_no": "B-1", "amount_fen": 5,
                                 "lines": [{"line": "1", "amount_fen": 5}]}, 422,
            "invalid_input")
