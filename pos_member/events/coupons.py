"""Coupon events (issue 18): a coupon's life, each step one event carrying the coupon's key
(its chain-wide identity, never its code: the code is derived from the key with the chain's
data key, ``pos_member.coupon_code``)."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

from pos_member.events.base import Payload, declare


class CouponIssued(Payload, frozen=True, kw_only=True):
    """``coupon`` is the coupon's row in wire form (key, member_id, template, name, terms,
    valid_from, valid_until, source, trigger_key, issued_at, store_id, device_id). A manager's
    coupon carries ``reason``; a points exchange its ``txn_id``."""

    member_id: str
    coupon: dict[str, Any]
    reason: str | UnsetType = UNSET
    txn_id: str | UnsetType = UNSET


class CouponUsed(Payload, frozen=True, kw_only=True):
    """A redemption (with its bill) or its return by the bill's refund."""

    key: str
    member_id: str
    sale_id: str
    bill_no: str
    bill_fen: int
    discount_fen: int
    store_id: str


class CouponEnded(Payload, frozen=True, kw_only=True):
    """Expired (by the job), or revoked by a manager with a reason."""

    key: str
    member_id: str
    reason: str | UnsetType = UNSET


class CouponsBlocked(Payload, frozen=True, kw_only=True):
    """HQ's: one coupon redeemed on two bills (``key``); the member's coupons stop until HQ
    settles it (``member.coupons_unblocked`` naming the same flag, with HQ's note)."""

    member_id: str
    flag_id: int
    key: str | UnsetType = UNSET
    note: str | UnsetType = UNSET


class RecallMessaged(Payload, frozen=True, kw_only=True):
    """A recall campaign's plain message queued for the member (issue 19): the store manager's
    marketing message from the recall list, ``kind`` its text (``notifications.TEMPLATES``)."""

    member_id: str
    campaign: str
    kind: str


COUPON_ISSUED = declare("coupon.issued", CouponIssued)
COUPON_REDEEMED = declare("coupon.redeemed", CouponUsed)
COUPON_RETURNED = declare("coupon.returned", CouponUsed)  # refunded back to the member
COUPON_EXPIRED = declare("coupon.expired", CouponEnded)
COUPON_REVOKED = declare("coupon.revoked", CouponEnded)
MEMBER_COUPONS_BLOCKED = declare("member.coupons_blocked", CouponsBlocked)
MEMBER_COUPONS_UNBLOCKED = declare("member.coupons_unblocked", CouponsBlocked)
RECALL_MESSAGED = declare("member.recall_messaged", RecallMessaged)
