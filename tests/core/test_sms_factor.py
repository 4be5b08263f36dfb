"""Paying with an SMS code: the core has head office verify the code the member typed, bound
to member, amount and transaction, outside the write transaction, and moves no money for a
code head office refuses."""

from __future__ import annotations

import sqlite3

import pytest

from pos_member.services.stored_value import SmsFactor, SvResult, pay, top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.services.stored_value_standing import set_frozen
from pos_member.stored_value_errors import (
    AccountFrozen,
    SecondFactorRequired,
    SmsCodeInvalid,
    SmsUnavailable,
)
from tests.core.sms_fake import FakeHqSms, wrong
from tests.factories import Till


@pytest.fixture
def hq(till: Till) -> FakeHqSms:
    return FakeHqSms(till.uow.rules.stored_value.sms, till.clock)


def _funded(till: Till, amount: int = 10000) -> str:
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=amount, method="cash",
           txn_id=f"t-{m.id}")
    return m.id


def _pay(till: Till, hq: FakeHqSms, member_id: str, factor: SmsFactor, *, amount: int = 2200,
         txn: str = "p1") -> SvResult:
    return pay(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=amount,
               txn_id=txn, factor=factor, online=True, sms_verifier=hq)


def test_the_right_code_pays(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    r = _pay(till, hq, mid, SmsFactor(cid, code))
    assert r.amount_fen == 2200 and not r.replayed
    assert get_balance(till.uow, mid).total_fen == 11000 - 2200


def test_a_wrong_code_is_refused_and_moves_nothing(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    counts = till.table_counts()
    with pytest.raises(SmsCodeInvalid):
        _pay(till, hq, mid, SmsFactor(cid, wrong(code)))
    assert till.table_counts() == counts


def test_an_expired_code_is_refused(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    till.clock.advance(seconds=till.uow.rules.stored_value.sms.valid_seconds)
    counts = till.table_counts()
    with pytest.raises(SmsCodeInvalid):
        _pay(till, hq, mid, SmsFactor(cid, code))
    assert till.table_counts() == counts


def test_a_used_code_does_not_pay_a_second_time(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    _pay(till, hq, mid, SmsFactor(cid, code))
    counts = till.table_counts()
    with pytest.raises(SmsCodeInvalid):
        _pay(till, hq, mid, SmsFactor(cid, code), txn="p2")
    assert till.table_counts() == counts


def test_a_code_sent_for_another_amount_is_refused(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=1200, txn_id="p1")
    with pytest.raises(SmsCodeInvalid):
        _pay(till, hq, mid, SmsFactor(cid, code), amount=2200)
    assert get_balance(till.uow, mid).total_fen == 11000


def test_a_challenge_id_alone_is_not_a_factor(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, _ = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    with pytest.raises(SecondFactorRequired):
        _pay(till, hq, mid, SmsFactor(cid, ""))
    assert hq.verify_calls == 0


def test_without_head_office_an_sms_code_cannot_pay(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    with pytest.raises(SmsUnavailable):  # no verifier at all
        pay(till.uow, clerk=till.cashier, member_id=mid, amount_fen=2200, txn_id="p1",
            factor=SmsFactor(cid, code), online=True)
    hq.down = True
    counts = till.table_counts()
    with pytest.raises(SmsUnavailable):
        _pay(till, hq, mid, SmsFactor(cid, code))
    assert till.table_counts() == counts


def test_a_refusal_before_the_code_leaves_the_code_unspent(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    set_frozen(till.uow, clerk=till.manager, member_id=mid, frozen=True, reason="lost card")
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    with pytest.raises(AccountFrozen):
        _pay(till, hq, mid, SmsFactor(cid, code))
    assert hq.verify_calls == 0
    set_frozen(till.uow, clerk=till.manager, member_id=mid, frozen=False, reason="found")
    assert _pay(till, hq, mid, SmsFactor(cid, code)).amount_fen == 2200


def test_the_code_is_checked_while_no_write_lock_is_held(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    verify = hq.sms_verify

    def verify_while_another_writer_gets_in(**kw: object) -> str:
        con = sqlite3.connect(till.path, timeout=0)  # fails at once if the till holds it
        try:
            con.execute("BEGIN IMMEDIATE")
            con.rollback()
        finally:
            con.close()
        return verify(**kw)  # type: ignore[arg-type]

    hq.sms_verify = verify_while_another_writer_gets_in  # type: ignore[method-assign]
    assert _pay(till, hq, mid, SmsFactor(cid, code)).amount_fen == 2200


def test_a_repeated_payment_returns_the_first_without_asking_again(till: Till,
                                                                    hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    _pay(till, hq, mid, SmsFactor(cid, code))
    calls, counts = hq.verify_calls, till.table_counts()
    again = _pay(till, hq, mid, SmsFactor(cid, code))
    assert again.replayed and again.amount_fen == 2200
    assert (hq.verify_calls, till.table_counts()) == (calls, counts)


def test_the_event_names_the_challenge_and_keeps_no_code(till: Till, hq: FakeHqSms) -> None:
    mid = _funded(till)
    cid, code = hq.send(member_id=mid, amount_fen=2200, txn_id="p1")
    _pay(till, hq, mid, SmsFactor(cid, code))
    con = sqlite3.connect(till.path)
    try:
        [payload] = [r[0] for r in con.execute(
            "SELECT payload FROM events WHERE type = 'sv.paid'")]
    finally:
        con.close()
    assert f'"sms_challenge_id":"{cid}"' in payload.replace(" ", "")
    assert code not in payload
