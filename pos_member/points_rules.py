"""The arithmetic of points and tiers, pure and integer-only (no database, no clock).

Rates and multipliers are integer percent (``200`` = 2×), money is fen, points are ints.
Stacking and rounding (docs/rules.md, "Points and tiers"):

- base = whole yuan paid × ``points_per_yuan`` (fen below a yuan earn nothing);
- the tier multiplier and every promotion that applies (member day, birthday month) multiply
  together, and the product is rounded down **once**, at the end:
  ``base × tier% × day% × birthday% // 100³``;
- the big-purchase bonus is added after the multipliers (it is not multiplied);
- the daily cap cuts what is left over the member's cap for the day; the receipt says how many
  points were not earned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pos_member.rules_config import PointsRules, TierLevel, TierRules

FEN_PER_YUAN = 100


@dataclass(frozen=True, slots=True)
class Multiplier:
    code: str  # "tier", "member_day", "birthday_month"
    percent: int


@dataclass(frozen=True, slots=True)
class EarnBreakdown:
    """How a sale's points came about, for the till and the receipt."""

    base: int  # whole yuan × points per yuan
    multipliers: tuple[Multiplier, ...]  # every one that applied, the tier's first
    multiplied: int  # base after the multipliers, rounded down once
    bonus: int  # big-purchase bonus
    earned: int  # what the member gets, after the daily cap
    not_earned: int  # cut by the daily cap

    @property
    def before_cap(self) -> int:
        return self.multiplied + self.bonus


def earn_for_sale(
    rules: PointsRules,
    *,
    paid_fen: int,
    tier_percent: int,
    day: date,
    birthday: date | None,
    earned_today: int,
) -> EarnBreakdown:
    """Points for a sale of ``paid_fen`` on the store's local ``day``."""
    if paid_fen < 0 or earned_today < 0:
        raise ValueError("negative amount")
    base = paid_fen // FEN_PER_YUAN * rules.points_per_yuan
    mults = [Multiplier("tier", tier_percent)]
    if day.day == rules.member_day:
        mults.append(Multiplier("member_day", rules.member_day_multiplier_percent))
    if birthday is not None and birthday.month == day.month:
        mults.append(Multiplier("birthday_month", rules.birthday_month_multiplier_percent))
    num, den = base, 1
    for m in mults:
        num *= m.percent
        den *= 100
    multiplied = num // den
    bonus = (
        rules.big_purchase_bonus_points
        if rules.big_purchase_threshold_fen and paid_fen >= rules.big_purchase_threshold_fen
        else 0
    )
    room = max(0, rules.daily_earn_cap - earned_today)
    total = multiplied + bonus
    earned = min(total, room)
    return EarnBreakdown(base, tuple(m for m in mults if m.percent != 100 or m.code == "tier"),
                         multiplied, bonus, earned, total - earned)


def referral_points(paid_fen: int, percent: int, points_per_yuan: int) -> int:
    """The referrer's share of the new member's first purchase, in points (rounded down)."""
    return paid_fen // FEN_PER_YUAN * points_per_yuan * percent // 100


def redeem_cap_points(rules: PointsRules, bill_fen: int) -> int:
    """The most points a bill of ``bill_fen`` can take: ``redeem_cap_percent`` of the bill,
    in whole points whose value is whole fen."""
    cap_fen = bill_fen * rules.redeem_cap_percent // 100
    step = redeem_step(rules)
    return cap_fen * rules.redeem_points_per_yuan // FEN_PER_YUAN // step * step


def redeem_step(rules: PointsRules) -> int:
    """The smallest number of points worth a whole number of fen (1 at 100 points = ¥1)."""
    from math import gcd

    ppy = rules.redeem_points_per_yuan
    return ppy // gcd(ppy, FEN_PER_YUAN)


def points_value_fen(rules: PointsRules, points: int) -> int:
    """What ``points`` take off a bill, in fen (exact for multiples of :func:`redeem_step`)."""
    return points * FEN_PER_YUAN // rules.redeem_points_per_yuan


def share(total: int, part_fen: int, whole_fen: int) -> int:
    """``total`` × part / whole, rounded down: the points that go with a part of a sale.
    Cumulative use (share of everything refunded so far minus what was already taken back)
    makes several partial refunds add up to exactly ``total`` on a full refund."""
    if whole_fen <= 0:
        return 0
    return total * part_fen // whole_fen


def growth_of_sale(tiers: TierRules, net_fen: int) -> int:
    """Growth value (成长值) of one sale, net of refunds: 1 per ``growth_fen_per_point`` fen
    paid plus ``growth_per_purchase`` for the visit; a fully refunded sale counts nothing."""
    if net_fen <= 0:
        return 0
    return net_fen // tiers.growth_fen_per_point + tiers.growth_per_purchase


def qualifying_level(tiers: TierRules, *, spend_fen: int, growth: int) -> TierLevel:
    """The highest tier whose spend **or** growth threshold is reached."""
    best = tiers.levels[0]
    for level in tiers.levels:
        if spend_fen >= level.annual_spend_fen or growth >= level.growth:
            best = level
    return best


def level_index(tiers: TierRules, code: str) -> int:
    for i, level in enumerate(tiers.levels):
        if level.code == code:
            return i
    return 0  # a tier the rules no longer have counts as the lowest


def level_of(tiers: TierRules, code: str) -> TierLevel:
    return tiers.levels[level_index(tiers, code)]


def downgrade_target(
    tiers: TierRules, *, current: str, spend_fen: int, growth: int, days_since_upgrade: int | None
) -> TierLevel | None:
    """At the periodic evaluation: the tier to move down to, or None to keep the current one.

    Kept when within ``protection_days`` of the last upgrade, or while the rolling spend is at
    least ``keep_percent`` of the current tier's spend threshold, or while the member still
    qualifies for it. Otherwise down to the highest tier they qualify for."""
    cur = level_index(tiers, current)
    if cur == 0:
        return None
    if days_since_upgrade is not None and days_since_upgrade < tiers.protection_days:
        return None
    level = tiers.levels[cur]
    if spend_fen * 100 >= level.annual_spend_fen * tiers.keep_percent:
        return None
    target = qualifying_level(tiers, spend_fen=spend_fen, growth=growth)
    if level_index(tiers, target.code) >= cur:
        return None
    return target
