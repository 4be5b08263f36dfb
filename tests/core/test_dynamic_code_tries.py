"""A wrong dynamic code counts like a wrong PIN: five in a row lock paying by PIN or dynamic
code for 30 minutes (a 6-digit code must not be guessed at the till by trying them all)."""

from __future__ import annotations

import pyotp
import pytest

from pos_member.services.member_auth import provision_totp
from pos_member.services.stored_value import TotpFactor, pay, top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.stored_value_errors import InvalidDynamicCode, MemberPinLocked
from tests.factories import Till, wire_events


def _funded_member_with_a_code(till: Till) -> tuple[str, pyotp.TOTP]:
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=50_000, method="cash",
           txn_id="seed")
    secret = provision_totp(till.uow, clerk=till.cashier, approver=till.manager,
                            member_id=m.id).secret
    return m.id, pyotp.TOTP(secret)


def _pay(till: Till, member_id: str, code: str, txn: str) -> object:
    return pay(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=1_000,
               txn_id=txn, factor=TotpFactor(code), online=False)


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_the_fifth_wrong_dynamic_code_locks_payments_by_code(till: Till) -> None:
    member_id, totp = _funded_member_with_a_code(till)
    right = totp.at(till.clock.now())
    for i in range(4):
        with pytest.raises(InvalidDynamicCode) as e:
            _pay(till, member_id, _wrong(right), f"w{i}")
        assert e.value.params["left"] == 4 - i
    with pytest.raises(MemberPinLocked):
        _pay(till, member_id, _wrong(right), "w4")
    with pytest.raises(MemberPinLocked):  # even the right code, while locked
        _pay(till, member_id, right, "ok")
    assert "sv.pin_locked" in [e["type"] for e in wire_events(till)]
    assert get_balance(till.uow, member_id).total_fen == 50_000 + 6_000

    till.clock.advance(minutes=31)
    _pay(till, member_id, totp.at(till.clock.now()), "ok")
    assert get_balance(till.uow, member_id).total_fen == 56_000 - 1_000


def test_a_right_code_starts_the_count_again(till: Till) -> None:
    member_id, totp = _funded_member_with_a_code(till)
    for i in range(4):
        with pytest.raises(InvalidDynamicCode):
            _pay(till, member_id, _wrong(totp.at(till.clock.now())), f"w{i}")
    _pay(till, member_id, totp.at(till.clock.now()), "ok")
    till.clock.advance(seconds=30)
    with pytest.raises(InvalidDynamicCode) as e:
        _pay(till, member_id, _wrong(totp.at(till.clock.now())), "w-again")
    assert e.value.params["left"] == 4
