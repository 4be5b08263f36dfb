"""A member's ledgers name the store and the clerk of each line at every till: a till asks HQ the
names of stores it knows only by number, and each line carries its clerk's name (other stores'
staff are not on this till)."""

from __future__ import annotations

import uuid

from pos_member.permissions import Clerk, Role
from pos_member.services import points, sales
from pos_member.services import stored_value as sv
from pos_member.services import stored_value_ledger as sv_ledger
from pos_member.services.staff import create_staff
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


def test_a_top_up_and_a_sale_at_another_store_name_its_clerk(
        central: Central, tills: tuple[Till, Till]) -> None:
    one, two = tills
    info = create_staff(one.app.uow, clerk=one.clerk, code="1001", name="林收银",
                        role=Role.CASHIER, secret="135790")
    cashier = Clerk(info.id, info.name, Role.CASHIER, one.clerk.store_id, one.device_id)
    (card,) = one.register()
    sales.record_sale(one.app.uow, cashier, txn_id=str(uuid.uuid4()), bill_no="A-2",
                      amount_fen=5_000, member_id=card.id)
    sv.top_up(one.app.uow, clerk=cashier, member_id=card.id, amount_fen=10_000,
              method="cash", txn_id="t-1")
    one.sync()
    two.sync()

    earned = [line for line in points.ledger(two.app.uow, clerk=two.clerk, member_id=card.id)
              if line.kind == points.EARN]
    (topped,) = sv_ledger.ledger(two.app.uow, card.id)
    assert [line.clerk for line in earned] == ["林收银"]
    assert (topped.clerk, topped.store) == ("林收银", "store 1")
