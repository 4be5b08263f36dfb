"""The card's suggested action with one key (Ctrl+J, issue 19): the win-back coupon once per
dormant period (shared with the hourly trigger), a points reminder only with consent, once a
day; frozen members and members with nothing suggested are refused, nothing written."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest

from pos_member.clock import DEFAULT_TZ
from pos_member.errors import InvalidInput
from pos_member.member_service_errors import MemberFrozen
from pos_member.services import member_service
from pos_member.services.coupon_triggers import run_triggers
from pos_member.services.member_actions import do_suggested
from pos_member.services.member_insight import REMIND_POINTS, WIN_BACK
from pos_member.services.sales import record_sale
from tests.factories import Till

TODAY = date(2026, 6, 30)


def at(ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=ago), time(12), tzinfo=DEFAULT_TZ)


def bought(till: Till, member: str, *days_ago: int) -> None:
    for ago in days_ago:
        till.clock.set(at(ago))
        record_sale(till.uow, till.cashier, txn_id=str(uuid.uuid4()),
                    bill_no=f"A-{uuid.uuid4().hex[:8]}", amount_fen=10_000, member_id=member)
    till.clock.set(at(0))


def outbox_kinds(till: Till) -> list[str]:
    import sqlite3

    con = sqlite3.connect(till.path)
    try:
        return [r[0] for r in con.execute("SELECT kind FROM notification_outbox")]
    finally:
        con.close()


def test_the_win_back_coupon_once_per_dormant_period_shared_with_the_trigger(
        till: Till) -> None:
    till.clock.set(at(200))
    m = till.register().id
    bought(till, m, 100)  # 100 days away: 沉睡, 送回归券
    got = do_suggested(till.uow, clerk=till.cashier, member_id=m)
    assert got.action == WIN_BACK and got.done and got.coupon is not None
    assert not do_suggested(till.uow, clerk=till.cashier, member_id=m).done
    assert run_triggers(till.uow, clerk=till.manager).winback == 0  # the trigger's own key


def test_a_points_reminder_only_with_marketing_consent_and_once_a_day(till: Till) -> None:
    till.clock.set(at(80))
    yes = till.register(marketing_consent=True).id
    no = till.register().id
    for m in (yes, no):  # purchase days 50, 40, 30 ago: usual gap 10, 30 days since: warning
        bought(till, m, 50, 40, 30)
    got = do_suggested(till.uow, clerk=till.cashier, member_id=yes)
    assert (got.action, got.done) == (REMIND_POINTS, True)
    assert not do_suggested(till.uow, clerk=till.cashier, member_id=yes).done  # today again
    assert not do_suggested(till.uow, clerk=till.cashier, member_id=no).done  # no consent
    assert outbox_kinds(till).count("points.reminder") == 1


def test_refused_for_a_frozen_member_or_nothing_suggested_and_nothing_written(
        till: Till) -> None:
    till.clock.set(at(200))
    frozen, fresh = till.register().id, till.register().id
    bought(till, frozen, 100)
    bought(till, fresh, 0)  # bought today: 新客, nothing to suggest
    member_service.set_status(till.uow, clerk=till.manager, member_id=frozen,
                              status="frozen", reason="test")
    before = till.dump()
    with pytest.raises(MemberFrozen):
        do_suggested(till.uow, clerk=till.cashier, member_id=frozen)
    with pytest.raises(InvalidInput):
        do_suggested(till.uow, clerk=till.cashier, member_id=fresh)
    assert till.dump() == before
