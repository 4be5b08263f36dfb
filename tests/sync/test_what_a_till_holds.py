"""What a till holds (issue 14), on the real server over SQLite and PostgreSQL: a member
registered at store 1 is recognised at store 2 offline after store 2's next sync (from the
chain's member directory), store 2 holds none of store 1's ledger rows for them, a sale at
store 2 reaches the member's home, and store 2's closing time pulls only what it holds."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pos_member.db.models import (
    DirectoryEntry,
    Member,
    PointsEntry,
    Sale,
    Setting,
    SvLedgerEntry,
)
from pos_member.errors import InsufficientPoints
from pos_member.services import member_directory, points, sales
from pos_member.services import stored_value as sv
from pos_member.services.member_cards import Channel, find_member
from pos_member.services.members import register_member
from sync.client import SyncClient
from sync.engine import close_day
from tests.factories import new_phone
from tests.sync.harness import Central, Till, enrolled_till


def _ledger_rows(till: Till, member_id: str) -> dict[str, int]:
    """The till's rows of the member: its member row, points entries, stored-value ledger
    lines, sales."""
    with till.app.uow.read() as s:
        def count(column: Any) -> int:
            return int(s.scalar(select(func.count()).where(column == member_id)) or 0)
        return {"points": count(PointsEntry.member_id),
                "stored_value": count(SvLedgerEntry.member_id),
                "sales": count(Sale.member_id), "members": count(Member.id)}


def test_a_member_of_store_1_is_served_at_store_2_offline_and_the_sale_reaches_home(
        central: Central, tills: tuple[Till, Till]) -> None:
    one, two = tills
    phone = new_phone()
    card = register_member(one.app.uow, clerk=one.clerk, phone=phone, privacy_consent=True)
    sv.top_up(one.app.uow, clerk=one.clerk, member_id=card.id, amount_fen=10_000,
              method="cash", txn_id="top-1")
    sales.record_sale(one.app.uow, one.clerk, txn_id=str(uuid.uuid4()), bill_no="A-1",
                      amount_fen=12_000, member_id=card.id)
    one.sync()
    two.sync()
    # B holds the member in its directory only: no member row, none of A's ledger lines.
    assert _ledger_rows(two, card.id) == {"points": 0, "stored_value": 0, "sales": 0,
                                          "members": 0}

    # Offline from here: nothing below talks to HQ until two.sync().
    for code in (card.member_no, card.qr_payload, phone):
        found = find_member(two.app.uow, clerk=two.clerk, code=code)
        assert (found.id, found.remote, found.tier) == (card.id, True, "regular")
        assert found.store_name == "store 1"
    with pytest.raises(InsufficientPoints):  # their points balance is held at their home
        sales.record_sale(two.app.uow, two.clerk, txn_id=str(uuid.uuid4()), bill_no="B-0",
                          amount_fen=12_000, member_id=card.id, redeem_points=100)
    sold = sales.record_sale(two.app.uow, two.clerk, txn_id=str(uuid.uuid4()), bill_no="B-1",
                             amount_fen=8_000, member_id=card.id)
    assert sold.earn is not None and sold.earn.earned > 0
    assert _ledger_rows(two, card.id) == {"points": 1, "stored_value": 0, "sales": 1,
                                          "members": 0}  # only its own sale's

    two.sync()
    one.sync()
    earned = [(line.bill_no, line.store) for line in
              points.ledger(one.app.uow, clerk=one.clerk, member_id=card.id)
              if line.kind == points.EARN]
    assert sorted(earned) == [("A-1", "store 1"), ("B-1", "store 2")]
    central.assert_home_agrees(one)
    central.assert_home_agrees(two)
    central.assert_consistent(one, two)
    assert _ledger_rows(two, card.id)["stored_value"] == 0  # A's top-up never came here


def test_closing_time_pulls_the_stores_own_and_not_the_rest_of_the_chain(
        central: Central, tills: tuple[Till, Till]) -> None:
    one, two = tills
    two.sync()
    (card,) = one.register()
    for n in range(40):  # the rest of the chain's day: walk-in sales at store 1
        sales.record_sale(one.app.uow, one.clerk, txn_id=str(uuid.uuid4()),
                          bill_no=f"A-{n}", amount_fen=1_000 + n)
    one.sync()
    (mine,) = two.register()
    with two.client() as client:
        assert isinstance(client, SyncClient)
        day = close_day(two.app, client)
    assert day.ok and day.pending == 0
    assert day.sync is not None
    # Only the chain's directory came: store 1's registration, none of its sales or points
    # (and this till's own four events back: the registration, its welcome points and its
    # welcome pack's two coupons).
    assert (day.sync.pulled, day.sync.pushed, day.sync.applied) == (5, 4, 1)
    assert find_member(two.app.uow, clerk=two.clerk, code=card.member_no).remote
    assert not find_member(two.app.uow, clerk=two.clerk, code=mine.member_no).remote
    central.assert_exactly_once(two)


def test_a_new_till_starts_from_a_snapshot_of_the_directory(
        central: Central, tills: tuple[Till, Till], tmp_path: Path) -> None:
    """A replaced till of store 2 takes store 1's members from HQ's snapshot, not from a
    pull of their registrations, and then pulls its store's log from the start."""
    one, two = tills
    cards = one.register(5)
    one.sync()
    two.register(1)
    two.sync()
    fresh = enrolled_till(central, tmp_path / "fresh.sqlite", 2)
    try:
        report = fresh.sync()
        with fresh.app.uow.read() as s:
            assert s.scalar(select(func.count()).select_from(DirectoryEntry)) == 5 + 1
            position = s.scalar(select(Setting.value).where(
                Setting.key == member_directory.SNAPSHOT_POSITION))
        assert position is not None and int(position) > 0
        # Store 1's registrations came in the snapshot, not in the pull; store 2's did.
        with fresh.client() as client:
            pulled = [c.event for c in client.pull(0, snapshot=int(position)).changes]
        registered = {e.store_id for e in pulled if e.type == "member.registered"}
        assert registered == {two.app.identity.store_id}  # type: ignore[union-attr]
        assert report.pulled == len(pulled)
        for card in cards:
            found = find_member(fresh.app.uow, clerk=fresh.clerk, code=card.member_no)
            assert (found.id, found.remote) == (card.id, True)
        later = one.register(1)[0]  # after the snapshot: pulled as any registration
        one.sync()
        fresh.sync()
        assert find_member(fresh.app.uow, clerk=fresh.clerk, code=later.member_no).remote
        assert report.pending == 0
        central.assert_exactly_once(fresh)
    finally:
        fresh.close()



def test_a_member_of_another_store_refers_a_new_member_and_is_rewarded_at_home(
        central: Central, tills: tuple[Till, Till]) -> None:
    """The referrer is known at store 2 from the directory only: the registration takes
    their number, the first purchase's reward reaches them at store 1."""
    one, two = tills
    (referrer,) = one.register()
    one.sync()
    two.sync()
    new = register_member(two.app.uow, clerk=two.clerk, phone=new_phone(),
                          privacy_consent=True, channel=Channel.REFERRAL,
                          referrer=referrer.member_no)
    assert new.referrer_no == referrer.member_no
    sold = sales.record_sale(two.app.uow, two.clerk, txn_id=str(uuid.uuid4()), bill_no="R-1",
                             amount_fen=20_000, member_id=new.id)
    assert sold.referral_points > 0
    two.sync()
    one.sync()
    kinds = [line.kind for line in
             points.ledger(one.app.uow, clerk=one.clerk, member_id=referrer.id)]
    assert points.REFERRAL in kinds
    central.assert_home_agrees(one)
    central.assert_home_agrees(two)
