"""Migration 0027 (points entries without ``ix_points_entries_txn``) on a till of 0026 with a
member's sale that redeemed and earned points: every row kept, the index gone, and a sale after
it posts its entries, and its repeat returns the first result, as before."""

from __future__ import annotations

from pos_member.bootstrap import bootstrap
from pos_member.services.points import adjust_points
from pos_member.services.sales import record_sale
from tests.core.test_till_migrations import assert_upgraded_keeping, downgrade, indexes, rows
from tests.factories import Till


def test_migration_0027_keeps_a_till_of_0026_and_its_points_entries(a: Till) -> None:
    m = a.register().id
    adjust_points(a.uow, clerk=a.cashier, approver=a.manager, txn_id="p-1", member_id=m,
                  points=1_000, reason="test")
    record_sale(a.uow, a.cashier, txn_id="s-1", bill_no="B-1", amount_fen=30_000,
                member_id=m, redeem_points=100)
    a.app.close()
    downgrade(a.path, "0026")
    assert "ix_points_entries_txn" in indexes(a.path, "points_entries")
    before = rows(a.path)

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert "ix_points_entries_txn" not in indexes(a.path, "points_entries")
        assert_upgraded_keeping(a.path, before)
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
