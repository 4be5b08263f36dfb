"""Closing time for the whole chain: a server process lets only so many pushes wait, and
answers the next at once with 503 ``server_busy`` and a ``Retry-After`` (``admission``),
instead of letting the till wait past its own timeout. A refused push wrote nothing; pushed
again later it is stored as any."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import anyio
import psycopg
import pytest

from sync.server.admission import WAIT_BUDGET_S, PushGate
from sync.server.app import push_threads
from sync.server.db import WRITE_LOCK
from sync.server.errors import ServerBusy
from tests.server.factories import LiveServer
from tests.server.live import serve_on_postgres
from tests.server.postgres import PostgresServer


@pytest.fixture
def pg_server(postgres: PostgresServer) -> Iterator[tuple[LiveServer, PushGate]]:
    with serve_on_postgres(postgres) as (server, app):
        yield server, app.state.push_gate


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_push_past_the_waiting_bound_is_told_to_come_back(
        pg_server: tuple[LiveServer, PushGate]) -> None:
    server, gate = pg_server
    threads_n = push_threads(server.ctx)
    admitted = [server.enrol() for _ in range(threads_n + gate.max_waiting)]
    late = server.enrol()
    answers: list[int] = []
    with psycopg.connect(server.url.replace("+psycopg", ""), autocommit=True) as hq:
        hq.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))  # every push waits on it
        pushes = [threading.Thread(target=lambda d=d: answers.append(
            d.push_raw(d.events(2)).status_code)) for d in admitted]
        for t in pushes:
            t.start()
        _wait_for(lambda: gate.limiter.statistics().tasks_waiting == gate.max_waiting
                  and gate.limiter.statistics().borrowed_tokens == threads_n,
                  "the pushes never filled the threads and the queue")
        batch = late.events(2)
        refused = late.push_raw(batch)
        assert refused.status_code == 503
        assert refused.json()["code"] == "server_busy"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        hq.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
    for t in pushes:
        t.join()
    assert answers == [200] * len(admitted)
    stored = late.pull_all()
    assert len(stored) == 2 * len(admitted)
    assert all(c.event.device_id != late.id for c in stored)  # the refused push wrote nothing
    assert late.push(batch).acked_through == 2  # pushed again: stored
    assert len(late.pull_all()) == 2 * len(admitted) + 2


def test_a_push_expected_to_outlast_the_budget_is_refused_at_once() -> None:
    """The time bound: with pushes lately taking long, a push that would wait behind even
    one other is refused, though the queue is far from its bound."""
    gate = PushGate(2)

    async def scenario() -> None:
        async with anyio.create_task_group() as tg:
            release = anyio.Event()

            async def hold() -> None:
                async with gate.limiter:
                    await release.wait()

            for _ in range(3):  # two run, one waits
                tg.start_soon(hold)
            while gate.limiter.statistics().tasks_waiting < 1:
                await anyio.sleep(0)
            gate.admit()  # pushes have been quick: let in
            gate.took(WAIT_BUDGET_S * 10)  # then one took long (the load grew)
            with pytest.raises(ServerBusy) as refused:
                gate.admit()
            assert 1 <= int(refused.value.headers()["Retry-After"]) <= 60
            release.set()

    anyio.run(scenario)


def test_retry_after_is_spread_around_the_time_the_pushes_ahead_take() -> None:
    """Centred on the drain time (half of it to one and a half times it), not after it:
    tills all told to come back after the queue drained left the server waiting for them."""
    gate = PushGate(4)
    for _ in range(50):
        gate.took(2.0)  # the running average goes to ~2 s a push
    drain = 40 * 2.0 / 4  # 40 pushes ahead over 4 threads: ~20 s
    asked = [gate.retry_after(40) for _ in range(400)]
    assert 0.5 * drain - 1 <= min(asked) < drain < max(asked) <= 1.5 * drain + 1
    assert gate.retry_after(0) == 1 and gate.retry_after(10_000) == 60
