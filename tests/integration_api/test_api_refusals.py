"""Bad input over the API: a clear status and body, and nothing written (every row of every
table compared before and after)."""

from __future__ import annotations

from typing import Any

import pytest

from pos_member.integration.tokens import Scope
from tests.integration_api.conftest import Api, sale_body


def refused(api: Api, path: str, body: Any, status: int, error: str, *,
            token: str | None = None, raw: bytes | None = None) -> dict[str, Any]:
    before = api.till.dump()
    if raw is not None:
        r = api.client.post(path, content=raw, headers={
            **api.headers(token), "Content-Type": "application/json"})
    else:
        r = api.post(path, body, token=token)
    assert r.status_code == status, r.text
    answer: dict[str, Any] = r.json()
    assert answer["error"] == error and answer["message"]
    assert api.till.dump() == before
    return answer


def test_a_wrong_token_is_401_and_nothing_written(api: Api) -> None:
    refused(api, "/v1/sales", sale_body("T", "B"), 401, "token_invalid", token="pmt_guess")


def test_no_token_is_401_with_the_bearer_challenge(api: Api) -> None:
    r = api.client.post("/v1/sales", json=sale_body("T", "B"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"


def test_a_rotated_token_ends_the_old_one_at_once(api: Api) -> None:
    old = api.token
    api.with_scopes(frozenset(Scope))
    refused(api, "/v1/sales", sale_body("T", "B"), 401, "token_invalid", token=old)


def test_a_token_without_the_scope_is_403(api: Api) -> None:
    token = api.with_scopes(frozenset({Scope.LOOKUP}))
    refused(api, "/v1/sales", sale_body("T", "B"), 403, "scope_missing", token=token)
    refused(api, "/v1/refunds", {"txn_id": "R", "bill_no": "B"}, 403, "scope_missing",
            token=token)


def test_a_malformed_body_is_422(api: Api) -> None:
    refused(api, "/v1/sales", None, 422, "invalid_request", raw=b'{"txn_id": "T", "bill')


@pytest.mark.parametrize("path", ["/v1/sales", "/v1/members/lookup", "/v1/refunds",
                                  "/v1/quotes"])
@pytest.mark.parametrize("raw", [b"[" * 30_000 + b"]" * 30_000,
                                 b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
                                 b'{"code": "\xff\xfe"}',
                                 b'{"amount_fen": 1' + b"0" * 5_000 + b"}"],
                         ids=["deep-array", "deep-object", "not-utf8", "huge-number"])
def test_a_body_json_cannot_parse_is_422_in_the_error_shape(api: Api, path: str,
                                                          raw: bytes) -> None:
    """Nested too deep (a RecursionError in the hot path was a 500), not UTF-8, or a number
    of thousands of digits: FastAPI's bare 400 was no documented error."""
    answer = refused(api, path, None, 422, "invalid_request", raw=raw)
    assert answer["fields"] == ["body"]


def test_an_unknown_field_is_422_naming_it(api: Api) -> None:
    answer = refused(api, "/v1/sales", {**sale_body("T", "B"), "amount_yuan": 128}, 422,
                     "invalid_request")
    assert "amount_yuan" in answer["fields"]


@pytest.mark.parametrize("amount", [128.5, "12800", 12800.0, True, None, -5])
def test_an_amount_that_is_not_whole_fen_is_422(api: Api, amount: object) -> None:
    answer = refused(api, "/v1/sales", {**sale_body("T", "B"), "amount_fen": amount}, 422,
                     "invalid_request")
    assert "amount_fen" in answer["fields"]


def test_an_amount_over_the_most_a_bill_may_be_says_the_most(api: Api) -> None:
    huge = 10**30
    body = {**sale_body("T", "B"), "amount_fen": huge,
            "lines": [{"line": "1", "category": "shoes", "amount_fen": huge}],
            "tenders": [{"kind": "cash", "amount_fen": huge}]}
    answer = refused(api, "/v1/sales", body, 422, "invalid_input")
    assert "at most" in answer["message"]  # was "must be more than ¥0.00"
    answer = refused(api, "/v1/refunds", {"txn_id": "R", "bill_no": "B", "amount_fen": huge},
                     422, "invalid_input")
    assert "at most" in answer["message"]
    answer = refused(api, "/v1/quotes", {"member": None, "amount_fen": huge}, 422,
                     "invalid_input")
    assert "at most" in answer["message"]


@pytest.mark.parametrize("points", [10**30, 2**63])
def test_points_worth_more_than_the_bill_are_refused_by_name(api: Api, points: int) -> None:
    card = api.till.register()
    answer = refused(api, "/v1/sales", sale_body("T", "B", 10_000, member=card.member_no,
                                                 redeem_points=points), 422, "invalid_input")
    assert "redeem_points" in answer["message"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_the_figures_of_a_day_out_of_range_are_422_not_a_500(api: Api, day: str) -> None:
    before = api.till.dump()
    r = api.get("/v1/day", date=day)
    assert r.status_code == 422 and r.json()["error"] == "invalid_input", r.text
    assert "2000-01-01" in r.json()["message"]
    assert api.till.dump() == before


def test_a_line_amount_that_is_not_whole_fen_is_422(api: Api) -> None:
    body = sale_body("T", "B")
    body["lines"][0]["amount_fen"] = 64.0
    refused(api, "/v1/sales", body, 422, "invalid_request")


def test_an_oversized_body_is_413(api: Api) -> None:
    body = sale_body("T", "B")
    body["padding"] = "x" * (api.ctx.limits.max_body + 1)
    refused(api, "/v1/sales", body, 413, "body_too_large")


def test_a_sale_for_an_unknown_member_is_404(api: Api) -> None:
    refused(api, "/v1/sales", sale_body("T", "B", member="00019900000001"), 404,
            "member_not_found")


def test_a_sale_for_a_code_that_is_no_member_code_is_422(api: Api) -> None:
    refused(api, "/v1/sales", sale_body("T", "B", member="hello"), 422, "malformed_code")


def test_a_sale_naming_an_unknown_guide_is_refused(api: Api) -> None:
    refused(api, "/v1/sales", sale_body("T", "B", guide="9999"), 422, "guide_not_found")


def test_lines_that_do_not_add_up_to_the_bill_are_refused(api: Api) -> None:
    body = sale_body("T", "B", 12_800)
    body["lines"][1]["amount_fen"] += 1
    refused(api, "/v1/sales", body, 422, "lines_do_not_add_up")


def test_tenders_that_do_not_add_up_to_what_was_paid_are_refused(api: Api) -> None:
    refused(api, "/v1/sales", sale_body("T", "B", 12_800, paid=12_000), 422,
            "lines_do_not_add_up")


def test_a_time_without_its_offset_is_refused(api: Api) -> None:
    refused(api, "/v1/sales", {**sale_body("T", "B"), "time": "2026-12-04T10:15:00"}, 422,
            "invalid_input")


def test_redeeming_points_on_a_walk_in_sale_is_refused(api: Api) -> None:
    refused(api, "/v1/sales", sale_body("T", "B", 10_000, redeem_points=10, paid=9_990), 422,
            "invalid_input")


def test_a_lookup_of_an_unknown_member_is_404(api: Api) -> None:
    refused(api, "/v1/members/lookup", {"code": "13900000000"}, 404, "member_not_found")


def test_an_integrator_rotates_the_token_the_old_one_ends_and_the_new_works(api: Api) -> None:
    api.ctx.keystore = lambda: api.till.keystore
    r = api.post("/v1/token/rotate", None)
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert api.get("/v1/health", token=api.token).status_code == 401
    assert api.get("/v1/health", token=new).status_code == 200
    assert new not in (api.till.keystore.get(
        f"integration-token:{api.till.cashier.device_id}") or "")


def test_two_rotations_with_one_token_at_once_one_wins_the_other_is_refused(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both were checked before either replaced the token: both answered 200, and the first
    caller held a token that was already dead. The first rotation here waits in the keystore
    until the second request has been let in (checked) as well."""
    import threading

    checked, both_in = [0], threading.Event()
    check = api.ctx.auth.check

    def counting(presented: str | None) -> frozenset[Scope]:
        scopes = check(presented)
        checked[0] += 1
        if checked[0] == 2:
            both_in.set()
        return scopes

    class WaitingStore:
        def __init__(self, store: Any) -> None:
            self.store = store

        def put(self, name: str, value: str) -> None:
            assert both_in.wait(30), "the second rotation never came in"
            self.store.put(name, value)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.store, name)

    monkeypatch.setattr(api.ctx.auth, "check", counting)
    api.ctx.keystore = lambda: WaitingStore(api.till.keystore)
    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(api.post("/v1/token/rotate", None)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers) == [200, 401], [r.text for r in answers]
    [won] = [r.json()["token"] for r in answers if r.status_code == 200]
    assert api.get("/v1/health", token=won).status_code == 200  # the winner's token works
    assert api.get("/v1/health", token=api.token).status_code == 401


def test_without_a_keystore_the_api_does_not_rotate(api: Api) -> None:
    refused(api, "/v1/token/rotate", None, 409, "rotation_not_offered")
    assert api.get("/v1/health").status_code == 200  # the token still works


def test_a_failure_of_the_tills_own_is_a_500_in_the_same_shape(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_member.integration import reports

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("disk on fire: 13912345678")

    monkeypatch.setattr(reports, "report_sale", broken)
    r = api.post("/v1/sales", sale_body("T", "B"))
    assert r.status_code == 500 and r.json()["error"] == "internal"
    assert "13912345678" not in r.text


def test_an_unknown_path_or_method_is_answered_in_the_error_shape(api: Api) -> None:
    r = api.post("/v1/nothing", {})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = api.get("/v1/sales")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
