"""Recall campaigns (issue 19): win-back coupons issued from the recall list through the coupon
issue path, once per campaign; then 召回率 and ROI worked out by hand."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from pos_member.clock import DEFAULT_TZ
from pos_member.errors import InvalidInput, PermissionDenied
from pos_member.services import coupons, member_service
from pos_member.services.checkout import Tender, checkout
from pos_member.services.outbox import pending_events
from pos_member.services.recall_campaigns import (
    campaign_results,
    face_value_fen,
    issue_recall_coupons,
)
from pos_member.services.recall_messages import (
    MEMBER_DAY,
    MISS_YOU,
    POINTS_REMINDER,
    send_recall_message,
)
from pos_member.services.sales import record_sale
from tests.factories import Till, apply_pulled

TODAY = date(2026, 6, 30)
CAMPAIGN = "0123456789abcdef"


def at(ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=ago), time(12), tzinfo=DEFAULT_TZ)


def winback_code(till: Till, member_id: str) -> str:
    return next(c.qr for c in coupons.usable(till.uow, member_id=member_id)
                if c.name == "久未光临满150减20")


def test_a_campaign_issues_each_member_one_coupon_and_measures_who_came_back(
        till: Till) -> None:
    till.clock.set(at(200))
    a, b, c, frozen = (till.register().id for _ in range(4))
    member_service.set_status(till.uow, clerk=till.manager, member_id=frozen,
                              status="frozen", reason="test")
    till.clock.set(at(40))
    got = issue_recall_coupons(till.uow, clerk=till.manager, campaign=CAMPAIGN,
                               member_ids=[a, b, c, frozen, a], template_code="WINBACK-20")
    assert (got.issued, got.skipped) == (3, 1)
    issued = [e for e in pending_events(till.uow, device_id=till.manager.device_id, limit=10_000)
              if e["type"] == "coupon.issued" and e["payload"]["coupon"]["source"] == "recall"]
    assert sorted(e["payload"]["member_id"] for e in issued) == sorted([a, b, c])  # synced
    again = issue_recall_coupons(till.uow, clerk=till.manager, campaign=CAMPAIGN,
                                 member_ids=[a, b, c], template_code="WINBACK-20")
    assert again.issued == 0  # the same campaign again: nothing more

    # A comes back 10 days later with the coupon (¥200 bill, ¥20 off) and again (¥50);
    # B comes back 31 days later (outside the window); C never.
    till.clock.set(at(30))
    checkout(till.uow, till.cashier, txn_id="w-1", bill_no="W-1", amount_fen=20_000,
             member_id=a, tenders=(Tender("cash", 18_000),), coupons=[winback_code(till, a)])
    record_sale(till.uow, till.cashier, txn_id="w-2", bill_no="W-2", amount_fen=5_000,
                member_id=a)
    till.clock.set(at(9))
    record_sale(till.uow, till.cashier, txn_id="w-3", bill_no="W-3", amount_fen=9_000,
                member_id=b)
    till.clock.set(at(0))
    [r] = campaign_results(till.uow, clerk=till.manager)
    assert (r.campaign, r.contacted, r.came_back) == (CAMPAIGN, 3, 1)
    assert (r.spend_fen, r.coupon_cost_fen) == (23_000, 2_000)
    assert r.recall_rate == Decimal("0.3333") and r.roi == Decimal("11.50")
    assert not r.window_open and r.coupon_name == "久未光临满150减20"


def test_refusals_issue_nothing(till: Till) -> None:
    m = till.register().id
    before = till.dump()
    with pytest.raises(PermissionDenied):
        issue_recall_coupons(till.uow, clerk=till.cashier, campaign=CAMPAIGN, member_ids=[m],
                             template_code="WINBACK-20")
    for kw in ({"template_code": "NONE"}, {"member_ids": []}, {"campaign": "x"}):
        args = {"campaign": CAMPAIGN, "member_ids": [m], "template_code": "WINBACK-20", **kw}
        with pytest.raises(InvalidInput):
            issue_recall_coupons(till.uow, clerk=till.manager, **args)  # type: ignore[arg-type]
    assert till.dump() == before
    assert campaign_results(till.uow, clerk=till.manager) == []
    assert face_value_fen(till.uow.rules.coupons.template("WINBACK-20"), 3) == 6_000
    assert face_value_fen(till.uow.rules.coupons.template("WELCOME-90"), 3) is None


def test_a_message_campaign_respects_consent_and_the_daily_cap_and_repeats_nothing(
        till: Till) -> None:
    till.clock.set(at(200))
    keen, capped, no_consent, frozen = (till.register(marketing_consent=True).id,
                                        till.register(marketing_consent=True).id,
                                        till.register().id,
                                        till.register(marketing_consent=True).id)
    member_service.set_status(till.uow, clerk=till.manager, member_id=frozen,
                              status="frozen", reason="test")
    till.clock.set(at(0))
    for n in range(till.uow.rules.coupons.marketing_daily_cap):  # the cap used up today
        send_recall_message(till.uow, clerk=till.manager, campaign=f"{n:016x}",
                            member_ids=[capped], kind=MEMBER_DAY)
    got = send_recall_message(till.uow, clerk=till.manager, campaign=CAMPAIGN,
                              member_ids=[keen, capped, no_consent, frozen], kind=POINTS_REMINDER)
    assert (got.sent, got.skipped) == (1, 3)
    sent = [e for e in pending_events(till.uow, device_id=till.manager.device_id, limit=10_000)
            if e["type"] == "member.recall_messaged" and e["payload"]["campaign"] == CAMPAIGN]
    assert [e["payload"]["member_id"] for e in sent] == [keen]  # synced, as a coupon is
    before = till.dump()
    again = send_recall_message(till.uow, clerk=till.manager, campaign=CAMPAIGN,
                                member_ids=[keen], kind=POINTS_REMINDER)
    assert again.sent == 0 and till.dump() == before  # a retry: nothing twice
    till.clock.set(at(0) + timedelta(days=5))  # keen comes back within 30 days, ¥60
    record_sale(till.uow, till.cashier, txn_id="m-1", bill_no="M-1", amount_fen=6_000,
                member_id=keen)
    results = {r.campaign: r for r in campaign_results(till.uow, clerk=till.manager)}
    r = results[CAMPAIGN]
    assert (r.message, r.contacted, r.came_back, r.spend_fen, r.roi) == (
        POINTS_REMINDER, 1, 1, 6_000, None)
    assert results[f"{0:016x}"].came_back == 0 and r.window_open  # capped: no purchase
    other = {**sent[0], "id": str(uuid.uuid4()), "device_id": str(uuid.uuid4()),
             "payload": {**sent[0]["payload"], "campaign": "f" * 16}}
    apply_pulled(till, [other])  # another till of the store's campaign counts here too
    assert {r.campaign for r in campaign_results(till.uow, clerk=till.manager)} >= {"f" * 16}
    till.clock.set(at(0))
    before = till.dump()
    with pytest.raises(PermissionDenied):
        send_recall_message(till.uow, clerk=till.cashier, campaign=CAMPAIGN,
                            member_ids=[keen], kind=MISS_YOU)
    with pytest.raises(InvalidInput):
        send_recall_message(till.uow, clerk=till.manager, campaign=CAMPAIGN,
                            member_ids=[keen], kind="sv.paid")
    assert till.dump() == before
