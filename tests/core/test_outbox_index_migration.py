"""Migration 0020 (the outbox's index by member) on a till of 0019: every row kept, the index
there, and the marketing cap's count served by it."""

from __future__ import annotations

import sqlite3

from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import coupon_notices
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till


def test_migration_0020_keeps_a_till_of_0019_and_counts_the_cap_by_member(a: Till) -> None:
    member = a.register(marketing_consent=True)
    a.app.close()
    downgrade(a.path, "0019")
    before = rows(a.path)
    assert before["notification_outbox"][1]  # the welcome pack's message, unsent

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        con = sqlite3.connect(a.path)
        try:
            sql = str(coupon_notices._MARKETED.stmt.compile(dialect=sqlite_dialect()))
            plan = " ".join(r[-1] for r in con.execute(
                "EXPLAIN QUERY PLAN " + sql, [None] * sql.count("?")))
        finally:
            con.close()
        assert "ix_notification_outbox_member" in plan, plan
        columns, kept = rows(a.path)["notification_outbox"]
        assert member.id in {r[columns.index("member_id")] for r in kept}
    finally:
        app.close()
