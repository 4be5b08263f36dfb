"""The rules of recruitment targets (导购招募, SPEC §2.7), pure (no database, no clock): a
month's target split into daily targets by weekday weights, and a day's target split over the
guides on shift.

Rounding (docs/rules.md, "Recruitment KPIs"): every split is a **largest-remainder** split in
integer arithmetic, so the parts always add up to the whole. Each part first gets
``whole * weight // total_weight``; the units left over go one each to the parts with the largest
remainder ``whole * weight % total_weight``; ties go to the earlier day of the month, and among
the guides of a day to the guide first in a rotation that moves by one each day (so the same
guide does not always carry the extra registration). A split set by hand must name exactly the
guides on shift and add up to the day's target (:func:`check_split`).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date

from pos_member.errors import SplitDoesNotAddUp, SplitNotOnRoster

# -- months --------------------------------------------------------------------------------


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_days(month: str) -> list[date]:
    year, mon = (int(p) for p in month.split("-"))
    return [date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]


# -- the splits --------------------------------------------------------------------------------


def largest_remainder(total: int, weights: Sequence[int], *, first: int = 0) -> list[int]:
    """Splits ``total`` into integer parts proportional to ``weights`` that add up to ``total``.

    Leftover units go to the largest remainders; ties to the part first in the order that starts
    at index ``first`` and wraps around. A zero weight gets zero."""
    n = len(weights)
    weight_sum = sum(weights)
    if n == 0 or weight_sum <= 0:
        if total:
            raise ValueError("nothing to split into")
        return [0] * n
    parts = [total * w // weight_sum for w in weights]
    rests = [total * w % weight_sum for w in weights]
    left = total - sum(parts)
    order = sorted(range(n), key=lambda i: (-rests[i], (i - first) % n))
    for i in order[:left]:
        parts[i] += 1
    return parts


def daily_targets(month_target: int, month: str, weights_percent: Sequence[int]) -> dict[date, int]:
    """The month's target split over its days by weekday weight (Monday first)."""
    days = month_days(month)
    parts = largest_remainder(month_target, [weights_percent[d.weekday()] for d in days])
    return dict(zip(days, parts, strict=True))


def guide_split(day_target: int, roster: Sequence[str], day: date) -> dict[str, int]:
    """The day's target split equally over the guides on shift (in roster order); the extra
    units rotate with the day, so nobody always carries them."""
    if not roster:
        return {}
    parts = largest_remainder(day_target, [1] * len(roster), first=day.toordinal() % len(roster))
    return dict(zip(roster, parts, strict=True))


def check_split(values: Mapping[str, int], *, roster: Sequence[str], day_target: int,
                day: date) -> None:
    """Refuses a split set by hand that does not name exactly the guides on shift
    (``SplitNotOnRoster``) or does not add up to the day's target (``SplitDoesNotAddUp``)."""
    if set(values) != set(roster):
        raise SplitNotOnRoster(day=day.isoformat())
    total = sum(values.values())
    if total != day_target:
        raise SplitDoesNotAddUp(day=day.isoformat(), total=total, target=day_target)
