"""The pure arithmetic of earning, redeeming and tiers: integers only, rounding written down."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from pos_member.points_rules import (
    downgrade_target,
    earn_for_sale,
    qualifying_level,
    redeem_cap_points,
    referral_points,
    share,
)
from pos_member.rules_config import default_rules_path, load_rules

RULES = load_rules(default_rules_path())
P, T = RULES.points, RULES.tiers
PLAIN_DAY = date(2026, 3, 10)


def test_one_point_per_whole_yuan_fen_below_a_yuan_earn_nothing() -> None:
    e = earn_for_sale(P, paid_fen=12_399, tier_percent=100, day=PLAIN_DAY, birthday=None,
                      earned_today=0)
    assert (e.base, e.earned, e.not_earned) == (123, 123, 0)


def test_multipliers_stack_by_multiplying_and_round_down_once() -> None:
    # silver 1.2 × member day 2 × birthday month 2 on ¥101: 101 × 4.8 = 484.8 → 484
    e = earn_for_sale(P, paid_fen=10_100, tier_percent=120, day=date(2026, 3, 28),
                      birthday=date(1990, 3, 2), earned_today=0)
    assert [m.code for m in e.multipliers] == ["tier", "member_day", "birthday_month"]
    assert e.multiplied == 484 and e.earned == 484


def test_big_purchase_bonus_is_added_after_the_multipliers() -> None:
    e = earn_for_sale(P, paid_fen=100_000, tier_percent=200, day=PLAIN_DAY, birthday=None,
                      earned_today=0)
    assert (e.multiplied, e.bonus, e.earned) == (2000, 100, 2100)


def test_daily_cap_cuts_and_says_how_much_was_not_earned() -> None:
    e = earn_for_sale(P, paid_fen=300_000, tier_percent=100, day=PLAIN_DAY, birthday=None,
                      earned_today=4_000)
    assert (e.before_cap, e.earned, e.not_earned) == (3100, 1000, 2100)


@given(paid=st.integers(0, 10**9), tier=st.sampled_from([100, 120, 150, 200]),
       day=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
       birthday=st.none() | st.dates(date(1950, 1, 1), date(2010, 12, 31)),
       today=st.integers(0, 10_000))
def test_earned_is_an_int_within_the_cap_and_adds_up(paid: int, tier: int, day: date,
                                                     birthday: date | None, today: int) -> None:
    e = earn_for_sale(P, paid_fen=paid, tier_percent=tier, day=day, birthday=birthday,
                      earned_today=today)
    assert isinstance(e.earned, int)
    assert 0 <= e.earned <= max(0, P.daily_earn_cap - today)
    assert e.earned + e.not_earned == e.multiplied + e.bonus
    assert e.multiplied >= e.base * tier // 100


@given(bill=st.integers(1, 10**9))
def test_redeem_cap_is_half_the_bill_in_whole_points(bill: int) -> None:
    cap = redeem_cap_points(P, bill)
    assert cap * 100 // P.redeem_points_per_yuan <= bill // 2
    assert (cap + 1) * 100 // P.redeem_points_per_yuan > bill * P.redeem_cap_percent // 100


@given(total=st.integers(0, 10**6), whole=st.integers(1, 10**8), data=st.data())
def test_partial_shares_add_up_to_the_whole_on_a_full_refund(total: int, whole: int,
                                                             data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, whole), max_size=5)))
    taken = 0
    for c in [*cuts, whole]:
        taken += share(total, c, whole) - taken
    assert taken == total


def test_referral_is_ten_percent_of_the_first_purchase_in_points() -> None:
    assert referral_points(123_456, 10, 1) == 123


def test_a_tier_is_reached_by_spend_or_by_growth() -> None:
    assert qualifying_level(T, spend_fen=499_999, growth=999).code == "regular"
    assert qualifying_level(T, spend_fen=500_000, growth=0).code == "silver"
    assert qualifying_level(T, spend_fen=0, growth=5_000).code == "gold"
    assert qualifying_level(T, spend_fen=5_000_000, growth=0).code == "diamond"


def test_downgrade_waits_for_protection_and_keeps_at_eighty_percent() -> None:
    gold = 2_000_000
    assert downgrade_target(T, current="gold", spend_fen=0, growth=0,
                            days_since_upgrade=89) is None
    assert downgrade_target(T, current="gold", spend_fen=gold * 80 // 100, growth=0,
                            days_since_upgrade=400) is None
    target = downgrade_target(T, current="gold", spend_fen=gold * 80 // 100 - 1, growth=0,
                              days_since_upgrade=400)
    assert target is not None and target.code == "silver"
