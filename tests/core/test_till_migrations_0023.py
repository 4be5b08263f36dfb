"""Migration 0023 (fewer index pages a sale) on a till of 0022 with a registration and a sale:
every row kept; the registration limit reads the device's events by time
(``ix_events_device_created``) and the day's sales by guide read ``ix_sales_kpi``."""

from __future__ import annotations

from datetime import timedelta

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import kpi, members
from pos_member.services.sales import record_sale
from tests.core.test_till_migrations import downgrade, query_plan, rows, same_columns
from tests.factories import Till


def test_migration_0023_keeps_a_till_of_0022_and_its_queries_use_the_indexes_left(
        a: Till) -> None:
    member = a.register()
    record_sale(a.uow, a.cashier, txn_id="s-1", bill_no="B-1", amount_fen=10_000,
                member_id=member.id)
    a.app.close()
    downgrade(a.path, "0022")
    before = rows(a.path)
    assert before["events"][1] and before["sales"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        since = a.clock.now() - timedelta(minutes=10)
        with app.uow.read_conn() as conn:
            count, plan = query_plan(conn, lambda c: c.scalar(members._RECENT_REGISTRATIONS, {
                "device_id": a.cashier.device_id, "since": since}))
            assert count == 1
            assert "ix_events_device_created" in plan, plan
        with app.uow.read() as s:
            figures, plan = query_plan(s.connection(), lambda c: kpi._sales_by_guide(
                s, a.cashier.store_id, a.clock.local().date()))
            assert sum(f.sales for f in figures.values()) == 1
            assert "ix_sales_kpi" in plan, plan
    finally:
        app.close()
