"""Migration 0022 (the outbox's index by day) on a till of 0021 that sent a marketing message:
every row kept, the index there, and a job's count of today's marketing messages
(``marketed_today``) served by it alone, with the same counts as before."""

from __future__ import annotations

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import coupon_notices
from pos_member.services.recall_messages import MISS_YOU, send_recall_message
from tests.core.test_till_migrations import downgrade, query_plan, rows, same_columns
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
        with app.uow.read_conn() as conn:
            marketed, plan = query_plan(conn, lambda c: coupon_notices.marketed_today(c, a.clock))
        assert marketed == {member.id: 1}
        assert "COVERING INDEX ix_notification_outbox_day" in plan, plan
    finally:
        app.close()
