"""The HTTP boundary: bad input gets a clear 4xx ErrorBody and changes nothing."""

from __future__ import annotations

import json

from sync.protocol import API, MAX_BODY_BYTES, ErrorBody
from tests.server.factories import LiveServer


def _error(response) -> ErrorBody:  # type: ignore[no-untyped-def]
    return ErrorBody.model_validate(response.json())


def test_a_wrong_token_is_unauthorized(server: LiveServer) -> None:
    till = server.enrol()
    response = server.http.post(f"{API}/push", json={"device_id": till.id, "events": []},
                                headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert _error(response).code == "unauthorized"


def test_a_missing_token_is_unauthorized(server: LiveServer) -> None:
    response = server.http.get(f"{API}/pull")
    assert response.status_code == 401
    assert _error(response).code == "unauthorized"


def test_malformed_json_is_refused_and_nothing_is_written(server: LiveServer) -> None:
    till = server.enrol()
    before = server.table_counts()
    response = server.http.post(
        f"{API}/push", content=b'{"device_id": "x", "events": [', headers=till.headers
    )
    assert response.status_code == 422
    assert _error(response).code == "bad_request"
    assert server.table_counts() == before


def test_wrong_types_are_refused_and_nothing_is_written(server: LiveServer) -> None:
    till = server.enrol()
    event = till.event().model_dump(mode="json")
    event["seq"] = "three"
    before = server.table_counts()
    response = server.http.post(
        f"{API}/push", json={"device_id": till.id, "events": [till.event().model_dump(
            mode="json"), event]}, headers=till.headers,
    )
    assert response.status_code == 422
    assert "seq" in _error(response).message
    assert server.table_counts() == before


def test_unknown_fields_are_refused(server: LiveServer) -> None:
    till = server.enrol()
    event = till.event().model_dump(mode="json") | {"extra": 1}
    response = server.http.post(
        f"{API}/push", json={"device_id": till.id, "events": [event]}, headers=till.headers
    )
    assert response.status_code == 422


def test_an_oversized_body_is_refused_by_its_length(server: LiveServer) -> None:
    till = server.enrol()
    before = server.table_counts()
    body = b'{"device_id": "' + b"x" * MAX_BODY_BYTES + b'", "events": []}'
    response = server.http.post(f"{API}/push", content=body, headers=till.headers)
    assert response.status_code == 413
    assert _error(response).code == "too_large"
    assert server.table_counts() == before


def test_an_oversized_chunked_body_is_refused_as_it_is_read(server: LiveServer) -> None:
    till = server.enrol()

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"device_id": "'
        for _ in range(9):
            yield b"x" * (1024 * 1024)
        yield b'", "events": []}'

    response = server.http.post(f"{API}/push", content=chunks(), headers=till.headers)
    assert response.status_code == 413
    assert server.table_counts()["events"] == 0


def test_a_body_just_under_the_limit_is_read(server: LiveServer) -> None:
    till = server.enrol()
    event = till.event(payload={"pad": ""}).model_dump(mode="json")
    body = {"device_id": till.id, "events": [event]}
    pad = MAX_BODY_BYTES - len(json.dumps(body).encode()) - 1
    event["payload"]["pad"] = "x" * pad
    response = server.http.post(f"{API}/push", content=json.dumps(body).encode(),
                                headers={**till.headers, "Content-Type": "application/json"})
    assert response.status_code == 200


def test_a_batch_over_the_limit_is_refused(server: LiveServer) -> None:
    till = server.enrol()
    response = till.push_raw(till.events(1001))
    assert response.status_code == 422
    assert server.table_counts()["events"] == 0


def test_an_unknown_route_answers_an_error_body(server: LiveServer) -> None:
    response = server.http.get(f"{API}/nothing-here")
    assert response.status_code == 404
    assert _error(response).code == "not_found"


def test_a_bad_pull_limit_is_refused(server: LiveServer) -> None:
    till = server.enrol()
    response = server.http.get(f"{API}/pull", params={"limit": 5000}, headers=till.headers)
    assert response.status_code == 422
    assert _error(response).code == "bad_request"
