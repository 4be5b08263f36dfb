"""Migration 0012 (the POS's bills and refunds) on a till of 0011 with a sale: everything kept,
the two new tables empty, and a sale reported by the POS recorded after the upgrade."""

from __future__ import annotations

import uuid

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.integration import reports
from pos_member.services import sales
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till


def test_migration_0012_keeps_a_till_of_0011_and_takes_reported_sales(a: Till) -> None:
    member = a.register()
    sales.record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B-0011",
                      amount_fen=12_300, member_id=member.id)
    a.app.close()
    downgrade(a.path, "0011")
    before = rows(a.path)
    assert "pos_bills" not in before and before["sales"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        after = rows(a.path)
        assert after["pos_bills"][1] == [] and after["pos_refunds"][1] == []
        clerk = reports.pos_clerk(store_id=a.cashier.store_id, device_id=a.cashier.device_id)
        done = reports.report_sale(app.uow, clerk, reports.SaleReport(
            "POS-1", "B-0012", "2026-12-04T10:00:00+08:00", 5_000,
            (reports.Line("1", "shoes", 5_000),), (reports.Tender("cash", 5_000),),
            member=member.member_no))
        assert done.member_no == member.member_no and done.sale.earn is not None
        assert len(rows(a.path)["pos_bills"][1]) == 1
    finally:
        app.close()
