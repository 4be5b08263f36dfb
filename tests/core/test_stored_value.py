"""Stored value: top-ups, payments behind a second factor, refunds, freezes, risk control."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, date, timedelta
from pathlib import Path

import pyotp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_member.errors import PermissionDenied
from pos_member.pin_policy import check_member_pin as check_pin_strength
from pos_member.services.member_auth import (
    provision_totp,
    set_member_pin,
    totp_at,
    totp_code,
    totp_key,
)
from pos_member.services.notifications import LogChannel, deliver_due
from pos_member.services.pulled_events import apply_page
from pos_member.services.stored_value import PinFactor, SmsFactor, TotpFactor, approve, pay, top_up
from pos_member.services.stored_value_ledger import (
    get_balance,
    ledger,
    ledger_totals,
    rebuild_accounts,
)
from pos_member.services.stored_value_refunds import refund_payment, refund_topup
from pos_member.services.stored_value_standing import set_frozen
from pos_member.stored_value_errors import (
    AccountFrozen,
    AlreadyRefunded,
    ApprovalRefused,
    ApprovalRequired,
    BalanceBlocked,
    InsufficientBalance,
    InvalidAmount,
    InvalidDynamicCode,
    MalformedDynamicCode,
    MemberPinLocked,
    OfflineCapReached,
    ReasonRequired,
    SecondFactorRequired,
    SmsUnavailable,
    TopupAlreadySpent,
    TxnIdConflict,
    WeakMemberPin,
    WrongMemberPin,
)
from pos_member.stored_value_rules import split_payment, topup_bonus
from tests.factories import PINS, Till, as_changes, make_till, new_data_key, wire_events

PIN = "739182"


pytestmark = pytest.mark.usefixtures("cheap_hash")



def _member_with(till: Till, principal: int = 0, *, pin: bool = True) -> str:
    m = till.register(phone="13900001111")
    if principal:
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=principal,
               method="cash", txn_id=f"t-{m.id}")
    if pin:
        set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                       pin=PIN)
    return m.id


def _pay(till: Till, member_id: str, amount: int, txn: str = "p1", **kw: object) -> object:
    kw.setdefault("factor", PinFactor(PIN))
    kw.setdefault("online", True)
    return pay(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=amount,
               txn_id=txn, **kw)  # type: ignore[arg-type]


def _assert_ledger_matches(till: Till, member_id: str) -> None:
    b = get_balance(till.uow, member_id)
    with till.uow.read() as s:
        assert ledger_totals(s, member_id) == (b.principal_fen, b.bonus_fen)


# -- rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "bonus"), [(9999, 0), (10000, 1000), (49999, 1000),
                                               (50000, 6000), (100000, 15000), (500000, 15000)])
def test_tiered_bonus(till: Till, amount: int, bonus: int) -> None:
    rules = till.uow.rules.stored_value
    assert topup_bonus(rules, amount, first=False, birthday_month=False) == bonus


def test_first_topup_and_birthday_extras_from_rules(till: Till) -> None:
    sv = dataclasses.replace(till.uow.rules.stored_value, first_topup_bonus_fen=500,
                             birthday_month_bonus_fen=300)
    till.uow.rules = dataclasses.replace(till.uow.rules, stored_value=sv)
    m = till.register(birthday=date(1990, till.clock.now().month, 3))
    first = top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000,
                   method="card", txn_id="a")
    second = top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000,
                    method="card", txn_id="b")
    assert (first.bonus_delta_fen, second.bonus_delta_fen) == (1800, 1300)


def test_split_spends_bonus_in_proportion_rounding_bonus_down() -> None:
    assert split_payment(100, 1000, 100) == (91, 9)  # 100*100/1100 = 9.09 -> 9
    assert split_payment(1100, 1000, 100) == (1000, 100)
    assert split_payment(1, 1, 1) == (1, 0)


# -- top-up --------------------------------------------------------------------------------


def test_topup_books_principal_and_bonus_and_notifies(till: Till) -> None:
    m = till.register()
    r = top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=50000,
               method="third_party", method_ref="WX123", txn_id="t1")
    assert (r.balance.principal_fen, r.balance.bonus_fen) == (50000, 6000)
    [line] = ledger(till.uow, m.id)
    assert (line.method, line.cash_fen) == ("third_party", 50000)
    channel = LogChannel()
    deliver_due(till.uow, channel)
    assert [n.kind for n in channel.sent] == ["coupon.pack", "sv.topped_up"]  # welcome pack
    _assert_ledger_matches(till, m.id)


def test_a_scanned_payment_reference_with_a_control_character_is_refused(till: Till) -> None:
    """It travels in ``sv.topped_up``: a NUL would be refused by HQ's push and hold every
    later event of the till (docs/rules.md, "Reasons")."""
    from pos_member.errors import InvalidInput

    m = till.register()
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=50000,
               method="third_party", method_ref="WX\x00123", txn_id="t1")
    assert till.table_counts() == before


def test_a_repeated_txn_id_returns_the_first_result(till: Till) -> None:
    m = till.register()
    first = top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000,
                   method="cash", txn_id="t1")
    before = till.dump()
    again = top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000,
                   method="cash", txn_id="t1")
    assert again.replayed and again.bonus_delta_fen == first.bonus_delta_fen
    assert till.dump() == before
    with pytest.raises(TxnIdConflict):
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=20000, method="cash",
               txn_id="t1")


@pytest.mark.parametrize("amount", [0, -100])
def test_topup_of_nothing_is_refused(till: Till, amount: int) -> None:
    m = till.register()
    before = till.dump()
    with pytest.raises(InvalidAmount):
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=amount, method="cash",
               txn_id="t")
    assert till.dump() == before


def test_a_float_amount_never_reaches_the_ledger(till: Till) -> None:
    m = till.register()
    with pytest.raises(TypeError):
        top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=100.5,  # type: ignore[arg-type]
               method="cash", txn_id="t")


# -- payment -------------------------------------------------------------------------------


def test_payment_with_pin_spends_in_proportion(till: Till) -> None:
    mid = _member_with(till, 10000)  # 10000 + 1000 bonus
    r = _pay(till, mid, 5500)
    assert (r.principal_delta_fen, r.bonus_delta_fen) == (-5000, -500)  # type: ignore[attr-defined]
    assert get_balance(till.uow, mid).total_fen == 5500
    _assert_ledger_matches(till, mid)


def test_payment_needs_a_factor(till: Till) -> None:
    mid = _member_with(till, 10000)
    with pytest.raises(SecondFactorRequired):
        _pay(till, mid, 100, factor=None)


def test_payment_over_the_balance_changes_nothing(till: Till) -> None:
    mid = _member_with(till, 10000)
    before = till.dump()
    with pytest.raises(InsufficientBalance):
        _pay(till, mid, 11001)
    assert till.dump() == before


def test_wrong_pin_changes_no_money_and_five_lock_with_an_event(till: Till) -> None:
    mid = _member_with(till, 10000)
    counts = till.table_counts()
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongMemberPin) as e:
            _pay(till, mid, 100, factor=PinFactor("000001"))
        assert e.value.params["left"] == left
    assert till.table_counts() == counts
    with pytest.raises(MemberPinLocked):
        _pay(till, mid, 100, factor=PinFactor("000001"))
    with pytest.raises(MemberPinLocked):  # even the right PIN, while locked
        _pay(till, mid, 100)
    assert "sv.pin_locked" in [e["type"] for e in wire_events(till)]
    till.clock.advance(minutes=31)
    _pay(till, mid, 100)
    assert get_balance(till.uow, mid).total_fen == 10900


def test_a_member_pin_lock_ending_tomorrow_says_the_date(till: Till) -> None:
    mid = _member_with(till, 10000)
    local = till.clock.local().replace(hour=23, minute=45)
    till.clock.set(local.astimezone(UTC))
    for _ in range(4):
        with pytest.raises(WrongMemberPin):
            _pay(till, mid, 100, factor=PinFactor("000001"))
    with pytest.raises(MemberPinLocked) as e:
        _pay(till, mid, 100, factor=PinFactor("000001"))
    end = local + timedelta(minutes=30)
    assert e.value.params["until"] == end.strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("pin", ["111111", "123456", "987654", "121212", "123123", "901111",
                                 "900101", "010190", "12345", "abcdef", "１２３４５６"])
def test_weak_pins_are_refused(pin: str) -> None:
    with pytest.raises(WeakMemberPin):
        check_pin_strength(pin, phone="13900901111", birthday=date(1990, 1, 1))


def test_setting_a_pin_needs_a_manager(till: Till) -> None:
    m = till.register()
    with pytest.raises(PermissionDenied):
        set_member_pin(till.uow, clerk=till.cashier, approver=till.cashier, member_id=m.id,
                       pin=PIN)


def test_totp_matches_the_rfc_6238_vectors() -> None:
    import base64
    seeds = {"sha1": b"12345678901234567890", "sha256": b"12345678901234567890123456789012",
             "sha512": b"1234567890123456789012345678901234567890123456789012345678901234"}
    vectors = [(59, "94287082", "46119246", "90693936"),
               (1111111109, "07081804", "68084774", "25091201"),
               (1111111111, "14050471", "67062674", "99943326"),
               (1234567890, "89005924", "91819424", "93441116"),
               (2000000000, "69279037", "90698825", "38618901"),
               (20000000000, "65353130", "77737706", "47863826")]
    for t, *codes in vectors:
        for digest, code in zip(("sha1", "sha256", "sha512"), codes, strict=True):
            secret = base64.b32encode(seeds[digest]).decode()
            assert totp_at(secret, t, digits=8, digest=digest) == code


@given(seed=st.binary(min_size=14, max_size=40), counter=st.integers(0, 8_000_000_000),
       lower=st.booleans())
@settings(max_examples=300, deadline=None)
def test_the_till_s_code_is_pyotps(seed: bytes, counter: int, lower: bool) -> None:
    """``verify_totp`` computes a step's code by ``totp_code`` (cryptography's HOTP on the key
    decoded once): the same code as pyotp's, for any secret pyotp takes (unpadded, either case)
    and step up to year 9000; and the RFC 6238 vector's last 6 digits. A secret shorter than
    pyotp takes is refused the same way."""
    import base64
    secret = base64.b32encode(seed).decode().rstrip("=")
    secret = secret.lower() if lower else secret
    assert totp_code(totp_key(secret), counter) == totp_at(secret, counter * 30)
    rfc = base64.b32encode(b"12345678901234567890").decode()
    assert totp_code(totp_key(rfc), 59 // 30) == "287082"
    with pytest.raises(ValueError):
        totp_key(base64.b32encode(seed[:13]).decode())


def _provisioned(till: Till, mid: str) -> str:
    return provision_totp(till.uow, clerk=till.cashier, approver=till.manager,
                          member_id=mid).secret


def test_dynamic_code_is_accepted_once_within_one_step(till: Till) -> None:
    mid = _member_with(till, 10000, pin=False)
    secret = _provisioned(till, mid)
    now = int(till.clock.now().timestamp())
    previous = pyotp.TOTP(secret).at(now - 30)
    _pay(till, mid, 100, txn="p1", factor=TotpFactor(previous))
    with pytest.raises(InvalidDynamicCode):  # reused
        _pay(till, mid, 100, txn="p2", factor=TotpFactor(previous))
    _pay(till, mid, 100, txn="p3", factor=TotpFactor(pyotp.TOTP(secret).at(now)))
    with pytest.raises(InvalidDynamicCode):  # two steps old
        _pay(till, mid, 100, txn="p4", factor=TotpFactor(pyotp.TOTP(secret).at(now - 60)))


def test_malformed_dynamic_code_is_refused_before_anything(till: Till) -> None:
    mid = _member_with(till, 10000, pin=False)
    _provisioned(till, mid)
    before = till.dump()
    with pytest.raises(MalformedDynamicCode):
        _pay(till, mid, 100, factor=TotpFactor("12ab56"))
    assert till.dump() == before


def test_sms_factor_only_online(till: Till) -> None:
    mid = _member_with(till, 10000, pin=False)
    with pytest.raises(SmsUnavailable):
        _pay(till, mid, 100, factor=SmsFactor("c1", "482913"), online=False)


# -- risk control --------------------------------------------------------------------------


def test_large_payment_needs_a_managers_approval(till: Till) -> None:
    mid = _member_with(till, 200000)
    before = till.dump()
    with pytest.raises(ApprovalRequired):
        _pay(till, mid, 100000)
    assert till.dump() == before
    with pytest.raises(ApprovalRefused):
        approve(till.uow, code="1001", pin="000000", device_id=till.cashier.device_id)
    manager = approve(till.uow, code="1201", pin=PINS[till.manager.role],
                      device_id=till.cashier.device_id)
    r = _pay(till, mid, 100000, approver=manager)
    assert r.amount_fen == 100000  # type: ignore[attr-defined]
    con = sqlite3.connect(till.path)
    assert con.execute("SELECT count(*) FROM audit_log WHERE action='sv.payment_approved'"
                       ).fetchone()[0] == 1
    con.close()


def test_a_frozen_account_refuses_payment_until_unfrozen(till: Till) -> None:
    mid = _member_with(till, 10000)
    with pytest.raises(ReasonRequired):
        set_frozen(till.uow, clerk=till.manager, member_id=mid, frozen=True, reason="  ")
    with pytest.raises(PermissionDenied):
        set_frozen(till.uow, clerk=till.cashier, member_id=mid, frozen=True, reason="lost card")
    set_frozen(till.uow, clerk=till.manager, member_id=mid, frozen=True, reason="lost card")
    before = till.dump()
    with pytest.raises(AccountFrozen):
        _pay(till, mid, 100)
    assert till.dump() == before
    set_frozen(till.uow, clerk=till.manager, member_id=mid, frozen=False, reason="found")
    _pay(till, mid, 100)


def test_offline_spending_is_capped_per_day(till: Till) -> None:
    mid = _member_with(till, 100000)
    _pay(till, mid, 40000, txn="a", online=False)
    with pytest.raises(OfflineCapReached):
        _pay(till, mid, 10001, txn="b", online=False)
    _pay(till, mid, 10000, txn="c", online=False)
    _pay(till, mid, 10000, txn="d", online=True)  # online, no cap
    till.clock.advance(days=1)
    _pay(till, mid, 10000, txn="e", online=False)


def test_hq_block_refuses_payment(till: Till) -> None:
    mid = _member_with(till, 10000)
    con = sqlite3.connect(till.path)
    con.execute("INSERT INTO balance_blocks VALUES (?, -100, NULL, '2026-01-05 09:00:00')",
                (mid,))
    con.commit()
    con.close()
    with pytest.raises(BalanceBlocked):
        _pay(till, mid, 100)


# -- refunds -------------------------------------------------------------------------------


def test_refunding_a_payment_restores_what_it_took_once(till: Till) -> None:
    mid = _member_with(till, 10000)
    _pay(till, mid, 5500, txn="p1")
    r = refund_payment(till.uow, clerk=till.cashier, approver=till.manager,
                       member_id=mid, ref_txn_id="p1",
                       txn_id="r1")
    assert (r.principal_delta_fen, r.bonus_delta_fen) == (5000, 500)
    assert (r.balance.principal_fen, r.balance.bonus_fen) == (10000, 1000)
    with pytest.raises(AlreadyRefunded):
        refund_payment(till.uow, clerk=till.cashier, approver=till.manager,
                       member_id=mid, ref_txn_id="p1",
                       txn_id="r2")


def test_refunding_a_topup_takes_back_its_bonus_from_the_cash(till: Till) -> None:
    m = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000, method="cash",
           txn_id="t1")
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=10000, method="cash",
           txn_id="t2")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin=PIN)
    _pay(till, m.id, 11000, txn="p")  # spends 10000 principal + 1000 bonus
    with pytest.raises(PermissionDenied):  # a cashier alone: no manager approved
        refund_topup(till.uow, clerk=till.cashier, approver=till.cashier, member_id=m.id,
                     ref_txn_id="t2", txn_id="r")
    r = refund_topup(till.uow, clerk=till.manager, approver=till.manager,
                     member_id=m.id, ref_txn_id="t2",
                     txn_id="r")
    assert (r.principal_delta_fen, r.bonus_delta_fen, r.cash_fen) == (-10000, -1000, 10000)
    assert r.balance.total_fen == 0
    m2 = till.register()
    top_up(till.uow, clerk=till.cashier, member_id=m2.id, amount_fen=10000, method="cash",
           txn_id="u1")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m2.id,
                   pin=PIN)
    _pay(till, m2.id, 1100, txn="q")  # 1000 principal, 100 bonus
    with pytest.raises(TopupAlreadySpent):
        refund_topup(till.uow, clerk=till.manager, approver=till.manager,
                     member_id=m2.id, ref_txn_id="u1",
                     txn_id="r2")


# -- secrets, sync, rebuild ----------------------------------------------------------------


def test_no_pin_or_totp_secret_in_the_database_or_log(till: Till,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    mid = _member_with(till, 10000)
    secret = _provisioned(till, mid)
    _pay(till, mid, 100, txn="p1")
    code = pyotp.TOTP(secret).at(int(till.clock.now().timestamp()) + 30)
    _pay(till, mid, 100, txn="p2", factor=TotpFactor(code))
    deliver_due(till.uow, LogChannel())
    blob = b"".join(p.read_bytes() for p in till.path.parent.glob(till.path.name + "*"))
    for s in (PIN, secret, code):
        assert s.encode() not in blob
        assert s not in caplog.text


def test_another_till_sees_the_balance_pin_and_totp(tmp_path: Path) -> None:
    key = new_data_key()
    a = make_till(tmp_path, store_number=1, data_key=key)
    b = make_till(tmp_path, store_number=1, device_number=2, data_key=key)  # the store's 2nd
    mid = _member_with(a, 10000)
    secret = _provisioned(a, mid)
    _pay(a, mid, 5500, txn="p1")
    set_frozen(a.uow, clerk=a.manager, member_id=mid, frozen=True, reason="x")
    set_frozen(a.uow, clerk=a.manager, member_id=mid, frozen=False, reason="y")
    events = wire_events(a)
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=as_changes(events), cursor=10)
    apply_page(b.uow, device_id=b.app.identity.device_id, changes=as_changes(events), cursor=10)
    bal = get_balance(b.uow, mid)
    assert (bal.principal_fen, bal.bonus_fen, bal.frozen) == (5000, 500, False)
    b.clock.set(a.clock.now())
    r = pay(b.uow, clerk=b.cashier, member_id=mid, amount_fen=100, txn_id="p2",
            factor=PinFactor(PIN), online=True)
    assert r.balance.total_fen == 5400
    code = pyotp.TOTP(secret).at(int(b.clock.now().timestamp()) + 30)
    pay(b.uow, clerk=b.cashier, member_id=mid, amount_fen=100, txn_id="p3",
        factor=TotpFactor(code), online=True)
    money = [e for e in events if e["type"] in ("sv.topped_up", "sv.paid")]
    for e in money:
        assert {"member_id", "txn_id", "principal_delta_fen", "bonus_delta_fen"} <= set(
            e["payload"])


def test_accounts_rebuild_from_the_ledger(till: Till) -> None:
    mid = _member_with(till, 10000)
    _pay(till, mid, 3333, txn="p1")
    before = get_balance(till.uow, mid)
    with till.uow.begin() as tx:
        conn = tx.session.connection()
        conn.exec_driver_sql("UPDATE sv_accounts SET principal_fen = 0, bonus_fen = 0")
        rebuild_accounts(conn)
        tx.commit()
    assert get_balance(till.uow, mid) == before


# -- day report ----------------------------------------------------------------------------


def test_day_report_counts_this_tills_balance_movements_with_their_split(till: Till) -> None:
    from pos_member.services.day_report import day_summary

    mid = _member_with(till, 10000)  # top-up: 10000 principal + 1000 bonus
    _pay(till, mid, 5500, txn="p1")  # 5000 principal + 500 bonus
    _pay(till, mid, 1100, txn="p2")  # 1000 + 100
    refund_payment(till.uow, clerk=till.cashier, approver=till.manager,
                   member_id=mid, ref_txn_id="p2", txn_id="r1")
    ident = till.app.identity
    sv = day_summary(till.uow, store_id=ident.store_id, device_id=ident.device_id).stored_value
    assert (sv.topups.count, sv.topups.principal_fen, sv.topups.bonus_fen,
            sv.topups.cash_fen) == (1, 10000, 1000, 10000)
    assert (sv.payments.count, sv.payments.principal_fen, sv.payments.bonus_fen) == (
        2, 6000, 600)
    assert (sv.payment_refunds.count, sv.payment_refunds.total_fen) == (1, 1100)
    assert sv.topup_refunds.count == 0
    tomorrow = till.clock.today().replace(day=6)
    assert day_summary(till.uow, store_id=ident.store_id, device_id=ident.device_id,
                       day=tomorrow).stored_value.count == 0
