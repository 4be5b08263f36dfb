"""Pulls keep answering while pushes are stuck: pushes hold at most ``push_threads`` threads
and write connections, pulls and token checks have threads and a pool of their own; the pool
sizes come from ``$POS_MEMBER_SERVER_POOLS``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from pos_member.clock import FakeClock
from sync.protocol import API
from sync.server.app import PUSH_THREADS, push_threads
from sync.server.context import ServerContext
from sync.server.db import ENV_POOLS, WRITE_LOCK, open_server_database
from tests.server.factories import LiveServer
from tests.server.live import serve_on_postgres
from tests.server.postgres import PostgresServer

STARLETTE_THREADS = 40  # anyio's default thread limit, which every ``def`` route shares


@pytest.fixture
def pg_server(postgres: PostgresServer) -> Iterator[tuple[LiveServer, PostgresServer]]:
    with serve_on_postgres(postgres) as (server, _app):
        yield server, postgres


def _waiting_on_the_write_lock(postgres: PostgresServer, url: str) -> int:
    database = url.rsplit("/", 1)[1]
    found = postgres.scalar(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = %s", database)
    assert isinstance(found, int)
    return found


def test_a_pull_is_answered_while_more_pushes_than_threads_wait_for_the_write_lock(
        pg_server: tuple[LiveServer, PostgresServer]) -> None:
    server, postgres = pg_server
    pushers = [server.enrol() for _ in range(STARLETTE_THREADS + 5)]
    reader = server.enrol()
    with psycopg.connect(server.url.replace("+psycopg", ""), autocommit=True) as hq:
        hq.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))  # as a migration would
        answers: list[int] = []  # past the push gate's queue a push is refused (503)
        threads = [threading.Thread(target=lambda p=p: answers.append(
            p.push_raw(p.events(2)).status_code)) for p in pushers]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        limit = push_threads(server.ctx)
        assert limit == PUSH_THREADS
        while _waiting_on_the_write_lock(postgres, server.url) < limit:
            assert time.monotonic() < deadline, "the pushes never reached the write lock"
            time.sleep(0.01)
        answer = server.http.get(f"{API}/pull", headers=reader.headers, timeout=20)
        assert answer.status_code == 200 and answer.json()["changes"] == []
        assert _waiting_on_the_write_lock(postgres, server.url) == limit  # no more
        hq.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
    for t in threads:
        t.join()
    assert set(answers) <= {200, 503} and answers.count(200) >= limit
    assert len(reader.pull_all()) == 2 * answers.count(200)


def test_pool_sizes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_POOLS, "write=6+4, replica=3+0")
    db = open_server_database("postgresql+psycopg://hq@127.0.0.1:1/chain",
                              "postgresql+psycopg://hq@127.0.0.1:2/chain")
    try:
        assert db.pools == {"write": (6, 4), "read": (5, 15), "replica": (3, 0)}
        assert db.write_engine.pool.size() == 6  # type: ignore[attr-defined]
        assert db.replica_engine is not None
        assert db.replica_engine.pool.size() == 3  # type: ignore[attr-defined]
        assert push_threads(ServerContext(db=db, clock=FakeClock())) == PUSH_THREADS
    finally:
        db.dispose()
    monkeypatch.setenv(ENV_POOLS, "write=1+0")
    small = open_server_database("postgresql+psycopg://hq@127.0.0.1:1/chain")
    try:
        assert push_threads(ServerContext(db=small, clock=FakeClock())) == 1  # the pool
    finally:
        small.dispose()


@pytest.mark.parametrize("text", ["write=6", "writes=1+1", "read=a+1", "replica=0+0"])
def test_malformed_pool_sizes_are_refused_by_name(monkeypatch: pytest.MonkeyPatch,
                                                  text: str) -> None:
    monkeypatch.setenv(ENV_POOLS, text)
    with pytest.raises(ValueError, match=ENV_POOLS):
        open_server_database("postgresql+psycopg://hq@127.0.0.1:1/chain")
