"""Pushes beside each other on PostgreSQL: what the global write lock used to guarantee, each
key's own lock (``sync.server.locks``) still does.

Each test holds one key's lock from a connection of its own, starts several pushes that need
that key, waits until PostgreSQL shows them all waiting, then lets go: the pushes really ran at
once up to that key, and the outcome is the one of pushes made one after another.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from pos_member.clock import to_ms
from pos_member.hlc import HLCTimestamp
from sync.protocol import PushRequest, WireEvent
from sync.server import balances, ingest, services
from sync.server.locks import phone_key
from sync.server.models import MemberIndex
from tests.server.factories import Device, LiveServer
from tests.server.pg_live import pg  # noqa: F401 - the fixture

PHONE_INDEX = "c" * 64
MEMBER = "0190bbbb-0000-7000-8000-000000000001"
WAIT_S = 60  # a bound on waiting for PostgreSQL to show the pushes waiting, not a timing


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def holding(url: str, key: str) -> Iterator[Callable[[int, list[threading.Thread]], None]]:
    """Holds ``key``'s lock in a transaction of its own until the block ends; yields a
    function that waits until ``n`` advisory locks of the database are waited for (while
    any of ``threads`` still runs)."""
    with psycopg.connect(_libpq(url)) as holder, psycopg.connect(
            _libpq(url), autocommit=True) as watcher:
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

        def wait_for(n: int, threads: list[threading.Thread]) -> None:
            deadline = time.monotonic() + WAIT_S
            while True:
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())").fetchone()
                if waiting is not None and waiting[0] >= n:
                    return
                if not any(t.is_alive() for t in threads):
                    raise AssertionError("the pushes ended without waiting for the key")
                if time.monotonic() > deadline:
                    sessions = watcher.execute(
                        "SELECT wait_event_type, wait_event, left(query, 80) FROM"
                        " pg_stat_activity WHERE datname = current_database()").fetchall()
                    raise AssertionError(f"{waiting} waiting; sessions: {sessions}")
                time.sleep(0.01)

        try:
            yield wait_for
        finally:
            holder.rollback()


def _push_all(server: LiveServer, pushes: list[tuple[Device, list[WireEvent]]],
              key: str | AbstractContextManager[Callable[[int, list[threading.Thread]], None]],
              ) -> list[Any]:
    """Runs the pushes at once while ``key`` is held (or while ``holding_row``); returns each
    one's answer (or error)."""
    answers: list[Any] = [None] * len(pushes)

    def run(i: int) -> None:
        till, events = pushes[i]
        identity = services.authenticate(server.ctx, token=till.enrolment.token)
        try:
            answers[i] = ingest.push(server.ctx, device=identity, request=PushRequest(
                device_id=till.id, events=events))
        except Exception as e:  # checked by the caller
            answers[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(pushes))]
    with holding(server.url, key) if isinstance(key, str) else key as wait_for:
        for t in threads:
            t.start()
        wait_for(len(pushes), threads)
    for t in threads:
        t.join()
    return answers


def _registration(till: Device, member_no: str, minutes: int) -> WireEvent:
    hlc = HLCTimestamp(to_ms(till.server.clock.now()) - 60_000 * (10 - minutes), 0).pack()
    return till.event(type="member.registered", hlc=hlc, payload=till.registered({
        "member_id": str(uuid.uuid4()), "member_no": member_no, "phone_index": PHONE_INDEX}))


def test_two_stores_registering_one_phone_at_once_still_make_one_member(pg: LiveServer) -> None:  # noqa: F811
    a, b = pg.enrol(), pg.enrol()
    early = _registration(a, "0001010000011", minutes=1)
    late = _registration(b, "0002010000014", minutes=2)
    answers = _push_all(pg, [(a, [early]), (b, [late])], phone_key(PHONE_INDEX))
    assert [len(r.stored) for r in answers] == [1, 1]
    merges = [c.event for c in a.pull_all() if c.event.type == "member.merged"]
    assert [m.payload["winner_member_id"] for m in merges] == [early.payload["member_id"]]
    assert merges[0].payload["loser_member_id"] == late.payload["member_id"]
    with pg.ctx.db.read() as conn:
        owners = conn.execute(select(MemberIndex.member_id)
                              .where(MemberIndex.phone_index == PHONE_INDEX)).scalars().all()
    assert owners == [early.payload["member_id"]]


def _sv(till: Device, principal: int, type: str = "sv.paid") -> WireEvent:
    return till.event(type=type, payload={
        "member_id": MEMBER, "txn_id": str(uuid.uuid4()),
        "principal_delta_fen": principal, "bonus_delta_fen": 0})


@contextmanager
def holding_row(url: str, sql: str, *params: object
                ) -> Iterator[Callable[[int, list[threading.Thread]], None]]:
    """As ``holding``, with a row locked by ``sql`` (``FOR UPDATE``) instead of a key: waits
    until ``n`` sessions of the database wait for a lock."""
    with psycopg.connect(_libpq(url)) as holder, psycopg.connect(
            _libpq(url), autocommit=True) as watcher:
        assert holder.execute(sql, params).fetchone() is not None

        def wait_for(n: int, threads: list[threading.Thread]) -> None:
            deadline = time.monotonic() + WAIT_S
            while True:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'").fetchone()
                if row is not None and row[0] >= n:
                    return
                assert any(t.is_alive() for t in threads), "the pushes ended without waiting"
                assert time.monotonic() < deadline, f"{row} waiting"
                time.sleep(0.01)

        try:
            yield wait_for
        finally:
            holder.rollback()


def test_payments_of_one_member_at_once_total_right_and_block_it_once(pg: LiveServer) -> None:  # noqa: F811
    """No key guards a balance: each push's additive upsert takes the member's row, held to
    its commit (``balances._add``)."""
    tills = [pg.enrol() for _ in range(6)]
    tills[0].push([_sv(tills[0], 10_000, type="sv.topped_up")])
    answers = _push_all(pg, [(t, [_sv(t, -3_000)]) for t in tills], holding_row(
        pg.url, "SELECT 1 FROM member_balances WHERE member_id = %s FOR UPDATE", MEMBER))
    assert [len(r.stored) for r in answers] == [1] * 6
    balance, flag_id = balances.balance_of(pg.ctx, MEMBER)
    assert balance == 10_000 - 6 * 3_000
    flags = [f for f in services.list_flags(pg.ctx) if f.kind == "overdraw"]
    assert [f.id for f in flags] == [flag_id]
    blocks = [c.event for c in tills[0].pull_all() if c.event.type == "member.balance_blocked"]
    assert len(blocks) == 1 and blocks[0].payload["flag_id"] == flag_id


def test_one_devices_pushes_at_once_store_each_event_once(pg: LiveServer) -> None:  # noqa: F811
    """The same batch pushed four times at once (a till retrying over slow links): stored
    once, the other answers name it as duplicates, acked_through moves once."""
    till = pg.enrol()
    batch = till.events(20)
    answers = _push_all(pg, [(till, batch)] * 4, f"device:{till.id}")
    assert sorted(len(r.stored) for r in answers) == [0, 0, 0, 20]
    assert all(r.acked_through == 20 for r in answers)
    rows = [r for r in pg.events_table() if r.device_id == till.id]
    assert [r.seq for r in rows] == list(range(1, 21))
