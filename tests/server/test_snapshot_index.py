"""The snapshot's registrations come from a partial index (server migration 0014), not from a
scan of the whole log; a database of the previous schema upgrades to it with its snapshot
unchanged."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text

from sync.server import services
from sync.server.db import SCHEMA_HEAD, open_server_database, schema_revision, upgrade
from sync.server.snapshot import portable_rows, snapshot_json, snapshot_rows
from tests.server.factories import LiveServer
from tests.server.migrating import downgrade
from tests.server.pg_live import pg  # noqa: F401 - the fixture

PREVIOUS = "0013"


def _registration(till, n: int):  # type: ignore[no-untyped-def]
    return till.event(type="member.registered", payload=till.registered({
        "member_id": str(uuid.uuid4()), "member_no": f"{2:04d}{n:010d}",
        "phone_index": f"{n:064x}", "store_id": till.store_id}))


def test_an_older_database_upgrades_and_its_snapshot_reads_the_index(
        pg: LiveServer) -> None:  # noqa: F811
    new_till, other = pg.enrol(), pg.enrol()
    db = open_server_database(pg.url)
    try:
        downgrade(db, PREVIOUS)
        other.push([_registration(other, n) for n in range(1, 4)] + other.events(5))
        identity = services.authenticate(pg.ctx, token=new_till.enrolment.token)
        before = json.loads(snapshot_json(pg.ctx, device=identity))
        upgrade(db)
        assert schema_revision(db) == SCHEMA_HEAD
        after = json.loads(snapshot_json(pg.ctx, device=identity))
        # PostgreSQL's one-pass rows are the portable query's, a payload without a store
        # included (a numeric number is refused at push since payloads are checked).
        other.push([other.event(type="member.registered", payload=other.registered({
            "member_id": str(uuid.uuid4()), "member_no": "20000000000004",
            "phone_index": f"{4:064x}"}))])
        with db.read() as conn:
            position = int(conn.scalar(text("SELECT max(position) FROM events")))
            one_pass = snapshot_rows(conn, position, identity.store_id)
            assert one_pass == portable_rows(conn, position, identity.store_id)
            assert len(one_pass) == 4 and one_pass[-1][3] == other.store_id
            conn.execute(text("SET enable_seqscan = off"))  # a table this small: forced
            plan = "\n".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT position FROM events WHERE type = 'member.registered' "
                "AND position <= 1000000000000 ORDER BY position")))
    finally:
        db.dispose()
    assert len(before["members"]) == 3 and after["members"] == before["members"]
    assert "ix_events_registered" in plan
