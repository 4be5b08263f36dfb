"""SMS payment codes end to end: the till's client against the real server on loopback, and a
stored-value payment made with the verified code."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pos_member.db.models import Staff
from pos_member.permissions import Role
from pos_member.services.member_cards import MemberCard
from pos_member.services.stored_value import SmsFactor, approve, pay, top_up
from pos_member.services.stored_value_ledger import get_balance
from pos_member.stored_value_errors import (
    SmsCodeInvalid,
    SmsNotSent,
    SmsResendTooSoon,
    SmsUnavailable,
)
from sync.client import SyncClient
from sync.server import services
from tests.factories import PINS, Till, make_till
from tests.server.sms_fakes import PHONES, Hq, register_member


def _send(hq: Hq, amount: int = 1200, txn: str = "t1", member: str = "m1") -> str:
    return hq.client.sms_send(member_id=member, phone=PHONES[member], amount_fen=amount,
                              txn_id=txn)


def _verify(hq: Hq, cid: str, code: str, amount: int = 1200, txn: str = "t1") -> str:
    return hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=amount,
                                txn_id=txn, code=code)


def test_a_code_is_sent_and_verifies_once(hq: Hq) -> None:
    cid = _send(hq)
    [sent] = hq.sms.sent
    assert sent.phone == "13912345678" and "¥12.00" in sent.text
    assert hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=1200,
                                txn_id="t1", code=sent.code) == cid
    with pytest.raises(SmsCodeInvalid):
        hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=1200, txn_id="t1",
                             code=sent.code)


def test_the_code_is_bound_to_amount_and_transaction(hq: Hq) -> None:
    cid = _send(hq)
    code = hq.sms.sent[0].code
    for amount, txn in ((120000, "t1"), (1200, "t2")):
        with pytest.raises(SmsCodeInvalid):
            hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=amount,
                                 txn_id=txn, code=code)


def test_five_tries_at_most(hq: Hq) -> None:
    cid = _send(hq)
    code = hq.sms.sent[0].code
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(SmsCodeInvalid):
            hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=1200,
                                 txn_id="t1", code=wrong)
    with pytest.raises(SmsCodeInvalid):
        hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=1200, txn_id="t1",
                             code=code)


def test_another_stores_till_cannot_try_the_code_nor_spend_its_tries(hq: Hq) -> None:
    cid = _send(hq)
    code = hq.sms.sent[0].code
    other = hq.live.enrol(store_number=hq.device.enrolment.store_number + 1)
    assert other.store_id != hq.device.store_id
    with SyncClient(hq.live.base_url, other.enrolment.token) as foreign:
        for _ in range(5):
            with pytest.raises(SmsCodeInvalid):
                foreign.sms_verify(challenge_id=cid, member_id="m1", amount_fen=1200,
                                   txn_id="t1", code=code)
    assert _verify(hq, cid, code) == cid  # its own till's tries are all there


def test_expires_after_five_minutes(hq: Hq) -> None:
    cid = _send(hq)
    hq.live.clock.advance(seconds=300)
    with pytest.raises(SmsCodeInvalid):
        hq.client.sms_verify(challenge_id=cid, member_id="m1", amount_fen=1200, txn_id="t1",
                             code=hq.sms.sent[0].code)


def test_resend_only_after_sixty_seconds(hq: Hq) -> None:
    _send(hq)
    hq.live.clock.advance(seconds=30)
    with pytest.raises(SmsResendTooSoon) as e:
        _send(hq)
    assert e.value.params["seconds"] == 30
    hq.live.clock.advance(seconds=30)
    _send(hq)
    assert len(hq.sms.sent) == 2


def test_the_code_is_not_stored_in_clear(hq: Hq) -> None:
    _send(hq)
    code = hq.sms.sent[0].code
    with hq.live.ctx.db.read() as conn:
        rows = [tuple(map(str, r)) for r in conn.exec_driver_sql("SELECT * FROM sms_codes")]
    assert rows and not any(code in v for r in rows for v in r)


def _funded_till(hq: Hq, tmp_path: Path, fen: int = 10_000) -> tuple[Till, MemberCard]:
    """A till whose member (phone 13912345678) topped up ``fen`` (and got the rules' bonus);
    HQ has seen the member registered."""
    till = make_till(tmp_path)
    m = till.register(phone="13912345678")
    register_member(hq.device, m.id, "13912345678")
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=fen, method="cash",
           txn_id="topup")
    return till, m


def test_a_balance_payment_with_the_sms_code(hq: Hq, tmp_path: Path) -> None:
    till, m = _funded_till(hq, tmp_path)
    cid = hq.client.sms_send(member_id=m.id, phone="13912345678", amount_fen=2200,
                             txn_id="pay-1")
    r = pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=2200, txn_id="pay-1",
            factor=SmsFactor(cid, hq.sms.sent[0].code), online=True, sms_verifier=hq.client)
    assert r.balance.total_fen == 11000 - 2200
    assert get_balance(till.uow, m.id).total_fen == 8800


def test_a_wrong_sms_code_pays_nothing(hq: Hq, tmp_path: Path) -> None:
    till, m = _funded_till(hq, tmp_path)
    cid = hq.client.sms_send(member_id=m.id, phone="13912345678", amount_fen=2200,
                             txn_id="pay-1")
    code = hq.sms.sent[0].code
    counts = till.table_counts()
    with pytest.raises(SmsCodeInvalid):
        pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=2200, txn_id="pay-1",
            factor=SmsFactor(cid, f"{(int(code) + 1) % 1_000_000:06d}"), online=True,
            sms_verifier=hq.client)
    assert till.table_counts() == counts


def test_an_sms_code_pays_once(hq: Hq, tmp_path: Path) -> None:
    till, m = _funded_till(hq, tmp_path)
    cid = hq.client.sms_send(member_id=m.id, phone="13912345678", amount_fen=2200,
                             txn_id="pay-1")
    factor = SmsFactor(cid, hq.sms.sent[0].code)
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=2200, txn_id="pay-1",
        factor=factor, online=True, sms_verifier=hq.client)
    with pytest.raises(SmsCodeInvalid):  # the same code for another payment of the amount
        pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=2200, txn_id="pay-2",
            factor=factor, online=True, sms_verifier=hq.client)
    assert get_balance(till.uow, m.id).total_fen == 8800


def test_a_new_code_replaces_the_old_one(hq: Hq) -> None:
    first = _send(hq)
    hq.live.clock.advance(seconds=60)
    second = _send(hq)
    old, new = (s.code for s in hq.sms.sent)
    with pytest.raises(SmsCodeInvalid):
        _verify(hq, first, old)
    assert _verify(hq, second, new) == second


def test_a_new_code_for_another_amount_replaces_the_old_one_too(hq: Hq) -> None:
    first = _send(hq, amount=1200)
    hq.live.clock.advance(seconds=60)
    _send(hq, amount=120000)  # the cashier changed the amount in the same payment
    with pytest.raises(SmsCodeInvalid):
        _verify(hq, first, hq.sms.sent[0].code, amount=1200)


def test_the_resend_wait_is_per_member_not_per_payment(hq: Hq) -> None:
    _send(hq, txn="t1")
    hq.live.clock.advance(seconds=10)
    with pytest.raises(SmsResendTooSoon) as e:  # the pay dialog opened again: a new txn
        _send(hq, txn="t2")
    assert e.value.params["seconds"] == 50
    _send(hq, txn="t3", member="m2")  # another member is not held up
    assert len(hq.sms.sent) == 2


def test_after_a_verified_code_the_next_payment_may_send_at_once(hq: Hq) -> None:
    cid = _send(hq, txn="t1")
    _verify(hq, cid, hq.sms.sent[0].code)
    _send(hq, txn="t2")
    assert len(hq.sms.sent) == 2


def test_a_gateway_failure_is_a_503_and_does_not_hold_up_a_resend(hq: Hq) -> None:
    hq.sms.down = True
    answer = hq.live.http.post("/v1/sms/send", headers={"Authorization": f"Bearer {hq.token}"},
                               json={"member_id": "m1", "phone": "13912345678",
                                     "amount_fen": 1200, "txn_id": "t1"})
    assert answer.status_code == 503
    assert answer.json()["code"] == "sms_unavailable"
    with pytest.raises(SmsNotSent):
        _send(hq)
    with hq.live.ctx.db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM sms_codes").scalar() == 0
    hq.sms.down = False
    cid = _send(hq)  # at once: no 60 s wait after codes that never went out
    assert _verify(hq, cid, hq.sms.sent[0].code) == cid


def test_head_office_out_of_reach_is_sms_unavailable() -> None:
    with SyncClient("http://127.0.0.1:9", "token", timeout=2) as client:
        with pytest.raises(SmsNotSent):
            client.sms_send(member_id="m1", phone="13912345678", amount_fen=1200,
                            txn_id="t1")
        with pytest.raises(SmsUnavailable):
            client.sms_verify(challenge_id="c", member_id="m1", amount_fen=1200,
                              txn_id="t1", code="123456")


def _paid_by_sms(hq: Hq, challenge_id: str, *, amount: int = 1200, txn: str = "t1") -> None:
    hq.device.push([hq.device.event(type="sv.paid", payload={
        "member_id": "m1", "txn_id": txn, "principal_delta_fen": -amount,
        "bonus_delta_fen": 0, "amount_fen": amount, "factor": "sms",
        "sms_challenge_id": challenge_id})])


def _sms_flags(hq: Hq) -> list[services.FlagView]:
    return [f for f in services.list_flags(hq.live.ctx) if f.kind == "sms_unverified"]


def test_a_payment_by_a_code_hq_verified_is_not_flagged(hq: Hq) -> None:
    cid = _send(hq)
    _verify(hq, cid, hq.sms.sent[0].code)
    _paid_by_sms(hq, cid)
    assert _sms_flags(hq) == []


@pytest.mark.parametrize(("verify", "amount", "problem"), [
    (False, 1200, "not verified"), (True, 9900, "for another payment"),
    (None, 1200, "no such code")])
def test_a_payment_no_verified_code_stands_behind_is_flagged_for_hq(
        hq: Hq, verify: bool | None, amount: int, problem: str) -> None:
    cid = _send(hq) if verify is not None else "forged-challenge"
    if verify:
        _verify(hq, cid, hq.sms.sent[0].code)
    _paid_by_sms(hq, cid, amount=amount)
    (flag,) = _sms_flags(hq)
    assert flag.detail["problem"] == problem and flag.detail["txn_id"] == "t1"


def test_no_sms_code_or_manager_pin_in_a_log_or_a_database(
        hq: Hq, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    till, m = _funded_till(hq, tmp_path, 200_000)
    with till.uow.read() as s:  # over ¥1,000: the manager types their number and PIN
        number = s.scalar(select(Staff.code).where(Staff.id == till.manager.staff_id))
    manager = approve(till.uow, code=number, pin=PINS[Role.MANAGER],
                      device_id=till.cashier.device_id)
    cid = hq.client.sms_send(member_id=m.id, phone="13912345678", amount_fen=150_000,
                             txn_id="pay-big")
    code = hq.sms.sent[0].code
    pay(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=150_000, txn_id="pay-big",
        factor=SmsFactor(cid, code), online=True, sms_verifier=hq.client, approver=manager)

    till_files = b"".join(p.read_bytes() for p in till.path.parent.glob(till.path.name + "*"))
    for secret in (code, PINS[Role.MANAGER]):
        assert secret.encode() not in till_files
        assert secret not in caplog.text
    if hq.live.backend == "sqlite":
        db = Path(hq.live.url.removeprefix("sqlite:///"))
        assert code.encode() not in b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
