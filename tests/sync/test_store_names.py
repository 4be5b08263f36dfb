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
    """Store 2 sells to store 1's member (known there from the directory); the member's home
    till shows the line under store 2's name."""
    one, two = tills
    (card,) = one.register()
    one.sync()
    two.sync()
    sales.record_sale(two.app.uow, two.clerk, txn_id=str(uuid.uuid4()), bill_no="B-1",
                      amount_fen=12_300, member_id=card.id)
    two.sync()
    one.sync()

    lines = points.ledger(one.app.uow, clerk=one.clerk, member_id=card.id)

    assert {line.store for line in lines} == {"store 1", "store 2"}  # the welcome, the sale
    assert [(line.bill_no, line.store) for line in lines if line.kind == points.EARN] == [
        ("B-1", "store 2")]


def test_a_sale_at_another_store_names_its_clerk_at_the_members_home(
        central: Central, tills: tuple[Till, Till]) -> None:
    one, two = tills
    info = create_staff(two.app.uow, clerk=two.clerk, code="1001", name="林收银",
                        role=Role.CASHIER, secret="135790")
    cashier = Clerk(info.id, info.name, Role.CASHIER, two.clerk.store_id, two.device_id)
    (card,) = one.register()
    sv.top_up(one.app.uow, clerk=one.clerk, member_id=card.id, amount_fen=10_000,
              method="cash", txn_id="t-1")
    one.sync()
    two.sync()
    sales.record_sale(two.app.uow, cashier, txn_id=str(uuid.uuid4()), bill_no="B-2",
                      amount_fen=5_000, member_id=card.id)
    two.sync()
    one.sync()

    earned = [line for line in points.ledger(one.app.uow, clerk=one.clerk, member_id=card.id)
              if line.kind == points.EARN]
    (topped,) = sv_ledger.ledger(one.app.uow, card.id)
    assert [(line.clerk, line.store) for line in earned] == [("林收银", "store 2")]
    assert topped.store == "store 1"
