"""The till's sync tests against the real server run on both of its backends: SQLite and a
real PostgreSQL server (Debian's binaries, as in tests/server)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.postgres import REQUIRE_ENV, PostgresServer, find_bin_dir
from tests.sync.harness import Central, Till, enrolled_till


@pytest.fixture(scope="session")
def sync_postgres() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"{REQUIRE_ENV} is set but PostgreSQL is not installed")
        pytest.skip("PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin)")
    server = PostgresServer.start(bin_dir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def server_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh server database URL on each backend: PostgreSQL's at head (dropped after),
    SQLite's not made yet; whoever serves it migrates it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("sync_postgres")
    url = server.create_database(migrated=True)
    yield url
    server.drop_database(url)


@pytest.fixture
def central(server_database_url: str) -> Iterator[Central]:
    """The central server on loopback over a fresh database of each backend (stores 1, 2)."""
    central = Central(server_database_url)
    yield central
    central.stop()


@pytest.fixture
def tills(tmp_path: Path, central: Central) -> Iterator[tuple[Till, Till]]:
    """One enrolled till in store 1 and one in store 2 (a test module may define its own)."""
    one = enrolled_till(central, tmp_path / "one.sqlite", 1)
    two = enrolled_till(central, tmp_path / "two.sqlite", 2)
    yield one, two
    one.close()
    two.close()
