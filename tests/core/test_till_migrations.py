"""Till migrations on real data: a till of the previous schema, with members, a sale, unsent
events and a held event, opened by the newer version, is upgraded in place and keeps all."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.errors import LoginFailed
from pos_member.permissions import Role
from pos_member.services import sales
from pos_member.services.members import register_member
from pos_member.services.outbox import pending_events
from pos_member.services.quarantine import held_events
from pos_member.services.staff import login
from pos_member.services.staff_admin import set_staff_active
from tests.factories import PINS, Till, apply_pulled, new_phone, server_event


def downgrade(path: Path, revision: str) -> None:
    """Takes the till's database back to ``revision`` (the migrations' downgrades)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(engine.__file__).parent / "migrations"))
    eng = engine._engine(path, immediate=True, pool_size=1)
    try:
        with eng.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)
            conn.commit()
    finally:
        eng.dispose()


def rows(path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table's columns and rows (but Alembic's own)."""
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version'")]
        found = {}
        for name in names:
            cur = con.execute(f'SELECT * FROM "{name}" ORDER BY 1')
            found[name] = ([d[0] for d in cur.description], cur.fetchall())
        return found
    finally:
        con.close()


def same_columns(path: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(path)
    try:
        listed = ", ".join(f'"{c}"' for c in columns)
        return con.execute(f'SELECT {listed} FROM "{table}" ORDER BY 1').fetchall()
    finally:
        con.close()


def assert_upgraded_keeping(path: Path,
                            before: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
    """The till at the head schema, every row of ``before`` (:func:`rows` of the older
    schema) still there in the columns it had."""
    assert schema_version(path) == engine.SCHEMA_HEAD
    for table, (columns, old_rows) in before.items():
        assert same_columns(path, table, columns) == old_rows, table


def indexes(path: Path, table: str) -> set[str]:
    """The names of ``table``'s indexes."""
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,))}
    finally:
        con.close()


def query_plan(conn: Connection, run: Any) -> tuple[Any, str]:
    """What ``run(conn)`` gives, and SQLite's plan of the last statement it sent."""
    sent: list[tuple[str, Any]] = []

    def keep(_c: object, _cur: object, sql: str, params: Any, *_a: object) -> None:
        sent.append((sql, params))

    event.listen(conn, "before_cursor_execute", keep)
    try:
        out = run(conn)
    finally:
        event.remove(conn, "before_cursor_execute", keep)
    sql, params = sent[-1]
    return out, " ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql,
                                                             params))


def till_of_0009(a: Till) -> tuple[str, list[str]]:
    """``a`` with a member, a sale, an event held in quarantine and nothing acknowledged, taken
    back to schema 0009. Returns the member's id and the unsent events' ids."""
    member = a.register()
    sales.record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B-0009",
                      amount_fen=12_300, member_id=member.id)
    apply_pulled(a, [server_event("coupon.issued_in_2030", {"n": 1})])
    assert a.app.identity is not None
    unsent = [e["id"] for e in pending_events(a.uow, device_id=a.app.identity.device_id,
                                              limit=1000)]
    a.app.close()
    downgrade(a.path, "0009")
    assert schema_version(a.path) == "0009"
    return member.id, unsent


def test_migration_0010_upgrades_a_till_of_schema_0009_in_place(a: Till) -> None:
    member_id, unsent = till_of_0009(a)
    before = rows(a.path)
    assert "event_moves" not in before and "device_successions" not in before
    assert before["quarantined_events"][1] and before["members"][1] and before["sales"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)  # the newer till opens it
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        after = rows(a.path)
        retired = after["device_counters"][0].index("retired")
        assert {r[retired] for r in after["device_counters"][1]} == {0}
        assert after["event_moves"][1] == [] and after["device_successions"][1] == []
        assert app.identity is not None
        device_id = app.identity.device_id
        assert [e["id"] for e in pending_events(app.uow, device_id=device_id,
                                                limit=1000)] == unsent
        assert [h[0] for h in held_events(app.uow)] == [
            r[0] for r in before["quarantined_events"][1]]
        # and it keeps working: the next event follows the unsent ones under the same device
        register_member(app.uow, phone=new_phone(), privacy_consent=True, clerk=a.cashier)
        events = pending_events(app.uow, device_id=device_id, limit=1000)
        assert len(events) > len(unsent) and [e["id"] for e in events[:len(unsent)]] == unsent
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        assert member_id in {m[0] for m in after["members"][1]}
    finally:
        app.close()


def test_migration_0011_keeps_a_till_of_0010s_staff_and_their_logins(a: Till) -> None:
    a.app.close()
    downgrade(a.path, "0010")
    before = rows(a.path)
    assert "staff_field_hlc" not in before and before["staff"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)  # the newer till opens it
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        after = rows(a.path)
        claim = after["staff"][0].index("code_claim")
        assert {r[claim] for r in after["staff"][1]} == {""}  # there first: they hold
        assert after["staff_field_hlc"][1] == []
        device_id = a.manager.device_id
        manager = login(app.uow, code="1201", secret=PINS[Role.MANAGER], device_id=device_id)
        set_staff_active(app.uow, clerk=manager, staff_id=a.cashier.staff_id or "",
                         active=False)
        with pytest.raises(LoginFailed):
            login(app.uow, code="1001", secret=PINS[Role.CASHIER], device_id=device_id)
    finally:
        app.close()
