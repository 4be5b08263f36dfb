"""Tiers through the periodic evaluation service: who keeps their tier and who goes down."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pos_member.services import sales, tiers
from pos_member.services.sale_refunds import refund_sale
from tests.factories import make_till


@pytest.mark.parametrize(("refund_fen", "tier"), [
    (100_000, "silver"),  # rolling spend ¥4,000: 80% of silver's ¥5,000, kept
    (100_100, "regular"),  # ¥3,999: below 80%, and growth (409) far below silver's 1,000
])
def test_the_evaluation_keeps_a_tier_while_spend_is_at_least_80_percent_of_its_threshold(
        tmp_path: Path, refund_fen: int, tier: str) -> None:
    t = make_till(tmp_path)
    m = t.register()
    r = sales.record_sale(t.uow, t.cashier, txn_id=str(uuid.uuid4()), bill_no="S1",
                          amount_fen=500_000, member_id=m.id)
    assert r.tier_after == "silver"
    refund_sale(t.uow, t.cashier, approver=t.manager, txn_id=str(uuid.uuid4()), bill_no="S1",
                      amount_fen=refund_fen)  # a refund never moves the tier down at once
    t.clock.advance(days=100)  # past the 90 days' protection after the upgrade
    run = tiers.evaluate_tiers(t.uow, clerk=t.cashier, force=True)
    assert run.ran and run.checked == 1
    assert tiers.tier_standing(t.uow, member_id=m.id).tier == tier
