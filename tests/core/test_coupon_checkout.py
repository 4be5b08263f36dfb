"""Coupons at the checkout (issue 18): scanned, their discount off the bill; every refusal says
why and changes nothing; a refund of the whole bill gives an unexpired coupon back."""

from __future__ import annotations

import dataclasses

import pytest

from pos_member.coupon_code import code_of, new_key
from pos_member.errors import (
    CouponAlreadyUsed,
    CouponExpired,
    CouponForged,
    CouponNotCombinable,
    CouponNotHere,
    CouponRefused,
    CouponThreshold,
    CouponUnknown,
    MalformedCode,
)
from pos_member.member_service_errors import MemberBlacklisted, MemberFrozen
from pos_member.rules_config import CouponTemplate
from pos_member.services import coupons, member_service, points
from pos_member.services.checkout import Tender, checkout
from pos_member.services.sale_refunds import refund_sale
from tests.factories import Till


def _code(till: Till, member_id: str, name: str) -> str:
    return next(c.qr for c in coupons.usable(till.uow, member_id=member_id) if c.name == name)


def _buy(till: Till, member_id: str, codes: list[str], *, bill: int = 15_000, due: int,
         txn: str = "c-1", redeem_points: int = 0) -> object:
    return checkout(till.uow, till.cashier, txn_id=txn, bill_no=f"B-{txn}", amount_fen=bill,
                    member_id=member_id, tenders=(Tender("cash", due),), coupons=codes,
                    redeem_points=redeem_points)


def test_the_welcome_coupon_is_redeemed_at_the_next_purchase_once(till: Till) -> None:
    m = till.register()
    code = _code(till, m.id, "新人满100减20")
    r = _buy(till, m.id, [code], due=13_000)
    assert [u.discount_fen for u in r.coupons] == [2_000]  # type: ignore[attr-defined]
    assert r.sale.paid_fen == 13_000  # type: ignore[attr-defined]
    assert [c.name for c in coupons.usable(till.uow, member_id=m.id)] == ["新人9折券"]
    again = _buy(till, m.id, [code], due=13_000)  # the same checkout retried: its first answer
    assert again.sale.sale_id == r.sale.sale_id  # type: ignore[attr-defined]
    before = till.table_counts()
    with pytest.raises(CouponAlreadyUsed):
        _buy(till, m.id, [code], due=13_000, txn="c-2")
    assert till.table_counts() == before


def test_percent_off_is_capped(till: Till) -> None:
    m = till.register()
    r = _buy(till, m.id, [_code(till, m.id, "新人9折券")], bill=80_000, due=75_000)
    assert [u.discount_fen for u in r.coupons] == [5_000]  # type: ignore[attr-defined]


def _with_template(till: Till, **terms: object) -> str:
    rules = till.uow.rules
    t = CouponTemplate(code="T", name="测试券", kind="amount_off", amount_off_fen=1_000,
                       valid_days=10, **terms)  # type: ignore[arg-type]
    till.uow.rules = dataclasses.replace(rules, coupons=dataclasses.replace(
        rules.coupons, templates=(*rules.coupons.templates, t)))
    return "T"


@pytest.mark.parametrize(("terms", "refusal"), [
    ({"stores": (9,)}, CouponNotHere),
    ({"tiers": ("gold",)}, CouponNotHere),
    ({"with_points": False}, CouponNotCombinable),
])
def test_terms_refuse_and_change_nothing(till: Till, terms: dict[str, object],
                                         refusal: type[CouponRefused]) -> None:
    m = till.register()
    points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager, txn_id="p",
                         member_id=m.id, points=1_000, reason="test")
    coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.manager, txn_id="i",
                          member_id=m.id, template_code=_with_template(till, **terms),
                          reason="test")
    before = till.table_counts()
    with pytest.raises(refusal):
        _buy(till, m.id, [_code(till, m.id, "测试券")], due=13_900, redeem_points=100)
    assert till.table_counts() == before


def test_every_bad_coupon_is_told_and_changes_nothing(till: Till) -> None:
    m, other = till.register(), till.register()
    mine = _code(till, m.id, "新人满100减20")
    pct = _code(till, m.id, "新人9折券")
    real = mine.removeprefix("CP1:")
    forged = real[:-1] + ("0" if real[-1] != "0" else "1")
    cases: list[tuple[list[str], int, type[Exception]]] = [
        ([forged], 15_000, CouponForged),
        (["CP1:" + code_of(till.uow.cipher, new_key())], 15_000, CouponUnknown),
        (["CP1:nonsense"], 15_000, MalformedCode),
        ([_code(till, other.id, "新人满100减20")], 15_000, CouponNotHere),
        ([mine], 9_999, CouponThreshold),
        ([mine, pct], 15_000, CouponNotCombinable),
        ([mine, mine], 15_000, CouponAlreadyUsed),
    ]
    before = till.table_counts()
    for codes, bill, refusal in cases:
        with pytest.raises(refusal):
            _buy(till, m.id, codes, bill=bill, due=bill - 2_000)
    till.clock.advance(days=31)
    with pytest.raises(CouponExpired):
        _buy(till, m.id, [mine], due=13_000)
    assert till.table_counts() == before


def test_a_refund_of_the_whole_bill_gives_the_coupon_back_unless_expired(till: Till) -> None:
    m = till.register()
    code = _code(till, m.id, "新人满100减20")
    _buy(till, m.id, [code], due=13_000)
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id="r-1", bill_no="B-c-1",
                amount_fen=5_000)  # part of it: the coupon stays used
    assert "新人满100减20" not in [c.name for c in coupons.usable(till.uow, member_id=m.id)]
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id="r-2", bill_no="B-c-1")
    assert "新人满100减20" in [c.name for c in coupons.usable(till.uow, member_id=m.id)]
    _buy(till, m.id, [code], due=13_000, txn="c-2")  # usable again
    till.clock.advance(days=31)  # expired since: a refund does not bring it back
    refund_sale(till.uow, till.cashier, approver=till.manager, txn_id="r-3", bill_no="B-c-2")
    with till.uow.read() as s:
        state = s.connection().exec_driver_sql(
            "SELECT state FROM coupons WHERE template = 'WELCOME-20'").scalar()
    assert state == "redeemed"


@pytest.mark.parametrize(("status", "refusal"),
                         [("frozen", MemberFrozen), ("blacklisted", MemberBlacklisted)])
def test_a_frozen_or_blacklisted_member_redeems_no_coupon(till: Till, status: str,
                                                         refusal: type[Exception]) -> None:
    """Frozen: no redeeming (a coupon is a benefit redeemed, like points); blacklisted:
    nothing at all. Refused before anything is written."""
    m = till.register()
    code = _code(till, m.id, "新人满100减20")
    member_service.set_status(till.uow, clerk=till.manager, member_id=m.id, status=status,
                              reason="会员投诉处理中")
    before = till.table_counts()
    with pytest.raises(refusal):
        _buy(till, m.id, [code], due=13_000)
    assert till.table_counts() == before
    assert sorted(c.name for c in coupons.usable(till.uow, member_id=m.id)) == sorted(
        ["新人满100减20", "新人9折券"])


def test_a_retried_checkout_naming_other_coupons_answers_what_the_first_did(till: Till) -> None:
    m = till.register()
    fifty, pct = _code(till, m.id, "新人满100减20"), _code(till, m.id, "新人9折券")
    first = _buy(till, m.id, [fifty], due=13_000)
    before = till.dump()
    for codes, due in (([pct], 13_500), ([], 15_000)):  # the retry's own coupon is not used
        again = _buy(till, m.id, codes, due=due)
        assert again.sale.repeated  # type: ignore[attr-defined]
        assert again.coupons == first.coupons  # type: ignore[attr-defined]
        assert again.tenders == first.tenders  # type: ignore[attr-defined]
    assert till.dump() == before
    assert [c.name for c in coupons.usable(till.uow, member_id=m.id)] == ["新人9折券"]


def test_after_a_merge_the_winner_uses_the_losers_unused_coupons(till: Till) -> None:
    """One phone registered at two stores, merged: the coupons of the merged-away record —
    held before the merge, or pulled after it (HQ's offer here) — are the winner's to use."""
    from tests.factories import apply_pulled, hq_coupon, server_event

    w, lo = till.register(), till.register()
    welcome = _code(till, lo.id, "新人满100减20")
    apply_pulled(till, [server_event("member.merged", {
        "winner_member_id": w.id, "loser_member_id": lo.id, "loser_member_no": lo.member_no,
        "winner_member_no": w.member_no})], first=1)
    later = hq_coupon(till, lo.id)  # issued to the loser, pulled after the merge
    held = {c.key for c in coupons.usable(till.uow, member_id=w.id)}
    assert later in held and len(held) == 5  # both welcome packs and HQ's offer
    r = _buy(till, w.id, [welcome], due=13_000)
    assert [u.discount_fen for u in r.coupons] == [2_000]  # type: ignore[attr-defined]


def test_a_quote_asks_hq_nothing_about_a_code_the_members_own_till_does_not_know(
        till: Till) -> None:
    """The checkout asks HQ about it (a merged record's coupon may be there), the quote typed
    key by key does not: each keystroke would count against the till's lookup limit."""
    from pos_member.services.coupon_redeem import HqCouponAnswer, plan

    class Hq:  # a fake HQ that knows no coupon
        def __init__(self) -> None:
            self.asked: list[str] = []

        def coupon_at_hq(self, key: str) -> HqCouponAnswer | None:
            self.asked.append(key)
            return HqCouponAnswer(redeemed=False)

    m, hq = till.register(), Hq()
    code = "CP1:" + code_of(till.uow.cipher, new_key())
    for quoting in (True, False):
        with pytest.raises(CouponUnknown):
            plan(till.uow, till.cashier, codes=[code], member_id=m.id, bill_fen=15_000,
                 redeem_points=0, hq=hq, quoting=quoting)
        assert len(hq.asked) == (0 if quoting else 1)
