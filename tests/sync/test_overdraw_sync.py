"""A cross-store overdraw end to end: two stores spend one member's balance while offline; at
sync the server blocks the member and every till refuses balance payments for it
(``balance_blocks``) until HQ settles. The ``sv.*`` events are hand-made with the stored-value
contract (member_id, txn_id, principal_delta_fen, bonus_delta_fen)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import BalanceBlock
from pos_member.services.balance_blocks import is_blocked
from sync.server.balances import settle_overdraw
from sync.server.models import Flag
from tests.sync.harness import Central, Till, enrolled_till


def record_sv(till: Till, member_id: str, type: str, principal: int, bonus: int = 0) -> None:
    with till.app.uow.begin() as tx:
        tx.record(till.clerk, type, {"member_id": member_id, "txn_id": str(uuid.uuid4()),
                                     "principal_delta_fen": principal,
                                     "bonus_delta_fen": bonus}, entity_id=member_id)
        tx.commit()


def blocks(till: Till) -> list[tuple[str, int]]:
    with till.app.uow.read() as s:
        return [(r.member_id, r.balance_fen) for r in s.execute(select(BalanceBlock.__table__))]


def blocked(till: Till, member_id: str) -> bool:
    with till.app.uow.read() as s:
        return is_blocked(s, member_id)


def test_an_overdraw_blocks_the_member_at_every_till_until_hq_settles(
    tills: tuple[Till, Till], central: Central,
) -> None:
    a, b = tills
    member = str(uuid.uuid4())
    record_sv(a, member, "sv.topped_up", 10_000, 1_000)
    a.sync()
    b.sync()
    # Both stores offline: each sees ¥110 and spends ¥80 of it.
    record_sv(a, member, "sv.paid", -8_000)
    record_sv(b, member, "sv.paid", -8_000)
    a.sync()
    assert not blocked(a, member)
    b.sync()  # the server now sees -¥50
    a.sync()
    assert blocks(a) == blocks(b) == [(member, -5_000)]
    assert blocked(a, member) and blocked(b, member)
    [flag] = central.flags("overdraw")
    assert flag["member_id"] == member and flag["balance_fen"] == -5_000
    # Syncing again changes nothing; settling lifts the block everywhere.
    a.sync()
    assert blocks(a) == [(member, -5_000)]
    settle_overdraw(central.ctx, member=member, note="collected ¥50 in cash")
    a.sync()
    b.sync()
    assert blocks(a) == blocks(b) == []
    central.assert_exactly_once(a)
    central.assert_exactly_once(b)


def test_an_old_settlement_does_not_lift_a_newer_block(
    tills: tuple[Till, Till], central: Central,
) -> None:
    a, b = tills
    member = str(uuid.uuid4())
    record_sv(a, member, "sv.paid", -100)
    a.sync()
    settle_overdraw(central.ctx, member=member, note="written off")
    record_sv(a, member, "sv.paid", -100)  # overdrawn again below the settled line
    a.sync()
    b.sync()  # b pulls block 1, unblock 1, block 2 in one go
    assert blocks(b) == [(member, -200)]
    with b.app.uow.read() as s:
        flag_id = s.scalar(select(BalanceBlock.flag_id))
    flag_ids = central.query(lambda c: list(c.scalars(
        select(Flag.id).where(Flag.kind == "overdraw").order_by(Flag.id))))
    assert len(flag_ids) == 2 and flag_id == str(flag_ids[-1])



@pytest.mark.usefixtures("cheap_hash")
def test_two_tills_spend_one_balance_offline_and_the_next_payment_is_refused(
    tmp_path: Path, central: Central,
) -> None:
    """With the till's own stored-value code: a top-up at A, then both of the store's tills
    pay ¥80 of the ¥110 while apart; after sync the server blocks the member, B refuses the
    next balance payment (nothing written), and after HQ settles B takes one again. (Another
    store's till pays from HQ's balance, not its own ledger.)"""
    from pos_member.services.member_auth import set_member_pin
    from pos_member.services.stored_value import PinFactor, pay, top_up
    from pos_member.stored_value_errors import BalanceBlocked
    from tests.factories import table_counts

    a = enrolled_till(central, tmp_path / "a.sqlite", 1)
    b = enrolled_till(central, tmp_path / "b.sqlite", 1)
    card = a.register()[0]
    set_member_pin(a.app.uow, clerk=a.clerk, approver=a.clerk, member_id=card.id, pin="739182")
    top_up(a.app.uow, clerk=a.clerk, member_id=card.id, amount_fen=10_000, method="cash",
           txn_id="topup-1")  # ¥100 + ¥10 bonus
    a.sync()
    b.sync()

    def spend(till: Till, txn: str, fen: int) -> None:
        pay(till.app.uow, clerk=till.clerk, member_id=card.id, amount_fen=fen, txn_id=txn,
            factor=PinFactor("739182"), online=False)

    spend(a, "pay-a", 8_000)
    spend(b, "pay-b", 8_000)
    for t in (a, b, a):
        t.sync()
    assert blocks(a) == blocks(b) == [(card.id, -5_000)]
    [flag] = central.flags("overdraw")
    assert flag["member_id"] == card.id
    before = table_counts(b.path)
    with pytest.raises(BalanceBlocked):
        spend(b, "pay-b2", 100)
    assert table_counts(b.path) == before
    settle_overdraw(central.ctx, member=card.member_no, note="collected ¥50 in cash")
    b.sync()
    top_up(b.app.uow, clerk=b.clerk, member_id=card.id, amount_fen=10_000, method="cash",
           txn_id="topup-2")
    spend(b, "pay-b3", 100)
    b.sync()
    assert len(central.flags("overdraw")) == 1
    central.assert_exactly_once(a)
    central.assert_exactly_once(b)
    a.close()
    b.close()
