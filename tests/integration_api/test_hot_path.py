"""The member lookup and the sale are answered without FastAPI's machinery when the request is
an ordinary one (integration_api/hot.py): the same answer, byte for byte, as FastAPI gives;
everything else still reaches FastAPI and is answered by it."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from integration_api.app import create_app, fastapi_of
from integration_api.hot import HotRoutes
from tests.integration_api.conftest import Api, sale_body

SAME_EXCEPT_IDS = ("txn_id", "bill_no", "sale_id", "member_no")


@pytest.fixture
def reached(api: Api) -> list[str]:
    """The paths of the requests that reached FastAPI (behind the fast path)."""
    hot = api.client.app.app  # type: ignore[attr-defined]  # inside the limits
    assert isinstance(hot, HotRoutes)
    seen: list[str] = []
    inner = hot.app

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await inner(scope, receive, send)

    hot.app = counted
    return seen


@pytest.fixture
def fastapi_only(api: Api) -> Iterator[TestClient]:
    """The same till's API as FastAPI alone answers it."""
    with TestClient(fastapi_of(create_app(api.ctx)), raise_server_exceptions=False) as c:
        yield c


def test_a_lookup_and_a_sale_answer_as_fastapi_does_without_reaching_it(
        api: Api, reached: list[str], fastapi_only: TestClient) -> None:
    member = api.till.register()
    fast = api.post("/v1/members/lookup", {"code": member.member_no})
    slow = fastapi_only.post("/v1/members/lookup", json={"code": member.member_no},
                             headers=api.headers())
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content) == (
        200, slow.content)
    assert fast.headers == slow.headers
    other = api.till.register()  # the same sale for another member just like them
    fast = api.post("/v1/sales", sale_body("POS-1", "B-1", member=member.member_no))
    slow = fastapi_only.post("/v1/sales", json=sale_body("POS-2", "B-2", member=other.member_no),
                             headers=api.headers())
    assert fast.status_code == slow.status_code == 200
    assert list(fast.json()) == list(slow.json())  # the same fields, in the same order
    assert {k: v for k, v in fast.json().items() if k not in SAME_EXCEPT_IDS} == {
        k: v for k, v in slow.json().items() if k not in SAME_EXCEPT_IDS}
    assert fast.json()["points_earned"] > 0 and fast.json()["repeated"] is False
    assert reached == []


def test_a_refusal_by_the_till_has_fastapis_shape_on_the_fast_path(
        api: Api, reached: list[str], fastapi_only: TestClient) -> None:
    fast = api.post("/v1/members/lookup", {"code": "13900000000"})
    slow = fastapi_only.post("/v1/members/lookup", json={"code": "13900000000"},
                             headers=api.headers())
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
    assert fast.status_code == 404 and fast.json()["error"] == "member_not_found"
    assert reached == []


@pytest.mark.parametrize(("auth", "content_type", "body", "status"), [
    ("Bearer pmt_wrong", "application/json", b'{"code": "13900000000"}', 401),
    (None, "application/json", b'{"code": "13900000000"}', 401),
    ("good", "text/plain", b'{"code": "13900000000"}', 422),
    ("good", "application/json", b'{"code": 13900000000}', 422),
    ("good", "application/json", b'{"code": "1390', 422),
])
def test_what_the_fast_path_does_not_take_reaches_fastapi(
        api: Api, reached: list[str], auth: str | None, content_type: str, body: bytes,
        status: int) -> None:
    headers = {"Content-Type": content_type}
    if auth is not None:
        headers["Authorization"] = api.headers()["Authorization"] if auth == "good" else auth
    r = api.client.post("/v1/members/lookup", content=body, headers=headers)
    assert r.status_code == status and "error" in r.json()
    assert reached == ["/v1/members/lookup"]
