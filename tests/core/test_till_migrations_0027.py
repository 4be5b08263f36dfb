"""Migration 0027 (points entries without ``ix_points_entries_txn``) on a till of 0026 with a
member's sale that redeemed and earned points: every row kept, the index gone, and a sale after
it posts its entries, and its repeat returns the first result, as before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services.points import adjust_points
from pos_member.services.sales import record_sale
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till


def _indexes(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'points_entries'")}
    finally:
        con.close()


def test_migration_0027_keeps_a_till_of_0026_and_its_points_entries(a: Till) -> None:
    m = a.register().id
    adjust_points(a.uow, clerk=a.cashier, approver=a.manager, txn_id="p-1", member_id=m,
                  points=1_000, reason="test")
    record_sale(a.uow, a.cashier, txn_id="s-1", bill_no="B-1", amount_fen=30_000,
                member_id=m, redeem_points=100)
    a.app.close()
    downgrade(a.path, "0026")
    assert "ix_points_entries_txn" in _indexes(a.path)
    before = rows(a.path)

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        assert "ix_points_entries_txn" not in _indexes(a.path)
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        sale = record_sale(app.uow, a.cashier, txn_id="s-2", bill_no="B-2", amount_fen=20_000,
                           member_id=m, redeem_points=100)
        again = record_sale(app.uow, a.cashier, txn_id="s-2", bill_no="B-2",
                            amount_fen=20_000, member_id=m, redeem_points=100)
        assert again.repeated and again.sale_id == sale.sale_id
        columns, after = rows(a.path)["points_entries"]
        txn = columns.index("txn_id")
        assert sorted(r[txn] for r in after if r[txn] == "s-2") == ["s-2", "s-2"]
    finally:
        app.close()
