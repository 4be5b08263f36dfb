"""Coupons (issue 18): the welcome pack on registration, a manager's coupon, a points
exchange's coupon; codes that cannot be guessed; what the card lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pos_member.coupon_code import code_of, key_of, looks_like_coupon, typed_form
from pos_member.errors import CouponForged, DomainError, MalformedCode, PermissionDenied
from pos_member.services import coupons, points
from tests.factories import NOTHING_AT_HQ, Till


def test_a_new_member_walks_out_with_the_welcome_pack(till: Till) -> None:
    m = till.register()
    got = coupons.usable(till.uow, member_id=m.id)
    assert sorted(c.name for c in got) == ["新人9折券", "新人满100减20"]
    first = got[0]
    assert first.valid_until - till.clock.now() <= timedelta(days=30)
    assert key_of(till.uow.cipher, first.code) == first.key
    assert key_of(till.uow.cipher, first.qr) == first.key


def test_a_forged_or_mistyped_code_is_refused_without_a_lookup(till: Till) -> None:
    m = till.register()
    real = coupons.usable(till.uow, member_id=m.id)[0].code
    flipped = real[:-1] + ("0" if real[-1] != "0" else "1")
    with pytest.raises(CouponForged):
        key_of(till.uow.cipher, flipped)
    with pytest.raises(MalformedCode):
        key_of(till.uow.cipher, "CP1:tooshort")
    assert looks_like_coupon(real) and looks_like_coupon("CP1:" + real.replace("-", ""))
    assert not looks_like_coupon("ALEXANDERJOHNSON")  # a name being searched for


def test_every_till_of_the_chain_reads_a_code_another_did_not_issue(a: Till,
                                                                    other: Till) -> None:
    code = code_of(a.uow.cipher, "00112233aabb")
    assert key_of(other.uow.cipher, code) == "00112233aabb"  # one chain, one data key
    assert typed_form(code).count("-") == 3
    assert code != code_of(a.uow.cipher, "00112233aabc")


def test_a_manager_issues_a_coupon_with_a_reason_once_per_transaction(till: Till) -> None:
    m = till.register()
    with pytest.raises(PermissionDenied):
        coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.cashier, txn_id="x",
                              member_id=m.id, template_code="CPN-10", reason="sorry")
    before = till.table_counts()
    with pytest.raises(DomainError):
        coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.manager, txn_id="x",
                              member_id=m.id, template_code="CPN-10", reason="  ")
    assert till.table_counts() == before
    one = coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.manager,
                                txn_id="x", member_id=m.id, template_code="CPN-10",
                                reason="late delivery")
    again = coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.manager,
                                  txn_id="x", member_id=m.id, template_code="CPN-10",
                                  reason="late delivery")
    assert again.repeated and again.key == one.key
    assert len(coupons.usable(till.uow, member_id=m.id)) == 3
    with till.uow.read() as s:
        audit = s.connection().exec_driver_sql(
            "SELECT after FROM audit_log WHERE entity = 'coupon' AND entity_id = ?",
            (one.key,)).scalar()
    assert "late delivery" in audit and till.manager.name in audit


def test_points_exchanged_for_the_catalogue_coupon_give_a_coupon(till: Till) -> None:
    m = till.register()
    points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager, txn_id="a",
                         member_id=m.id, points=2000, reason="test")
    points.redeem_for_item(till.uow, clerk=till.cashier, txn_id="g", member_id=m.id,
                           item_code="CPN-10")
    points.redeem_for_item(till.uow, clerk=till.cashier, txn_id="g", member_id=m.id,
                           item_code="CPN-10")  # the same exchange again: nothing more
    names = [c.name for c in coupons.usable(till.uow, member_id=m.id)]
    assert names.count("10元代金券") == 1


def test_a_manager_withdraws_a_coupon_with_a_reason_and_it_is_refused_after(till: Till) -> None:
    from pos_member.errors import CouponAlreadyUsed
    from pos_member.services.checkout import Tender, checkout

    m = till.register()
    [c] = [c for c in coupons.usable(till.uow, member_id=m.id) if c.name == "新人满100减20"]
    with pytest.raises(PermissionDenied):
        coupons.revoke(till.uow, clerk=till.cashier, approver=till.cashier, key=c.key,
                       reason="mistake")
    assert coupons.revoke(till.uow, clerk=till.cashier, approver=till.manager, key=c.key,
                          reason="issued by mistake")
    assert not coupons.revoke(till.uow, clerk=till.cashier, approver=till.manager,
                              key=c.key, reason="again")  # already withdrawn: nothing
    assert c.key not in [u.key for u in coupons.usable(till.uow, member_id=m.id)]
    with pytest.raises(CouponAlreadyUsed):
        checkout(till.uow, till.cashier, txn_id="x", bill_no="X-1", amount_fen=15_000,
                 member_id=m.id, tenders=(Tender("cash", 13_000),), coupons=[c.qr])


def test_an_erased_member_is_issued_no_coupon_by_hand(till: Till) -> None:
    from pos_member.member_service_errors import MemberErasedError
    from pos_member.services import member_privacy

    m = till.register()
    member_privacy.erase(till.uow, clerk=till.manager, member_id=m.id, hq=NOTHING_AT_HQ)
    before = till.table_counts()
    with pytest.raises(MemberErasedError):
        coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.manager,
                              txn_id="x", member_id=m.id, template_code="CPN-10",
                              reason="sorry")
    assert till.table_counts() == before  # no coupon, no message to a phone that is gone
