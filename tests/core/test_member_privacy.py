"""A member's phone change and erasure (issue 20): verified, refused when the phone is
another's, reaching the store's other till and another store's directory after sync; erasure
only with no stored value left, leaving ledgers and no personal data; consent asked again."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from pos_member.db.models import AuditEntry, Member, MemberFieldVersion, PointsEntry
from pos_member.errors import DuplicatePhone, MemberNotFound
from pos_member.member_service_errors import (
    BalanceNotSettled,
    MemberErasedError,
    PhoneChangeNeedsVerification,
    SamePhone,
)
from pos_member.phone import mask_phone
from pos_member.services import member_privacy, sales
from pos_member.services.member_auth import set_member_pin
from pos_member.services.member_cards import find_member, get_member, reveal_personal_data
from pos_member.services.members import update_profile
from pos_member.services.stored_value import PinFactor, SmsFactor, top_up
from pos_member.services.stored_value_refunds import refund_topup
from pos_member.sms_codes import phone_change_txn
from pos_member.stored_value_errors import SmsCodeInvalid, WrongMemberPin
from tests.core.sms_fake import FakeHqSms, wrong
from tests.factories import NOTHING_AT_HQ, HqBalanceSays, Till, enrolled, new_phone, wire_events
from tests.factories import apply_pulled as apply

pytestmark = pytest.mark.usefixtures("cheap_hash")
PIN = "739182"


def _with_pin(till: Till, phone: str) -> str:
    m = till.register(phone)
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin=PIN)
    return m.id


def _sync(a: Till, b: Till, other: Till, first: int = 1) -> None:
    pulled = wire_events(a)
    apply(b, pulled, first=first)
    apply(other, [e for e in pulled if e["type"].startswith("member.")], first=first)


def test_an_offline_phone_change_needs_the_pin_and_a_manager_and_moves_the_phone_chain_wide(
        a: Till, b: Till, other: Till) -> None:
    old, new = new_phone(), new_phone()
    member_id = _with_pin(a, old)
    with pytest.raises(PhoneChangeNeedsVerification):
        member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id,
                                    new_phone=new, factor=PinFactor(PIN), online=False)
    counts = a.table_counts()
    with pytest.raises(WrongMemberPin):
        member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id,
                                    new_phone=new, factor=PinFactor("111999"),
                                    approver=a.manager, online=False)
    assert find_member(a.uow, clerk=a.cashier, code=old).id == member_id
    with pytest.raises(SamePhone):
        member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id,
                                    new_phone=old, factor=PinFactor(PIN), approver=a.manager)
    member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id, new_phone=new,
                                factor=PinFactor(PIN), approver=a.manager, online=False)
    assert a.table_counts()["events"] == counts["events"] + 1
    _sync(a, b, other)
    for till in (a, b, other):
        with pytest.raises(MemberNotFound):
            find_member(till.uow, clerk=till.cashier, code=old)
        found = find_member(till.uow, clerk=till.cashier, code=new)
        assert found.id == member_id and found.phone_masked == mask_phone(new)
    # The old phone is free again: a new member may register it.
    assert a.register(old).id != member_id


def test_a_phone_another_member_holds_is_refused_and_nothing_is_written(a: Till,
                                                                       other: Till) -> None:
    member_id = _with_pin(a, new_phone())
    taken_here = a.register(new_phone())
    elsewhere_phone = new_phone()
    elsewhere = other.register(elsewhere_phone)
    apply(a, [e for e in wire_events(other) if e["type"] == "member.registered"])
    here_phone = _phone_of(a, taken_here.id)
    counts = a.table_counts()
    for target, owner in ((here_phone, taken_here), (elsewhere_phone, elsewhere)):
        with pytest.raises(DuplicatePhone) as refused:
            member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id,
                                        new_phone=target, factor=PinFactor(PIN),
                                        approver=a.manager, online=False)
        assert refused.value.member_no == owner.member_no
    assert a.table_counts() == counts


def _phone_of(till: Till, member_id: str) -> str:
    return reveal_personal_data(till.uow, clerk=till.manager, member_id=member_id).phone


def test_an_online_phone_change_is_verified_by_a_code_sent_to_the_new_phone(a: Till) -> None:
    member_id = _with_pin(a, new_phone())
    new = new_phone()
    hq = FakeHqSms(a.uow.rules.stored_value.sms, a.clock)
    index = member_privacy.phone_index_of(a.uow, new)
    challenge, code = hq.send(member_id=member_id, amount_fen=0, txn_id=phone_change_txn(index))
    with pytest.raises(SmsCodeInvalid):
        member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id,
                                    new_phone=new, factor=SmsFactor(challenge, wrong(code)),
                                    sms_verifier=hq)
    other_phone = new_phone()  # a code sent for one phone confirms no other
    with pytest.raises(SmsCodeInvalid):
        member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id,
                                    new_phone=other_phone, factor=SmsFactor(challenge, code),
                                    sms_verifier=hq)
    member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=member_id, new_phone=new,
                                factor=SmsFactor(challenge, code), sms_verifier=hq)
    assert find_member(a.uow, clerk=a.cashier, code=new).id == member_id
    ev = [e for e in wire_events(a) if e["type"] == "member.phone_changed"]
    assert ev[0]["payload"]["verified_by"] == "sms"
    assert new not in str(ev)  # the phone travels only encrypted


def test_erasure_needs_a_settled_balance_and_leaves_ledgers_without_personal_data(
        a: Till, b: Till, other: Till) -> None:
    phone = new_phone()
    card = a.register(phone, name="王小明", tags=("vip",))
    top_up(a.uow, clerk=a.cashier, member_id=card.id, amount_fen=10_000, method="cash",
           txn_id="t-1")
    sales.record_sale(a.uow, a.cashier, txn_id=str(uuid.uuid4()), bill_no="B1",
                      amount_fen=10_000, member_id=card.id)
    update_profile(a.uow, clerk=a.cashier, member_id=card.id, name="王大明")
    _sync(a, b, other)
    counts = a.table_counts()
    with a.uow.begin() as tx:
        zeroing = tx.conn.exec_driver_sql("PRAGMA secure_delete").scalar()
    with pytest.raises(BalanceNotSettled):
        member_privacy.erase(a.uow, clerk=a.manager, member_id=card.id, hq=NOTHING_AT_HQ)
    assert a.table_counts() == counts
    with a.uow.begin() as tx:  # the refusal leaves no zeroing on for the writes after it
        assert tx.conn.exec_driver_sql("PRAGMA secure_delete").scalar() == zeroing
    update_profile(b.uow, clerk=b.cashier, member_id=card.id, name="张三")
    late_edit = [e for e in wire_events(b) if e["type"] == "member.profile_updated"]
    refund_topup(a.uow, clerk=a.cashier, approver=a.manager, member_id=card.id,
                 ref_txn_id="t-1", txn_id="r-1")
    member_privacy.erase(a.uow, clerk=a.manager, member_id=card.id, hq=NOTHING_AT_HQ)
    _sync(a, b, other, first=1000)
    for till in (a, b, other):
        with pytest.raises(MemberNotFound):
            find_member(till.uow, clerk=till.cashier, code=phone)
    for till in (a, b):
        found = get_member(till.uow, clerk=till.manager, member_id=card.id)
        assert found.erased and found.name_masked is None and found.tags == ()
        with till.uow.read() as s:
            m = s.get(Member, card.id)
            assert m is not None and m.phone_enc == b"" and m.name_enc is None
            assert s.scalars(select(MemberFieldVersion).where(
                MemberFieldVersion.member_id == card.id)).all() == []
            assert s.scalars(select(PointsEntry).where(
                PointsEntry.member_id == card.id)).all()  # the ledger stays
        with pytest.raises(MemberErasedError):
            sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()),
                              bill_no="B2", amount_fen=1_000, member_id=card.id)
    with a.uow.read() as s:
        audit = s.execute(select(AuditEntry.before, AuditEntry.after, AuditEntry.staff_id)
                          .where(AuditEntry.action == "member.erased")).one()
    assert audit.after in (None, {}) and audit.before in (None, {})
    assert audit.staff_id == a.manager.staff_id  # who; ``at`` is when
    # An edit made at b before the erasure reached it, pulled after: no value comes back.
    apply(a, late_edit, first=2000)
    with a.uow.read() as s:
        m = s.get(Member, card.id)
        assert m is not None and m.name_enc is None


def test_consent_to_an_older_policy_is_asked_again_and_marketing_withdrawn_in_one_step(
        a: Till, b: Till) -> None:
    card = a.register(new_phone(), marketing_consent=True)
    assert not member_privacy.needs_reconsent(a.uow, card.id)
    with a.uow.begin() as tx:
        tx.conn.execute(Member.__table__.update().values(privacy_policy_version="old"))
        tx.commit()
    assert member_privacy.needs_reconsent(a.uow, card.id)
    member_privacy.reconsent(a.uow, clerk=a.cashier, member_id=card.id)
    assert not member_privacy.needs_reconsent(a.uow, card.id)
    member_privacy.withdraw_marketing(a.uow, clerk=a.cashier, member_id=card.id)
    apply(b, wire_events(a))
    assert not get_member(b.uow, clerk=b.cashier, member_id=card.id).marketing_consent
    assert not member_privacy.needs_reconsent(b.uow, card.id)


def test_an_erased_member_gets_no_personal_data_consent_or_credential_back(a: Till) -> None:
    from pos_member.services.member_auth import provision_totp

    card = a.register(new_phone(), name="王小明", marketing_consent=True)
    with a.uow.begin() as tx:  # consented to an older policy: the till would ask again
        tx.conn.execute(Member.__table__.update().values(privacy_policy_version="old"))
        tx.commit()
    member_privacy.erase(a.uow, clerk=a.manager, member_id=card.id, hq=NOTHING_AT_HQ)
    assert not member_privacy.needs_reconsent(a.uow, card.id)
    counts = a.table_counts()
    refused = [
        lambda: update_profile(a.uow, clerk=a.cashier, member_id=card.id, name="张三"),
        lambda: member_privacy.reconsent(a.uow, clerk=a.cashier, member_id=card.id),
        lambda: set_member_pin(a.uow, clerk=a.cashier, approver=a.manager,
                               member_id=card.id, pin=PIN),
        lambda: provision_totp(a.uow, clerk=a.cashier, approver=a.manager,
                               member_id=card.id),
    ]
    for attempt in refused:
        with pytest.raises(MemberErasedError):
            attempt()
    assert a.table_counts() == counts
    with a.uow.read() as s:
        m = s.get(Member, card.id)
        assert m is not None and m.name_enc is None


def test_after_an_erasure_search_reveal_and_the_pos_lookup_still_answer(a: Till) -> None:
    from pos_member.integration.queries import lookup_member
    from pos_member.services.member_search import search_members
    from pos_member.services.stored_value_standing import phone_for_sms

    phone = new_phone()
    erased = a.register(phone, name="王小明")
    kept = a.register(new_phone(), name="王小红")
    member_privacy.erase(a.uow, clerk=a.manager, member_id=erased.id, hq=NOTHING_AT_HQ)
    # The erased member's emptied phone is skipped, not opened (it stopped every search).
    assert [c.id for c in search_members(a.uow, clerk=a.cashier, query=phone[-4:])] == []
    assert [c.id for c in search_members(a.uow, clerk=a.cashier, query="王小")] == [kept.id]
    counts = a.table_counts()
    with pytest.raises(MemberErasedError):
        reveal_personal_data(a.uow, clerk=a.manager, member_id=erased.id)
    for personal in (False, True):
        with pytest.raises(MemberErasedError):
            lookup_member(a.uow, a.manager, code=erased.member_no, personal=personal)
    with pytest.raises(MemberErasedError):  # the pay dialog's "send the code"
        phone_for_sms(a.uow, member_id=erased.id)
    assert a.table_counts() == counts  # nothing revealed, nothing audited
    assert lookup_member(a.uow, a.cashier, code=kept.member_no).id == kept.id


def test_an_offer_queued_before_marketing_was_withdrawn_is_not_sent(a: Till, b: Till) -> None:
    """Withdrawn at this till or at another of the store (pulled): an offer already waiting in
    the outbox (no network when it was queued) is not sent after; a service message still is."""
    from pos_member.services.coupon_notices import tell
    from pos_member.services.notifications import LogChannel, deliver_due

    here, there = (a.register(new_phone(), marketing_consent=True) for _ in range(2))
    apply(b, wire_events(a))
    with a.uow.begin() as tx:
        for m in (here, there):
            assert tell(tx, member_id=m.id, kind="coupon.offer", dedupe_key=f"offer:{m.id}",
                        params={"name": "满100减20", "date": "2026-02-01"})
        tx.commit()
    member_privacy.withdraw_marketing(a.uow, clerk=a.cashier, member_id=here.id)
    member_privacy.withdraw_marketing(b.uow, clerk=b.cashier, member_id=there.id)
    apply(a, [e for e in wire_events(b) if e["type"] == "member.profile_updated"], first=500)
    channel = LogChannel()
    deliver_due(a.uow, channel)
    assert "coupon.offer" not in [n.kind for n in channel.sent]
    assert [n.kind for n in channel.sent].count("coupon.pack") == 2  # the welcome packs' notes


def test_a_pulled_erasure_drops_the_pin_the_secret_and_the_unsent_messages_too(
        a: Till, b: Till) -> None:
    """At the store's other till as at the erasing one; a PIN set at a till that had not
    pulled the erasure yet does not come back either."""
    from pos_member.db.models import NotificationOutbox, SvCredential
    from pos_member.services.member_auth import provision_totp

    card = _with_pin(a, new_phone())
    provision_totp(a.uow, clerk=a.cashier, approver=a.manager, member_id=card)
    apply(b, wire_events(a))
    sales.record_sale(b.uow, b.cashier, txn_id=str(uuid.uuid4()), bill_no="B-9",
                      amount_fen=5_000, member_id=card)  # b queues the points message
    set_member_pin(b.uow, clerk=b.cashier, approver=b.manager, member_id=card, pin="508163")
    late = [e for e in wire_events(b) if e["type"] == "sv.pin_set"]
    member_privacy.erase(a.uow, clerk=a.manager, member_id=card, hq=NOTHING_AT_HQ)
    apply(b, [e for e in wire_events(a) if e["type"] == "member.erased"], first=1000)
    apply(a, late, first=2000)
    for till in (a, b):
        with till.uow.read() as s:
            assert s.scalars(select(SvCredential).where(
                SvCredential.member_id == card)).all() == []
            assert s.scalars(select(NotificationOutbox.kind).where(
                NotificationOutbox.member_id == card,
                NotificationOutbox.status != "sent")).all() == []


def _left_of(till: Till, needles: list[str]) -> list[str]:
    """Every column of every table but the append-only event log and audit holding one of
    ``needles`` in clear, or as a ciphertext (raw or base64) the chain's key opens to it."""
    import base64
    import contextlib
    import re
    import sqlite3

    from pos_member.events import BIRTHDAY_CTX, GENDER_CTX, NAME_CTX, PHONE_CTX, TAGS_CTX

    def opened(blob: bytes) -> list[str]:
        out = []
        for ctx in (PHONE_CTX, NAME_CTX, BIRTHDAY_CTX, TAGS_CTX, GENDER_CTX):
            with contextlib.suppress(Exception):  # not a ciphertext of this context
                out.append(till.uow.cipher.decrypt(blob, context=ctx))
        return out

    B64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
    found = []
    con = sqlite3.connect(till.path)
    try:
        tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                  if t not in ("events", "audit_log")]
        for table in tables:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info('{table}')")]
            for row in con.execute(f"SELECT * FROM '{table}'"):
                for col, v in zip(cols, row, strict=True):
                    texts = [v] if isinstance(v, str) else []
                    blobs = [v] if isinstance(v, bytes) else []
                    for t in texts:  # base64 of a ciphertext (field versions, payloads)
                        blobs += [base64.b64decode(m) for m in B64.findall(t) if len(m) % 4 == 0]
                    values = texts + [b.decode("utf-8", "replace") for b in blobs] + [
                        o for b in blobs for o in opened(b)]
                    if any(n in x for n in needles for x in values):
                        found.append(f"{table}.{col}")
    finally:
        con.close()
    return found


def test_after_an_erasure_no_table_of_the_store_s_tills_holds_the_member_s_values(
        a: Till, b: Till) -> None:
    """A guard for every column, present and future: after the erasure, at the erasing till
    and the store's other till, nothing but the event log and the audit (docs/rules.md)."""
    from datetime import date

    from pos_member.services.member_auth import provision_totp

    phone, phone2 = new_phone(), new_phone()
    card = a.register(phone, name="王小明", tags=("宝妈",), birthday=date(1990, 5, 6),
                      marketing_consent=True)
    set_member_pin(a.uow, clerk=a.cashier, approver=a.manager, member_id=card.id, pin=PIN)
    provision_totp(a.uow, clerk=a.cashier, approver=a.manager, member_id=card.id)
    update_profile(a.uow, clerk=a.cashier, member_id=card.id, name="王大明")
    member_privacy.change_phone(a.uow, clerk=a.cashier, member_id=card.id, new_phone=phone2,
                                factor=PinFactor(PIN), approver=a.manager, online=False)
    apply(b, wire_events(a))
    needles = [phone, phone2, "王小明", "王大明", "宝妈", "1990-05-06"]
    assert _left_of(b, needles)  # the scan sees them before
    member_privacy.erase(a.uow, clerk=a.manager, member_id=card.id, hq=NOTHING_AT_HQ)
    apply(b, [e for e in wire_events(a) if e["type"] == "member.erased"], first=1000)
    assert _left_of(a, needles) == [] and _left_of(b, needles) == []


@pytest.mark.parametrize("hq", [None, HqBalanceSays(None)], ids=["offline", "no-answer"])
def test_an_erasure_hq_cannot_check_is_refused_saying_so(till: Till, hq: object) -> None:
    """This till's balance is 0, but another till may hold the member's money: offline the
    erasure (which cannot be undone) waits for HQ (docs/rules.md, "Erasure")."""
    from pos_member.member_service_errors import ChainBalanceUnchecked

    enrolled(till)
    card = till.register(new_phone())
    counts = till.table_counts()
    with pytest.raises(ChainBalanceUnchecked) as refused:
        member_privacy.erase(till.uow, clerk=till.manager, member_id=card.id,
                             hq=hq)  # type: ignore[arg-type]
    assert "could not be checked" in str(refused.value)
    assert till.table_counts() == counts


def test_a_till_on_its_own_erases_on_its_own_balance(till: Till) -> None:
    """Never enrolled (the demo, a store without HQ): no other till holds the member's money,
    so there is no HQ to ask; its own balance still counts."""
    card = till.register(new_phone())
    assert member_privacy.erase(till.uow, clerk=till.manager, member_id=card.id,
                                hq=None).changed
    assert get_member(till.uow, clerk=till.manager, member_id=card.id).erased


def test_an_erasure_is_refused_while_hq_holds_stored_value(till: Till) -> None:
    from pos_member.member_service_errors import BalanceNotSettledAtHq

    card = till.register(new_phone())
    counts = till.table_counts()
    with pytest.raises(BalanceNotSettledAtHq):
        member_privacy.erase(till.uow, clerk=till.manager, member_id=card.id,
                             hq=HqBalanceSays(5_000))
    assert till.table_counts() == counts
    assert member_privacy.erase(till.uow, clerk=till.manager, member_id=card.id,
                                hq=HqBalanceSays(0)).changed
