"""Positions from the writing transaction (PostgreSQL): a pull never passes a transaction
still open, so a row that commits later with a lower position is never skipped; a database of
the previous schema keeps its positions and cursors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from sync.protocol import PushRequest, WireEvent
from sync.server import ingest, services
from sync.server.db import open_server_database, schema_revision, upgrade
from sync.server.errors import TransactionTooLarge
from sync.server.locks import device_key, lock_keys
from sync.server.log import _EVENT_COLUMNS, XID_SHIFT, LogWriter, insert_values
from sync.server.models import ChainSetting, DeviceProgress, Event
from sync.server.wire import IncomingEvent
from tests.server.factories import Device, LiveServer
from tests.server.migrating import downgrade
from tests.server.pg_live import pg  # noqa: F401 - the fixture

PREVIOUS = "0006"


def _identity(server: LiveServer, device: Device) -> Any:
    return services.authenticate(server.ctx, token=device.enrolment.token)


def test_a_pull_never_passes_a_transaction_still_open(pg: LiveServer) -> None:  # noqa: F811
    a, b, reader = pg.enrol(), pg.enrol(), pg.enrol()
    early, late = a.event(), b.event()
    with pg.ctx.db.write(exclusive=False) as conn:  # A: written first, still open
        lock_keys(conn, [device_key(a.id)])
        [pos_a] = LogWriter(conn, now=pg.clock.now()).append([IncomingEvent.from_wire(early)])
        answer = ingest.push(pg.ctx, device=_identity(pg, b),
                             request=PushRequest(device_id=b.id, events=[late]))
        [pos_b] = [ack.position for ack in answer.stored]  # B committed
        assert pos_a < pos_b
        page = reader.pull(0)
        assert [c.event.id for c in page.changes if c.event.id in (early.id, late.id)] == []
        assert page.cursor < pos_a and not page.more
    after = reader.pull_all(page.cursor)
    assert [c.event.id for c in after] == [early.id, late.id]
    assert [c.position for c in after] == [pos_a, pos_b]


def test_one_push_takes_consecutive_positions_of_its_transaction(pg: LiveServer) -> None:  # noqa: F811
    till = pg.enrol()
    first = [s.position for s in till.push(till.events(5)).stored]
    second = [s.position for s in till.push(till.events(5)).stored]
    assert first == list(range(first[0], first[0] + 5))
    assert second == list(range(second[0], second[0] + 5))
    assert first[0] % (1 << XID_SHIFT) == 0 and second[0] >> XID_SHIFT > first[0] >> XID_SHIFT


def _old_rows(server: LiveServer, device: Device, events: list[WireEvent],
              positions: list[int]) -> None:
    """The rows a server of the previous schema wrote: its own positions, the device's
    progress."""
    db = open_server_database(server.url)
    try:
        with db.write() as conn:
            now = server.clock.now()
            insert_values(conn, Event.__table__, _EVENT_COLUMNS, [
                (p, e.id, e.store_id, e.device_id, e.seq, e.clerk_id, e.hlc, e.type,
                 e.entity_id, e.payload_version, IncomingEvent.from_wire(e).payload_text,
                 e.rules_version, e.created_at, now)
                for p, e in zip(positions, events, strict=True)])
            conn.execute(DeviceProgress.__table__.insert().values(
                device_id=device.id, acked_through=len(events)))
    finally:
        db.dispose()


def _offset(server: LiveServer) -> int:
    with server.ctx.db.read() as conn:
        return int(conn.execute(select(ChainSetting.value).where(
            ChainSetting.key == "log_position_xid_offset")).scalar_one())


def test_an_older_database_keeps_its_positions_and_tills_their_cursors(
        pg: LiveServer) -> None:  # noqa: F811
    till, reader = pg.enrol(), pg.enrol()
    db = open_server_database(pg.url)
    try:
        downgrade(db, PREVIOUS)
        old = till.events(3)
        _old_rows(pg, till, old, [1, 2, 3])
        upgrade(db)
        assert schema_revision(db) != PREVIOUS
    finally:
        db.dispose()
    assert _offset(pg) == 0
    new = till.events(2)
    assert [s.seq for s in till.push(new).stored] == [4, 5]
    after_old = reader.pull_all(3)  # a till that had pulled the old rows
    assert [c.event.id for c in after_old if c.event.device_id == till.id] == [e.id for e in new]
    everything = [c for c in reader.pull_all(0) if c.event.device_id == till.id]
    assert [c.position for c in everything][:3] == [1, 2, 3]
    assert [c.event.id for c in everything] == [e.id for e in old + new]


def test_positions_above_the_transaction_ids_are_passed_by_an_offset(pg: LiveServer) -> None:  # noqa: F811
    till, reader = pg.enrol(), pg.enrol()
    db = open_server_database(pg.url)
    try:
        downgrade(db, PREVIOUS)
        with db.read() as conn:
            txid = conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
        high = (txid + 1_000) << XID_SHIFT  # as if a million-event transaction had run
        old = till.events(1)
        _old_rows(pg, till, old, [high])
        upgrade(db)
    finally:
        db.dispose()
    assert _offset(pg) > 1_000 - 10
    [stored] = till.push(till.events(1)).stored
    assert stored.position > high
    assert [c.position for c in reader.pull_all(high) if c.event.device_id == till.id] == [
        stored.position]


def test_a_transaction_never_takes_positions_of_the_next_transaction_id(
        pg: LiveServer) -> None:  # noqa: F811
    with pytest.raises(TransactionTooLarge), pg.ctx.db.write(exclusive=False) as conn:
        log = LogWriter(conn, now=pg.clock.now())
        first = log.next_position()
        assert log._take((1 << XID_SHIFT) - 1) == first + 1  # the last one it has
        log.next_position()
