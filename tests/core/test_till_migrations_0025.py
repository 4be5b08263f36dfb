"""Migration 0025 (the audit log without ``ix_audit_entity``) on a till of 0024 with a checkout
paid partly by stored value: every row kept, the index gone, and a checkout after it writes its
audit rows as before."""

from __future__ import annotations

import pytest

from pos_member.bootstrap import bootstrap
from pos_member.db.uow import UnitOfWork
from pos_member.services.checkout import Tender, checkout
from pos_member.services.member_auth import set_member_pin
from pos_member.services.stored_value import PinFactor, top_up
from tests.core.test_till_migrations import assert_upgraded_keeping, downgrade, indexes, rows
from tests.factories import Till

pytestmark = pytest.mark.usefixtures("cheap_hash")


def test_migration_0025_keeps_a_till_of_0024_and_its_audit_rows(a: Till) -> None:
    m = a.register().id
    top_up(a.uow, clerk=a.cashier, member_id=m, amount_fen=100_000, method="cash", txn_id="t")
    set_member_pin(a.uow, clerk=a.cashier, approver=a.manager, member_id=m, pin="739182")

    def pay(txn: str, bill: str, uow: UnitOfWork) -> None:
        checkout(uow, a.cashier, txn_id=txn, bill_no=bill, amount_fen=30_000,
                 member_id=m, redeem_points=0,
                 tenders=(Tender("stored_value", 20_000), Tender("cash", 10_000)),
                 factor=PinFactor("739182"), online=True)

    pay("c-1", "B-1", a.uow)
    a.app.close()
    downgrade(a.path, "0024")
    assert "ix_audit_entity" in indexes(a.path, "audit_log")
    before = rows(a.path)
    assert len(before["audit_log"][1]) >= 2

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert "ix_audit_entity" not in indexes(a.path, "audit_log")
        assert_upgraded_keeping(a.path, before)
        pay("c-2", "B-2", app.uow)
        columns, after = rows(a.path)["audit_log"]
        action = columns.index("action")
        actions = [r[action] for r in after[len(before["audit_log"][1]):]]
        assert actions == ["sale.recorded", "sv.paid"]
    finally:
        app.close()
