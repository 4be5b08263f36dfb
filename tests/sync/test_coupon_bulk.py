"""HQ's bulk issue (issue 18): one ``pos-member-server issue-coupons`` command issues a coupon
to a filtered list of members, in short chunks (tills sync between them); running the batch
again issues nothing more; each store's tills get their members' coupons at their next sync."""

from __future__ import annotations

import pytest

from pos_member.rules_config import default_rules_path
from pos_member.services import coupons
from sync.server import coupon_bulk, services
from sync.server.cli import main
from tests.sync.harness import Central, Till


@pytest.mark.usefixtures("cheap_hash")
def test_one_command_issues_to_a_store_and_running_it_again_issues_nothing(
    tills: tuple[Till, Till], central: Central, monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two = tills
    mine = one.register(3)
    theirs = two.register(1)
    for t in (one, two):
        t.sync()
    services.publish_rules(central.ctx, path=default_rules_path())
    monkeypatch.setattr(coupon_bulk, "CHUNK", 2)  # several chunks, each its own transaction
    assert main(["--database", central.url, "issue-coupons", "CPN-10", "--store", "1",
                 "--reason", "store anniversary", "--batch", "anniv-1"]) == 0
    again = coupon_bulk.issue_coupons(central.ctx, template="CPN-10", reason="again",
                                      store=1, batch="anniv-1")
    assert (again.members, again.issued) == (3, 0)
    for t in (one, two):
        t.sync()
    for card in mine:
        assert "10元代金券" in [c.name for c in coupons.usable(one.app.uow, member_id=card.id)]
    assert "10元代金券" not in [c.name for c in coupons.usable(two.app.uow,
                                                                member_id=theirs[0].id)]
    assert main(["--database", central.url, "issue-coupons", "NOPE", "--reason", "x"]) == 1
    central.assert_exactly_once(one)
    central.assert_exactly_once(two)
