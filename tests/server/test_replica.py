"""Pulls from a real hot standby (``--read-database-url``): what the primary stored once the
standby has replayed it, and while the standby lags (replay paused) an empty page that keeps
the cursor, never an error and never a step back; every event pulled exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import text

from pos_member.clock import FakeClock, SystemClock
from sync.protocol import API, PullResponse
from sync.server.app import create_app
from sync.server.cli import ENV_READ_URL
from sync.server.context import ServerContext
from sync.server.db import migrate, open_server_database
from tests.server.factories import Device, LiveServer
from tests.server.live import serve
from tests.server.postgres import PostgresServer, Replication, free_port


@dataclass
class Pair:
    """One database on the primary and its standby: ``hq`` serves with the standby as read URL
    (pushes, enrolment and tokens on the primary), ``primary_http`` an app without one."""

    replication: Replication
    hq: LiveServer
    primary_http: httpx.Client

    def pull(self, device: Device, cursor: int, *, http: httpx.Client | None = None
             ) -> PullResponse:
        response = (http or self.hq.http).get(f"{API}/pull", params={"cursor": cursor},
                                              headers=device.headers)
        assert response.status_code == 200, response.text
        return PullResponse.model_validate_json(response.content)

    def pull_all(self, device: Device, cursor: int, *, http: httpx.Client | None = None
                 ) -> tuple[list[str], int]:
        """Every event id after ``cursor``, page by page (from the standby unless ``http``
        says otherwise); and the last cursor."""
        ids: list[str] = []
        while True:
            page = self.pull(device, cursor, http=http)
            ids += [c.event.id for c in page.changes]
            assert page.cursor >= cursor
            cursor = page.cursor
            if not page.more:
                return ids, cursor


@pytest.fixture
def pair(replication: Replication) -> Iterator[Pair]:
    url, read_url = replication.create_database()
    migrate(url)
    replication.wait_replayed()
    clock = FakeClock()
    app = create_app(url, read_url=read_url, clock=clock)
    plain = create_app(url, clock=clock)
    with serve(app) as base_url, serve(plain) as plain_url, \
            httpx.Client(base_url=base_url, timeout=30) as http, \
            httpx.Client(base_url=plain_url, timeout=30) as primary_http:
        hq = LiveServer(url=url, base_url=base_url, ctx=app.state.ctx, clock=clock, http=http)
        try:
            yield Pair(replication, hq, primary_http)
        finally:
            replication.resume_replay()  # the next test's standby replays again


def test_pulls_read_the_standby_and_tokens_the_primary(pair: Pair) -> None:
    db = pair.hq.ctx.db
    with db.read_replica() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
    with db.read() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False


def test_a_pull_returns_what_was_pushed_once_the_standby_replayed_it(pair: Pair) -> None:
    till = pair.hq.enrol()
    sent = till.events(5)
    till.push(sent)
    pair.replication.wait_replayed()
    page = pair.pull(till, 0)
    assert [c.event for c in page.changes] == sent
    assert page.cursor == page.changes[-1].position and page.more is False


def test_a_lagging_standby_answers_empty_pages_then_catches_up_every_event_once(
        pair: Pair) -> None:
    till = pair.hq.enrol()
    before = till.events(3)
    till.push(before)
    pair.replication.wait_replayed()
    pulled, cursor = pair.pull_all(till, 0)
    assert pulled == [e.id for e in before]

    pair.replication.pause_replay()
    during = till.events(4)
    till.push(during)  # the primary takes writes while the standby lags
    late = pair.hq.enrol()  # a device enrolled now is known at once: tokens are on the primary
    late.push(late.events(1))
    for device in (till, late):
        page = pair.pull(device, cursor)
        assert page.changes == [] and page.cursor == cursor and page.more is False
    ahead = pair.pull(till, cursor, http=pair.primary_http)  # a page the primary served
    assert {c.event.id for c in ahead.changes} >= {e.id for e in during}
    page = pair.pull(till, ahead.cursor)  # the standby has not got there: wait, not go back
    assert page.changes == [] and page.cursor == ahead.cursor and page.more is False

    pair.replication.resume_replay()
    pair.replication.wait_replayed()
    caught_up, end = pair.pull_all(till, cursor)
    assert end == ahead.cursor
    assert [c.event.id for c in ahead.changes] == caught_up
    pulled += caught_up
    assert pulled == pair.pull_all(till, 0, http=pair.primary_http)[0]  # each once, in order
    assert len(set(pulled)) == len(pulled) == 8


def test_pulls_from_the_standby_during_concurrent_pushes_see_every_event_once_in_order(
        pair: Pair) -> None:
    """Pushes of four tills run beside each other on the primary (keyed locks) while a till
    pulls from the standby without pause: every page is a prefix of the log, so what it pulled
    is every event, once, in position order."""
    tills = [pair.hq.enrol() for _ in range(4)]
    reader = pair.hq.enrol()
    batches = {t.id: [t.events(20) for _ in range(5)] for t in tills}
    done = threading.Event()
    errors: list[BaseException] = []

    def push(till: Device) -> None:
        try:
            for batch in batches[till.id]:
                till.push(batch)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=push, args=(t,)) for t in tills]
    for t in threads:
        t.start()
    positions: list[int] = []
    ids: list[str] = []
    cursor = 0
    while True:
        finished = done.is_set()
        page = pair.pull(reader, cursor)
        assert page.cursor >= cursor
        positions += [c.position for c in page.changes]
        ids += [c.event.id for c in page.changes]
        cursor = page.cursor
        if finished and not page.more:
            break
        if not done.is_set() and not any(t.is_alive() for t in threads):
            pair.replication.wait_replayed()  # every push answered: let the standby catch up
            done.set()
    for t in threads:
        t.join()
    assert not errors
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    pushed = {e.id for per_till in batches.values() for batch in per_till for e in batch}
    assert len(ids) == len(set(ids)) and set(ids) == pushed
    assert ids == pair.pull_all(reader, 0, http=pair.primary_http)[0]


def test_serve_takes_the_read_url_from_its_environment(replication: Replication) -> None:
    url, read_url = replication.create_database()
    migrate(url)
    replication.wait_replayed()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.server.cli", "--database", url, "serve", "--port", str(port)],
        env={**os.environ, ENV_READ_URL: read_url},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    db = open_server_database(url)
    base_url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            deadline = time.monotonic() + 30
            while True:
                try:
                    http.get(f"{API}/pull")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(proc.communicate()[0].decode()) from None
                    time.sleep(0.1)
            hq = LiveServer(url=url, base_url=base_url, ctx=ServerContext(db, SystemClock()),
                            clock=FakeClock(), http=http)
            replication.pause_replay()
            till = hq.enrol()
            till.push(till.events(2))
            assert till.pull(0).changes == []  # the standby has not replayed them
            replication.resume_replay()
            replication.wait_replayed()
            assert len(till.pull(0).changes) == 2
    finally:
        replication.resume_replay()
        db.dispose()
        proc.terminate()
        proc.wait(timeout=20)


def test_pulls_read_the_primary_while_the_replica_cannot_be_reached(
        postgres: PostgresServer, caplog: pytest.LogCaptureFixture) -> None:
    url = postgres.create_database(migrated=True)
    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/chain"
    clock = FakeClock()
    app = create_app(url, read_url=nowhere, clock=clock)
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        hq = LiveServer(url=url, base_url=base_url, ctx=app.state.ctx, clock=clock, http=http)
        till = hq.enrol()
        sent = till.events(3)
        till.push(sent)
        assert [c.event for c in till.pull().changes] == sent
        assert [c.event for c in till.pull().changes] == sent  # the primary still, untried
    warnings = [r for r in caplog.records if "read replica unreachable" in r.getMessage()]
    assert len(warnings) == 1
