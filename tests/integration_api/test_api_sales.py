"""Sales reported over the API are the till's own sales: the same event, the same points, and
they count in 会销比 and the guide's figures. Repeats answer the first result."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from tests.integration_api.conftest import GUIDE_CODE, Api, sale_body


def events_of(api: Api, type_: str) -> list[dict[str, object]]:
    con = sqlite3.connect(api.till.path)
    try:
        return [json.loads(p) for (p,) in con.execute(
            "SELECT payload FROM events WHERE type = ? ORDER BY seq", (type_,))]
    finally:
        con.close()


def test_a_reported_sale_is_a_sale_recorded_with_its_points_and_guide(api: Api) -> None:
    member = api.till.register()
    r = api.post("/v1/sales", sale_body("POS-1", "B-1", 12_800, member=member.member_no))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["member_no"] == member.member_no and body["points_earned"] == 128
    assert body["repeated"] is False
    recorded = events_of(api, "sale.recorded")
    assert len(recorded) == 1
    sale = recorded[0]["sale"]
    assert sale["bill_no"] == "B-1" and sale["amount_fen"] == 12_800  # type: ignore[index]
    assert sale["member_id"] == member.id and sale["categories"] == ["shoes", "socks"]  # type: ignore[index]
    assert sale["guide_id"] == api.till.guide.staff_id  # type: ignore[index]


def test_member_and_walk_in_sales_count_in_the_days_ratio_and_the_guides_figures(
        api: Api) -> None:
    member = api.till.register()
    assert api.post("/v1/sales", sale_body("POS-1", "B-1", 10_000,
                                           member=member.member_no)).status_code == 200
    assert api.post("/v1/sales", sale_body("POS-2", "B-2", 5_000)).status_code == 200
    assert api.post("/v1/sales", sale_body("POS-3", "B-3", 2_000, guide=None)).status_code == 200
    day = api.get("/v1/day").json()
    assert (day["sales"], day["member_sales"], day["ratio_permille"]) == (3, 1, 333)
    assert day["amount_fen"] == 17_000 and day["member_amount_fen"] == 10_000
    guide = next(g for g in day["guides"] if g["code"] == GUIDE_CODE)
    assert (guide["sales"], guide["member_sales"], guide["amount_fen"]) == (2, 1, 15_000)


def test_repeating_a_sale_answers_the_first_result_and_writes_nothing(api: Api) -> None:
    member = api.till.register()
    first = api.post("/v1/sales", sale_body("POS-1", "B-1", member=member.member_no)).json()
    before = api.till.dump()
    again = api.post("/v1/sales", sale_body("POS-1", "B-1", member=member.member_no))
    assert again.status_code == 200
    assert again.json() == {**first, "repeated": True}
    assert api.till.dump() == before


def test_a_txn_id_reused_for_another_sale_is_refused_and_nothing_written(api: Api) -> None:
    api.post("/v1/sales", sale_body("POS-1", "B-1", 12_800))
    before = api.till.dump()
    r = api.post("/v1/sales", sale_body("POS-1", "B-1", 12_900))
    assert r.status_code == 409 and r.json()["error"] == "txn_id_reused"
    assert api.till.dump() == before


def test_a_bill_number_already_recorded_under_another_txn_is_refused(api: Api) -> None:
    api.post("/v1/sales", sale_body("POS-1", "B-1"))
    before = api.till.dump()
    r = api.post("/v1/sales", sale_body("POS-2", "B-1"))
    assert r.status_code == 409 and r.json()["error"] == "duplicate_bill"
    assert api.till.dump() == before


def test_points_are_redeemed_as_part_of_the_sale_within_the_quote(api: Api) -> None:
    member = api.till.register()  # the welcome bonus: 100 points
    q = api.post("/v1/quotes", {"member": member.member_no, "amount_fen": 10_000,
                                "redeem_points": 100}).json()
    assert q["spendable_points"] == 100 and q["redeem_points"] == 100
    r = api.post("/v1/sales", sale_body("POS-1", "B-1", 10_000, member=member.member_no,
                                        redeem_points=100, paid=q["paid_fen"]))
    assert r.status_code == 200, r.text
    assert r.json()["paid_fen"] == q["paid_fen"] < 10_000
    assert r.json()["points_earned"] == q["points_earned"]


def test_lookup_by_phone_is_masked_without_the_personal_scope(api: Api) -> None:
    member = api.till.register(phone="13912345678", name="王小明")
    r = api.post("/v1/members/lookup", {"code": "13912345678"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["member_no"] == member.member_no and body["phone_masked"] == "139****5678"
    assert "phone" not in body and "name" not in body and body["name_masked"] == "王*明"
    assert body["points"] == 100


def test_lookup_shows_personal_data_to_a_token_with_that_scope_and_audits_it(
        api: Api) -> None:
    from pos_member.integration.tokens import DEFAULT_SCOPES, Scope

    member = api.till.register(phone="13912345678", name="王小明")
    token = api.with_scopes(DEFAULT_SCOPES | {Scope.PERSONAL})
    body = api.post("/v1/members/lookup", {"code": member.member_no}, token=token).json()
    assert body["phone"] == "13912345678" and body["name"] == "王小明"
    con = sqlite3.connect(api.till.path)
    try:
        audited = con.execute("SELECT count(*) FROM audit_log WHERE action = "
                              "'member.personal_data_revealed'").fetchone()[0]
    finally:
        con.close()
    assert audited == 1


def test_the_member_of_a_sale_may_be_named_by_phone_or_scanned_code(api: Api) -> None:
    from pos_member.member_code import qr_payload

    member = api.till.register(phone="13912345678")
    by_phone = api.post("/v1/sales", sale_body("POS-1", "B-1", member="13912345678")).json()
    by_code = api.post("/v1/sales", sale_body("POS-2", "B-2",
                                              member=qr_payload(member.member_no))).json()
    assert by_phone["member_no"] == by_code["member_no"] == member.member_no
    assert by_phone["points_earned"] > 0


def at(api: Api, delta: timedelta) -> str:
    return (api.till.clock.now() + delta).astimezone(api.till.clock.zone).isoformat()


def test_a_sale_reported_late_counts_on_the_day_it_was_rung_up(api: Api) -> None:
    today = api.till.clock.local(api.till.clock.now()).date()
    body = {**sale_body("POS-1", "B-1", 5_000), "time": at(api, -timedelta(days=1))}
    assert api.post("/v1/sales", body).status_code == 200
    yesterday = api.get("/v1/day", date=(today - timedelta(days=1)).isoformat()).json()
    assert (yesterday["sales"], api.get("/v1/day").json()["sales"]) == (1, 0)
    [recorded] = events_of(api, "sale.recorded")
    assert recorded["sale"]["business_day"] == str(today - timedelta(days=1))  # type: ignore[index]


def test_a_time_ahead_of_the_tills_clock_books_the_sale_now(api: Api) -> None:
    body = {**sale_body("POS-1", "B-1", 5_000), "time": at(api, timedelta(days=2))}
    assert api.post("/v1/sales", body).status_code == 200
    assert api.get("/v1/day").json()["sales"] == 1


def test_a_sale_more_than_31_days_old_is_refused(api: Api) -> None:
    from tests.integration_api.test_api_refusals import refused

    body = {**sale_body("POS-1", "B-1", 5_000), "time": at(api, -timedelta(days=32))}
    refused(api, "/v1/sales", body, 422, "invalid_input")


@pytest.mark.parametrize("standing", ["frozen", "blacklisted"])
def test_lookup_reports_a_frozen_or_blacklisted_members_real_status(api: Api,
                                                                     standing: str) -> None:
    """The POS was told "active" for a member the till refuses (docs/rules.md, "The main
    POS": a normal member stays "active", so an integrator comparing with it still works)."""
    from pos_member.services.member_service import set_status

    member = api.till.register(phone="13912345678")
    assert api.post("/v1/members/lookup", {"code": member.member_no}).json()["status"] == \
        "active"
    set_status(api.till.uow, clerk=api.till.manager, member_id=member.id, status=standing,
               reason="test")
    for code in (member.member_no, "13912345678"):
        body = api.post("/v1/members/lookup", {"code": code}).json()
        assert body["status"] == standing, body
