"""Server test harness: every contract test runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_member.clock import FakeClock
from sync.server.app import create_app
from tests.server.factories import LiveServer
from tests.server.live import migrated, serve
from tests.server.postgres import REQUIRE_ENV, PostgresServer, Replication, find_bin_dir
from tests.server.sms_fakes import PHONES, FakeSms, Hq, register_member

BACKENDS = ["sqlite", "postgresql"]


def _postgres_bin_dir() -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but no /usr/lib/postgresql/*/bin/initdb "
                        "(install Debian's postgresql: scripts/system-deps.sh)")
        pytest.skip("PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin)")
    return bin_dir


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start(_postgres_bin_dir())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def replication() -> Iterator[Replication]:
    """A primary and a hot standby streaming from it: one pair per test module (~2 s)."""
    bin_dir = _postgres_bin_dir()
    if not (bin_dir / "pg_basebackup").exists():  # postgresql-client, which postgresql needs
        message = f"no {bin_dir / 'pg_basebackup'} (Debian's postgresql-client)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but {message}")
        pytest.skip(message)
    pair = Replication.start(bin_dir)
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated server database on each backend (PostgreSQL's dropped after)."""
    if request.param == "sqlite":
        yield migrated(f"sqlite:///{tmp_path / 'server.sqlite'}")
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    url = postgres.create_database(migrated=True)
    yield url
    postgres.drop_database(url)


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    """The real app under uvicorn on loopback, over a fresh database, with a fake clock."""
    clock = FakeClock()
    app = create_app(database_url, clock=clock)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield LiveServer(url=database_url, base_url=base_url, ctx=app.state.ctx, clock=clock,
                         http=http)


@pytest.fixture
def hq(database_url: str) -> Iterator[Hq]:
    """The server with a fake SMS gateway, one enrolled till and ``PHONES``' members."""
    from sync.client import SyncClient

    clock = FakeClock()
    app = create_app(database_url, clock=clock)
    sms = FakeSms()
    app.state.sms_sender = sms
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        live = LiveServer(url=database_url, base_url=base_url, ctx=app.state.ctx, clock=clock,
                          http=http)
        device = live.enrol()
        for member, phone in PHONES.items():
            register_member(device, member, phone)
        with SyncClient(base_url, device.enrolment.token) as client:
            yield Hq(live, sms, client, device.enrolment.token, device)
