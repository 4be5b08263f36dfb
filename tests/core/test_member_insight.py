"""A member's automatic tags, lifecycle, churn warning on their own rhythm and the suggested
action (issue 19), against histories worked out by hand."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import pytest

from pos_member.clock import DEFAULT_TZ
from pos_member.db.models import Sale
from pos_member.errors import MemberNotFound
from pos_member.rules_config import LifecycleRules, TagRules
from pos_member.services import member_insight as mi
from pos_member.services.member_insight import Purchase, assess, member_insight
from tests.factories import Till

TODAY = date(2026, 6, 30)
TAGS = TagRules(high_ticket_fen=100_000, dormant_days=60, frequent_count=3,
                frequent_window_days=30)
LIFE = LifecycleRules(dormant_days=90, churned_days=365)


def bought(*days_ago: int, fen: int = 10_000, cats: tuple[str, ...] = ()) -> list[Purchase]:
    return [Purchase(TODAY - timedelta(days=d), fen, cats) for d in sorted(days_ago, reverse=True)]


def judge(purchases: list[Purchase], joined_ago: int = 400) -> mi.MemberInsight:
    return assess(purchases, joined=TODAY - timedelta(days=joined_ago), today=TODAY, tags=TAGS,
                  lifecycle=LIFE)


def test_three_purchases_in_30_days_make_a_frequent_active_member() -> None:
    r = judge(bought(29, 10, 2))  # 29 days ago is inside a 30-day window ending today
    assert mi.FREQUENT in r.tags and r.stage == mi.ACTIVE and not r.churn_warning
    assert mi.FREQUENT not in judge(bought(30, 10, 2)).tags  # 30 days ago is outside


def test_a_single_purchase_of_1000_yuan_tags_high_ticket_and_suggests_the_member_day() -> None:
    r = judge(bought(5, 40) + bought(1, fen=100_000))
    assert mi.HIGH_TICKET in r.tags and r.action == mi.INVITE
    assert mi.HIGH_TICKET not in judge(bought(5, 1, fen=99_999)).tags


def test_dormant_at_60_days_sleeping_at_90_lost_at_365() -> None:
    assert mi.DORMANT not in judge(bought(100, 59)).tags
    r = judge(bought(100, 60))
    assert mi.DORMANT in r.tags and r.stage == mi.ACTIVE
    r = judge(bought(200, 90))
    assert (r.stage, r.action) == (mi.SLEEPING, mi.WIN_BACK)
    assert judge(bought(400, 365)).stage == mi.LOST
    # Never bought: counted from joining; one purchase day only: 新客.
    assert judge([], joined_ago=10).stage == mi.NEW
    assert judge([], joined_ago=95).stage == mi.SLEEPING
    assert judge(bought(3, 3)).stage == mi.NEW


def test_the_churn_warning_follows_the_member_s_own_rhythm() -> None:
    # Purchase days 50, 40, 30 days ago: usual gap 10 days; 30 days since > 1.5 × 10.
    r = judge(bought(50, 40, 30))
    assert (r.usual_interval_days, r.days_since, r.churn_warning) == (10, 30, True)
    assert r.stage == mi.ACTIVE and r.action == mi.REMIND_POINTS
    # Gaps 20 and 20: 30 days since is not past 1.5 × 20.
    assert not judge(bought(70, 50, 30)).churn_warning
    # Two purchase days are one gap: no usual interval yet.
    assert judge(bought(40, 30)).usual_interval_days is None


def test_the_most_bought_category_is_the_preference() -> None:
    history = (bought(20, cats=("鞋",)) + bought(10, cats=("包", "鞋"))
               + bought(5, cats=("包",)) + bought(4, cats=("包",)))
    r = judge(sorted(history, key=lambda p: p.day))
    assert mi.CATEGORY in r.tags and r.favourite_category == "包"
    assert judge(bought(3, 2)).favourite_category is None


def test_the_card_s_insight_reads_the_member_s_sales(till: Till) -> None:
    till.clock.set(datetime.combine(TODAY - timedelta(days=200), time(12), tzinfo=DEFAULT_TZ))
    card = till.register()
    for ago, fen, back, cats in ((50, 20_000, 0, ["鞋"]), (40, 30_000, 0, ["鞋"]),
                                 (35, 150_000, 150_000, ["表"]), (30, 8_000, 0, ["包"])):
        when = datetime.combine(TODAY - timedelta(days=ago), time(12), tzinfo=DEFAULT_TZ)
        with till.uow.begin() as tx:
            tx.session.add(Sale(
                id=str(uuid.uuid4()), txn_id=str(uuid.uuid4()), store_id=till.manager.store_id,
                device_id=till.manager.device_id, bill_no=f"MI-{ago}", amount_fen=fen,
                member_id=card.id, categories=cats, sold_at=when, business_day=when.date(),
                refunded_fen=back))
            tx.commit()
    till.clock.set(datetime.combine(TODAY, time(12), tzinfo=DEFAULT_TZ))
    before = till.dump()
    r = member_insight(till.uow, clerk=till.cashier, member_id=card.id)
    # The ¥1,500 watch was refunded: no 高客单价, and its day is no purchase. Days 50, 40,
    # 30: usual gap 10, 30 days since → warning; 鞋 bought twice.
    assert mi.HIGH_TICKET not in r.tags and r.favourite_category == "鞋"
    assert (r.stage, r.churn_warning, r.action) == (mi.ACTIVE, True, mi.REMIND_POINTS)
    assert till.dump() == before
    with pytest.raises(MemberNotFound):
        member_insight(till.uow, clerk=till.cashier, member_id=str(uuid.uuid4()))
