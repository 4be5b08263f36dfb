"""A set-up till with its integration API (in process, through Starlette's test client, which
runs the routes on worker threads as uvicorn does) and a token with the default scopes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from integration_api.app import ApiContext, create_app
from integration_api.limits import Limits
from pos_member.integration.reports import pos_clerk
from pos_member.integration.tokens import DEFAULT_SCOPES, Authenticator, Scope, issue_token
from tests.factories import Till, make_till

GUIDE_CODE = "1101"  # the factory's guide (tests/factories.py: store 1, role index 1)


@dataclass
class Api:
    till: Till
    ctx: ApiContext
    client: TestClient
    token: str

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def post(self, path: str, body: Any, token: str | None = None) -> Any:
        return self.client.post(path, json=body, headers=self.headers(token))

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers(token))

    def with_scopes(self, scopes: frozenset[Scope]) -> str:
        ident = self.till.app.identity
        assert ident is not None
        token, record = issue_token(self.till.keystore, device_id=ident.device_id,
                                    now=self.till.clock.now(), scopes=scopes)
        self.ctx.auth.replace(record)
        return token


def make_api(till: Till, *, limits: Limits | None = None) -> tuple[ApiContext, str]:
    ident = till.app.identity
    assert ident is not None
    token, record = issue_token(till.keystore, device_id=ident.device_id, now=till.clock.now(),
                                scopes=DEFAULT_SCOPES)
    ctx = ApiContext(uow=till.uow, clerk=pos_clerk(store_id=ident.store_id,
                                                   device_id=ident.device_id),
                     auth=Authenticator(record), limits=limits or Limits(rate=1000, burst=1000))
    return ctx, token


@pytest.fixture
def till(tmp_path: Path) -> Iterator[Till]:
    t = make_till(tmp_path)
    yield t
    t.app.close()


@pytest.fixture
def api(till: Till) -> Iterator[Api]:
    ctx, token = make_api(till)
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        yield Api(till, ctx, client, token)


def sale_body(txn: str, bill: str, amount: int = 12_800, *, member: str | None = None,
              guide: str | None = GUIDE_CODE, redeem_points: int = 0,
              paid: int | None = None) -> dict[str, Any]:
    """A two-line sale of ``amount`` fen paid in cash (``paid``: after points)."""
    first = amount // 2
    return {"txn_id": txn, "bill_no": bill, "time": "2026-12-04T10:15:00+08:00",
            "amount_fen": amount, "member": member, "guide": guide,
            "redeem_points": redeem_points,
            "lines": [{"line": "1", "category": "shoes", "amount_fen": first},
                      {"line": "2", "category": "socks", "amount_fen": amount - first}],
            "tenders": [{"kind": "cash", "amount_fen": amount if paid is None else paid}]}
