"""The push's hottest text keys compare byte by byte on PostgreSQL (migration 0019): a
database of the previous schema keeps its rows in place, gets its indexes rebuilt in ``"C"``,
answers the same pulls, and every keyed read of a push and a pull still uses its index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from sync.protocol import API, API_V2
from sync.server.db import open_server_database, schema_revision, upgrade
from tests.server.factories import LiveServer
from tests.server.migrating import downgrade
from tests.server.pg_live import pg  # noqa: F401 - the fixture
from tests.server.test_filtered_pull import _chain, _ids

PREVIOUS = "0018"
KEYS = {("events", "id"), ("events", "store_id"), ("events", "device_id"),
        ("event_routes", "store_id"), ("member_homes", "member_id")}
TABLES = ("events", "event_routes", "member_homes")


def _collations(conn: Connection) -> dict[tuple[str, str], str | None]:
    return {(r.table_name, r.column_name): r.collation_name for r in conn.execute(text(
        "SELECT table_name, column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = ANY(:t) AND data_type <> 'bigint'"),
        {"t": list(TABLES)})}


def _files(conn: Connection) -> dict[str, int]:
    """Each table's and index's storage (a rewrite or a rebuild gives it a new one)."""
    return {r.relname: r.relfilenode for r in conn.execute(text(
        "SELECT c.relname, c.relfilenode FROM pg_class c LEFT JOIN pg_index i "
        "ON i.indexrelid = c.oid WHERE c.relname = ANY(:t) OR i.indrelid IN "
        "(SELECT oid FROM pg_class WHERE relname = ANY(:t))"), {"t": list(TABLES)})}


def _plan_index(conn: Connection, sql: str, params: dict[str, Any]) -> str:
    """The index a keyed read scans when a sequential scan is ruled out: an index whose
    collation is not the comparison's could not serve it at all."""
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql), params))
    conn.execute(text("RESET enable_seqscan"))
    return plan


def test_an_older_database_gets_byte_order_keys_in_place(pg: LiveServer) -> None:  # noqa: F811
    ev = _chain(pg)
    a, b, _ = ev["tills"]
    readers = [pg.enrol(n) for n in (1, 2, 3)]
    before = [(_ids(r.pull_all(api=API_V2)), _ids(r.pull_all(api=API))) for r in readers]
    rows = pg.events_table()
    db = open_server_database(pg.url)
    try:
        downgrade(db, PREVIOUS)
        with db.read() as conn:
            assert all(_collations(conn)[k] is None for k in KEYS)  # the database's default
            old = _files(conn)
        upgrade(db)
        assert schema_revision(db) != PREVIOUS
        with db.read() as conn:
            collations = _collations(conn)
            new = _files(conn)
            member = ev["members"][0]
            plans = {
                "uq_events_id": ("SELECT 1 FROM events WHERE id = :k", {"k": ev["regs"][0].id}),
                "uq_events_device_id": ("SELECT position FROM events WHERE device_id = :k "
                                        "AND seq BETWEEN 1 AND 3", {"k": a.id}),
                "ix_events_store_id_position": (
                    "SELECT position FROM events WHERE store_id = :k AND position > 0 "
                    "ORDER BY position LIMIT 10", {"k": a.store_id}),
                "pk_event_routes": ("SELECT position FROM event_routes WHERE store_id = :k "
                                    "AND position > 0 ORDER BY position LIMIT 10",
                                    {"k": b.store_id}),
                "pk_member_homes": ("SELECT store_id FROM member_homes WHERE member_id = :k",
                                    {"k": member}),
            }
            scanned = {name: _plan_index(conn, sql, params)
                       for name, (sql, params) in plans.items()}
    finally:
        db.dispose()
    assert {k: collations[k] for k in KEYS} == dict.fromkeys(KEYS, "C")
    assert {k: v for k, v in collations.items() if k not in KEYS} == \
        {k: None for k in collations if k not in KEYS}  # nothing else changed
    for table in TABLES:  # the rows stay where they are: no table rewritten
        assert new[table] == old[table]
    rebuilt = {"uq_events_id", "uq_events_device_id", "ix_events_store_id_position",
               "pk_event_routes", "pk_member_homes"}
    assert {name for name in old if name not in TABLES and new[name] != old[name]} == rebuilt
    for name, plan in scanned.items():
        assert name in plan, plan
    assert pg.events_table() == rows
    assert [(_ids(r.pull_all(api=API_V2)), _ids(r.pull_all(api=API))) for r in readers] \
        == before
