"""The real app on loopback over a fresh PostgreSQL database only, for tests of what only
PostgreSQL does (pushes beside each other, transaction-id positions)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pos_member.clock import FakeClock
from sync.server.app import create_app
from tests.server.factories import LiveServer
from tests.server.live import serve
from tests.server.postgres import PostgresServer


@pytest.fixture
def pg(postgres: PostgresServer) -> Iterator[LiveServer]:
    url = postgres.create_database(migrated=True)
    clock = FakeClock()
    app = create_app(url, clock=clock)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield LiveServer(url=url, base_url=base_url, ctx=app.state.ctx, clock=clock, http=http)
    postgres.drop_database(url)
