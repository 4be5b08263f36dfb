"""Migration 0022 (the outbox's index by day) on a till of 0021 that sent a marketing message:
every row kept, the index there, and a job's count of today's marketing messages
(``marketed_today``) served by it alone, with the same counts as before."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import coupon_notices
from pos_member.services.recall_messages import MISS_YOU, send_recall_message
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till


def test_migration_0022_keeps_a_till_of_0021_and_counts_the_day_by_its_index(a: Till) -> None:
    member = a.register(marketing_consent=True)
    send_recall_message(a.uow, clerk=a.manager, campaign="00000000000000ab",
                        member_ids=[member.id], kind=MISS_YOU)
    a.app.close()
    downgrade(a.path, "0021")
    before = rows(a.path)
    assert before["notification_outbox"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        sent: list[tuple[str, Any]] = []

        def keep(_c: object, _cur: object, sql: str, params: Any, *_a: object) -> None:
            sent.append((sql, params))

        with app.uow.read_conn() as conn:
            event.listen(conn, "before_cursor_execute", keep)
            assert coupon_notices.marketed_today(conn, a.clock) == {member.id: 1}
            event.remove(conn, "before_cursor_execute", keep)
            sql, params = sent[-1]
            plan = " ".join(r[-1] for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, params))
        assert "COVERING INDEX ix_notification_outbox_day" in plan, plan
    finally:
        app.close()
