"""The checked-in OpenAPI description of the integration API is the one the code serves."""

from __future__ import annotations

import json
from pathlib import Path

from integration_api.openapi import openapi_json

OPENAPI = Path(__file__).parents[2] / "docs" / "openapi-integration.json"


def test_the_checked_in_openapi_description_is_current() -> None:
    assert OPENAPI.read_text(encoding="utf-8") == openapi_json(), (
        "docs/openapi-integration.json is stale: run "
        "`python -m integration_api.openapi > docs/openapi-integration.json`")


def test_every_route_is_described_with_its_bearer_token_and_error_shape() -> None:
    spec = json.loads(openapi_json())
    paths = set(spec["paths"])
    assert paths == {"/v1/health", "/v1/members/lookup", "/v1/sales", "/v1/refunds",
                     "/v1/quotes", "/v1/payments", "/v1/day", "/v1/token/rotate"}
    for path, methods in spec["paths"].items():
        for op in methods.values():
            assert op.get("security") == [{"HTTPBearer": []}], path
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"}, path
