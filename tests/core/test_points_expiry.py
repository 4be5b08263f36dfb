"""Points past their expiry, and the reminders before it: what the till may spend between a
lot's expiry and the hourly expiry job, and which till reminds the member."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pos_member.errors import InsufficientPoints
from pos_member.services import points, points_expiry, sales
from pos_member.services.pulled_events import apply_page
from tests.factories import Till, as_changes, make_till, new_data_key, wire_events


def txn() -> str:
    return str(uuid.uuid4())


def dump(t: Till) -> str:
    """Every row of every table: a refusal must leave all of them as they were."""
    con = sqlite3.connect(t.path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


def pull(into: Till, source: Till) -> None:
    page = as_changes(wire_events(source))
    apply_page(into.uow, device_id=into.app.identity.device_id, changes=page, cursor=len(page))


def reminder_keys(t: Till) -> list[str]:
    con = sqlite3.connect(t.path)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT dedupe_key FROM notification_outbox WHERE kind = ?", (points_expiry.EXPIRING,)))
    finally:
        con.close()


def lot_expiry(t: Till, lot_id: str) -> datetime:
    con = sqlite3.connect(t.path)
    try:
        text = con.execute("SELECT expires_at FROM points_lots WHERE id = ?",
                           (lot_id,)).fetchone()[0]
    finally:
        con.close()
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def welcome_lot(t: Till, member_id: str) -> str:
    con = sqlite3.connect(t.path)
    try:
        return con.execute("SELECT id FROM points_entries WHERE member_id = ? AND kind = ?",
                           (member_id, points.WELCOME)).fetchone()[0]
    finally:
        con.close()


# -- reminders: one till per lot ------------------------------------------------------------


def test_each_lot_is_reminded_once_chain_wide_by_the_till_that_made_it(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key, device_number=1)
    b = make_till(tmp_path, data_key=key, device_number=2)  # the same store's second till
    m = a.register()  # the welcome lot is made on till a
    pull(b, a)
    sale = sales.record_sale(b.uow, b.cashier, txn_id=txn(), bill_no="B1", amount_fen=10_000,
                             member_id=m.id)  # this lot is made on till b
    pull(a, b)
    welcome = welcome_lot(a, m.id)
    for t in (a, b):  # both lots within 30 days of their expiry, on both tills
        t.clock.set(lot_expiry(a, welcome) - timedelta(days=20))
        points_expiry.remind_expiring(t.uow, clerk=t.cashier)
    assert reminder_keys(a) == [f"expiry:{welcome}:30"]
    assert reminder_keys(b) == [f"expiry:{sale.sale_id}:30"]


def test_the_expiry_job_on_a_till_that_pulled_a_lot_queues_no_reminder_for_it(
        tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, data_key=key, device_number=1)
    b = make_till(tmp_path, data_key=key, device_number=2)
    m = a.register()
    pull(b, a)
    when = lot_expiry(a, welcome_lot(a, m.id)) - timedelta(days=5)
    b.clock.set(when)
    assert points_expiry.expire_due(b.uow, clerk=b.cashier).reminders == 0
    a.clock.set(when)
    assert points_expiry.expire_due(a.uow, clerk=a.cashier).reminders == 1
    assert len(reminder_keys(a)) + len(reminder_keys(b)) == 1


# -- points past their expiry, before the job has run ---------------------------------------


@pytest.fixture
def expired(tmp_path: Path) -> tuple[Till, str]:
    """A member whose 100 welcome points expired 5 days ago (the expiry job has not run) and
    who holds 200 points earned a month after registering, still valid."""
    t = make_till(tmp_path)
    m = t.register()
    t.clock.advance(days=30)
    sales.record_sale(t.uow, t.cashier, txn_id=txn(), bill_no="A1", amount_fen=20_000,
                      member_id=m.id)
    t.clock.set(lot_expiry(t, welcome_lot(t, m.id)) + timedelta(days=5))
    return t, m.id


def test_points_past_their_expiry_are_not_spendable_before_the_job_runs(
        expired: tuple[Till, str]) -> None:
    t, member_id = expired
    before = dump(t)
    with pytest.raises(InsufficientPoints) as refused:
        sales.record_sale(t.uow, t.cashier, txn_id=txn(), bill_no="E1", amount_fen=100_000,
                          member_id=member_id, redeem_points=300)
    assert refused.value.params["available"] == 200
    assert dump(t) == before
    r = sales.record_sale(t.uow, t.cashier, txn_id=txn(), bill_no="E2", amount_fen=100_000,
                          member_id=member_id, redeem_points=200)
    assert r.redeem_points == 200


def test_the_card_and_the_quote_offer_only_points_not_past_their_expiry(
        expired: tuple[Till, str]) -> None:
    t, member_id = expired
    s = points.points_summary(t.uow, member_id=member_id)
    assert (s.balance, s.spendable, s.pending) == (300, 200, 0)  # the job has not run yet
    assert s.next_expiry is not None and s.next_expiry > t.clock.now()
    q = sales.quote_sale(t.uow, member_id=member_id, amount_fen=100_000, redeem_points=300)
    assert q.spendable == 200 and q.paid_fen == 100_000 - 200


def test_a_gift_cannot_be_paid_with_points_past_their_expiry(tmp_path: Path) -> None:
    t = make_till(tmp_path)
    m = t.register()
    sales.record_sale(t.uow, t.cashier, txn_id=txn(), bill_no="A1", amount_fen=40_000,
                      member_id=m.id)  # 100 + 400 = 500 points, the bag's price
    t.clock.set(lot_expiry(t, welcome_lot(t, m.id)) - timedelta(days=1))
    t.clock.advance(days=6)  # the welcome lot (and this sale's, made the same day) expired
    before = dump(t)
    with pytest.raises(InsufficientPoints):
        points.redeem_for_item(t.uow, clerk=t.cashier, txn_id=txn(), member_id=m.id,
                               item_code="GIFT-BAG")
    assert dump(t) == before


def test_the_job_then_expires_the_lot_that_was_not_spent(expired: tuple[Till, str]) -> None:
    t, member_id = expired
    sales.record_sale(t.uow, t.cashier, txn_id=txn(), bill_no="E1", amount_fen=100_000,
                      member_id=member_id, redeem_points=200)
    run = points_expiry.expire_due(t.uow, clerk=t.cashier, remind=False)
    assert (run.lots, run.points) == (1, 100)
    s = points.points_summary(t.uow, member_id=member_id)
    assert s.balance == s.spendable + s.pending
