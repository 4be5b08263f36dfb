"""Migration 0016 (coupons, issue 18) on a till of 0015: everything kept, the coupon tables
empty, and the next registration gets its welcome pack."""

from __future__ import annotations

import dataclasses

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import coupons
from pos_member.services.members import register_member
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till, new_phone


def test_migration_0016_keeps_a_till_of_0015_and_issues_coupons_after(a: Till) -> None:
    rules = a.uow.rules  # a till of 0015 issued no coupon
    a.uow.rules = dataclasses.replace(rules, registration=dataclasses.replace(
        rules.registration, welcome_coupon_pack=""))
    old = a.register()
    a.app.close()
    downgrade(a.path, "0015")
    before = rows(a.path)
    assert "coupons" not in before and before["members"][1] and before["events"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        after = rows(a.path)
        assert after["coupons"][1] == after["coupon_entries"][1] == []
        assert after["coupon_blocks"][1] == []
        assert coupons.usable(app.uow, member_id=old.id) == []
        new = register_member(app.uow, phone=new_phone(), privacy_consent=True,
                              clerk=a.cashier)
        assert len(coupons.usable(app.uow, member_id=new.id)) == 2
    finally:
        app.close()
