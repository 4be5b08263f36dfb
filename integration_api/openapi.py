"""The integration API's OpenAPI description, as checked in at docs/openapi-integration.json
(tests/integration_api/test_openapi.py fails when it is stale).

    python -m integration_api.openapi > docs/openapi-integration.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

from integration_api.app import ApiContext, create_app, fastapi_of
from pos_member.integration.tokens import Authenticator
from pos_member.permissions import Clerk, Role


def openapi_json() -> str:
    """The description, built from the routes and models alone (no till is opened)."""
    ctx = ApiContext(uow=None,  # type: ignore[arg-type]  # the routes are never called
                     clerk=Clerk(None, "POS", Role.MANAGER, "", ""), auth=Authenticator(None))
    spec: dict[str, Any] = fastapi_of(create_app(ctx)).openapi()
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    sys.stdout.write(openapi_json())
