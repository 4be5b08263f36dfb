"""Member service (issue 20): status (frozen, blacklisted), a tier set by hand, a lost card's
re-issue; each a manager's, audited, and applied at the store's other till and at another
store's till (the directory) after sync."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from pos_member.db.models import AuditEntry
from pos_member.errors import MalformedCode, PermissionDenied
from pos_member.member_code import card_code, classify_code
from pos_member.member_service_errors import (
    CardReplaced,
    InvalidTierUntil,
    MemberBlacklisted,
    MemberFrozen,
    ServiceReasonRequired,
)
from pos_member.services import member_service, sales
from pos_member.services.member_auth import set_member_pin
from pos_member.services.member_cards import find_member, get_member
from pos_member.services.stored_value import PinFactor, pay, top_up
from tests.factories import Till, new_phone, wire_events
from tests.factories import apply_pulled as apply

pytestmark = pytest.mark.usefixtures("cheap_hash")
PIN = "739182"


def _sale(till: Till, member_id: str, amount: int = 10_000, redeem: int = 0
          ) -> sales.SaleResult:
    return sales.record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()),
                             bill_no=f"B{uuid.uuid4().hex[:8]}", amount_fen=amount,
                             member_id=member_id, redeem_points=redeem)


def _pay(till: Till, member_id: str, amount: int) -> object:
    return pay(till.uow, clerk=till.cashier, member_id=member_id, amount_fen=amount,
               txn_id=str(uuid.uuid4()), factor=PinFactor(PIN), online=True)


def _member_with_money(till: Till) -> str:
    m = till.register(new_phone())
    top_up(till.uow, clerk=till.cashier, member_id=m.id, amount_fen=50_000, method="cash",
           txn_id=f"t-{m.id}")
    set_member_pin(till.uow, clerk=till.cashier, approver=till.manager, member_id=m.id,
                   pin=PIN)
    return m.id


def test_a_frozen_member_earns_nothing_and_cannot_redeem_or_spend(a: Till) -> None:
    member_id = _member_with_money(a)
    assert _sale(a, member_id).earn.earned > 0
    with pytest.raises(PermissionDenied):
        member_service.set_status(a.uow, clerk=a.cashier, member_id=member_id,
                                  status="frozen", reason="dispute")
    with pytest.raises(ServiceReasonRequired):
        member_service.set_status(a.uow, clerk=a.manager, member_id=member_id,
                                  status="frozen", reason="  ")
    done = member_service.set_status(a.uow, clerk=a.manager, member_id=member_id,
                                     status="frozen", reason="dispute over a refund")
    assert done.changed
    counts = a.table_counts()
    with pytest.raises(MemberFrozen):
        _sale(a, member_id, redeem=100)
    with pytest.raises(MemberFrozen):
        _pay(a, member_id, 1_000)
    assert a.table_counts() == counts  # refused: nothing written
    sale = _sale(a, member_id)
    assert sale.earn is not None and sale.earn.earned == 0  # recorded, no points
    card = find_member(a.uow, clerk=a.cashier, code=done.member_no)
    assert card.standing == "frozen" and card.standing_reason is None
    assert find_member(a.uow, clerk=a.manager, code=done.member_no).standing_reason \
        == "dispute over a refund"
    member_service.set_status(a.uow, clerk=a.manager, member_id=member_id, status="normal",
                              reason="settled")
    assert _sale(a, member_id).earn.earned > 0
    _pay(a, member_id, 1_000)
    with a.uow.read() as s:
        audited = s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity_id == member_id)).all()
    assert audited.count("member.status_set") == 2


def test_a_blacklisted_member_is_refused_with_the_reason_for_a_manager(a: Till) -> None:
    member_id = _member_with_money(a)
    member_service.set_status(a.uow, clerk=a.manager, member_id=member_id,
                              status="blacklisted", reason="fraudulent returns")
    with pytest.raises(MemberBlacklisted) as cashier_sees:
        _sale(a, member_id)
    assert "fraudulent" not in cashier_sees.value.text()
    with pytest.raises(MemberBlacklisted):
        top_up(a.uow, clerk=a.cashier, member_id=member_id, amount_fen=10_000, method="cash",
               txn_id="t-2")
    with pytest.raises(MemberBlacklisted) as manager_sees:
        sales.record_sale(a.uow, a.manager, txn_id="x1", bill_no="BX1", amount_fen=1_000,
                          member_id=member_id)
    assert "fraudulent returns" in manager_sees.value.text()


def test_status_reaches_the_other_till_and_another_stores_directory(
        a: Till, b: Till, other: Till) -> None:
    member_id = _member_with_money(a)
    card = get_member(a.uow, clerk=a.cashier, member_id=member_id)
    member_service.set_status(a.uow, clerk=a.manager, member_id=member_id,
                              status="blacklisted", reason="fraud")
    pulled = wire_events(a)
    apply(b, pulled)
    apply(other, [e for e in pulled if e["type"].startswith("member.")])
    for till in (b, other):
        found = find_member(till.uow, clerk=till.manager, code=card.member_no)
        assert (found.standing, found.standing_reason) == ("blacklisted", "fraud")
    with pytest.raises(MemberBlacklisted):
        _sale(b, member_id)
    with pytest.raises(MemberBlacklisted):
        _sale(other, member_id)  # another store's member, from the directory
    # An older change pulled later loses; the newer one wins.
    member_service.set_status(b.uow, clerk=b.manager, member_id=member_id, status="normal",
                              reason="cleared")
    apply(a, wire_events(b), first=1000)
    assert get_member(a.uow, clerk=a.manager, member_id=member_id).standing == "normal"


def test_a_reissued_card_refuses_the_old_code_everywhere(a: Till, b: Till, other: Till) -> None:
    card = a.register(new_phone())
    assert card.qr_payload == card_code(card.member_no)
    with pytest.raises(MalformedCode):
        classify_code(f"PM2:{card.member_no}:0")
    done = member_service.reissue_card(a.uow, clerk=a.manager, member_id=card.id,
                                       reason="lost")
    assert done.card_code == f"PM2:{card.member_no}:1"
    pulled = wire_events(a)
    apply(b, pulled)
    apply(other, [e for e in pulled if e["type"].startswith("member.")])
    for till in (a, b, other):
        for old in (card.qr_payload, card.member_no):
            with pytest.raises(CardReplaced):
                find_member(till.uow, clerk=till.cashier, code=old)
        found = find_member(till.uow, clerk=till.cashier, code=done.card_code or "")
        assert (found.id, found.member_no, found.qr_payload) == (
            card.id, card.member_no, done.card_code)
    again = member_service.reissue_card(a.uow, clerk=a.manager, member_id=card.id,
                                        reason="lost again")
    with pytest.raises(CardReplaced):
        find_member(a.uow, clerk=a.cashier, code=done.card_code or "")
    assert find_member(a.uow, clerk=a.cashier, code=again.card_code or "").id == card.id


def test_a_tier_set_by_hand_holds_until_its_end_then_the_computed_tier_returns(a: Till,
                                                                             other: Till) -> None:
    card = a.register(new_phone())
    now = a.uow.clock.now()
    with pytest.raises(InvalidTierUntil):
        member_service.set_tier(a.uow, clerk=a.manager, member_id=card.id, tier="gold",
                                until=now - timedelta(days=1), reason="vip")
    member_service.set_tier(a.uow, clerk=a.manager, member_id=card.id, tier="gold",
                            until=now + timedelta(days=30), reason="vip guest")
    found = get_member(a.uow, clerk=a.cashier, member_id=card.id)
    assert found.tier == "gold" and found.tier_until is not None
    apply(other, [e for e in wire_events(a) if e["type"].startswith("member.")])
    assert find_member(other.uow, clerk=other.cashier, code=card.member_no).tier == "gold"
    assert member_service.end_tier_overrides(a.uow, clerk=a.manager) == 0
    a.clock.advance(days=31)
    assert member_service.end_tier_overrides(a.uow, clerk=a.manager) == 1
    back = get_member(a.uow, clerk=a.cashier, member_id=card.id)
    assert back.tier == "regular" and back.tier_until is None


@pytest.mark.parametrize("bad", ["fraud\x00", "\x1b[2Jfraud", "lost \ud800"])
def test_a_reason_with_a_control_character_is_refused_before_it_stops_the_sync(
        till: Till, bad: str) -> None:
    """HQ refuses a push whose payload holds a NUL, and the till's later events then wait
    behind it: a manager's reason holding one is refused where it is typed."""
    from pos_member.errors import InvalidInput
    from pos_member.services import coupons, points
    from pos_member.services.stored_value_standing import set_frozen

    m = till.register()
    [c] = coupons.usable(till.uow, member_id=m.id)[:1]
    counts = till.table_counts()
    until = till.clock.now() + timedelta(days=30)
    for attempt in (
        lambda: member_service.set_status(till.uow, clerk=till.manager, member_id=m.id,
                                          status="frozen", reason=bad),
        lambda: member_service.set_tier(till.uow, clerk=till.manager, member_id=m.id,
                                        tier="gold", until=until, reason=bad),
        lambda: member_service.reissue_card(till.uow, clerk=till.manager, member_id=m.id,
                                            reason=bad),
        lambda: coupons.issue_by_hand(till.uow, clerk=till.cashier, approver=till.manager,
                                      txn_id="i", member_id=m.id, template_code="CPN-10",
                                      reason=bad),
        lambda: coupons.revoke(till.uow, clerk=till.cashier, approver=till.manager,
                               key=c.key, reason=bad),
        lambda: points.adjust_points(till.uow, clerk=till.cashier, approver=till.manager,
                                     txn_id="p", member_id=m.id, points=10, reason=bad),
        lambda: set_frozen(till.uow, clerk=till.manager, member_id=m.id, frozen=True,
                           reason=bad),
    ):
        with pytest.raises(InvalidInput):
            attempt()
    assert till.table_counts() == counts
    assert member_service.set_status(till.uow, clerk=till.manager, member_id=m.id,
                                     status="frozen", reason=" 两行\n原因 ").changed
