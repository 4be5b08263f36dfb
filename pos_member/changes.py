"""What an operation changed, so open screens refresh what it touched and nothing else (as
Anki's ``OpChanges``): the members whose figures moved and the areas of the till's data.

A local operation's result says it (``SaleResult.changes``, ``SvResult.changes`` …); a pulled
page says it too (:func:`changes_of_event` over the events it applied). The till window hands
both to the screens that are open; a screen asks ``touches``/``touches_member`` and reloads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pos_member import events as E


class Area(StrEnum):
    MEMBERS = "members"  # a member's registration, profile, merge
    SALES = "sales"  # sales and refunds (the recruitment dashboard's figures)
    POINTS = "points"  # points balances, lots, tiers
    STORED_VALUE = "stored_value"  # stored-value balances, freezes, credentials
    TARGETS = "targets"  # recruitment targets, roster, splits
    ALERTS = "alerts"  # alerts raised or resolved
    RULES = "rules"
    STAFF = "staff"
    COUPONS = "coupons"  # a member's coupons (issue 18)


@dataclass(frozen=True, slots=True)
class Changes:
    members: frozenset[str] = frozenset()
    areas: frozenset[Area] = frozenset()

    @classmethod
    def of(cls, *areas: Area, members: Iterable[str | None] = ()) -> Changes:
        return cls(frozenset(m for m in members if m), frozenset(areas))

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.members | other.members, self.areas | other.areas)

    def __bool__(self) -> bool:
        return bool(self.members or self.areas)

    def touches(self, *areas: Area) -> bool:
        return not self.areas.isdisjoint(areas)

    def touches_member(self, member_id: str | None) -> bool:
        return member_id is not None and member_id in self.members


NOTHING = Changes()

# The areas each event type touches; a type not listed touches none (forward compatible).
_AREAS: dict[str, tuple[Area, ...]] = {
    E.MEMBER_REGISTERED.type: (Area.MEMBERS,),
    E.MEMBER_PROFILE_UPDATED.type: (Area.MEMBERS,),
    E.MEMBER_MERGED.type: (Area.MEMBERS, Area.POINTS, Area.STORED_VALUE),
    E.MEMBER_TIER_CHANGED.type: (Area.POINTS,),
    E.MEMBER_STATUS_SET.type: (Area.MEMBERS, Area.POINTS, Area.STORED_VALUE),
    E.MEMBER_CARD_REISSUED.type: (Area.MEMBERS,),
    E.MEMBER_PHONE_CHANGED.type: (Area.MEMBERS,),
    E.MEMBER_ERASED.type: (Area.MEMBERS,),
    E.MEMBER_TIER_SET.type: (Area.MEMBERS, Area.POINTS),
    E.MEMBER_BALANCE_BLOCKED.type: (Area.STORED_VALUE,),
    E.MEMBER_BALANCE_UNBLOCKED.type: (Area.STORED_VALUE,),
    E.SALE_RECORDED.type: (Area.SALES, Area.POINTS),
    E.SALE_REFUNDED.type: (Area.SALES, Area.POINTS),
    E.POINTS_WELCOME.type: (Area.POINTS,),
    E.POINTS_REDEEMED.type: (Area.POINTS,),
    E.POINTS_ADJUSTED.type: (Area.POINTS,),
    E.POINTS_EXPIRED.type: (Area.POINTS,),
    **{t.type: (Area.COUPONS,) for t in (
        E.COUPON_ISSUED, E.COUPON_REDEEMED, E.COUPON_RETURNED, E.COUPON_EXPIRED,
        E.COUPON_REVOKED, E.MEMBER_COUPONS_BLOCKED, E.MEMBER_COUPONS_UNBLOCKED)},
    E.KPI_TARGET_SET.type: (Area.TARGETS,),
    E.KPI_ROSTER_SET.type: (Area.TARGETS,),
    E.KPI_SPLIT_ADJUSTED.type: (Area.TARGETS,),
    E.FLAG_RAISED.type: (Area.ALERTS,),
    E.FLAG_RESOLVED.type: (Area.ALERTS,),
    E.RULES_PUBLISHED.type: (Area.RULES,),
    E.STAFF_CREATED.type: (Area.STAFF,),
    E.STAFF_LOCKED.type: (Area.STAFF,),
    E.STAFF_UPDATED.type: (Area.STAFF,),
    E.STAFF_DEACTIVATED.type: (Area.STAFF,),
    E.STAFF_REACTIVATED.type: (Area.STAFF,),
    E.STAFF_PIN_RESET.type: (Area.STAFF,),
    **{t.type: (Area.STORED_VALUE,) for t in (
        E.SV_TOPPED_UP, E.SV_PAID, E.SV_PAYMENT_REFUNDED, E.SV_TOPUP_REFUNDED, E.SV_FROZEN,
        E.SV_UNFROZEN, E.SV_PIN_SET, E.SV_PIN_LOCKED, E.SV_TOTP_PROVISIONED)},
}


def changes_of_event(type: str, payload: Mapping[str, Any]) -> Changes:
    """What applying one event of ``type`` changed: its areas, and the members its payload
    names (``member_id``, and both sides of a merge)."""
    members = [v for k, v in payload.items()
               if k.endswith("member_id") and isinstance(v, str)]
    return Changes.of(*_AREAS.get(type, ()), members=members)
