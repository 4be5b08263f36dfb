"""Migration 0024 (the stored-value ledger's indexes) on a till of 0023 with a top-up, an
offline payment and its refund: every row kept; the offline cap's count of today reads the
member's rows by time (``ix_sv_ledger_member_at``) with the same sum, and a refund is found by
what it refunds through the partial ``ix_sv_ledger_ref_txn``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import PinFactor, pay, top_up
from pos_member.services.stored_value_ledger import LEDGER, offline_spent_today
from pos_member.services.stored_value_refunds import refund_payment
from tests.core.test_till_migrations import downgrade, query_plan, rows, same_columns
from tests.factories import Till

pytestmark = pytest.mark.usefixtures("cheap_hash")


def test_migration_0024_keeps_a_till_of_0023_and_its_ledger_queries_use_the_indexes_left(
        a: Till) -> None:
    m = a.register().id
    top_up(a.uow, clerk=a.cashier, member_id=m, amount_fen=10_000, method="cash", txn_id="t")
    set_member_pin(a.uow, clerk=a.cashier, approver=a.manager, member_id=m, pin="739182")
    for txn in ("p-1", "p-2"):
        pay(a.uow, clerk=a.cashier, member_id=m, amount_fen=1_000, txn_id=txn,
            factor=PinFactor("739182"), online=False)
    refund_payment(a.uow, clerk=a.manager, approver=a.manager, member_id=m, ref_txn_id="p-1",
                   txn_id="r-1")
    a.app.close()
    downgrade(a.path, "0023")
    before = rows(a.path)
    assert len(before["sv_ledger"][1]) == 4

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        with app.uow.read_conn() as conn:
            spent, plan = query_plan(conn, lambda c: offline_spent_today(
                c, m, a.cashier.device_id, a.clock.local()))
            assert spent == 2_000 and "ix_sv_ledger_member_at" in plan, plan
            refund, plan = query_plan(conn, lambda c: c.scalar(
                select(LEDGER.c.txn_id).where(LEDGER.c.ref_txn_id == "p-1")))
            assert refund == "r-1" and "ix_sv_ledger_ref_txn" in plan, plan
    finally:
        app.close()
