"""A coupon's terms applied to a bill (issue 18): its validity, where and for whom, its
threshold and combinations, and the discount. Pure: no database, no clock.

``terms`` is the coupon's terms as issued (a template's, ``terms_of``), so a coupon in hand
keeps the terms it was issued with whatever later rules say (docs/rules.md, "Coupons").
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from pos_member.errors import (
    CouponNotCombinable,
    CouponNotHere,
    CouponThreshold,
)
from pos_member.i18n import QT_TRANSLATE_NOOP
from pos_member.money import format_yuan
from pos_member.rules_config import CouponTemplate

TERM_FIELDS = ("kind", "amount_off_fen", "threshold_fen", "percent_off", "cap_fen",
               "gift_item", "tiers", "stores", "with_points", "with_coupons")


def terms_of(t: CouponTemplate) -> dict[str, Any]:
    d = asdict(t)
    return {k: list(d[k]) if isinstance(d[k], tuple) else d[k] for k in TERM_FIELDS}


def validity(t: CouponTemplate, issued: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The instants a coupon issued at ``issued`` may be used between (the end exclusive):
    N days from issue (the whole day of issue and N-1 days after, store days), or from
    the start of ``valid_from`` to the end of ``valid_until`` in the store's days."""
    if t.valid_days:  # from the start of the day of issue: a till whose clock is behind the
        day = issued.astimezone(zone).date()  # issuing till's still takes it that day
        return _midnight(day, zone), _midnight(day + timedelta(days=t.valid_days), zone)
    start = _midnight(date.fromisoformat(t.valid_from), zone)
    end = _midnight(date.fromisoformat(t.valid_until) + timedelta(days=1), zone)
    return start, end


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def discount_fen(terms: dict[str, Any], bill_fen: int) -> int:
    """What the coupon takes off ``bill_fen`` (never more than the bill): amount off, or
    percent off rounded down to the fen and capped; a gift coupon takes nothing off (its item
    is handed over)."""
    kind = terms["kind"]
    if kind == "amount_off":
        off = terms["amount_off_fen"]
    elif kind == "percent_off":
        off = bill_fen * terms["percent_off"] // 100
        if terms["cap_fen"]:
            off = min(off, terms["cap_fen"])
    else:
        off = 0
    return max(0, min(off, bill_fen))


def check_terms(terms: dict[str, Any], *, bill_fen: int, tier: str, store_no: int,
                redeem_points: int, coupons_on_bill: int) -> None:
    """Refuses a coupon whose terms do not allow this bill: the store, the member's tier, the
    threshold, points redeemed on the same bill, another coupon on it."""
    if terms["stores"] and store_no not in terms["stores"]:
        raise CouponNotHere(what=QT_TRANSLATE_NOOP("roles", "this store"))
    if terms["tiers"] and tier not in terms["tiers"]:
        raise CouponNotHere(what=QT_TRANSLATE_NOOP("roles", "this member's tier"))
    if bill_fen < terms["threshold_fen"]:
        raise CouponThreshold(threshold=format_yuan(terms["threshold_fen"]),
                              bill=format_yuan(bill_fen))
    if redeem_points and not terms["with_points"]:
        raise CouponNotCombinable(what=QT_TRANSLATE_NOOP("roles", "points on the same bill"))
    if coupons_on_bill > 1 and not terms["with_coupons"]:
        raise CouponNotCombinable(what=QT_TRANSLATE_NOOP("roles", "another coupon"))
