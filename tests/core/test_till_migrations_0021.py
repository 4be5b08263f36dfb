"""Migrations 0020 (the outbox's index by member) and 0021 (recall contacts) on a till of 0019
that sent a recall message: every row kept, the index there and the marketing cap's count
served by it, the message's contact taken from its event."""

from __future__ import annotations

import sqlite3

from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import coupon_notices
from pos_member.services.recall_campaigns import campaign_results
from pos_member.services.recall_messages import MISS_YOU, send_recall_message
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till


def test_migrations_0020_0021_keep_a_till_of_0019_and_take_its_recall_messages(a: Till) -> None:
    member = a.register(marketing_consent=True)
    send_recall_message(a.uow, clerk=a.manager, campaign="00000000000000aa",
                        member_ids=[member.id], kind=MISS_YOU)
    a.app.close()
    downgrade(a.path, "0019")
    before = rows(a.path)
    assert before["notification_outbox"][1] and "recall_contacts" not in before

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
        [r] = campaign_results(app.uow, clerk=a.manager)
        assert (r.campaign, r.message, r.contacted) == ("00000000000000aa", MISS_YOU, 1)
    finally:
        app.close()
