"""The sync issue's closing scenario, with the calls the till's screens make: two stores and the
real central server (uvicorn on loopback; SQLite and PostgreSQL). Staff log in with their PINs;
both stores register the same phone while offline, ring up sales, top up and pay with stored
value behind the member's PIN; then they reconnect and close the day.

Ends with: one member (the earlier registration, store 1's), both numbers and the phone scan to
it at both tills (at store 2 from the chain's member directory: a member of another store);
its points and stored-value ledgers at its home store are the union of both stores' (each equal
to its ledger, and to HQ's chain-wide figures); the overdraw that two offline payments at store
1's two tills made is flagged for HQ and blocks further balance payments; both day reports are
complete and every event is on the server exactly once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import Member
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Clerk, Role
from pos_member.services import points, points_ledger, stored_value, stored_value_ledger
from pos_member.services.enrolment import FirstAdmin
from pos_member.services.member_auth import set_member_pin
from pos_member.services.member_cards import find_member
from pos_member.services.members import register_member
from pos_member.services.sales import record_sale
from pos_member.services.staff import create_staff
from pos_member.services.stored_value import PinFactor
from pos_member.stored_value_errors import BalanceBlocked
from sync.engine import close_day
from tests.factories import new_phone
from tests.sync.harness import Central, Till, enrolled_till

MEMBER_PIN = "294715"


class Store:
    """One store's till with its cashier and manager logged in (as at the till's login)."""

    def __init__(self, till: Till, number: int) -> None:
        self.till = till
        admin = till.login(f"9{number}00", "246810")
        create_staff(till.app.uow, clerk=admin, code=f"1{number}01", name="收银员",
                     role=Role.CASHIER, secret="135790")
        create_staff(till.app.uow, clerk=admin, code=f"8{number}01", name="店长",
                     role=Role.MANAGER, secret="802468")
        self.cashier = till.login(f"1{number}01", "135790")
        self.manager_code = f"8{number}01"

    @property
    def uow(self) -> UnitOfWork:
        return self.till.app.uow

    def manager(self) -> Clerk:
        """The manager's approval, typed at the till (staff number and PIN)."""
        return stored_value.approve(self.uow, code=self.manager_code, pin="802468",
                                    device_id=self.till.device_id)

    def register(self, phone: str) -> str:
        self.till.clock.advance(seconds=30)
        return register_member(self.uow, clerk=self.cashier, phone=phone,
                               privacy_consent=True).id

    def sale(self, member_id: str, bill_no: str, fen: int) -> None:
        record_sale(self.uow, self.cashier, txn_id=str(uuid.uuid4()), bill_no=bill_no,
                    amount_fen=fen, member_id=member_id)

    def pay(self, member_id: str, fen: int, *, online: bool) -> stored_value.SvResult:
        return stored_value.pay(self.uow, clerk=self.cashier, member_id=member_id,
                                amount_fen=fen, txn_id=str(uuid.uuid4()),
                                factor=PinFactor(MEMBER_PIN), online=online)

    def find(self, code: str) -> str:
        return find_member(self.uow, clerk=self.cashier, code=code).id

    def number(self, member_id: str) -> str:
        """The member number as this till knows it (a merged loser's row stays, aliased)."""
        with self.uow.read() as s:
            return s.scalar(select(Member.member_no).where(Member.id == member_id)) or ""

    def points(self, member_id: str) -> tuple[int, int]:
        with self.uow.read() as s:
            conn = s.connection()
            return points.balance_of(conn, member_id), points_ledger.ledger_sum(conn, member_id)

    def stored_value(self, member_id: str) -> tuple[int, int, tuple[int, int]]:
        bal = stored_value_ledger.get_balance(self.uow, member_id)
        with self.uow.read() as s:
            return bal.principal_fen, bal.bonus_fen, stored_value_ledger.ledger_totals(s, member_id)


@pytest.fixture
def stores(tmp_path: Path, central: Central) -> Iterator[tuple[Store, Store]]:
    tills = [enrolled_till(central, tmp_path / f"store-{n}.sqlite", n,
                           admin=FirstAdmin(code=f"9{n}00", name="管理员", secret="246810"))
             for n in (1, 2)]
    tills[1].clock.advance(minutes=1)  # store 2 registers the phone a minute later
    yield Store(tills[0], 1), Store(tills[1], 2)
    for till in tills:
        till.close()


def test_two_stores_offline_then_reconnected_end_with_one_member_merged_ledgers_and_flags(
    stores: tuple[Store, Store], central: Central, tmp_path: Path,
) -> None:
    one, two = stores
    phone = new_phone()

    # Offline all morning: each store registers the customer, rings up a sale; store 1 also
    # tops up ¥100 (+¥10 bonus) and the member sets a payment PIN with the manager present.
    first, second = one.register(phone), two.register(phone)
    welcome = one.points(first)[0]
    one.sale(first, "A-0001", 12_000)
    two.sale(second, "B-0001", 8_000)
    stored_value.top_up(one.uow, clerk=one.cashier, member_id=first, amount_fen=10_000,
                        method="cash", txn_id=str(uuid.uuid4()))
    set_member_pin(one.uow, clerk=one.cashier, approver=one.manager(), member_id=first,
                   pin=MEMBER_PIN)
    # One welcome bonus per person (issue 13): the merge reverses the second one.
    points_after = one.points(first)[0] + two.points(second)[0] - welcome
    assert welcome > 0

    numbers = (one.number(first), two.number(second))
    # Reconnected: store 1, store 2, store 1 again (store 1 then sees the merge).
    for store in (one, two, one):
        report = store.till.sync()
        assert report.pending == 0
    for store in (one, two):
        assert {store.find(phone), *(store.find(n) for n in numbers)} == {first}
    assert one.points(first) == (points_after, points_after)
    principal, bonus, ledger = one.stored_value(first)
    assert (principal, bonus) == (10_000, 1_000) == ledger
    central.assert_home_agrees(one.till)
    assert len(central.flags("member_merged")) == 1

    # Offline again: store 1's two tills each take ¥100 from the ¥110 balance with the PIN.
    extra = enrolled_till(central, tmp_path / "store-1b.sqlite", 1)
    try:
        extra.sync()
        cashier = extra.login("1101", "135790")
        one.pay(first, 10_000, online=False)
        stored_value.pay(extra.app.uow, clerk=cashier, member_id=first, amount_fen=10_000,
                         txn_id=str(uuid.uuid4()), factor=PinFactor(MEMBER_PIN), online=False)
        for till in (one.till, extra, one.till, two.till):
            till.sync()
        overdraws = central.flags("overdraw")
        assert len(overdraws) == 1
        principal, bonus, ledger = one.stored_value(first)
        assert principal + bonus == 11_000 - 20_000
        assert (principal, bonus) == ledger
        with pytest.raises(BalanceBlocked):
            one.pay(first, 100, online=True)
        central.assert_home_agrees(one.till)
        central.assert_exactly_once(extra)
    finally:
        extra.close()

    # Closing time at both stores: everything acknowledged, the day's figures complete.
    for store, bill_fen in ((one, 12_000), (two, 8_000)):
        with store.till.client() as client:
            day = close_day(store.till.app, client)
        assert day.ok and day.pending == 0
        assert day.summary.total_registrations == 1
        assert (day.summary.sales_count, day.summary.sales_fen) == (1, bill_fen)
        assert day.summary.member_sales_count == 1
        central.assert_exactly_once(store.till)

