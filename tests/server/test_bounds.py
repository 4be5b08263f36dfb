"""Values at the edge of what the databases hold: both backends answer the same clear 422 and
store nothing (before: a 500 that dropped the connection, or stored on SQLite only)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync.protocol import API
from sync.server.wire import MAX_DEPTH
from tests.server.factories import LiveServer


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return {"deep": value}  # ``depth`` levels with the payload object


def test_a_cursor_past_the_databases_integers_is_refused(server: LiveServer) -> None:
    till = server.enrol()
    answer = server.http.get(f"{API}/pull", params={"cursor": 2**63}, headers=till.headers)
    assert answer.status_code == 422 and answer.json()["code"] == "bad_request"
    assert "cursor" in answer.json()["message"]
    # the connection stays usable (a 500 dropped it)
    assert till.pull(cursor=2**63 - 1).changes == []


@pytest.mark.parametrize(("field", "value"), [
    ("type", "sale\x00"), ("rules_version", "2026.1\x00"), ("type", "a\x7fb"),
    ("clerk_id", "c\x00"), ("entity_id", "e\x00"), ("id", "\x00" * 36), ("type", "a\nb"),
    ("payload_version", 2**31), ("seq", 2**63),
    ("created_at", "0001-01-01T00:00:00+14:00"), ("created_at", "9999-12-31T23:59:59+00:00"),
    ("created_at", "1969-12-31T23:59:59+00:00"),
    ("payload", {"note": "a\x00b"}), ("payload", {"k\x00": 1}), ("payload", {"l": [["\x00"]]}),
    ("payload", _nested(MAX_DEPTH + 1)), ("payload", "DEEP"),
])
def test_a_value_no_backend_can_hold_alike_is_refused_and_nothing_stored(
        server: LiveServer, field: str, value: Any) -> None:
    till = server.enrol()
    event = till.event().model_dump(mode="json") | {field: value}
    body = json.dumps({"device_id": till.id, "events": [event]})
    body = body.replace('"DEEP"', "[" * 5000 + "]" * 5000)  # deeper than json.dumps goes
    before = server.table_counts()
    answer = server.http.post(f"{API}/push", content=body.encode(),
                              headers={**till.headers, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "bad_request"
    assert (field if value != "DEEP" else "deep") in answer.json()["message"]
    assert server.table_counts() == before


def test_a_member_registered_with_nul_in_its_member_id_is_refused(server: LiveServer) -> None:
    till = server.enrol()  # the server reads this payload into a text column
    before = server.table_counts()
    answer = till.push_raw([till.event(type="member.registered", payload={
        "member_id": "m\x00", "member_no": "1", "phone_index": "p" * 64})])
    assert answer.status_code == 422
    assert server.table_counts() == before


def test_values_at_the_edge_are_stored(server: LiveServer) -> None:
    till = server.enrol()
    events = [till.event(payload=_nested(MAX_DEPTH)),
              till.event(payload={"big": 10**30, "text": "收银 é \\u0000"})]
    answer = till.push(events)
    assert [a.seq for a in answer.stored] == [1, 2]
    pulled = till.pull().changes
    assert [c.event.payload for c in pulled] == [e.payload for e in events]


@pytest.mark.parametrize("name", ["till\x00", "   ", "a\nb", "x" * 101, ""])
def test_a_device_name_the_server_would_not_keep_is_refused(server: LiveServer,
                                                            name: str) -> None:
    code = server.code()
    before = server.table_counts()
    answer = server.http.post(f"{API}/enrol", json={"code": code, "device_name": name})
    assert answer.status_code == 422 and answer.json()["code"] == "bad_request"
    assert server.table_counts() == before


@pytest.mark.parametrize("route", ["/enrol", "/push", "/sms/send", "/sms/verify",
                                   "/reidentify", "/adopt"])
@pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"code": "\xff\xff\xff\xff\xff\xff"}'])
def test_a_body_that_is_not_utf8_is_the_same_422_on_every_route(
        server: LiveServer, route: str, body: bytes) -> None:
    till = server.enrol()
    before = server.table_counts()
    answer = server.http.post(f"{API}{route}", content=body,
                              headers={**till.headers, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "bad_request"
    assert server.table_counts() == before


@pytest.mark.parametrize(("field", "value"), [
    ("member_id", "m\x00"), ("txn_id", "t\x00"), ("phone", "139-1234-5678"),
    ("phone", "23912345678"), ("phone", "1391234567\x00")])
def test_sms_text_fields_are_held_to_the_contract(server: LiveServer, field: str,
                                                  value: str) -> None:
    till = server.enrol()
    body = {"member_id": "m1", "phone": "13912345678", "amount_fen": 100, "txn_id": "t"}
    answer = server.http.post(f"{API}/sms/send", json=body | {field: value},
                              headers=till.headers)
    assert answer.status_code == 422 and field in answer.json()["message"]


def test_a_wrong_method_says_which_are_allowed(server: LiveServer) -> None:
    answer = server.http.delete(f"{API}/pull")
    assert answer.status_code == 405 and answer.json()["code"] == "method_not_allowed"
    assert answer.headers["allow"] == "GET"
    assert server.http.get(f"{API}/push").headers["allow"] == "POST"


@pytest.mark.parametrize(("route", "body"), [
    ("/reidentify", {"request_id": "r\x00" + "r" * 34}),
    ("/adopt", {"event_ids": ["e\x00"], "members": []}),
    ("/adopt", {"event_ids": [], "members": [{"member_id": "m\x00", "member_no": "1"}]}),
])
def test_a_new_identity_and_adoption_are_held_to_the_contract(
        server: LiveServer, route: str, body: dict[str, Any]) -> None:
    till = server.enrol()
    before = server.table_counts()
    answer = server.http.post(f"{API}{route}", json={"device_id": till.id} | body,
                              headers=till.headers)
    assert answer.status_code == 422 and answer.json()["code"] == "bad_request"
    assert server.table_counts() == before


def test_the_openapi_describes_every_status_a_route_answers() -> None:
    from sync.server.app import create_app

    paths = create_app("sqlite://").openapi()["paths"]
    statuses = {(m.upper(), p): set(op["responses"]) for p, ops in paths.items()
                for m, op in ops.items()}
    every = {"200", "405", "413", "422", "503"}  # 503: the database cannot answer
    assert statuses[("POST", "/v1/sms/send")] == every | {"401", "404", "409", "429"}
    assert statuses[("POST", "/v1/enrol")] == every | {"403", "409"}
    assert statuses[("GET", "/v1/pull")] == every | {"401", "409"}
    assert statuses[("POST", "/v1/push")] == every | {"401", "403", "409"}
    sms = paths["/v1/sms/send"]["post"]["responses"]
    assert "Retry-After" in sms["429"]["headers"]
    assert "Allow" in paths["/v1/pull"]["get"]["responses"]["405"]["headers"]
    assert "Retry-After" in paths["/v1/pull"]["get"]["responses"]["503"]["headers"]
    enrol = paths["/v1/enrol"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert enrol["$ref"].endswith("/EnrolRequest")
