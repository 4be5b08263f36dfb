"""HQ's chain-wide points under pushes at once (PostgreSQL): no key lock guards them, only the
row each push's additive upsert takes. A connection of the test holds a member's points row;
several pushes that add to it start and wait for it (PostgreSQL shows them waiting), then it
lets go: every push's points count, and an expiry pushed by every till counts once."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from pos_member.points_lots import expiry_entry_id
from sync.protocol import PushRequest, WireEvent
from sync.server import ingest, points, services
from tests.server.factories import Device, LiveServer
from tests.server.pg_live import pg  # noqa: F401 - the fixture

MEMBER = "0190cccc-0000-7000-8000-000000000001"
WAIT_S = 60  # a bound on waiting for PostgreSQL to show the pushes waiting, not a timing


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _event(till: Device, type: str, *entries: dict[str, Any]) -> WireEvent:
    return till.event(type=type, payload={"member_id": MEMBER, "entries": list(entries)})


def _entry(kind: str, pts: int, entry_id: str | None = None) -> dict[str, Any]:
    return {"id": entry_id or str(uuid.uuid4()), "member_id": MEMBER, "kind": kind,
            "points": pts, "at": "2026-12-01T02:00:00+00:00"}


def _points(server: LiveServer) -> int:
    with server.ctx.db.read() as conn:
        return points.points_of(conn, MEMBER)


def _push_while_row_held(server: LiveServer, pushes: list[tuple[Device, list[WireEvent]]]
                         ) -> list[Any]:
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
    with psycopg.connect(_libpq(server.url)) as holder, psycopg.connect(
            _libpq(server.url), autocommit=True) as watcher:
        holder.execute("SELECT points FROM member_points WHERE member_id = %s FOR UPDATE",
                       (MEMBER,))
        for t in threads:
            t.start()
        deadline = time.monotonic() + WAIT_S
        while True:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'").fetchone()
            if row is not None and row[0] >= len(pushes):
                break
            assert any(t.is_alive() for t in threads), "the pushes ended without waiting"
            assert time.monotonic() < deadline, f"{row} waiting"
            time.sleep(0.01)
        holder.rollback()
    for t in threads:
        t.join()
    return answers


def test_pushes_adding_to_one_member_at_once_lose_nothing(pg: LiveServer) -> None:  # noqa: F811
    tills = [pg.enrol() for _ in range(6)]
    tills[0].push([_event(tills[0], "points.adjusted", _entry("adjust", 1_000))])
    answers = _push_while_row_held(pg, [
        (t, [_event(t, "points.redeemed", _entry("redeem", -10 - i))])
        for i, t in enumerate(tills)])
    assert [len(a.stored) for a in answers] == [1] * 6
    assert _points(pg) == 1_000 - sum(10 + i for i in range(6))


def test_one_expiry_pushed_by_every_till_at_once_counts_once(pg: LiveServer) -> None:  # noqa: F811
    tills = [pg.enrol() for _ in range(5)]
    lot = str(uuid.uuid4())
    tills[0].push([_event(tills[0], "points.adjusted", _entry("adjust", 80, entry_id=lot))])
    expiry = _entry("expire", -80, entry_id=expiry_entry_id(lot))
    answers = _push_while_row_held(pg, [(t, [_event(t, "points.expired", expiry)])
                                        for t in tills])
    assert [len(a.stored) for a in answers] == [1] * 5
    assert _points(pg) == 0
