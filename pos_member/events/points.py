"""Points and sales events. Each carries the ledger entries it posts, in wire form
(``services.points.new_entry``); a till posts them once per entry id."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from pos_member.events.base import Payload, declare

Entry = dict[str, Any]  # one points-ledger entry (id, member_id, kind, points, at, ...)


class PointsPosted(Payload, frozen=True, kw_only=True):
    """A redemption adds ``txn_id`` and ``item``; an adjustment ``txn_id``, ``approved_by``
    and ``reason``; welcome points and expiries neither."""

    member_id: str
    entries: list[Entry]
    txn_id: str | UnsetType = UNSET
    item: str | UnsetType = UNSET  # a redemption's catalogue item
    approved_by: str | UnsetType = UNSET  # an adjustment's approving manager
    reason: str | UnsetType = UNSET  # an adjustment's reason


class SalePoints(Payload, frozen=True, kw_only=True):
    bill_fen: int
    redeem_points: int
    redeem_fen: int
    earned: int


class SaleRecorded(Payload, frozen=True, kw_only=True):
    """``sale`` is the sale's row in wire form (id, txn_id, store_id, device_id, bill_no,
    amount_fen, member_id, clerk_id, guide_id, categories, sold_at, business_day, ...);
    ``points`` only for a member's sale."""

    sale: dict[str, Any]
    member_id: str | None = None
    txn_id: str
    entries: list[Entry] = msgspec.field(default_factory=list)
    points: SalePoints | UnsetType = UNSET


class SaleRefunded(Payload, frozen=True, kw_only=True):
    sale_id: str
    txn_id: str | None = None
    member_id: str | None = None
    refund_fen: int
    clawed: int = 0
    restored: int = 0
    entries: list[Entry] = msgspec.field(default_factory=list)
    approved_by: str | None = None  # the manager who approved it (None before issue 13)


POINTS_WELCOME = declare("points.welcome", PointsPosted)
POINTS_REDEEMED = declare("points.redeemed", PointsPosted)
POINTS_ADJUSTED = declare("points.adjusted", PointsPosted)
POINTS_EXPIRED = declare("points.expired", PointsPosted)
SALE_RECORDED = declare("sale.recorded", SaleRecorded)
SALE_REFUNDED = declare("sale.refunded", SaleRefunded)
