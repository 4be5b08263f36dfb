"""A member's ledgers name the store of each line at every till: HQ names each store it creates
(a ``store.named`` server event), so a till knows other stores by name, not by number."""

from __future__ import annotations

import uuid

from pos_member.services import points, sales
from tests.sync.harness import Central, Till


def test_a_sale_at_another_store_shows_that_stores_name_in_the_points_ledger(
        central: Central, tills: tuple[Till, Till]) -> None:
    one, two = tills
    (card,) = one.register()
    sales.record_sale(one.app.uow, one.clerk, txn_id=str(uuid.uuid4()), bill_no="A-1",
                      amount_fen=12_300, member_id=card.id)
    one.sync()
    two.sync()

    lines = points.ledger(two.app.uow, clerk=two.clerk, member_id=card.id)

    assert {line.store for line in lines} == {"store 1"}
    assert [line.bill_no for line in lines if line.kind == points.EARN] == ["A-1"]
