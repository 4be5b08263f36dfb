"""Migration 0013 (the remote lookup's cache, issue 14) on a till of 0012: everything kept, the
new table empty, and a remote member's answer cached after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from pos_member.bootstrap import bootstrap
from pos_member.db import engine
from pos_member.db.engine import schema_version
from pos_member.services import remote_members
from tests.core.test_till_migrations import downgrade, rows, same_columns
from tests.factories import Till

ANSWER = {
    "card": {"member_id": "m-remote", "member_no": "00020100000015",
             "phone_masked": "139****5670", "name_masked": "王*", "gender": None,
             "birthday_month": None, "tags": [], "channel": "walk_in", "referrer_no": None,
             "tier": "regular", "status": "active", "store_id": "s2", "store_name": "store 2",
             "registered_at": "2026-12-01T02:00:00+00:00", "marketing_consent": False},
    "balance_fen": 5_000, "points": 12, "blocked": False, "position": 42,
    "as_of": datetime(2026, 12, 4, 2, 0, tzinfo=UTC).isoformat(),
}


def test_migration_0013_keeps_a_till_of_0012_and_caches_remote_members(a: Till) -> None:
    a.register()
    a.app.close()
    downgrade(a.path, "0012")
    before = rows(a.path)
    assert "remote_members" not in before and before["members"][1]

    app = bootstrap(a.path, keystore=a.keystore, clock=a.clock)
    try:
        assert schema_version(a.path) == engine.SCHEMA_HEAD
        for table, (columns, old_rows) in before.items():
            assert same_columns(a.path, table, columns) == old_rows, table
        assert rows(a.path)["remote_members"][1] == []
        card = remote_members.remember(app.uow, ANSWER, key="00020100000015",
                                       device_id=a.cashier.device_id)
        assert card.hq is not None and card.hq.balance_fen == 5_000
        assert len(rows(a.path)["remote_members"][1]) == 1
    finally:
        app.close()
