"""HQ's log: a refused request is one line with its route and code, never its body, query or
token."""

from __future__ import annotations

import logging

import pytest

from tests.server.factories import LiveServer


def test_a_refused_request_is_logged_by_route_and_code_only(
        server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sync.server.app")
    server.http.post("/v1/push", content=b'{"device_id": "x", "phone": "13912345678"}',
                     headers={"Authorization": "Bearer secret-token-xyz",
                              "Content-Type": "application/json"})
    server.http.get("/v1/pull", params={"cursor": "13912345678x"},
                    headers={"Authorization": "Bearer secret-token-xyz"})
    lines = [r.getMessage() for r in caplog.records if r.name == "sync.server.app"]
    assert any(line.startswith("refused POST /v1/push: 401") for line in lines), lines
    assert any(line.startswith("refused GET /v1/pull: 4") for line in lines), lines
    assert not any("13912345678" in line or "secret-token" in line for line in lines)
