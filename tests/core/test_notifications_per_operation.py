"""Every stored-value change the member should hear about queues exactly one notification for
that member, in the change's own transaction; repeating an operation (same ``txn_id``) or a
refused one queues none."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
import pytest
from sqlalchemy import select

from pos_member.db.models import NotificationOutbox
from pos_member.services.member_auth import provision_totp, set_member_pin
from pos_member.services.stored_value import PinFactor, TotpFactor, pay, top_up
from pos_member.services.stored_value_refunds import refund_payment, refund_topup
from pos_member.services.stored_value_standing import set_frozen
from pos_member.stored_value_errors import MemberPinLocked, WrongMemberPin
from tests.factories import Till

PIN = "739182"


pytestmark = pytest.mark.usefixtures("cheap_hash")



def _outbox(till: Till) -> dict[str, tuple[str, str]]:
    with till.uow.read() as s:
        return {r.id: (r.member_id, r.kind) for r in s.execute(
            select(NotificationOutbox.id, NotificationOutbox.member_id,
                   NotificationOutbox.kind))}


def queued_by(till: Till, act: Callable[[], object]) -> list[tuple[str, str]]:
    """The (member, kind) of each notification ``act`` queued."""
    before = _outbox(till)
    act()
    return [row for id_, row in _outbox(till).items() if id_ not in before]


def _member(till: Till, *, balance: int = 0, pin: bool = False) -> str:
    """A member (another one registered too, who must hear nothing) with a balance and PIN."""
    till.register()
    member_id = till.register().id
    if balance:
        top_up(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=balance,
               method="cash", txn_id=f"setup-{member_id}")
    if pin:
        set_member_pin(till.uow, clerk=till.cashier, approver=till.manager,
                       member_id=member_id, pin=PIN)
    return member_id


def _pay(till: Till, member_id: str, txn_id: str, *, pin: str = PIN) -> object:
    return pay(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=1000,
               txn_id=txn_id, factor=PinFactor(pin), online=True)


def _top_up(till: Till, member_id: str, txn_id: str) -> object:
    return top_up(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=10000,
                  method="cash", txn_id=txn_id)


# -- one change, one notification ---------------------------------------------------------


def test_a_top_up_queues_one_notification(till: Till) -> None:
    mid = _member(till)
    assert queued_by(till, lambda: _top_up(till, mid, "t1")) == [(mid, "sv.topped_up")]


def test_a_payment_by_pin_queues_one_notification(till: Till) -> None:
    mid = _member(till, balance=10000, pin=True)
    assert queued_by(till, lambda: _pay(till, mid, "p1")) == [(mid, "sv.paid")]


def test_a_payment_by_dynamic_code_queues_one_notification(till: Till) -> None:
    mid = _member(till, balance=10000)
    secret = provision_totp(till.uow, clerk=till.cashier, approver=till.manager,
                            member_id=mid).secret
    code = pyotp.TOTP(secret).at(int(till.clock.now().timestamp()))
    assert queued_by(till, lambda: pay(
        till.uow, clerk=till.cashier, member_id=mid, amount_fen=1000, txn_id="p1",
        factor=TotpFactor(code), online=True)) == [(mid, "sv.paid")]


def test_a_payment_refund_queues_one_notification(till: Till) -> None:
    mid = _member(till, balance=10000, pin=True)
    _pay(till, mid, "p1")
    assert queued_by(till, lambda: refund_payment(
        till.uow, clerk=till.cashier, approver=till.manager, member_id=mid, ref_txn_id="p1",
        txn_id="r1",
    )) == [(mid, "sv.payment_refunded")]


def test_a_top_up_refund_queues_one_notification(till: Till) -> None:
    mid = _member(till)
    _top_up(till, mid, "t1")
    assert queued_by(till, lambda: refund_topup(
        till.uow, clerk=till.manager, approver=till.manager, member_id=mid, ref_txn_id="t1",
        txn_id="r1",
    )) == [(mid, "sv.topup_refunded")]


def test_freezing_and_unfreezing_queue_one_notification_each(till: Till) -> None:
    mid = _member(till, balance=10000)
    assert queued_by(till, lambda: set_frozen(
        till.uow, clerk=till.manager, member_id=mid, frozen=True, reason="card lost",
    )) == [(mid, "sv.frozen")]
    assert queued_by(till, lambda: set_frozen(
        till.uow, clerk=till.manager, member_id=mid, frozen=False, reason="card found",
    )) == [(mid, "sv.unfrozen")]


def test_setting_a_pin_queues_one_notification(till: Till) -> None:
    mid = _member(till)
    assert queued_by(till, lambda: set_member_pin(
        till.uow, clerk=till.cashier, approver=till.manager, member_id=mid, pin=PIN,
    )) == [(mid, "sv.pin_set")]


def test_provisioning_a_dynamic_code_queues_one_notification(till: Till) -> None:
    mid = _member(till)
    assert queued_by(till, lambda: provision_totp(
        till.uow, clerk=till.cashier, approver=till.manager, member_id=mid,
    )) == [(mid, "sv.totp_provisioned")]


def test_the_fifth_wrong_pin_queues_one_lock_notification_and_the_four_before_none(
        till: Till) -> None:
    mid = _member(till, balance=10000, pin=True)

    def wrong_tries(n: int, error: type[Exception]) -> None:
        for i in range(n):
            with pytest.raises(error):
                _pay(till, mid, f"w{i}", pin="000001")

    assert queued_by(till, lambda: wrong_tries(4, WrongMemberPin)) == []
    assert queued_by(till, lambda: wrong_tries(1, MemberPinLocked)) == [(mid, "sv.pin_locked")]
    assert queued_by(till, lambda: wrong_tries(1, MemberPinLocked)) == []  # already locked


# -- a repeat queues nothing ----------------------------------------------------------------


def test_a_repeated_top_up_queues_nothing(till: Till) -> None:
    mid = _member(till)
    _top_up(till, mid, "t1")
    assert queued_by(till, lambda: _top_up(till, mid, "t1")) == []


def test_a_repeated_payment_queues_nothing(till: Till) -> None:
    mid = _member(till, balance=10000, pin=True)
    _pay(till, mid, "p1")
    assert queued_by(till, lambda: _pay(till, mid, "p1")) == []


def test_a_repeated_payment_refund_queues_nothing(till: Till) -> None:
    mid = _member(till, balance=10000, pin=True)
    _pay(till, mid, "p1")

    def refund() -> object:
        return refund_payment(till.uow, clerk=till.cashier, approver=till.manager,
                              member_id=mid, ref_txn_id="p1", txn_id="r1")

    refund()
    assert queued_by(till, refund) == []


def test_a_repeated_top_up_refund_queues_nothing(till: Till) -> None:
    mid = _member(till)
    _top_up(till, mid, "t1")

    def refund() -> object:
        return refund_topup(till.uow, clerk=till.manager, approver=till.manager,
                            member_id=mid, ref_txn_id="t1", txn_id="r1")

    refund()
    assert queued_by(till, refund) == []


def test_freezing_a_frozen_account_queues_nothing(till: Till) -> None:
    mid = _member(till)

    def freeze() -> object:
        return set_frozen(till.uow, clerk=till.manager, member_id=mid, frozen=True,
                          reason="card lost")

    freeze()
    assert queued_by(till, freeze) == []
